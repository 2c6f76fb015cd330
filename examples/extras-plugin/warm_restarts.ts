/**
 * `extras/warm_restarts`: cosine annealing with warm restarts (SGDR,
 * Loshchilov & Hutter 2017), a learning-rate schedule `core/train` uses
 * through `schedule: { use: extras/warm_restarts, with: { ... } }`.
 *
 * @module
 */
import { defineSchedule, z } from "@capillary/capillary";

/** Options of `extras/warm_restarts`. */
export const warmRestartsOptions = z.object({
  period: z.number().gt(0).default(1).describe("Epochs of the first cosine cycle."),
  growth: z.number().min(1).default(2).describe(
    "Each cycle is this many times longer than the last.",
  ),
  minLearningRate: z.number().min(0).default(0).describe("The rate at the end of each cycle."),
}).strict();

/**
 * Where `epoch` falls: the start and length of its cycle. Cycles are
 * `period`, `period·growth`, `period·growth²`, ... epochs long.
 */
export function cycleAt(
  epoch: number,
  period: number,
  growth: number,
): { start: number; length: number } {
  let start = 0, length = period;
  while (epoch >= start + length) {
    start += length;
    length *= growth;
  }
  return { start, length };
}

/** The `extras/warm_restarts` schedule. */
export const warmRestarts = defineSchedule({
  name: "warm_restarts",
  description: "Cosine decay that restarts from the base rate at the end of each (growing) cycle.",
  options: warmRestartsOptions,
  create: ({ period, growth, minLearningRate }) => (epoch, base) => {
    const { start, length } = cycleAt(epoch, period, growth);
    const t = (epoch - start) / length;
    return minLearningRate + ((base - minLearningRate) * (1 + Math.cos(Math.PI * t))) / 2;
  },
});

/**
 * Learning-rate schedules as small serialisable objects: each is its own
 * options (`{ type, ... }`) and a pure function of training progress.
 *
 * @module
 */
import { z } from "zod";

/** Options of every schedule, told apart by `type`. */
export const scheduleOptions = z.discriminatedUnion("type", [
  z.object({ type: z.literal("constant") }).strict()
    .describe("The optimizer's learning rate throughout."),
  z.object({
    type: z.literal("step"),
    every: z.number().int().min(1).default(2).describe("Epochs between drops."),
    factor: z.number().gt(0).max(1).default(0.1).describe("Multiplier at each drop."),
  }).strict().describe("Multiplies the rate by `factor` every `every` epochs."),
  z.object({
    type: z.literal("cosine"),
    minLearningRate: z.number().min(0).default(0).describe("The rate at the end."),
    warmupEpochs: z.number().min(0).default(0)
      .describe("Epochs of linear warm-up from 0 before the cosine decay."),
  }).strict().describe("Cosine decay from the base rate to `minLearningRate`, updated every step."),
]);

/** A schedule's options after defaults. */
export type ScheduleOptions = z.output<typeof scheduleOptions>;

/**
 * The learning rate at a point of training.
 *
 * @param schedule The schedule.
 * @param base The optimizer's base learning rate.
 * @param epoch Progress in epochs, fractional within an epoch (0 at the start).
 * @param epochs Total epochs.
 * @returns The learning rate.
 *
 * @example Usage
 * ```ts
 * import { learningRateAt } from "./schedules.ts";
 * const step = { type: "step" as const, every: 2, factor: 0.1 };
 * console.assert(learningRateAt(step, 0.1, 2.5, 5) === 0.1 * 0.1);
 * ```
 */
export function learningRateAt(
  schedule: ScheduleOptions,
  base: number,
  epoch: number,
  epochs: number,
): number {
  switch (schedule.type) {
    case "constant":
      return base;
    case "step":
      return base * schedule.factor ** Math.floor(epoch / schedule.every);
    case "cosine": {
      const warm = schedule.warmupEpochs;
      if (epoch < warm) return (base * epoch) / warm;
      const t = epochs > warm ? Math.min(1, (epoch - warm) / (epochs - warm)) : 1;
      return schedule.minLearningRate +
        ((base - schedule.minLearningRate) * (1 + Math.cos(Math.PI * t))) / 2;
    }
  }
}

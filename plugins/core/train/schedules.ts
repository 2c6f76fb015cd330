/**
 * The core learning-rate schedules, registered components a recipe names in
 * `core/train`'s `schedule: { use: core/cosine, with: { ... } }`. Each is its
 * options (a zod schema) and a pure function of training progress, in the
 * manner of Keras' schedules.
 *
 * @module
 */
import { z } from "zod";
import { defineSchedule } from "../../../mod.ts";

/** `core/constant`: the optimizer's learning rate throughout. */
export const constantSchedule = defineSchedule({
  name: "constant",
  description: "The optimizer's learning rate throughout.",
  options: z.object({}).strict(),
  create: () => (_epoch, base) => base,
});

/** `core/step`: multiplies the rate by `factor` every `every` epochs. */
export const stepSchedule = defineSchedule({
  name: "step",
  description: "Multiplies the rate by `factor` every `every` epochs.",
  options: z.object({
    every: z.number().int().min(1).default(2).describe("Epochs between drops."),
    factor: z.number().gt(0).max(1).default(0.1).describe("Multiplier at each drop."),
  }).strict(),
  create: ({ every, factor }) => (epoch, base) => base * factor ** Math.floor(epoch / every),
});

/** `core/cosine`: linear warm-up, then cosine decay to `minLearningRate`, updated every step. */
export const cosineSchedule = defineSchedule({
  name: "cosine",
  description: "Cosine decay from the base rate to `minLearningRate`, updated every step.",
  options: z.object({
    minLearningRate: z.number().min(0).default(0).describe("The rate at the end."),
    warmupEpochs: z.number().min(0).default(0)
      .describe("Epochs of linear warm-up from 0 before the cosine decay."),
  }).strict(),
  create: ({ minLearningRate, warmupEpochs: warm }) => (epoch, base, epochs) => {
    if (epoch < warm) return (base * epoch) / warm;
    const t = epochs > warm ? Math.min(1, (epoch - warm) / (epochs - warm)) : 1;
    return minLearningRate + ((base - minLearningRate) * (1 + Math.cos(Math.PI * t))) / 2;
  },
});

/** Every core schedule, for the plugin's `components`. */
export const coreSchedules = [constantSchedule, stepSchedule, cosineSchedule];

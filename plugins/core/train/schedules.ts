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

/** `core/multistep`: multiplies the rate by `factor` at each listed epoch. */
export const multistepSchedule = defineSchedule({
  name: "multistep",
  description: "Multiplies the rate by `factor` at each of `milestones` (epochs).",
  options: z.object({
    milestones: z.array(z.number().int().min(1)).min(1).default([30, 80])
      .refine((m) => m.every((v, i) => i === 0 || v > m[i - 1]), "milestones must increase")
      .describe("Epochs at whose start the rate drops."),
    factor: z.number().gt(0).max(1).default(0.1).describe("Multiplier at each drop."),
  }).strict(),
  create: ({ milestones, factor }) => (epoch, base) =>
    base * factor ** milestones.filter((m) => epoch >= m).length,
});

/** `core/exponential`: multiplies the rate by `gamma` every epoch, smoothly within epochs. */
export const exponentialSchedule = defineSchedule({
  name: "exponential",
  description: "Multiplies the rate by `gamma` per epoch, continuously.",
  options: z.object({
    gamma: z.number().gt(0).max(1).default(0.9).describe("Multiplier per epoch."),
  }).strict(),
  create: ({ gamma }) => (epoch, base) => base * gamma ** epoch,
});

/**
 * `core/one_cycle`: Smith's one-cycle policy as PyTorch's `OneCycleLR` (cosine
 * annealing): from `base / divFactor` up to the base rate over the first
 * `pctStart` of training, then down to `base / divFactor / finalDivFactor`.
 */
export const oneCycleSchedule = defineSchedule({
  name: "one_cycle",
  description: "Warms up to the base rate, then anneals far below it (Smith's one-cycle).",
  options: z.object({
    pctStart: z.number().gt(0).lt(1).default(0.3)
      .describe("Share of training spent rising to the base rate."),
    divFactor: z.number().min(1).default(25).describe("The start rate is base / divFactor."),
    finalDivFactor: z.number().min(1).default(1e4)
      .describe("The final rate is the start rate / finalDivFactor."),
  }).strict(),
  create: ({ pctStart, divFactor, finalDivFactor }) => (epoch, base, epochs) => {
    const start = base / divFactor, end = start / finalDivFactor;
    const t = Math.min(1, epoch / epochs);
    const anneal = (from: number, to: number, x: number) =>
      to + ((from - to) * (1 + Math.cos(Math.PI * x))) / 2;
    return t < pctStart
      ? anneal(start, base, t / pctStart)
      : anneal(base, end, (t - pctStart) / (1 - pctStart));
  },
});

/**
 * `core/plateau`: reduce on plateau, as Keras' `ReduceLROnPlateau`: the rate
 * is multiplied by `factor` when the validation loss has not improved by
 * more than `minDelta` for `patience` epochs (needs `validation.images`).
 */
export const plateauSchedule = defineSchedule({
  name: "plateau",
  description: "Multiplies the rate by `factor` when the validation loss stops improving.",
  options: z.object({
    factor: z.number().gt(0).lt(1).default(0.1).describe("Multiplier at each reduction."),
    patience: z.number().int().min(1).default(2)
      .describe("Epochs without improvement before a reduction."),
    minDelta: z.number().min(0).default(0).describe("The least fall that counts as one."),
    minLearningRate: z.number().min(0).default(0).describe("The rate never goes below this."),
  }).strict(),
  create: ({ factor, patience, minDelta, minLearningRate }) => {
    let state = { scale: 1, best: Infinity, bad: 0 };
    const rate = (_epoch: number, base: number) => Math.max(minLearningRate, base * state.scale);
    return Object.assign(rate, {
      observe(_epoch: number, loss: number) {
        if (loss < state.best - minDelta) state = { ...state, best: loss, bad: 0 };
        else if (state.bad + 1 >= patience) {
          state = { ...state, scale: state.scale * factor, bad: 0 };
        } else state = { ...state, bad: state.bad + 1 };
      },
      state: () => ({ ...state, best: Number.isFinite(state.best) ? state.best : null }),
      restore(saved: unknown) {
        const s = saved as { scale: number; best: number | null; bad: number };
        state = { scale: s.scale, best: s.best ?? Infinity, bad: s.bad };
      },
    });
  },
});

/** Every core schedule, for the plugin's `components`. */
export const coreSchedules = [
  constantSchedule,
  stepSchedule,
  multistepSchedule,
  exponentialSchedule,
  cosineSchedule,
  oneCycleSchedule,
  plateauSchedule,
];

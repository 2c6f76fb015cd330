/**
 * Capillary: train and evaluate segmentation models from a declarative
 * recipe. A recipe names one stage implementation per step (load,
 * preprocess, augment, model, train, evaluate); plugins provide them.
 *
 * ```yaml
 * name: drive-smoke
 * stages:
 *   load: { use: core/drive }
 *   preprocess: { use: core/retina_preprocess }
 *   model: { use: core/bcdunet, with: { width: 4 } }
 *   train: { use: core/train, with: { epochs: 1 } }
 *   evaluate: { use: core/segmentation_metrics }
 * ```
 *
 * A plugin is a plain object:
 *
 * @example Usage
 * ```ts
 * import { definePlugin, defineStage, z } from "./mod.ts";
 *
 * const invert = defineStage({
 *   name: "invert",
 *   kind: "augment",
 *   description: "Inverts image intensities with probability p.",
 *   options: z.object({ p: z.number().min(0).max(1).default(0.5) }).strict(),
 *   run: ({ p }) => (batch, random) => {
 *     if (random.next() >= p) return batch;
 *     return { ...batch, images: batch.images.map((v) => 1 - v) };
 *   },
 * });
 * const plugin = definePlugin({ name: "demo", version: "1.0.0", stages: [invert] });
 * console.assert(plugin.stages[0].name === "invert");
 * ```
 *
 * @module
 */
export * from "./pipeline/mod.ts";

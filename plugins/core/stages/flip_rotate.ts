/**
 * `core/flip_rotate`: random flips and quarter turns of training patches,
 * the same for each patch's image and mask.
 *
 * @module
 */
import { z } from "zod";
import { type Augmentation, defineStage } from "../../../mod.ts";
import { transformSquare } from "../augment/square_transforms.ts";

/** Options of `core/flip_rotate`. */
export const flipRotateOptions = z.object({
  flip: z.number().min(0).max(1).default(0.5).describe("Probability of a left-right mirror."),
  rotate90: z.number().min(0).max(1).default(0.5)
    .describe("Probability of a turn by a random multiple of 90° (1-3 quarter turns)."),
}).strict();

/** The options of `core/flip_rotate` after defaults. */
export type FlipRotateOptions = z.output<typeof flipRotateOptions>;

/** Builds the augmentation: each patch draws its own flip and turn. */
export function flipRotate(options: FlipRotateOptions): Augmentation {
  return (batch, random) => {
    const images = new Float32Array(batch.images.length);
    const masks = new Float32Array(batch.masks.length);
    const rois = batch.rois && new Float32Array(batch.rois.length);
    for (let i = 0; i < batch.count; i++) {
      const symmetry = {
        flip: random.next() < options.flip,
        turns: random.next() < options.rotate90 ? 1 + random.int(3) : 0,
      };
      transformSquare(batch.images, images, i, batch.size, batch.channels, symmetry);
      transformSquare(batch.masks, masks, i, batch.size, 1, symmetry);
      if (rois) transformSquare(batch.rois!, rois, i, batch.size, 1, symmetry);
    }
    return { ...batch, images, masks, ...(rois ? { rois } : {}) };
  };
}

/** The `core/flip_rotate` stage. */
export const flipRotateStage = defineStage({
  name: "flip_rotate",
  kind: "augment",
  description: "Random left-right mirrors and quarter turns, identical for image and mask.",
  options: flipRotateOptions,
  plan: ({ flip, rotate90 }) => ({
    output: undefined,
    lines: [
      `each training patch: mirrored with p ${flip}, turned 1–3 quarter turns with p ${rotate90}; same for its mask`,
    ],
  }),
  run: (options) => flipRotate(options),
});

/**
 * `core/augment`: the full set of training-patch augmentations, each with
 * its own probability, seeded, geometric ones applied identically to image,
 * mask and ROI (the FOV, when the patches carry it): flips and quarter turns (exact), rotation by any angle and zoom
 * (bilinear for the image, nearest for the mask), elastic deformation, then
 * brightness, contrast, gamma, Gaussian noise and blur on the image only.
 * Every transform is off unless its probability is above 0, except flips and
 * quarter turns.
 *
 * @module
 */
import { z } from "zod";
import { type Augmentation, defineStage, type Random } from "../../../mod.ts";
import { transformSquare } from "../augment/square_transforms.ts";
import { addElastic, affineMap, resample } from "../augment/warp.ts";
import {
  addNoise,
  adjustBrightness,
  adjustContrast,
  adjustGamma,
  blurPatch,
} from "../augment/photometric.ts";

const p = (fallback = 0) =>
  z.number().min(0).max(1).default(fallback).describe("Probability per patch.");
const range = (lo: number, hi: number, min: number, what: string) =>
  z.tuple([z.number().min(min), z.number().min(min)]).default([lo, hi])
    .refine(([a, b]) => a <= b, "the first value must not exceed the second")
    .describe(`${what}: drawn uniformly from [low, high].`);

/** Options of `core/augment`. */
export const augmentOptions = z.object({
  flip: p(0.5).describe("Probability of a left-right mirror."),
  rotate90: p(0.5).describe("Probability of 1–3 quarter turns."),
  rotate: z.object({ p: p(), degrees: z.number().min(0).max(180).default(15) })
    .strict().default({ p: 0, degrees: 15 })
    .describe("Rotation by an angle drawn from [-degrees, degrees]."),
  scale: z.object({ p: p(), range: range(0.9, 1.1, 0.1, "Zoom factor") })
    .strict().default({ p: 0, range: [0.9, 1.1] })
    .describe("Zoom about the centre, cropped back to the patch (above 1 enlarges)."),
  elastic: z.object({
    p: p(),
    alpha: z.number().min(0).default(4).describe("Largest displacement, in pixels."),
    sigma: z.number().gt(0).default(4).describe("Smoothness of the displacement field, in pixels."),
  }).strict().default({ p: 0, alpha: 4, sigma: 4 }).describe("Elastic deformation."),
  brightness: z.object({ p: p(), delta: z.number().min(0).max(1).default(0.1) })
    .strict().default({ p: 0, delta: 0.1 }).describe("Adds a value drawn from [-delta, delta]."),
  contrast: z.object({ p: p(), range: range(0.8, 1.2, 0, "Contrast factor") })
    .strict().default({ p: 0, range: [0.8, 1.2] })
    .describe("Scales the distance from the patch mean."),
  gamma: z.object({ p: p(), range: range(0.8, 1.25, 0.01, "Gamma") })
    .strict().default({ p: 0, range: [0.8, 1.25] }).describe("Raises values to a power."),
  noise: z.object({ p: p(), sigma: z.number().min(0).max(1).default(0.02) })
    .strict().default({ p: 0, sigma: 0.02 }).describe("Zero-mean Gaussian noise."),
  blur: z.object({ p: p(), sigma: range(0.5, 1, 0.01, "Blur sigma in pixels") })
    .strict().default({ p: 0, sigma: [0.5, 1] }).describe("Gaussian blur."),
}).strict();

/** The options after defaults. */
export type AugmentOptions = z.output<typeof augmentOptions>;

const between = (random: Random, [lo, hi]: readonly number[]) => lo + (hi - lo) * random.next();

/** Builds the augmentation: every patch draws its own transforms. */
export function augment(options: AugmentOptions): Augmentation {
  const o = options;
  return (batch, random) => {
    const { size, channels, count } = batch;
    const images = new Float32Array(batch.images.length);
    const masks = new Float32Array(batch.masks.length);
    const stride = size * size * channels, maskStride = size * size;
    const warped = new Float32Array(batch.images.length);
    const warpedMasks = new Float32Array(batch.masks.length);
    const rois = batch.rois && new Float32Array(batch.rois.length);
    const warpedRois = rois && new Float32Array(rois.length);
    for (let i = 0; i < count; i++) {
      // Exact symmetries, the same for image and mask.
      const symmetry = {
        flip: random.next() < o.flip,
        turns: random.next() < o.rotate90 ? 1 + random.int(3) : 0,
      };
      transformSquare(batch.images, images, i, size, channels, symmetry);
      transformSquare(batch.masks, masks, i, size, 1, symmetry);
      if (rois) transformSquare(batch.rois!, rois, i, size, 1, symmetry);

      // Interpolating warps, one source map for image and mask.
      const angle = random.next() < o.rotate.p ? between(random, [-1, 1]) * o.rotate.degrees : 0;
      const zoom = random.next() < o.scale.p ? between(random, o.scale.range) : 1;
      const elastic = random.next() < o.elastic.p;
      if (angle !== 0 || zoom !== 1 || elastic) {
        const map = affineMap(size, angle, zoom);
        if (elastic) addElastic(map, size, o.elastic.alpha, o.elastic.sigma, () => random.next());
        resample(images, warped, i, size, channels, map, "bilinear");
        resample(masks, warpedMasks, i, size, 1, map, "nearest");
        images.set(warped.subarray(i * stride, (i + 1) * stride), i * stride);
        masks.set(warpedMasks.subarray(i * maskStride, (i + 1) * maskStride), i * maskStride);
        if (rois) {
          resample(rois, warpedRois!, i, size, 1, map, "nearest");
          rois.set(warpedRois!.subarray(i * maskStride, (i + 1) * maskStride), i * maskStride);
        }
      }

      // Intensities, image only.
      const patch = images.subarray(i * stride, (i + 1) * stride);
      if (random.next() < o.brightness.p) {
        adjustBrightness(patch, between(random, [-o.brightness.delta, o.brightness.delta]));
      }
      if (random.next() < o.contrast.p) adjustContrast(patch, between(random, o.contrast.range));
      if (random.next() < o.gamma.p) adjustGamma(patch, between(random, o.gamma.range));
      if (random.next() < o.blur.p) blurPatch(patch, size, channels, between(random, o.blur.sigma));
      if (random.next() < o.noise.p) addNoise(patch, o.noise.sigma, () => random.normal());
    }
    return { ...batch, images, masks, ...(rois ? { rois } : {}) };
  };
}

/** The `core/augment` stage. */
export const augmentStage = defineStage({
  name: "augment",
  kind: "augment",
  description:
    "Flips, quarter turns, rotation, zoom and elastic deformation (image and mask alike), " +
    "then brightness, contrast, gamma, blur and noise (image only), each with a probability.",
  options: augmentOptions,
  plan: (options) => ({
    output: undefined,
    lines: [
      Object.entries(options).map(([name, v]) =>
        typeof v === "number" ? `${name} p ${v}` : `${name} p ${(v as { p: number }).p}`
      ).join(", "),
    ],
  }),
  run: (options) => augment(options),
});

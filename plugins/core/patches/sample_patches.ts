/**
 * Random square training patches cut from whole images, packed NHWC for a
 * tensor library.
 *
 * @module
 */

import { DataError } from "../../../pipeline/errors.ts";
import type { Raster } from "../../../pipeline/data.ts";
import type { PatchBatch } from "../../../pipeline/stage.ts";
import type { Random } from "../../../pipeline/random.ts";

/** One source image with its target mask and region of interest (e.g. a `Sample`). */
export interface PatchSource {
  /** The input image, any number of channels. */
  readonly image: Raster;
  /** The binary target; channel 0 is used. Same size as the image. */
  readonly mask: Raster;
  /** The region that counts (> 0.5 = inside); channel 0 is used. Same size as the image. */
  readonly roi: Raster;
  /** The image's id, to name it in errors (a `Sample`'s); else its index. */
  readonly id?: string;
  /** The image's file, to name it in errors (a `Sample`'s). */
  readonly source?: string;
}

/** How many patches of which size to draw. */
export interface SamplePatchesOptions {
  /** The side of the square patches, in pixels. */
  readonly size: number;
  /** How many patches in all, spread evenly over the images. */
  readonly count: number;
  /**
   * Keep only patches whose centre pixel, at `(x0 + floor(size / 2), y0 + floor(size / 2))`,
   * lies inside the ROI (default false: anywhere in the image).
   */
  readonly insideRoi?: boolean;
}

export type { PatchBatch };

/** Tries per patch before `insideRoi` gives up on an image. */
export const MAX_TRIES_PER_PATCH = 1000;

function checkPositiveInteger(value: number, name: string, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new DataError(
      `samplePatches(): ${name} must be a ${allowZero ? "non-negative" : "positive"} ` +
        `integer, got ${value}`,
    );
  }
}

/**
 * How errors name a source: `image "c03" (data/c03.png)` by its id and file,
 * else by index (`image 0`); `detail` goes inside the brackets.
 */
function nameOf(source: PatchSource, index: number, detail?: string): string {
  const bracket = [source.id === undefined ? undefined : source.source, detail]
    .filter((s) => s !== undefined).join(", ");
  return `${source.id === undefined ? `image ${index}` : `image "${source.id}"`}` +
    (bracket ? ` (${bracket})` : "");
}

/** How many images a too-small-for-the-patch error names before "…". */
const SHOWN_SMALL = 3;

function checkSources(samples: readonly PatchSource[], size: number): number {
  if (samples.length === 0) throw new DataError("samplePatches(): no images to cut patches from");
  const channels = samples[0].image.channels;
  samples.forEach((source, i) => {
    const { image, mask, roi } = source;
    if (image.channels !== channels) {
      throw new DataError(
        `samplePatches(): ${nameOf(source, i)} has ${image.channels} channels, ` +
          `${nameOf(samples[0], 0)} has ${channels}; all images must have the same number of ` +
          "channels",
      );
    }
    for (const [name, other] of [["mask", mask], ["roi", roi]] as const) {
      if (other.width !== image.width || other.height !== image.height) {
        throw new DataError(
          `samplePatches(): ${nameOf(source, i)} is ${image.width}×${image.height} but its ` +
            `${name} is ${other.width}×${other.height}`,
        );
      }
    }
  });
  // Every image too small, not just the first: one run finds them all.
  const small = samples.flatMap((source, i) =>
    size > source.image.width || size > source.image.height ? [{ source, i }] : []
  );
  if (small.length) {
    const side = Math.min(
      ...small.map(({ source }) => Math.min(source.image.width, source.image.height)),
    );
    const one = small.length === 1;
    const shown = small.slice(0, SHOWN_SMALL).map(({ source, i }) =>
      nameOf(source, i, `${source.image.width}×${source.image.height}`)
    );
    throw new DataError(
      `samplePatches(): patch size ${size} does not fit ` +
        (one ? "" : `${small.length} of ${samples.length} images: `) +
        `${shown.join(", ")}${small.length > SHOWN_SMALL ? ", …" : ""}; lower ` +
        `train.patches.size to ${fittingPatchSize(side)}, or drop ${
          one ? "that image" : "those images"
        } ` +
        `or resize ${one ? "it" : "them"} to at least ${size}×${size}`,
    );
  }
  return channels;
}

/**
 * Cuts `count` random `size × size` patches from the images, their masks and ROIs.
 *
 * The patches are spread evenly: each image gives `floor(count / N)`, and the
 * first `count % N` images one more. A patch's top-left corner is uniform
 * over all corners that keep it inside the image. With `insideRoi`, corners
 * are redrawn until the patch centre is inside the ROI (rejection sampling,
 * so still uniform over the allowed corners), at most
 * {@link MAX_TRIES_PER_PATCH} times per patch. Patches are in image order;
 * shuffle them for training. All randomness comes from `rng`.
 *
 * @param samples The source images, masks and ROIs (not modified).
 * @param options Patch size, number, and whether the centre must be in the ROI.
 * @param rng The random stream to draw corners from.
 * @returns The patches packed NHWC.
 * @throws {DataError} On inconsistent inputs, a patch larger than an image, or
 * an ROI too small for `insideRoi`.
 *
 * @example Usage
 * ```ts
 * import { samplePatches } from "./sample_patches.ts";
 * import { Random } from "../../../pipeline/random.ts";
 * const raster = (v: number) => ({ width: 4, height: 4, channels: 1, data: new Float32Array(16).fill(v) });
 * const batch = samplePatches([{ image: raster(2), mask: raster(1), roi: raster(1) }], { size: 3, count: 5 }, new Random(1));
 * console.assert(batch.images.length === 5 * 3 * 3 && batch.images.every((v) => v === 2));
 * ```
 */
export function samplePatches(
  samples: readonly PatchSource[],
  options: SamplePatchesOptions,
  rng: Random,
): PatchBatch {
  const { size, count, insideRoi = false } = options;
  checkPositiveInteger(size, "size");
  checkPositiveInteger(count, "count", true);
  const channels = checkSources(samples, size);
  const images = new Float32Array(count * size * size * channels);
  const masks = new Float32Array(count * size * size);
  const rois = new Float32Array(count * size * size);
  const half = Math.floor(size / 2);
  const base = Math.floor(count / samples.length);
  const extra = count % samples.length;
  let patch = 0;
  samples.forEach((source, s) => {
    const { image, mask, roi } = source;
    const { width, height } = image;
    const corners = [width - size + 1, height - size + 1];
    const n = base + (s < extra ? 1 : 0);
    for (let k = 0; k < n; k++, patch++) {
      let x0 = rng.int(corners[0]), y0 = rng.int(corners[1]);
      if (insideRoi) {
        let tries = 1;
        while (!(roi.data[((y0 + half) * width + x0 + half) * roi.channels] > 0.5)) {
          if (tries++ >= MAX_TRIES_PER_PATCH) {
            throw new DataError(
              `samplePatches(): no patch centre inside the ROI of ${nameOf(source, s)} after ` +
                `${MAX_TRIES_PER_PATCH} random tries; its ROI is empty or nearly so ` +
                `(or lies only near the border); check the ROI mask or set insideRoi to false`,
            );
          }
          x0 = rng.int(corners[0]);
          y0 = rng.int(corners[1]);
        }
      }
      const rowLength = size * channels;
      for (let y = 0; y < size; y++) {
        const from = ((y0 + y) * width + x0) * channels;
        images.set(
          image.data.subarray(from, from + rowLength),
          (patch * size + y) * rowLength,
        );
        const maskRow = (patch * size + y) * size, maskFrom = (y0 + y) * width + x0;
        copyRow(mask, maskFrom, masks, maskRow, size);
        copyRow(roi, maskFrom, rois, maskRow, size);
      }
    }
  });
  return { images, masks, rois, size, channels, count };
}

/** Copies `length` first-channel values of `source` from pixel `from` to `target[to...]`. */
function copyRow(
  source: PatchSource["mask"],
  from: number,
  target: Float32Array,
  to: number,
  length: number,
): void {
  if (source.channels === 1) target.set(source.data.subarray(from, from + length), to);
  else for (let x = 0; x < length; x++) target[to + x] = source.data[(from + x) * source.channels];
}

/**
 * The words for the patch sizes an image side of `side` pixels takes:
 * `train.patches.size` is a multiple of 8 (the network halves it three times).
 *
 * @example Usage
 * ```ts
 * import { fittingPatchSize } from "./sample_patches.ts";
 * console.assert(fittingPatchSize(565) === "at most 565 (a multiple of 8: 560)");
 * console.assert(fittingPatchSize(64) === "at most 64");
 * ```
 */
export function fittingPatchSize(side: number): string {
  const fits = Math.floor(side / 8) * 8;
  return fits === side ? `at most ${side}` : `at most ${side} (a multiple of 8: ${fits})`;
}

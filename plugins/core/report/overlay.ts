/**
 * The error map of one segmented image, as in the paper's figure 1: each
 * pixel coloured by its cell of the confusion matrix at a threshold.
 *
 * | pixel                                   | colour    | RGB              |
 * | --------------------------------------- | --------- | ---------------- |
 * | true positive (found vessel)            | white     | (1, 1, 1)        |
 * | false positive (predicted, not vessel)  | red       | (1, 0.2, 0.2)    |
 * | false negative (vessel missed)          | cyan      | (0, 0.75, 1)     |
 * | true negative (background)              | black     | (0, 0, 0)        |
 * | outside the region of interest          | dark grey | (0.3, 0.3, 0.3)  |
 *
 * White on black reads as the vessel map itself; red and cyan are opposite
 * hues that stay apart for the common red-green colour blindnesses too
 * (red turns dark, cyan light). The rules match the scorers': a pixel counts
 * when its ROI value is > 0.5, is positive when its truth value is > 0.5 and
 * is predicted positive when its probability is >= the threshold.
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";
import type { Rgb } from "./plot.ts";

/** The colour of each kind of pixel in an overlay; see the module doc. */
export const OVERLAY_COLORS: Readonly<
  { tp: Rgb; fp: Rgb; fn: Rgb; tn: Rgb; outside: Rgb }
> = {
  tp: [1, 1, 1],
  fp: [1, 0.2, 0.2],
  fn: [0, 0.75, 1],
  tn: [0, 0, 0],
  outside: [0.3, 0.3, 0.3],
};

/** Names of the overlay's colours, for legends. */
export const OVERLAY_LEGEND: readonly { key: keyof typeof OVERLAY_COLORS; label: string }[] = [
  { key: "tp", label: "true positive" },
  { key: "fp", label: "false positive" },
  { key: "fn", label: "false negative" },
  { key: "tn", label: "true negative" },
  { key: "outside", label: "outside the region of interest" },
];

/**
 * Colours each pixel of an image by its confusion cell at `threshold`: true
 * positives white, false positives red, false negatives cyan, true negatives
 * black, pixels outside the region of interest dark grey ({@link OVERLAY_COLORS}).
 *
 * @param probability The predicted probability per pixel (one channel).
 * @param truth The ground truth (one channel, > 0.5 = positive), same size.
 * @param roi The region of interest (one channel, > 0.5 = counts), same size.
 * @param threshold A pixel is predicted positive when its probability is >= this.
 * @returns An RGB raster of the same size, values in [0, 1].
 * @throws {DataError} When a raster has more than one channel or the sizes differ.
 *
 * @example Usage
 * ```ts
 * import { OVERLAY_COLORS, segmentationOverlay } from "./overlay.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const one = (values: number[]) => ({ width: 2, height: 1, channels: 1, data: new Float32Array(values) });
 * // pixel 0: predicted 0.9 on a vessel (tp); pixel 1: 0.7 on background (fp)
 * const overlay = segmentationOverlay(one([0.9, 0.7]), one([1, 0]), one([1, 1]), 0.5);
 * assertEquals(Array.from(overlay.data), [...OVERLAY_COLORS.tp, ...OVERLAY_COLORS.fp].map(Math.fround));
 * ```
 */
export function segmentationOverlay(
  probability: Raster,
  truth: Raster,
  roi: Raster,
  threshold = 0.5,
): Raster {
  const { width, height } = probability;
  if (probability.channels !== 1) {
    throw new DataError(
      `Cannot draw the overlay: the probability map has ${probability.channels} channels, expected 1`,
    );
  }
  for (const [name, r] of [["truth", truth], ["ROI", roi]] as const) {
    if (r.channels !== 1 || r.width !== width || r.height !== height) {
      throw new DataError(
        `Cannot draw the overlay: the ${name} is ${r.width}×${r.height}×${r.channels}, ` +
          `expected ${width}×${height}×1 like the probability map`,
      );
    }
  }
  const out = new Float32Array(width * height * 3);
  const p = probability.data, t = truth.data, r = roi.data;
  const { tp, fp, fn, tn, outside } = OVERLAY_COLORS;
  for (let i = 0; i < width * height; i++) {
    const color = !(r[i] > 0.5)
      ? outside
      : p[i] >= threshold
      ? (t[i] > 0.5 ? tp : fp)
      : (t[i] > 0.5 ? fn : tn);
    out[3 * i] = color[0], out[3 * i + 1] = color[1], out[3 * i + 2] = color[2];
  }
  return { width, height, channels: 3, data: out };
}

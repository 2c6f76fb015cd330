/**
 * Choosing the binarisation threshold on held-out (validation) images: the
 * one that maximises the pooled F1 of their ROI pixels.
 *
 * Scores are binned into a histogram of `bins` equal bins over [0, 1] (4096
 * by default) per class. A threshold `k / bins` predicts positive exactly
 * the pixels of bins `k` and above (`p >= k / bins` ⇔ `floor(p · bins) >= k`,
 * and multiplying by a power of two is exact in floating point), so a
 * cumulative sum from the top gives the exact confusion counts, and the
 * exact F1, at every threshold of the grid in O(bins). The search is thus
 * over the distinct probabilities rounded down to 1/4096: two thresholds
 * closer than that are not told apart, which changes F1 by far less than the
 * noise between validation and test images, and the memory is two 4096-entry
 * count arrays however many pixels are added.
 *
 * @module
 */

import { DataError } from "../../../pipeline/errors.ts";

/** Bins of a {@link ThresholdHistogram} unless told otherwise. */
export const THRESHOLD_BINS = 4096;

/**
 * Per-class histograms of probabilities in `bins` equal bins over [0, 1],
 * pooled over the ROI pixels of many images.
 *
 * A pixel counts when its ROI value is > 0.5 and is positive when its truth
 * value is > 0.5; its probability `p` goes to bin `floor(p · bins)`, clamped
 * to `[0, bins − 1]` (so 1 joins the top bin and values outside [0, 1] the
 * end bins, which no threshold of (0, 1) on the grid separates them from).
 *
 * @example Usage
 * ```ts
 * import { ThresholdHistogram } from "./threshold.ts";
 * const h = new ThresholdHistogram(4).add(new Float32Array([0.9, 0.3, 1, 0.6]), [1, 0, 1, 0], [1, 1, 1, 0]);
 * console.assert(h.positives.join() === "0,0,0,2" && h.negatives.join() === "0,1,0,0");
 * ```
 */
export class ThresholdHistogram {
  /** Positive ROI pixels per bin. */
  readonly positives: Float64Array;
  /** Negative ROI pixels per bin. */
  readonly negatives: Float64Array;
  /** Equal bins over [0, 1]. */
  readonly bins: number;

  /**
   * Starts empty histograms.
   *
   * @param bins Equal bins over [0, 1] (at least 2); thresholds are multiples of `1 / bins`.
   * @throws {DataError} When `bins` is not an integer >= 2.
   */
  constructor(bins: number = THRESHOLD_BINS) {
    if (!Number.isInteger(bins) || bins < 2) {
      throw new DataError(`ThresholdHistogram: bins must be an integer >= 2, got ${bins}`);
    }
    this.bins = bins;
    this.positives = new Float64Array(bins);
    this.negatives = new Float64Array(bins);
  }

  /**
   * Counts one image's ROI pixels.
   *
   * @param prob Predicted probability per pixel.
   * @param truth Ground truth per pixel (> 0.5 = positive).
   * @param roi Region of interest per pixel (> 0.5 = counts).
   * @returns This histogram, for chaining.
   * @throws {DataError} When the lengths differ or a counted probability is NaN
   * (nothing of the image is counted then).
   */
  add(prob: ArrayLike<number>, truth: ArrayLike<number>, roi: ArrayLike<number>): this {
    if (prob.length !== truth.length || prob.length !== roi.length) {
      throw new DataError(
        `ThresholdHistogram.add(): prediction, truth and ROI must have one value per pixel ` +
          `each, got ${prob.length}, ${truth.length} and ${roi.length} values`,
      );
    }
    const bins = this.bins, top = bins - 1;
    const index = new Int32Array(prob.length);
    for (let i = 0; i < prob.length; i++) {
      if (!(roi[i] > 0.5)) {
        index[i] = -1;
        continue;
      }
      const p = prob[i];
      if (p !== p) {
        throw new DataError(
          `ThresholdHistogram.add(): the prediction at index ${i} is NaN; the model ` +
            `produced invalid output`,
        );
      }
      index[i] = p <= 0 ? 0 : p >= 1 ? top : Math.min(top, Math.floor(p * bins));
    }
    for (let i = 0; i < prob.length; i++) {
      if (index[i] < 0) continue;
      if (truth[i] > 0.5) this.positives[index[i]]++;
      else this.negatives[index[i]]++;
    }
    return this;
  }

  /**
   * The lowest and highest probabilities counted, to a bin: the start of the
   * lowest occupied bin and the end of the highest; undefined when empty.
   *
   * @example Usage
   * ```ts
   * import { ThresholdHistogram } from "./threshold.ts";
   * const h = new ThresholdHistogram(4).add([0.3, 0.6], [1, 0], [1, 1]);
   * console.assert(h.span()!.join() === "0.25,0.75");
   * ```
   */
  span(): [number, number] | undefined {
    const occupied = (b: number) => this.positives[b] > 0 || this.negatives[b] > 0;
    let low = 0, high = this.bins - 1;
    while (low < this.bins && !occupied(low)) low++;
    if (low === this.bins) return undefined;
    while (!occupied(high)) high--;
    return [low / this.bins, (high + 1) / this.bins];
  }
}

/** What {@link bestF1Threshold} chose. */
export interface BestThreshold {
  /** The threshold: a pixel is predicted positive when `prob >= threshold`. */
  readonly threshold: number;
  /** The pooled F1 at it, 2 tp / (2 tp + fp + fn). */
  readonly f1: number;
}

/**
 * The threshold of the grid `k / bins`, 0 < k < bins, with the highest
 * pooled F1 over two per-class histograms (see the module doc).
 *
 * Thresholds of equal F1 that are neighbours on the grid (bins without
 * pixels between them) are one classifier on these pixels: of such a run
 * the one that holds 0.5, the default, is kept as 0.5, and otherwise its
 * middle is taken, the threshold furthest from the pixels on both sides.
 * Of several runs of the best F1, the one nearest 0.5 wins (the lower of two
 * equally near). With no positive pixel every F1 is 0, and so 0.5 is kept.
 *
 * @param positives Positive pixel counts per bin; bin `k` holds `[k / bins, (k + 1) / bins)`.
 * @param negatives Negative pixel counts per bin, as many bins.
 * @returns The threshold, in (0, 1), and its F1.
 * @throws {DataError} When the histograms differ in length or have fewer than 2 bins.
 *
 * @example Usage
 * ```ts
 * import { bestF1Threshold } from "./threshold.ts";
 * // 4 bins: positives in bins 2 and 3, negatives in bins 1 and 2.
 * // t = 1/4: tp 2 fp 2 → F1 4/6; t = 2/4: tp 2 fp 1 → 4/5; t = 3/4: tp 1 fp 0 fn 1 → 2/3
 * const best = bestF1Threshold([0, 0, 1, 1], [0, 1, 1, 0]);
 * console.assert(best.threshold === 0.5 && best.f1 === 0.8);
 * // 8 bins: positives in 6 and 7, negatives in 1, 4 and 7: F1 4/5 at k = 5 and 6 alike → 5/8
 * console.assert(bestF1Threshold([0, 0, 0, 0, 0, 0, 1, 1], [0, 1, 0, 0, 1, 0, 0, 1]).threshold === 0.625);
 * ```
 */
export function bestF1Threshold(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
): BestThreshold {
  const bins = positives.length;
  if (negatives.length !== bins || bins < 2) {
    throw new DataError(
      `bestF1Threshold(): needs two histograms of the same length >= 2, got ` +
        `${positives.length} and ${negatives.length} bins`,
    );
  }
  let total = 0;
  for (let k = 0; k < bins; k++) total += positives[k];
  // f1[k]: the F1 at threshold k / bins. From the top: after adding bin k, tp and fp count
  // the pixels with prob >= k / bins.
  const f1 = new Float64Array(bins);
  let tp = 0, fp = 0, max = 0;
  for (let k = bins - 1; k >= 1; k--) {
    tp += positives[k];
    fp += negatives[k];
    const denominator = tp + fp + total; // 2 tp + fp + fn, with fn = total − tp
    f1[k] = denominator === 0 ? 0 : (2 * tp) / denominator;
    if (f1[k] > max) max = f1[k];
  }
  // The runs of neighbouring k at the best F1; keep the one nearest the middle of the grid.
  const half = bins / 2;
  let best = { lo: 0, hi: 0, distance: Infinity };
  for (let lo = 1; lo < bins; lo++) {
    if (f1[lo] !== max) continue;
    let hi = lo;
    while (hi + 1 < bins && f1[hi + 1] === max) hi++;
    const distance = half < lo ? lo - half : half > hi ? half - hi : 0;
    if (distance < best.distance) best = { lo, hi, distance };
    lo = hi;
  }
  const k = best.distance === 0 && Number.isInteger(half)
    ? half
    : Math.floor((best.lo + best.hi) / 2);
  return { threshold: k / bins, f1: f1[k] };
}

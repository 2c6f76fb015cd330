/**
 * Where a ROC curve passes a published operating point: this run's
 * sensitivity at the reference's specificity, and its specificity at the
 * reference's sensitivity. A paper reports one point of its curve (its
 * threshold, usually 0.5); a run at its own threshold lands at another
 * point of its own curve, so comparing the two points alone mixes how well
 * the run ranks with where its threshold happens to put it. These two
 * numbers compare the curves at the reference's point: above the
 * reference's sensitivity at its specificity (equivalently, above its
 * specificity at its sensitivity) means some threshold of this run beats the
 * reference on both.
 *
 * Exact, from the scores of each class sorted ascending (as
 * `SegmentationScorer.sortedScores` gives them), with the evaluation's rule
 * that a pixel is positive when its score is >= the threshold.
 *
 * @module
 */

import { DataError } from "../../../pipeline/errors.ts";
import type { CurvePoint } from "../../../pipeline/stage.ts";

/** One point of a ROC curve: a threshold and the rates it gives (the engine's `CurvePoint`). */
export type OperatingPoint = CurvePoint;

/** Throws unless both classes have scores and the target is a rate. */
function checkInputs(positives: number, negatives: number, target: number, what: string): void {
  if (positives === 0 || negatives === 0) {
    throw new DataError(
      `Cannot find the ROC point at ${what} ${target}: it needs both classes, got ` +
        `${positives} positive and ${negatives} negative scores`,
    );
  }
  if (!(target >= 0 && target <= 1)) {
    throw new DataError(`Cannot find the ROC point at ${what} ${target}: it must be in [0, 1]`);
  }
}

/**
 * The least count of `total` whose share is at least `rate`, with a tiny
 * slack against rounding of the product (0.75 × 4 must be 3, not
 * 3.0000000000000004).
 */
function leastCount(rate: number, total: number): number {
  return Math.ceil(rate * total - 1e-9);
}

/** Index of the first value of an ascending array that is > `value` (`<=` when `orEqual`). */
function firstAbove(sorted: ArrayLike<number>, value: number, orEqual = false): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (orEqual ? sorted[mid] < value : sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The most sensitive point whose specificity is at least `specificity`: the
 * lowest threshold that leaves at least that share of the negatives below
 * it.
 *
 * @param positives Positive scores, ascending.
 * @param negatives Negative scores, ascending.
 * @param specificity The reference's specificity, in [0, 1].
 * @returns The threshold and its sensitivity and (achieved, >= the target) specificity.
 * @throws {DataError} When a class is empty or `specificity` is outside [0, 1].
 *
 * @example Usage
 * ```ts
 * import { sensitivityAtSpecificity } from "./operating_point.ts";
 * // 4 negatives: specificity >= 0.75 needs 3 of them below the threshold, so the threshold
 * // must exceed 0.3; positives above 0.3: 0.4 and 0.9 of 3.
 * const point = sensitivityAtSpecificity([0.2, 0.4, 0.9], [0.1, 0.2, 0.3, 0.5], 0.75);
 * console.assert(point.threshold === 0.4 && point.sensitivity === 2 / 3 && point.specificity === 0.75);
 * ```
 */
export function sensitivityAtSpecificity(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  specificity: number,
): OperatingPoint {
  checkInputs(positives.length, negatives.length, specificity, "specificity");
  const n = negatives.length, p = positives.length;
  const needed = leastCount(specificity, n); // negatives that must score below the threshold
  if (needed <= 0) return { threshold: -Infinity, sensitivity: 1, specificity: 0 };
  // Everything above the `needed`-th lowest negative is positive; its ties are negative. The
  // threshold is the lowest score above it, of either class.
  const edge = negatives[needed - 1];
  const negativesBelow = firstAbove(negatives, edge);
  const positivesBelow = firstAbove(positives, edge);
  const threshold = Math.min(
    positivesBelow < p ? positives[positivesBelow] : Infinity,
    negativesBelow < n ? negatives[negativesBelow] : Infinity,
  );
  return {
    threshold,
    sensitivity: (p - positivesBelow) / p,
    specificity: negativesBelow / n,
  };
}

/**
 * The most specific point whose sensitivity is at least `sensitivity`: the
 * highest threshold that keeps at least that share of the positives at or
 * above it.
 *
 * @param positives Positive scores, ascending.
 * @param negatives Negative scores, ascending.
 * @param sensitivity The reference's sensitivity, in [0, 1].
 * @returns The threshold and its (achieved, >= the target) sensitivity and specificity.
 * @throws {DataError} When a class is empty or `sensitivity` is outside [0, 1].
 *
 * @example Usage
 * ```ts
 * import { specificityAtSensitivity } from "./operating_point.ts";
 * // sensitivity >= 2/3 keeps 2 of the 3 positives: threshold 0.4; negatives below it: 3 of 4.
 * const point = specificityAtSensitivity([0.2, 0.4, 0.9], [0.1, 0.2, 0.3, 0.5], 2 / 3);
 * console.assert(point.threshold === 0.4 && point.specificity === 0.75);
 * ```
 */
export function specificityAtSensitivity(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  sensitivity: number,
): OperatingPoint {
  checkInputs(positives.length, negatives.length, sensitivity, "sensitivity");
  const n = negatives.length, p = positives.length;
  const needed = leastCount(sensitivity, p); // positives that must score at or above it
  if (needed <= 0) return { threshold: Infinity, sensitivity: 0, specificity: 1 };
  const threshold = positives[p - needed];
  // Ties of the threshold among the positives count as positive too.
  const positivesBelow = firstAbove(positives, threshold, true);
  return {
    threshold,
    sensitivity: (p - positivesBelow) / p,
    specificity: firstAbove(negatives, threshold, true) / n,
  };
}

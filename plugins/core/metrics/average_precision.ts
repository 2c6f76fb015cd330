/**
 * Average precision: the area under the precision-recall curve as a step
 * function, exactly as scikit-learn's `average_precision_score` defines it.
 *
 * Going down the distinct scores from the highest, each score `t` is a
 * threshold (`score >= t` is predicted positive) with recall R and precision
 * P; the average precision is Σ (R_n − R_{n−1}) P_n over those thresholds,
 * R_0 = 0. Items with equal scores cross the threshold together, so ties are
 * one step, never an interpolation. Only steps where the recall grows (a
 * positive crosses) add to the sum.
 *
 * On vessel maps it is more telling than the ROC AUC: the background is ~88 %
 * of the field of view, which flattens the ROC curve near 1; precision does
 * not count true negatives.
 *
 * @module
 */

import { DataError } from "../../../pipeline/errors.ts";

/** Throws when there is no positive, where recall (and so the curve) is undefined. */
function checkPositives(positives: number): void {
  if (positives === 0) {
    throw new DataError(
      "Cannot compute the average precision: it needs at least one positive pixel inside " +
        "the ROI; check that the ground truth masks are not empty (values > 0.5 count as positive)",
    );
  }
}

/** Throws on NaN, which has no place in an ordering. */
function checkNotNaN(value: number, index: number): void {
  if (value !== value) {
    throw new DataError(
      `Cannot compute the average precision: the score at index ${index} is NaN; ` +
        `the model produced invalid output`,
    );
  }
}

/**
 * The average precision of two groups of scores that are already sorted
 * ascending (what `RocAccumulator` in roc_auc.ts keeps), in one merge from the top:
 * O(P + N), no extra memory.
 *
 * @param positives Scores of the truly positive items, ascending, no NaN.
 * @param negatives Scores of the truly negative items, ascending, no NaN (may be empty: 1).
 * @returns Σ (R_n − R_{n−1}) P_n over the distinct scores, in [0, 1].
 * @throws {DataError} When there is no positive.
 *
 * @example Usage
 * ```ts
 * import { averagePrecisionSorted } from "./average_precision.ts";
 * // from the top: 0.8 (pos) R 1/2 P 1; 0.6 (neg); 0.4 (pos) R 1 P 2/3 → 1/2 + 1/3
 * console.assert(averagePrecisionSorted([0.4, 0.8], [0.1, 0.6]) === 1 / 2 + (1 / 2) * (2 / 3));
 * ```
 */
export function averagePrecisionSorted(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
): number {
  checkPositives(positives.length);
  let i = positives.length - 1, j = negatives.length - 1;
  let tp = 0, fp = 0, sum = 0;
  while (i >= 0) {
    // The next threshold down: the highest score not yet crossed, of either class.
    const t = j >= 0 && negatives[j] > positives[i] ? negatives[j] : positives[i];
    const before = tp;
    while (i >= 0 && positives[i] === t) i--, tp++;
    while (j >= 0 && negatives[j] === t) j--, fp++;
    // Recall grows by (tp − before) / P; the division by P is done once, at the end.
    if (tp > before) sum += (tp - before) * (tp / (tp + fp));
  }
  return sum / positives.length;
}

/**
 * The average precision of two groups of scores, in any order.
 *
 * @param positives Scores of the truly positive items (not modified).
 * @param negatives Scores of the truly negative items (not modified).
 * @returns Σ (R_n − R_{n−1}) P_n over the distinct scores, in [0, 1]; see the module doc.
 * @throws {DataError} When there is no positive or a score is NaN.
 *
 * @example Usage
 * ```ts
 * import { averagePrecision } from "./average_precision.ts";
 * // 0.5 is one threshold for all three: recall 0 → 1 at precision 2/3
 * console.assert(averagePrecision([0.5, 0.5], [0.5]) === 2 / 3);
 * ```
 */
export function averagePrecision(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
): number {
  checkPositives(positives.length);
  const pos = Float64Array.from(positives);
  const neg = Float64Array.from(negatives);
  pos.forEach(checkNotNaN);
  neg.forEach(checkNotNaN);
  return averagePrecisionSorted(pos.sort(), neg.sort());
}

/**
 * The ROC and precision-recall curves of two groups of scores, for the run
 * report's figures: one point per distinct score, from the highest down, each
 * score `t` a threshold (`score >= t` predicted positive), thinned to at most
 * `maxPoints` points for drawing.
 *
 * - ROC: x the false positive rate FP / N, y the true positive rate TP / P,
 *   from (0, 0) (threshold +∞: nothing predicted positive) to (1, 1). Items
 *   of equal score cross together, so ties make one diagonal step and the
 *   trapezoidal area under the full curve is the exact AUC, ties counting
 *   one half (see roc_auc.ts).
 * - PR: x the recall TP / P, y the precision TP / (TP + FP), starting at
 *   (0, 1) (threshold +∞, as scikit-learn's `precision_recall_curve` ends);
 *   its step-wise area is the average precision (see average_precision.ts).
 *
 * Pooled over DRIVE's test set there are millions of distinct scores. The
 * curve is thinned by arc length in the unit square: a point is kept when the
 * path since the last kept point is at least 1/(maxPoints − 2) of the whole
 * path, and the first and last points are always kept. That keeps the steep
 * start of the ROC curve (many positives over few negatives) as detailed as
 * its flat end. Two merges of the sorted scores, O(P + N), no memory per score.
 *
 * @module
 */

import { DataError } from "../../../pipeline/errors.ts";

/** One point of a curve and the threshold it is at. */
export interface CurvePoint {
  /** A score is predicted positive when it is >= this (+∞ for the first point). */
  readonly threshold: number;
  /** False positive rate (ROC) or recall (PR). */
  readonly x: number;
  /** True positive rate (ROC) or precision (PR). */
  readonly y: number;
}

/** The most points a curve keeps unless told otherwise. */
export const MAX_CURVE_POINTS = 1000;

/**
 * Calls `visit(tp, fp, t)` for each distinct score `t` of two ascending
 * arrays, from the highest down, with the counts of scores >= t.
 */
function sweep(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  visit: (tp: number, fp: number, threshold: number) => void,
): void {
  let i = positives.length - 1, j = negatives.length - 1;
  let tp = 0, fp = 0;
  while (i >= 0 || j >= 0) {
    const t = i < 0 ? negatives[j] : j < 0 ? positives[i] : Math.max(positives[i], negatives[j]);
    while (i >= 0 && positives[i] === t) i--, tp++;
    while (j >= 0 && negatives[j] === t) j--, fp++;
    visit(tp, fp, t);
  }
}

/** Throws unless the array is ascending and free of NaN. */
function checkSorted(values: ArrayLike<number>, what: string): void {
  for (let k = 0; k < values.length; k++) {
    if (values[k] !== values[k]) {
      throw new DataError(
        `Cannot draw the curve: a ${what} score is NaN; the model produced invalid output`,
      );
    }
    if (k > 0 && values[k] < values[k - 1]) {
      throw new DataError(
        `Cannot draw the curve: the ${what} scores must be sorted ascending, but index ${k} ` +
          `holds ${values[k]} after ${values[k - 1]}`,
      );
    }
  }
}

/**
 * The curve through `first` and the points `point(tp, fp, t)` of every
 * distinct threshold, thinned by arc length to at most `maxPoints`.
 */
function thinnedCurve(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  first: CurvePoint,
  point: (tp: number, fp: number) => [number, number],
  maxPoints: number,
): CurvePoint[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 3) {
    throw new DataError(
      `Cannot draw the curve: maxPoints must be an integer >= 3, got ${maxPoints}`,
    );
  }
  checkSorted(positives, "positive");
  checkSorted(negatives, "negative");
  // Pass 1: the path's length and the number of points.
  let length = 0, count = 1, px = first.x, py = first.y;
  sweep(positives, negatives, (tp, fp) => {
    const [x, y] = point(tp, fp);
    length += Math.hypot(x - px, y - py);
    px = x, py = y, count++;
  });
  // Pass 2: keep a point each `step` of path; every point when they are few.
  const step = count <= maxPoints ? 0 : length / (maxPoints - 2);
  const out: CurvePoint[] = [first];
  let since = 0, seen = 1;
  px = first.x, py = first.y;
  sweep(positives, negatives, (tp, fp, threshold) => {
    const [x, y] = point(tp, fp);
    since += Math.hypot(x - px, y - py);
    px = x, py = y, seen++;
    if (seen === count || (since >= step && out.length < maxPoints - 1)) {
      out.push({ threshold, x, y });
      since = 0;
    }
  });
  return out;
}

/**
 * The ROC curve of two groups of scores already sorted ascending (what
 * `RocAccumulator.sortedScores()` gives): false positive rate against true
 * positive rate, one point per distinct score from (0, 0) to (1, 1), thinned
 * to at most `maxPoints` (see the module doc).
 *
 * @param positives Scores of the truly positive items, ascending, no NaN.
 * @param negatives Scores of the truly negative items, ascending, no NaN.
 * @param maxPoints The most points to keep (>= 3); every point when there are no more.
 * @returns The points, from threshold +∞ down to the lowest score.
 * @throws {DataError} When a group is empty, not ascending, or holds NaN.
 *
 * @example Usage
 * ```ts
 * import { rocCurveSorted } from "./curves.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * // from the top: 0.8 positive, 0.6 negative, 0.4 positive and negative (a tie: one step)
 * const curve = rocCurveSorted([0.4, 0.8], [0.4, 0.6]);
 * assertEquals(curve.map((p) => [p.x, p.y]), [[0, 0], [0, 0.5], [0.5, 0.5], [1, 1]]);
 * assertEquals(curve.map((p) => p.threshold), [Infinity, 0.8, 0.6, 0.4]);
 * ```
 */
export function rocCurveSorted(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  maxPoints: number = MAX_CURVE_POINTS,
): CurvePoint[] {
  const p = positives.length, n = negatives.length;
  if (p === 0 || n === 0) {
    throw new DataError(
      `Cannot draw the ROC curve: it needs both classes, got ${p} positive and ${n} negative scores`,
    );
  }
  return thinnedCurve(
    positives,
    negatives,
    { threshold: Infinity, x: 0, y: 0 },
    (tp, fp) => [fp / n, tp / p],
    maxPoints,
  );
}

/**
 * The precision-recall curve of two groups of scores already sorted
 * ascending: recall against precision, from (0, 1) then one point per
 * distinct score, thinned to at most `maxPoints` (see the module doc).
 *
 * @param positives Scores of the truly positive items, ascending, no NaN.
 * @param negatives Scores of the truly negative items, ascending, no NaN (may be empty).
 * @param maxPoints The most points to keep (>= 3); every point when there are no more.
 * @returns The points, from threshold +∞ down to the lowest score.
 * @throws {DataError} When there is no positive, or a group is not ascending or holds NaN.
 *
 * @example Usage
 * ```ts
 * import { prCurveSorted } from "./curves.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * // from the top: 0.8 positive (R 1/2, P 1), 0.6 negative (P 1/2), 0.4 positive (R 1, P 2/3)
 * const curve = prCurveSorted([0.4, 0.8], [0.6]);
 * assertEquals(curve.map((p) => [p.x, p.y]), [[0, 1], [0.5, 1], [0.5, 0.5], [1, 2 / 3]]);
 * ```
 */
export function prCurveSorted(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  maxPoints: number = MAX_CURVE_POINTS,
): CurvePoint[] {
  const p = positives.length;
  if (p === 0) {
    throw new DataError("Cannot draw the precision-recall curve: it needs at least one positive");
  }
  return thinnedCurve(
    positives,
    negatives,
    { threshold: Infinity, x: 0, y: 1 },
    (tp, fp) => [tp / p, tp / (tp + fp)],
    maxPoints,
  );
}

/** Ascending copies of both groups (NaN sorts last, where the curve rejects it). */
function sortedCopies(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
): [Float64Array, Float64Array] {
  return [Float64Array.from(positives).sort(), Float64Array.from(negatives).sort()];
}

/**
 * The ROC curve of two groups of scores in any order; see {@link rocCurveSorted}.
 *
 * @param positives Scores of the truly positive items (not modified).
 * @param negatives Scores of the truly negative items (not modified).
 * @param maxPoints The most points to keep (>= 3).
 * @returns The points, from (0, 0) at threshold +∞ to (1, 1).
 * @throws {DataError} When a group is empty or a score is NaN.
 *
 * @example Usage
 * ```ts
 * import { rocCurve } from "./curves.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * // a perfect ranking: straight up, then straight across
 * assertEquals(rocCurve([0.9, 0.7], [0.1]).map((p) => [p.x, p.y]), [[0, 0], [0, 0.5], [0, 1], [1, 1]]);
 * ```
 */
export function rocCurve(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  maxPoints: number = MAX_CURVE_POINTS,
): CurvePoint[] {
  return rocCurveSorted(...sortedCopies(positives, negatives), maxPoints);
}

/**
 * The precision-recall curve of two groups of scores in any order; see {@link prCurveSorted}.
 *
 * @param positives Scores of the truly positive items (not modified).
 * @param negatives Scores of the truly negative items (not modified).
 * @param maxPoints The most points to keep (>= 3).
 * @returns The points, from (0, 1) at threshold +∞ to (1, prevalence).
 * @throws {DataError} When there is no positive or a score is NaN.
 *
 * @example Usage
 * ```ts
 * import { prCurve } from "./curves.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * // all tied: one step to recall 1 at precision 2/5, the prevalence
 * assertEquals(prCurve([0.5, 0.5], [0.5, 0.5, 0.5]).map((p) => [p.x, p.y]), [[0, 1], [1, 0.4]]);
 * ```
 */
export function prCurve(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  maxPoints: number = MAX_CURVE_POINTS,
): CurvePoint[] {
  return prCurveSorted(...sortedCopies(positives, negatives), maxPoints);
}

/**
 * The trapezoidal area under a curve's points, in the order given: for a
 * full ROC curve, the exact AUC (ties one half).
 *
 * @param points The curve, x not decreasing.
 * @returns Σ (x_k − x_{k−1}) (y_k + y_{k−1}) / 2.
 *
 * @example Usage
 * ```ts
 * import { rocCurve, trapezoidArea } from "./curves.ts";
 * import { assert } from "../../../tests/assert.ts";
 * // pairs (0.8, 0.6) and (0.8, 0.4) ordered, (0.4, 0.4) a tie: (2 + 1/2) / 4
 * assert(trapezoidArea(rocCurve([0.4, 0.8], [0.4, 0.6])) === 0.625);
 * ```
 */
export function trapezoidArea(points: readonly { x: number; y: number }[]): number {
  let area = 0;
  for (let k = 1; k < points.length; k++) {
    area += ((points[k].x - points[k - 1].x) * (points[k].y + points[k - 1].y)) / 2;
  }
  return area;
}

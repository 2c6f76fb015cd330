/**
 * The exact area under the ROC curve, pooled over many images, and from the
 * same sorted scores the exact average precision (PR-AUC, see
 * average_precision.ts).
 *
 * The area equals the probability that a random positive pixel scores higher
 * than a random negative one, ties counting one half: the Mann-Whitney U
 * statistic divided by P·N. It is computed exactly (no binning of the
 * scores) by sorting both classes and merging them, O((P + N) log(P + N)).
 * This is also what `sklearn.metrics.roc_auc_score` returns, which the
 * reference DRIVE implementations use.
 *
 * @module
 */

import { DataError } from "../../../pipeline/errors.ts";
import { averagePrecisionSorted } from "./average_precision.ts";

/**
 * Twice the Mann-Whitney U of two ascending arrays: for each positive, 2 × the
 * negatives below it plus 1 × the negatives equal to it. An integer, exact in
 * a double up to 2^53.
 */
function twiceU(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  const n = negatives.length;
  let below = 0; // negatives strictly below the current positive
  let notAbove = 0; // negatives below or equal to it
  let sum = 0;
  for (let i = 0; i < positives.length; i++) {
    const p = positives[i];
    while (below < n && negatives[below] < p) below++;
    if (notAbove < below) notAbove = below;
    while (notAbove < n && negatives[notAbove] <= p) notAbove++;
    sum += below + notAbove;
  }
  return sum;
}

/** Throws when there is no positive or no negative, where the area is undefined. */
function checkBothClasses(positives: number, negatives: number): void {
  if (positives === 0 || negatives === 0) {
    throw new DataError(
      `Cannot compute the ROC AUC: it needs both classes inside the ROI, got ` +
        `${positives} positive and ${negatives} negative pixels; check that the ground ` +
        `truth and ROI masks are not empty or full (values > 0.5 count as positive/inside)`,
    );
  }
}

/** Throws on NaN, which has no place in an ordering. */
function checkNotNaN(value: number, index: number): void {
  if (value !== value) {
    throw new DataError(
      `Cannot compute the ROC AUC: the prediction at index ${index} is NaN; ` +
        `the model produced invalid output`,
    );
  }
}

/**
 * The exact ROC AUC of two groups of scores, ties counting one half.
 *
 * @param positives Scores of the truly positive items (not modified).
 * @param negatives Scores of the truly negative items (not modified).
 * @returns U / (P·N), in [0, 1].
 * @throws {DataError} When a group is empty or a score is NaN.
 *
 * @example Usage
 * ```ts
 * import { rocAuc } from "./roc_auc.ts";
 * // pairs (pos, neg): (0.8, 0.1) 1, (0.8, 0.4) 1, (0.4, 0.1) 1, (0.4, 0.4) 1/2 → 3.5 / 4
 * console.assert(rocAuc([0.8, 0.4], [0.1, 0.4]) === 0.875);
 * ```
 */
export function rocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  checkBothClasses(positives.length, negatives.length);
  const pos = Float64Array.from(positives);
  const neg = Float64Array.from(negatives);
  pos.forEach(checkNotNaN);
  neg.forEach(checkNotNaN);
  pos.sort();
  neg.sort();
  return twiceU(pos, neg) / (2 * pos.length * neg.length);
}

/** A Float32Array that grows by doubling. */
class GrowableFloat32 {
  #data = new Float32Array(1 << 16);
  #length = 0;
  /** Whether the values are known to be sorted (none pushed since the last sort). */
  #sorted = true;

  get length(): number {
    return this.#length;
  }

  reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#data.length) return;
    let capacity = this.#data.length;
    while (capacity < needed) capacity *= 2;
    const grown = new Float32Array(capacity);
    grown.set(this.#data.subarray(0, this.#length));
    this.#data = grown;
  }

  /** Drops the values after the first `length`. */
  truncate(length: number): void {
    this.#length = Math.min(this.#length, length);
  }

  /** Appends without a capacity check: call {@link reserve} first. */
  pushUnchecked(value: number): void {
    this.#data[this.#length++] = value;
    this.#sorted = false;
  }

  /**
   * The values so far, sorted ascending in place (a view, valid until the next
   * push); sorted once however often it is asked for.
   */
  sorted(): Float32Array {
    const values = this.#data.subarray(0, this.#length);
    if (!this.#sorted) values.sort();
    this.#sorted = true;
    return values;
  }
}

/**
 * Collects the (probability, truth) pairs of the ROI pixels of many images
 * and computes their exact pooled ROC AUC and average precision (PR-AUC).
 *
 * A pixel counts when its ROI value is > 0.5 and is positive when its truth
 * value is > 0.5. Probabilities are stored as 32-bit floats (what models
 * output), positives and negatives in separate growable typed arrays: about
 * 18 MB for DRIVE's 4.5 M field-of-view pixels. Both areas read the same two
 * arrays, sorted in place once.
 *
 * @example Usage
 * ```ts
 * import { RocAccumulator } from "./roc_auc.ts";
 * const roc = new RocAccumulator();
 * roc.add(new Float32Array([0.9, 0.3]), [1, 0], [1, 1]);
 * roc.add(new Float32Array([0.3, 0.5]), [1, 0], [1, 0]); // second pixel outside the ROI
 * // positives {0.9, 0.3}, negatives {0.3}: 1 + 1/2 of 2 pairs
 * console.assert(roc.auc() === 0.75);
 * // thresholds 0.9: recall 1/2, precision 1; 0.3: recall 1, precision 2/3
 * console.assert(roc.averagePrecision() === (1 + 2 / 3) / 2);
 * ```
 */
export class RocAccumulator {
  #positives = new GrowableFloat32();
  #negatives = new GrowableFloat32();

  /** Positive ROI pixels collected so far. */
  get positives(): number {
    return this.#positives.length;
  }

  /** Negative ROI pixels collected so far. */
  get negatives(): number {
    return this.#negatives.length;
  }

  /**
   * Collects one image's ROI pixels.
   *
   * @param prob Predicted probability (any score) per pixel.
   * @param truth Ground truth per pixel (> 0.5 = positive).
   * @param roi Region of interest per pixel (> 0.5 = counts).
   * @returns This accumulator, for chaining.
   * @throws {DataError} When the lengths differ or a counted probability is NaN
   * (nothing of the image is kept then).
   */
  add(prob: ArrayLike<number>, truth: ArrayLike<number>, roi: ArrayLike<number>): this {
    if (prob.length !== truth.length || prob.length !== roi.length) {
      throw new DataError(
        `RocAccumulator.add(): prediction, truth and ROI must have one value per pixel ` +
          `each, got ${prob.length}, ${truth.length} and ${roi.length} values`,
      );
    }
    this.#positives.reserve(prob.length);
    this.#negatives.reserve(prob.length);
    const positives = this.#positives.length, negatives = this.#negatives.length;
    for (let i = 0; i < prob.length; i++) {
      if (!(roi[i] > 0.5)) continue;
      const p = prob[i];
      if (p !== p) {
        this.#positives.truncate(positives);
        this.#negatives.truncate(negatives);
        checkNotNaN(p, i);
      }
      if (truth[i] > 0.5) this.#positives.pushUnchecked(p);
      else this.#negatives.pushUnchecked(p);
    }
    return this;
  }

  /**
   * The probabilities collected so far, each class sorted ascending in place:
   * what {@link auc} and {@link averagePrecision} are computed from (and what
   * the report's curves are drawn from). Views into the accumulator, valid
   * until the next {@link add}; do not modify them.
   *
   * @returns The positive and the negative ROI pixels' probabilities, ascending.
   *
   * @example Usage
   * ```ts
   * import { RocAccumulator } from "./roc_auc.ts";
   * import { assert } from "../../../tests/assert.ts";
   * const roc = new RocAccumulator().add(new Float32Array([0.9, 0.2, 0.4]), [1, 0, 1], [1, 1, 1]);
   * const { positives, negatives } = roc.sortedScores();
   * assert(positives.length === 2 && positives[0] === Math.fround(0.4));
   * assert(negatives.length === 1 && negatives[0] === Math.fround(0.2));
   * ```
   */
  sortedScores(): { readonly positives: Float32Array; readonly negatives: Float32Array } {
    return { positives: this.#positives.sorted(), negatives: this.#negatives.sorted() };
  }

  /**
   * The exact area under the ROC curve of everything collected so far.
   *
   * @returns U / (P·N) with ties counting one half, in [0, 1].
   * @throws {DataError} When no positive or no negative pixel was collected.
   */
  auc(): number {
    const p = this.#positives.length, n = this.#negatives.length;
    checkBothClasses(p, n);
    return twiceU(this.#positives.sorted(), this.#negatives.sorted()) / (2 * p * n);
  }

  /**
   * The exact average precision (area under the step-wise precision-recall
   * curve, ties one threshold) of everything collected so far, as
   * scikit-learn's `average_precision_score`; see average_precision.ts.
   *
   * @returns Σ (R_n − R_{n−1}) P_n over the distinct probabilities, in [0, 1].
   * @throws {DataError} When no positive pixel was collected.
   */
  averagePrecision(): number {
    return averagePrecisionSorted(this.#positives.sorted(), this.#negatives.sorted());
  }
}

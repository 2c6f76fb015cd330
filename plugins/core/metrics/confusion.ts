/**
 * A pixel confusion matrix pooled over many images, and the threshold scores
 * derived from it (accuracy, sensitivity, specificity, precision, F1).
 *
 * Only pixels inside the region of interest count: on DRIVE that is the field
 * of view, and all test images are pooled into one matrix before any score is
 * computed (not averaged per image).
 *
 * @module
 */

import { DataError } from "../../../pipeline/errors.ts";

/** The four cells of a binary confusion matrix, as pixel counts. */
export interface Confusion {
  /** Predicted positive, truly positive. */
  readonly tp: number;
  /** Predicted positive, truly negative. */
  readonly fp: number;
  /** Predicted negative, truly negative. */
  readonly tn: number;
  /** Predicted negative, truly positive. */
  readonly fn: number;
}

/** Threshold scores of a confusion matrix, each in [0, 1]. */
export interface ConfusionScores {
  /** (tp + tn) / all. */
  readonly accuracy: number;
  /** Recall, true positive rate: tp / (tp + fn). */
  readonly sensitivity: number;
  /** True negative rate: tn / (tn + fp). */
  readonly specificity: number;
  /** Positive predictive value: tp / (tp + fp). */
  readonly precision: number;
  /** Dice on pixels: 2 tp / (2 tp + fp + fn). */
  readonly f1: number;
}

/** Throws a {@link DataError} unless `prob`, `truth` and `roi` have one value per pixel each. */
function checkSameLength(
  prob: ArrayLike<number>,
  truth: ArrayLike<number>,
  roi: ArrayLike<number>,
  what: string,
): void {
  if (prob.length !== truth.length || prob.length !== roi.length) {
    throw new DataError(
      `${what}: prediction, truth and ROI must have one value per pixel each, ` +
        `got ${prob.length}, ${truth.length} and ${roi.length} values`,
    );
  }
}

/**
 * Pools a binary confusion matrix over any number of images.
 *
 * A pixel counts when its ROI value is > 0.5. It is truly positive when its
 * truth value is > 0.5, and predicted positive when its probability is
 * **>= threshold** (default 0.5). The `>=` follows the reference
 * implementations that DRIVE figures are usually compared with (orobix
 * retina-unet and its descendants LadderNet and BCD-U-Net binarise with
 * `y_score >= threshold`); rounding a probability of exactly 0.5 either way
 * changes nothing measurable on real outputs, but the convention is fixed here
 * so that binary predictions (0/1) and hand-made tests are unambiguous.
 *
 * @example Usage
 * ```ts
 * import { ConfusionAccumulator } from "./confusion.ts";
 * const matrix = new ConfusionAccumulator();
 * matrix.add(new Float32Array([0.9, 0.2, 0.5, 0.7]), [1, 0, 1, 0], [1, 1, 1, 0]);
 * console.assert(matrix.tp === 2 && matrix.tn === 1 && matrix.fp === 0 && matrix.fn === 0);
 * ```
 */
export class ConfusionAccumulator implements Confusion {
  /** Predicted positive, truly positive, so far. */
  tp = 0;
  /** Predicted positive, truly negative, so far. */
  fp = 0;
  /** Predicted negative, truly negative, so far. */
  tn = 0;
  /** Predicted negative, truly positive, so far. */
  fn = 0;

  /**
   * Counts one image's pixels into the matrix.
   *
   * @param prob Predicted probability per pixel.
   * @param truth Ground truth per pixel (> 0.5 = positive).
   * @param roi Region of interest per pixel (> 0.5 = counts).
   * @param threshold A pixel is predicted positive when `prob >= threshold`.
   * @returns This accumulator, for chaining.
   */
  add(
    prob: ArrayLike<number>,
    truth: ArrayLike<number>,
    roi: ArrayLike<number>,
    threshold = 0.5,
  ): this {
    checkSameLength(prob, truth, roi, "ConfusionAccumulator.add()");
    let tp = 0, fp = 0, tn = 0, fn = 0;
    for (let i = 0; i < prob.length; i++) {
      if (!(roi[i] > 0.5)) continue;
      const predicted = prob[i] >= threshold;
      if (truth[i] > 0.5) {
        if (predicted) tp++;
        else fn++;
      } else if (predicted) fp++;
      else tn++;
    }
    this.tp += tp;
    this.fp += fp;
    this.tn += tn;
    this.fn += fn;
    return this;
  }

  /**
   * The scores of the pixels counted so far.
   *
   * @returns See {@link scoresFromConfusion}.
   */
  scores(): ConfusionScores {
    return scoresFromConfusion(this);
  }
}

/** `a / b`, or 0 when `b` is 0. */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/**
 * Accuracy, sensitivity, specificity, precision and F1 of a confusion matrix.
 *
 * A score whose denominator is 0 is reported as 0 rather than NaN (e.g.
 * precision when nothing was predicted positive, sensitivity when there are
 * no positives), so reports stay numeric; check `tp + fn` and `tp + fp` if
 * that distinction matters.
 *
 * @param confusion The pixel counts.
 * @returns The five scores, each in [0, 1].
 *
 * @example Usage
 * ```ts
 * import { scoresFromConfusion } from "./confusion.ts";
 * const s = scoresFromConfusion({ tp: 3, fp: 1, tn: 4, fn: 2 });
 * console.assert(s.accuracy === 0.7 && s.precision === 0.75 && s.f1 === 6 / 9);
 * ```
 */
export function scoresFromConfusion(confusion: Confusion): ConfusionScores {
  const { tp, fp, tn, fn } = confusion;
  return {
    accuracy: ratio(tp + tn, tp + fp + tn + fn),
    sensitivity: ratio(tp, tp + fn),
    specificity: ratio(tn, tn + fp),
    precision: ratio(tp, tp + fp),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
  };
}

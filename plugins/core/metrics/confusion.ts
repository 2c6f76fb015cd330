/**
 * A pixel confusion matrix pooled over many images, and the threshold scores
 * derived from it (accuracy, sensitivity, specificity, precision, F1, IoU and
 * the Matthews correlation coefficient).
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

/** Threshold scores of a confusion matrix, each in [0, 1] except `mcc` (in [-1, 1]). */
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
  /** Intersection over union (Jaccard index): tp / (tp + fp + fn); see {@link jaccardIndex}. */
  readonly iou: number;
  /** Matthews correlation coefficient, in [-1, 1]; see {@link matthewsCorrelation}. */
  readonly mcc: number;
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
 * The intersection over union (Jaccard index) of the predicted and the true
 * positives: tp / (tp + fp + fn). It relates to F1 (Dice) as
 * IoU = F1 / (2 − F1).
 *
 * When nothing is truly or predicted positive (tp + fp + fn = 0) it is 0,
 * like F1 here, rather than NaN or 1.
 *
 * @param confusion The pixel counts.
 * @returns The index, in [0, 1].
 *
 * @example Usage
 * ```ts
 * import { jaccardIndex } from "./confusion.ts";
 * // 3 shared pixels of 3 + 1 + 2 = 6 in the union
 * console.assert(jaccardIndex({ tp: 3, fp: 1, tn: 4, fn: 2 }) === 0.5);
 * ```
 */
export function jaccardIndex(confusion: Confusion): number {
  const { tp, fp, fn } = confusion;
  return ratio(tp, tp + fp + fn);
}

/**
 * The Matthews correlation coefficient: the correlation between prediction
 * and truth, (tp·tn − fp·fn) / √((tp + fp)(tp + fn)(tn + fp)(tn + fn)).
 * 1 is perfect, 0 no better than chance, −1 always wrong; unlike F1 it
 * rewards true negatives, and unlike accuracy it is not inflated by a large
 * background.
 *
 * **Degenerate case:** when a row or a column of the matrix is empty (no
 * pixel truly positive, truly negative, predicted positive or predicted
 * negative), the denominator is 0 and the coefficient is undefined; it is
 * then reported as 0 (no measurable correlation), as scikit-learn's
 * `matthews_corrcoef` does.
 *
 * @param confusion The pixel counts.
 * @returns The coefficient, in [-1, 1].
 *
 * @example Usage
 * ```ts
 * import { matthewsCorrelation } from "./confusion.ts";
 * // (3·4 − 1·2) / √(4·5·5·6) = 10 / √600
 * console.assert(matthewsCorrelation({ tp: 3, fp: 1, tn: 4, fn: 2 }) === 10 / Math.sqrt(600));
 * console.assert(matthewsCorrelation({ tp: 5, fp: 5, tn: 0, fn: 0 }) === 0); // nothing negative
 * ```
 */
export function matthewsCorrelation(confusion: Confusion): number {
  const { tp, fp, tn, fn } = confusion;
  const predictedPositive = tp + fp, truePositive = tp + fn;
  const trueNegative = tn + fp, predictedNegative = tn + fn;
  if (
    predictedPositive === 0 || truePositive === 0 || trueNegative === 0 || predictedNegative === 0
  ) {
    return 0;
  }
  // tp·tn and fp·fn are exact (below 2^53 up to ~10^8 pixels); the product of the four margins
  // is rounded once (relative error ~1e-16) and cannot overflow (~10^27 for 10^7 pixels).
  const mcc = (tp * tn - fp * fn) /
    Math.sqrt(predictedPositive * truePositive * trueNegative * predictedNegative);
  return Math.max(-1, Math.min(1, mcc)); // rounding must not leave [-1, 1]
}

/**
 * Accuracy, sensitivity, specificity, precision, F1, IoU and MCC of a
 * confusion matrix.
 *
 * A score whose denominator is 0 is reported as 0 rather than NaN (e.g.
 * precision when nothing was predicted positive, sensitivity when there are
 * no positives), so reports stay numeric; check `tp + fn` and `tp + fp` if
 * that distinction matters.
 *
 * @param confusion The pixel counts.
 * @returns The seven scores, each in [0, 1] except `mcc` (see {@link matthewsCorrelation}).
 *
 * @example Usage
 * ```ts
 * import { scoresFromConfusion } from "./confusion.ts";
 * const s = scoresFromConfusion({ tp: 3, fp: 1, tn: 4, fn: 2 });
 * console.assert(s.accuracy === 0.7 && s.precision === 0.75 && s.f1 === 6 / 9 && s.iou === 0.5);
 * ```
 */
export function scoresFromConfusion(confusion: Confusion): ConfusionScores {
  const r = confusionRatios(confusion);
  return {
    accuracy: r.accuracy ?? 0,
    sensitivity: r.sensitivity ?? 0,
    specificity: r.specificity ?? 0,
    precision: r.precision ?? 0,
    f1: r.f1 ?? 0,
    iou: jaccardIndex(confusion),
    mcc: matthewsCorrelation(confusion),
  };
}

/** The ratios of a confusion matrix, each `undefined` where it is 0 / 0. */
export type ConfusionRatios = {
  readonly [K in Exclude<keyof ConfusionScores, "mcc">]: number | undefined;
};

/**
 * Accuracy, sensitivity, specificity, precision, F1 and IoU, each
 * `undefined` where its denominator is 0 (sensitivity without positives,
 * precision without predicted positives): {@link scoresFromConfusion} reports
 * those as 0; a per-image table leaves them blank.
 *
 * @param confusion The pixel counts.
 * @returns The six ratios.
 *
 * @example Usage
 * ```ts
 * import { confusionRatios } from "./confusion.ts";
 * const r = confusionRatios({ tp: 0, fp: 1, tn: 3, fn: 0 }); // no positives, one false alarm
 * console.assert(r.sensitivity === undefined && r.precision === 0 && r.specificity === 0.75);
 * ```
 */
export function confusionRatios(confusion: Confusion): ConfusionRatios {
  const { tp, fp, tn, fn } = confusion;
  const defined = (a: number, b: number) => (b === 0 ? undefined : a / b);
  return {
    accuracy: defined(tp + tn, tp + fp + tn + fn),
    sensitivity: defined(tp, tp + fn),
    specificity: defined(tn, tn + fp),
    precision: defined(tp, tp + fp),
    f1: defined(2 * tp, 2 * tp + fp + fn),
    iou: defined(tp, tp + fp + fn),
  };
}

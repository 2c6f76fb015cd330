/**
 * The scores a segmentation paper reports, pooled over a test set: the exact
 * ROC AUC and average precision (PR-AUC) of the probabilities and the
 * threshold scores of one confusion matrix (F1, accuracy, sensitivity,
 * specificity, precision, IoU, MCC), all over the ROI pixels of all images
 * together; beside them the mean per-image Dice and each image's own scores.
 *
 * @module
 */

import { type Confusion, ConfusionAccumulator, type ConfusionScores } from "./confusion.ts";
import { type ImageMetrics, imageMetrics } from "./per_image.ts";
import { RocAccumulator } from "./roc_auc.ts";

/** What {@link ThresholdScorer.result} reports. */
export interface ThresholdMetrics extends ConfusionScores {
  /**
   * The mean over images of each image's own Dice (its F1): every image
   * weighs the same, where the pooled `f1` weighs every pixel the same. An
   * image with no true and no predicted foreground has no Dice (0 / 0) and is
   * left out of the mean, as nnU-Net's NaN-skipping mean does; one with
   * false positives only has Dice 0. 0 when no image has a Dice.
   */
  readonly dice: number;
  /** ROI pixels counted. */
  readonly pixels: number;
  /** Truly positive ROI pixels among them. */
  readonly positives: number;
}

/** What {@link SegmentationScorer.result} reports. */
export interface SegmentationMetrics extends ThresholdMetrics {
  /** Exact area under the ROC curve (ties count one half). */
  readonly auc: number;
  /** Exact average precision, the step-wise area under the precision-recall curve. */
  readonly prAuc: number;
}

/**
 * Pools ROI pixels over many images into the scores at one threshold, and
 * keeps each image's confusion counts for the mean per-image Dice. Needs no
 * memory per pixel, so it also scores binary maps (a second observer) and
 * extra thresholds cheaply.
 *
 * A pixel counts when its ROI value is > 0.5, is positive when its truth
 * value is > 0.5 and is predicted positive when its probability is
 * >= `threshold` (see {@link ConfusionAccumulator}).
 *
 * @example Usage
 * ```ts
 * import { ThresholdScorer } from "./segmentation_metrics.ts";
 * const scorer = new ThresholdScorer(0.5)
 *   .add(new Float32Array([0.9, 0.6]), [1, 0], [1, 1]) // tp, fp: Dice 2/3
 *   .add(new Float32Array([0.9, 0.1]), [1, 0], [1, 1]) // tp, tn: Dice 1
 *   .add(new Float32Array([0.2, 0.1]), [0, 0], [1, 1]); // tn, tn: no Dice, left out
 * const r = scorer.result();
 * // pooled tp 2, fp 1, tn 3: F1 4/5; mean Dice (2/3 + 1) / 2
 * console.assert(r.f1 === 0.8 && r.dice === (2 / 3 + 1) / 2 && r.pixels === 6);
 * ```
 */
export class ThresholdScorer {
  readonly #pooled = new ConfusionAccumulator();
  readonly #images: Confusion[] = [];
  /** A pixel is predicted positive when its probability is >= this. */
  readonly threshold: number;

  /**
   * Starts an empty scorer.
   *
   * @param threshold A pixel is predicted positive when its probability is >= this.
   */
  constructor(threshold = 0.5) {
    this.threshold = threshold;
  }

  /** The confusion counts of each image added so far, in order. */
  get images(): readonly Confusion[] {
    return this.#images;
  }

  /**
   * Counts one image.
   *
   * @param prob Predicted probability per pixel.
   * @param truth Ground truth per pixel (> 0.5 = positive).
   * @param roi Region of interest per pixel (> 0.5 = counts).
   * @returns This scorer, for chaining.
   * @throws {DataError} When the lengths differ (nothing is counted then).
   */
  add(prob: ArrayLike<number>, truth: ArrayLike<number>, roi: ArrayLike<number>): this {
    const image = new ConfusionAccumulator().add(prob, truth, roi, this.threshold);
    const { tp, fp, tn, fn } = image;
    this.#images.push({ tp, fp, tn, fn });
    this.#pooled.tp += tp;
    this.#pooled.fp += fp;
    this.#pooled.tn += tn;
    this.#pooled.fn += fn;
    return this;
  }

  /**
   * The pooled scores of all images added so far.
   *
   * @returns The threshold scores, the mean per-image Dice, and the pixel counts.
   */
  result(): ThresholdMetrics {
    const { tp, fp, tn, fn } = this.#pooled;
    let dice = 0, scored = 0;
    for (const c of this.#images) {
      const denominator = 2 * c.tp + c.fp + c.fn;
      if (denominator === 0) continue; // a negative case predicted empty: Dice undefined
      dice += (2 * c.tp) / denominator;
      scored++;
    }
    return {
      ...this.#pooled.scores(),
      dice: scored === 0 ? 0 : dice / scored,
      pixels: tp + fp + tn + fn,
      positives: tp + fn,
    };
  }
}

/**
 * Pools ROI pixels over many images into the usual segmentation scores, and
 * keeps each image's own scores.
 *
 * A pixel counts when its ROI value is > 0.5, is positive when its truth
 * value is > 0.5 and is predicted positive when its probability is
 * >= `threshold` (see {@link ConfusionAccumulator}). The AUC and PR-AUC do
 * not depend on the threshold.
 *
 * @example Usage
 * ```ts
 * import { SegmentationScorer } from "./segmentation_metrics.ts";
 * const scorer = new SegmentationScorer();
 * scorer.add(new Float32Array([0.9, 0.6, 0.2, 0.1]), [1, 0, 1, 0], [1, 1, 1, 1], "a");
 * const r = scorer.result();
 * // positives {0.9, 0.2} vs negatives {0.6, 0.1}: 3 of 4 pairs ordered; 1 tp, 1 fp, 1 fn, 1 tn
 * console.assert(r.auc === 0.75 && r.accuracy === 0.5 && r.pixels === 4 && r.positives === 2);
 * // from the top: 0.9 recall 1/2 precision 1; 0.2 recall 1 precision 2/3
 * console.assert(r.prAuc === (1 + 2 / 3) / 2 && r.iou === 1 / 3 && r.mcc === 0);
 * console.assert(scorer.perImage()[0].id === "a" && scorer.perImage()[0].metrics.dice === 0.5);
 * ```
 */
export class SegmentationScorer {
  readonly #threshold: ThresholdScorer;
  readonly #roc = new RocAccumulator();
  readonly #perImage: ImageMetrics[] = [];

  /**
   * Starts an empty scorer.
   *
   * @param threshold A pixel is predicted positive when its probability is >= this.
   */
  constructor(threshold = 0.5) {
    this.#threshold = new ThresholdScorer(threshold);
  }

  /**
   * Counts one image.
   *
   * @param prob Predicted probability per pixel.
   * @param truth Ground truth per pixel (> 0.5 = positive).
   * @param roi Region of interest per pixel (> 0.5 = counts).
   * @param id The image's name in {@link perImage}; its number from 1 when left out.
   * @returns This scorer, for chaining.
   * @throws {DataError} When the lengths differ or a counted probability is NaN
   * (nothing of the image is counted then).
   */
  add(
    prob: ArrayLike<number>,
    truth: ArrayLike<number>,
    roi: ArrayLike<number>,
    id = String(this.#perImage.length + 1),
  ): this {
    this.#roc.add(prob, truth, roi); // first: it rejects NaN before anything is counted
    this.#threshold.add(prob, truth, roi);
    // The image's own AUC, from its own pixels (transient: about 8 bytes per ROI pixel).
    const own = new RocAccumulator().add(prob, truth, roi);
    const auc = own.positives > 0 && own.negatives > 0 ? own.auc() : undefined;
    this.#perImage.push({ id, metrics: imageMetrics(this.#threshold.images.at(-1)!, auc) });
    return this;
  }

  /**
   * Each image's scores, in the order added: AUC (left out where the image
   * lacks a class), Dice (its F1), IoU, accuracy, sensitivity, specificity,
   * precision; see `imageMetrics` in per_image.ts.
   *
   * @returns One entry per image.
   */
  perImage(): readonly ImageMetrics[] {
    return this.#perImage;
  }

  /**
   * The pooled probabilities of the ROI pixels of all images added so far,
   * positives and negatives each sorted ascending: what the AUC and PR-AUC
   * are computed from, e.g. to draw the ROC and precision-recall curves. Views
   * into the scorer, valid until the next {@link add}; do not modify them.
   *
   * @returns The positive and the negative pixels' probabilities, ascending.
   *
   * @example Usage
   * ```ts
   * import { SegmentationScorer } from "./segmentation_metrics.ts";
   * import { assert } from "../../../tests/assert.ts";
   * const scorer = new SegmentationScorer()
   *   .add(new Float32Array([0.75, 0.5, 0.25]), [0, 1, 1], [1, 1, 0]); // last pixel outside the ROI
   * const { positives, negatives } = scorer.sortedScores();
   * assert(positives.join() === "0.5" && negatives.join() === "0.75");
   * ```
   */
  sortedScores(): { readonly positives: Float32Array; readonly negatives: Float32Array } {
    return this.#roc.sortedScores();
  }

  /**
   * The pooled scores of all images added so far.
   *
   * @returns AUC, PR-AUC, the threshold scores, the mean per-image Dice, and the pixel counts.
   * @throws {DataError} When there is no positive or no negative ROI pixel (AUC undefined).
   */
  result(): SegmentationMetrics {
    return {
      auc: this.#roc.auc(),
      prAuc: this.#roc.averagePrecision(),
      ...this.#threshold.result(),
    };
  }
}

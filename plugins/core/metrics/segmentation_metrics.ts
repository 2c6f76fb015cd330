/**
 * The scores a segmentation paper reports, pooled over a test set: the exact
 * ROC AUC of the probabilities and the threshold scores of one confusion
 * matrix, both over the ROI pixels of all images together.
 *
 * @module
 */

import { ConfusionAccumulator, type ConfusionScores } from "./confusion.ts";
import { RocAccumulator } from "./roc_auc.ts";

/** What {@link SegmentationScorer.result} reports. */
export interface SegmentationMetrics extends ConfusionScores {
  /** Exact area under the ROC curve (ties count one half). */
  readonly auc: number;
  /** ROI pixels counted. */
  readonly pixels: number;
  /** Truly positive ROI pixels among them. */
  readonly positives: number;
}

/**
 * Pools ROI pixels over many images into the usual segmentation scores.
 *
 * A pixel counts when its ROI value is > 0.5, is positive when its truth
 * value is > 0.5 and is predicted positive when its probability is
 * >= `threshold` (see {@link ConfusionAccumulator}).
 *
 * @example Usage
 * ```ts
 * import { SegmentationScorer } from "./segmentation_metrics.ts";
 * const scorer = new SegmentationScorer();
 * scorer.add(new Float32Array([0.9, 0.6, 0.2, 0.1]), [1, 0, 1, 0], [1, 1, 1, 1]);
 * const r = scorer.result();
 * // positives {0.9, 0.2} vs negatives {0.6, 0.1}: 3 of 4 pairs ordered; 1 tp, 1 fp, 1 fn, 1 tn
 * console.assert(r.auc === 0.75 && r.accuracy === 0.5 && r.pixels === 4 && r.positives === 2);
 * ```
 */
export class SegmentationScorer {
  readonly #confusion = new ConfusionAccumulator();
  readonly #roc = new RocAccumulator();
  readonly #threshold: number;

  /**
   * Starts an empty scorer.
   *
   * @param threshold A pixel is predicted positive when its probability is >= this.
   */
  constructor(threshold = 0.5) {
    this.#threshold = threshold;
  }

  /**
   * Counts one image.
   *
   * @param prob Predicted probability per pixel.
   * @param truth Ground truth per pixel (> 0.5 = positive).
   * @param roi Region of interest per pixel (> 0.5 = counts).
   * @returns This scorer, for chaining.
   */
  add(prob: ArrayLike<number>, truth: ArrayLike<number>, roi: ArrayLike<number>): this {
    this.#roc.add(prob, truth, roi); // first: it rejects NaN before anything is counted
    this.#confusion.add(prob, truth, roi, this.#threshold);
    return this;
  }

  /**
   * The pooled scores of all images added so far.
   *
   * @returns AUC, the threshold scores, and the pixel counts.
   * @throws {DataError} When there is no positive or no negative ROI pixel (AUC undefined).
   */
  result(): SegmentationMetrics {
    const { tp, fp, tn, fn } = this.#confusion;
    return {
      auc: this.#roc.auc(),
      ...this.#confusion.scores(),
      pixels: tp + fp + tn + fn,
      positives: tp + fn,
    };
  }
}

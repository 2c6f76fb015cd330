/**
 * Scores of single images, beside the pooled ones: how the score spreads
 * over the test set, which images are hard, and the mean per-image Dice
 * that some papers report instead of the pooled F1.
 *
 * @module
 */

import { type Confusion, confusionRatios } from "./confusion.ts";

/** The metrics of one image, in the order {@link imageMetrics} gives them and CSV columns. */
export const PER_IMAGE_METRICS = [
  "auc",
  "dice",
  "iou",
  "accuracy",
  "sensitivity",
  "specificity",
  "precision",
] as const;

/** One image's scores. */
export interface ImageMetrics {
  /** The sample's id (e.g. `01_test`). */
  readonly id: string;
  /** Metric name to value, keys from {@link PER_IMAGE_METRICS}. */
  readonly metrics: Readonly<Record<string, number>>;
}

/**
 * One image's scores from its confusion counts and its ROC AUC, keyed and
 * ordered as {@link PER_IMAGE_METRICS}: `dice` is the image's F1,
 * 2 tp / (2 tp + fp + fn); the others as in `confusionRatios`. A score
 * whose denominator is 0 for this image is undefined and its key left out
 * (as nnU-Net leaves NaN, and its means skip it), not set to 0: an image
 * without true foreground (a negative case) has no sensitivity, and no Dice
 * or IoU unless something was predicted (then they are 0); an image where
 * nothing is predicted has no precision.
 *
 * @param confusion The image's ROI pixel counts at the threshold.
 * @param auc The image's ROC AUC, or `undefined` where it is undefined (an
 * image without positive or without negative ROI pixels): the key is then
 * left out, not set to NaN.
 * @returns Metric name to value.
 *
 * @example Usage
 * ```ts
 * import { imageMetrics } from "./per_image.ts";
 * const m = imageMetrics({ tp: 3, fp: 1, tn: 4, fn: 2 }, 0.9);
 * console.assert(m.auc === 0.9 && m.dice === 6 / 9 && m.iou === 0.5 && m.accuracy === 0.7);
 * // A negative case with one false positive: Dice 0, no sensitivity, no AUC.
 * const negative = imageMetrics({ tp: 0, fp: 1, tn: 4, fn: 0 }, undefined);
 * console.assert(negative.dice === 0 && !("sensitivity" in negative) && !("auc" in negative));
 * ```
 */
export function imageMetrics(
  confusion: Confusion,
  auc: number | undefined,
): Record<string, number> {
  const r = confusionRatios(confusion);
  const scores: Record<string, number | undefined> = {
    auc,
    dice: r.f1,
    iou: r.iou,
    accuracy: r.accuracy,
    sensitivity: r.sensitivity,
    specificity: r.specificity,
    precision: r.precision,
  };
  return Object.fromEntries(
    Object.entries(scores).filter((entry): entry is [string, number] => entry[1] !== undefined),
  );
}

/** A CSV field: quoted (quotes doubled) when it holds a comma, quote or line break. */
function field(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The per-image table as CSV: a header `id,<metrics…>`, then one row per
 * image in the given order, numbers with 4 decimals, an empty cell for a
 * metric an image lacks; `\n` line ends, one after the last row.
 *
 * @param rows The images' scores.
 * @param columns The metrics, in column order.
 * @returns The CSV text.
 *
 * @example Usage
 * ```ts
 * import { perImageCsv } from "./per_image.ts";
 * const csv = perImageCsv([{ id: "01", metrics: { auc: 0.98765, dice: 0.8 } }], ["auc", "dice"]);
 * console.assert(csv === "id,auc,dice\n01,0.9877,0.8000\n");
 * ```
 */
export function perImageCsv(
  rows: readonly ImageMetrics[],
  columns: readonly string[] = PER_IMAGE_METRICS,
): string {
  const lines = [["id", ...columns].map(field).join(",")];
  for (const { id, metrics } of rows) {
    const cells = columns.map((c) => (metrics[c] === undefined ? "" : metrics[c].toFixed(4)));
    lines.push([field(id), ...cells].join(","));
  }
  return lines.join("\n") + "\n";
}

/**
 * Scores of single images, beside the pooled ones: how the score spreads
 * over the test set, which images are hard, and the mean per-image Dice
 * that some papers report instead of the pooled F1.
 *
 * @module
 */

import { type Confusion, scoresFromConfusion } from "./confusion.ts";

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
 * 2 tp / (2 tp + fp + fn); the others as in `scoresFromConfusion`.
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
 * console.assert(!("auc" in imageMetrics({ tp: 0, fp: 1, tn: 4, fn: 0 }, undefined)));
 * ```
 */
export function imageMetrics(
  confusion: Confusion,
  auc: number | undefined,
): Record<string, number> {
  const s = scoresFromConfusion(confusion);
  return {
    ...(auc === undefined ? {} : { auc }),
    dice: s.f1,
    iou: s.iou,
    accuracy: s.accuracy,
    sensitivity: s.sensitivity,
    specificity: s.specificity,
    precision: s.precision,
  };
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

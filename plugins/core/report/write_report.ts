/**
 * Writes a run's report into its folder, from what the evaluation has at
 * hand and the training's `history.jsonl`:
 *
 * | file                      | what                                                                      |
 * | ------------------------- | ------------------------------------------------------------------------- |
 * | `report/roc.png`          | the pooled ROC curve, this run's operating points and the references'     |
 * | `report/pr.png`           | the pooled precision-recall curve, operating points, the prevalence line  |
 * | `report/training.png`     | loss and validation loss per epoch (when `history.jsonl` has an epoch)    |
 * | `report/overlays/<id>.png`| each test image's error overlay (overlay.ts)                              |
 * | `report.html`             | all of it in one self-contained page, with the metrics tables            |
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";
import { encodeRgbPng } from "../../../pipeline/image/write_png.ts";
import type { RunFolder } from "../../../pipeline/run/run_folder.ts";
import type { Evaluation } from "../../../pipeline/stage.ts";
import { shortThreshold } from "../../../pipeline/run/metrics_table.ts";
import { MAX_CURVE_POINTS, prCurveSorted, rocCurveSorted } from "./curves.ts";
import { renderPlot, type Rgb, type Series } from "./plot.ts";
import { reportHtml, type ReportImage } from "./report_html.ts";

/** One epoch of `history.jsonl`, as the training figure needs it. */
export interface HistoryEntry {
  /** The epoch, from 1. */
  readonly epoch: number;
  /** The mean training loss of the epoch. */
  readonly loss: number;
  /** The validation loss after it, or null without validation images. */
  readonly valLoss: number | null;
}

/**
 * The epochs of a `history.jsonl` text: one JSON object a line with a numeric
 * `epoch` and `loss` (and `valLoss`, a number or null). Lines that are blank,
 * not JSON or lack those fields are skipped; where an epoch appears twice
 * (a resumed run that repeated it) the later line wins. Sorted by epoch.
 *
 * @param text The file's text.
 * @returns The epochs, ascending.
 *
 * @example Usage
 * ```ts
 * import { parseHistory } from "./write_report.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const text = '{"epoch":1,"loss":0.7,"valLoss":0.6}\n{"epoch":2,"loss":0.5,"valLoss":null}\n';
 * assertEquals(parseHistory(text), [
 *   { epoch: 1, loss: 0.7, valLoss: 0.6 },
 *   { epoch: 2, loss: 0.5, valLoss: null },
 * ]);
 * ```
 */
export function parseHistory(text: string): HistoryEntry[] {
  const byEpoch = new Map<number, HistoryEntry>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const { epoch, loss, valLoss } = (value ?? {}) as Record<string, unknown>;
    if (typeof epoch !== "number" || typeof loss !== "number") continue;
    byEpoch.set(epoch, {
      epoch,
      loss,
      valLoss: typeof valLoss === "number" ? valLoss : null,
    });
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** Colours of the series: this run first, then the chosen threshold, then the references. */
const PALETTE: readonly Rgb[] = [
  [0.12, 0.47, 0.71], // blue
  [1, 0.5, 0.05], // orange
  [0.84, 0.15, 0.16], // red
  [0.17, 0.63, 0.17], // green
  [0.58, 0.4, 0.74], // purple
  [0.55, 0.34, 0.29], // brown
  [0.89, 0.47, 0.76], // pink
  [0.5, 0.5, 0.5], // grey
];
const CHANCE: Rgb = [0.6, 0.6, 0.6];

/**
 * The training figure: loss and (where there is one) validation loss per epoch.
 *
 * @param history The epochs, e.g. from {@link parseHistory}.
 * @returns The chart, RGB; undefined when there is no epoch.
 *
 * @example Usage
 * ```ts
 * import { trainingPlot } from "./write_report.ts";
 * import { assert } from "../../../tests/assert.ts";
 * const chart = trainingPlot([{ epoch: 1, loss: 0.7, valLoss: 0.6 }, { epoch: 2, loss: 0.5, valLoss: 0.55 }]);
 * assert(chart !== undefined && chart.channels === 3 && chart.width === 720);
 * assert(trainingPlot([]) === undefined);
 * ```
 */
export function trainingPlot(history: readonly HistoryEntry[]): Raster | undefined {
  if (history.length === 0) return undefined;
  const series: Series[] = [{
    label: "loss",
    color: PALETTE[0],
    points: history.map((h) => ({ x: h.epoch, y: h.loss })),
  }];
  const validation = history.filter((h) => h.valLoss !== null);
  if (validation.length) {
    series.push({
      label: "validation loss",
      color: PALETTE[1],
      points: validation.map((h) => ({ x: h.epoch, y: h.valLoss! })),
    });
  }
  return renderPlot(series, {
    title: "Training",
    xLabel: "epoch",
    yLabel: "loss",
    integerX: true,
    legend: "upper right",
  }).image;
}

/**
 * The operating points of this run (at `threshold`, and at the chosen one)
 * and of every reference that has both coordinates, as marker series.
 */
function operatingPoints(
  evaluation: Evaluation,
  threshold: number,
  point: (m: Readonly<Record<string, number>>) => { x: number; y: number } | undefined,
): Series[] {
  const rows: [string, Readonly<Record<string, number>>][] = [
    [`this run at ${shortThreshold(threshold)}`, evaluation.metrics],
    ...(evaluation.chosenThreshold
      ? [[
        `at ${shortThreshold(evaluation.chosenThreshold.threshold)} (val)`,
        evaluation.chosenThreshold.metrics,
      ] as [string, Readonly<Record<string, number>>]]
      : []),
    ...Object.entries(evaluation.references ?? {}),
  ];
  const series: Series[] = [];
  rows.forEach(([label, metrics], k) => {
    const p = point(metrics);
    if (p && Number.isFinite(p.x) && Number.isFinite(p.y)) {
      series.push({ label, color: PALETTE[k % PALETTE.length], points: [p], style: "points" });
    }
  });
  return series;
}

/** Pooled scores of the ROI pixels, each class sorted ascending (`SegmentationScorer.sortedScores()`). */
export interface SortedScores {
  /** Probabilities of the truly positive pixels, ascending. */
  readonly positives: ArrayLike<number>;
  /** Probabilities of the truly negative pixels, ascending. */
  readonly negatives: ArrayLike<number>;
}

/**
 * The ROC figure: the pooled curve, the chance diagonal, and the operating
 * points (1 − specificity, sensitivity) of this run and of each reference
 * that gives both.
 *
 * @param scores The pooled scores, sorted (both classes needed).
 * @param evaluation The metrics and references.
 * @param threshold The threshold of `evaluation.metrics`.
 * @returns The chart, RGB.
 * @throws {DataError} When a class is empty.
 *
 * @example Usage
 * ```ts
 * import { rocPlot } from "./write_report.ts";
 * import { assert } from "../../../tests/assert.ts";
 * const chart = rocPlot({ positives: [0.4, 0.9], negatives: [0.1, 0.5] }, { metrics: { auc: 0.75 } }, 0.5);
 * assert(chart.width === 720 && chart.height === 540);
 * ```
 */
export function rocPlot(scores: SortedScores, evaluation: Evaluation, threshold: number): Raster {
  const curve = rocCurveSorted(scores.positives, scores.negatives, MAX_CURVE_POINTS);
  const auc = evaluation.metrics.auc;
  return renderPlot([
    { label: "", color: CHANCE, points: [{ x: 0, y: 0 }, { x: 1, y: 1 }], dashed: true },
    {
      label: auc === undefined ? "this run" : `this run (AUC ${auc.toFixed(4)})`,
      color: PALETTE[0],
      points: curve,
    },
    ...operatingPoints(
      evaluation,
      threshold,
      (m) =>
        m.sensitivity === undefined || m.specificity === undefined
          ? undefined
          : { x: 1 - m.specificity, y: m.sensitivity },
    ),
  ], {
    title: "ROC curve",
    xLabel: "false positive rate (1 - specificity)",
    yLabel: "true positive rate (sensitivity)",
    xRange: [0, 1],
    yRange: [0, 1],
    legend: "lower right",
  }).image;
}

/**
 * The precision-recall figure: the pooled curve, the prevalence (a random
 * ranking's precision) dashed, and the operating points (sensitivity,
 * precision) of this run and of each reference that gives both.
 *
 * @param scores The pooled scores, sorted (positives needed).
 * @param evaluation The metrics and references.
 * @param threshold The threshold of `evaluation.metrics`.
 * @returns The chart, RGB.
 * @throws {DataError} When there is no positive.
 *
 * @example Usage
 * ```ts
 * import { prPlot } from "./write_report.ts";
 * import { assert } from "../../../tests/assert.ts";
 * const chart = prPlot({ positives: [0.4, 0.9], negatives: [0.1, 0.5] }, { metrics: { prAuc: 0.83 } }, 0.5);
 * assert(chart.width === 720 && chart.channels === 3);
 * ```
 */
export function prPlot(scores: SortedScores, evaluation: Evaluation, threshold: number): Raster {
  const curve = prCurveSorted(scores.positives, scores.negatives, MAX_CURVE_POINTS);
  const prevalence = scores.positives.length /
    (scores.positives.length + scores.negatives.length);
  const ap = evaluation.metrics.prAuc;
  return renderPlot([
    {
      label: "",
      color: CHANCE,
      points: [{ x: 0, y: prevalence }, { x: 1, y: prevalence }],
      dashed: true,
    },
    {
      label: ap === undefined ? "this run" : `this run (AP ${ap.toFixed(4)})`,
      color: PALETTE[0],
      points: curve,
    },
    ...operatingPoints(
      evaluation,
      threshold,
      (m) =>
        m.sensitivity === undefined || m.precision === undefined
          ? undefined
          : { x: m.sensitivity, y: m.precision },
    ),
  ], {
    title: "Precision-recall curve",
    xLabel: "recall (sensitivity)",
    yLabel: "precision",
    xRange: [0, 1],
    yRange: [0, 1],
    legend: "lower left",
  }).image;
}

/** What {@link writeReport} reports on. */
export interface ReportInput {
  /** The page's title. */
  readonly title: string;
  /** A line under it (e.g. the run folder). */
  readonly subtitle?: string;
  /** What the evaluate stage returns. */
  readonly evaluation: Evaluation;
  /** The threshold of `evaluation.metrics` and of the overlays. */
  readonly threshold: number;
  /** The pooled scores for the curves; without them (or without both classes) no curves. */
  readonly scores?: SortedScores;
  /** Each test image's overlay and probability map, as PNGs, in report order. */
  readonly images: readonly ReportImage[];
  /** How training departed from the recipe as written, shown above the metrics. */
  readonly caveats?: readonly string[];
}

/**
 * Writes the report into the run folder (see the module doc): the figures
 * and overlays as PNGs under `report/`, then `report.html` embedding them
 * all. The training figure is drawn from the run's `history.jsonl` when it
 * exists and holds an epoch; the ROC figure needs both classes among the
 * scores, the PR figure a positive.
 *
 * @param run The run folder (atomic writes).
 * @param input The evaluation, the pooled scores and the images.
 * @returns The paths written, relative to the run folder, in order.
 *
 * @example Usage
 * ```ts
 * import { writeReport } from "./write_report.ts";
 * import { RunFolder } from "../../../pipeline/run/run_folder.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const dir = await Deno.makeTempDir();
 * const written = await writeReport(new RunFolder(dir), {
 *   title: "report",
 *   evaluation: { metrics: { auc: 0.75 } },
 *   threshold: 0.5,
 *   scores: { positives: [0.4, 0.9], negatives: [0.1, 0.5] },
 *   images: [],
 * });
 * assertEquals(written, ["report/roc.png", "report/pr.png", "report.html"]); // no history.jsonl
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeReport(run: RunFolder, input: ReportInput): Promise<string[]> {
  const written: string[] = [];
  const write = async (path: string, data: Uint8Array | string) => {
    await run.write(path, data);
    written.push(path);
  };
  const { evaluation, threshold, scores } = input;
  let roc: Uint8Array | undefined, pr: Uint8Array | undefined, training: Uint8Array | undefined;
  if (scores && scores.positives.length > 0 && scores.negatives.length > 0) {
    roc = encodeRgbPng(rocPlot(scores, evaluation, threshold));
    await write("report/roc.png", roc);
  }
  if (scores && scores.positives.length > 0) {
    pr = encodeRgbPng(prPlot(scores, evaluation, threshold));
    await write("report/pr.png", pr);
  }
  let historyText = "";
  try {
    historyText = await Deno.readTextFile(run.resolve("history.jsonl"));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const chart = trainingPlot(parseHistory(historyText));
  if (chart) {
    training = encodeRgbPng(chart);
    await write("report/training.png", training);
  }
  for (const image of input.images) await write(`report/overlays/${image.id}.png`, image.overlay);
  await write(
    "report.html",
    reportHtml({
      title: input.title,
      ...(input.subtitle ? { subtitle: input.subtitle } : {}),
      evaluation,
      threshold,
      figures: { roc, pr, training },
      images: input.images,
      ...(input.caveats?.length ? { caveats: input.caveats } : {}),
    }),
  );
  return written;
}

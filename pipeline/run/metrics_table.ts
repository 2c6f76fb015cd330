/**
 * Formats an evaluation as a plain-text table, ours beside the references.
 *
 * @module
 */
import type { Evaluation } from "../stage.ts";

/**
 * A threshold as headers and legends show it: at most 4 decimals, no trailing zeros.
 *
 * @example Usage
 * ```ts
 * import { shortThreshold } from "./metrics_table.ts";
 * console.assert(shortThreshold(1763 / 4096) === "0.4304" && shortThreshold(0.5) === "0.5");
 * ```
 */
export function shortThreshold(threshold: number): string {
  return String(Number(threshold.toFixed(4)));
}

/** A column of a metrics table: its heading, and metric name to value. */
export type MetricsColumn = readonly [string, Readonly<Record<string, number>>];

/**
 * The columns of an evaluation's metrics table, in order: this run (headed
 * `thisRun`), then (when the evaluation chose a threshold) this run at that
 * threshold, headed `at <threshold> (val)`, then (when it has them) the
 * validation images' own scores, headed `validation`, then each reference.
 *
 * @param evaluation What the evaluate stage returned.
 * @param thisRun The first column's heading.
 * @returns The columns, each `[heading, metrics]`.
 *
 * @example Usage
 * ```ts
 * import { metricsColumns } from "./metrics_table.ts";
 * const columns = metricsColumns({
 *   metrics: { auc: 0.98 },
 *   validation: { on: "2 validation images", metrics: { auc: 0.97 } },
 *   references: { paper: { auc: 0.9773 } },
 * }, "this run (at 0.5)");
 * console.assert(columns.map(([name]) => name).join() === "this run (at 0.5),validation,paper");
 * ```
 */
export function metricsColumns(evaluation: Evaluation, thisRun = "this run"): MetricsColumn[] {
  const chosen = evaluation.chosenThreshold;
  return [
    [thisRun, evaluation.metrics],
    ...(chosen ? [[`at ${shortThreshold(chosen.threshold)} (val)`, chosen.metrics] as const] : []),
    ...(evaluation.validation ? [["validation", evaluation.validation.metrics] as const] : []),
    ...Object.entries(evaluation.references ?? {}),
  ];
}

/**
 * One row per metric of `evaluation.metrics`, in its order; the columns of
 * {@link metricsColumns}. A cell is
 * empty where a column lacks the metric (a reference that did not publish
 * it, or AUC at the chosen threshold, which does not depend on it); metrics
 * only a reference has are left out. A chosen threshold adds a line below
 * the table saying what it was chosen on, validation scores one saying which
 * images they are. Lines carry no trailing blanks.
 *
 * @param evaluation What the evaluate stage returned.
 * @returns The table, lines joined by `\n`, no trailing line break.
 *
 * @example Usage
 * ```ts
 * import { formatMetricsTable } from "./metrics_table.ts";
 * const table = formatMetricsTable({ metrics: { auc: 0.98 }, references: { paper: { auc: 0.9773 } } });
 * console.assert(table.includes("0.9800") && table.includes("0.9773"));
 * const chosen = formatMetricsTable({
 *   metrics: { f1: 0.8 },
 *   chosenThreshold: { threshold: 0.43, chosenOn: "4 validation images", metrics: { f1: 0.81 } },
 * });
 * console.assert(chosen.split("\n")[0] === "metric  this run  at 0.43 (val)");
 * const validated = formatMetricsTable({
 *   metrics: { auc: 0.98 },
 *   validation: { on: "2 validation images", metrics: { auc: 0.97 } },
 * });
 * console.assert(validated.split("\n")[2] === "auc       0.9800      0.9700");
 * ```
 */
export function formatMetricsTable(evaluation: Evaluation): string {
  const chosen = evaluation.chosenThreshold;
  const columns = metricsColumns(evaluation);
  const header = ["metric", ...columns.map(([name]) => name)];
  const rows = Object.keys(evaluation.metrics).map((metric) => [
    metric,
    ...columns.map(([, values]) => (values[metric] === undefined ? "" : values[metric].toFixed(4))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
      .trimEnd();
  const lines = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
  if (chosen) {
    lines.push(
      `(val): threshold ${shortThreshold(chosen.threshold)} chosen on ${chosen.chosenOn}`,
    );
  }
  if (evaluation.validation) {
    lines.push(`validation: the same scores on ${evaluation.validation.on}, not test images`);
  }
  lines.push(...referencePointLines(evaluation));
  return lines.join("\n");
}

/**
 * One sentence per reference of `evaluation.atReferencePoints`: where this
 * run's ROC curve passes that reference's operating point, beside the
 * reference's own numbers.
 *
 * @param evaluation What the evaluate stage returned.
 * @returns The sentences, none when the evaluation has no such points.
 *
 * @example Usage
 * ```ts
 * import { referencePointLines } from "./metrics_table.ts";
 * const [line] = referencePointLines({
 *   metrics: {},
 *   references: { paper: { sensitivity: 0.7153, specificity: 0.9876 } },
 *   atReferencePoints: {
 *     paper: {
 *       atSpecificity: { threshold: 0.52, sensitivity: 0.7301, specificity: 0.9877 },
 *       atSensitivity: { threshold: 0.55, sensitivity: 0.7154, specificity: 0.989 },
 *     },
 *   },
 * });
 * console.assert(line.startsWith("paper's point on this run's ROC curve: sensitivity 0.7301 (paper 0.7153)"));
 * ```
 */
export function referencePointLines(evaluation: Evaluation): string[] {
  return Object.entries(evaluation.atReferencePoints ?? {}).map(
    ([row, { atSpecificity, atSensitivity }]) => {
      const reference = evaluation.references?.[row] ?? {};
      const their = (metric: string) =>
        reference[metric] === undefined ? "" : ` (${row} ${reference[metric].toFixed(4)})`;
      return `${row}'s point on this run's ROC curve: sensitivity ` +
        `${atSpecificity.sensitivity.toFixed(4)}${their("sensitivity")} at its specificity, ` +
        `specificity ${atSensitivity.specificity.toFixed(4)}${their("specificity")} at its ` +
        "sensitivity";
    },
  );
}

/**
 * Formats an evaluation as a plain-text table, ours beside the references.
 *
 * @module
 */
import type { Evaluation } from "../stage.ts";

/** A threshold as a column header shows it: at most 4 decimals, no trailing zeros. */
function shortThreshold(threshold: number): string {
  return String(Number(threshold.toFixed(4)));
}

/**
 * One row per metric of `evaluation.metrics`, in its order; columns: this
 * run, then (when the evaluation chose a threshold) this run at that
 * threshold, headed `at <threshold> (val)`, then each reference. A cell is
 * empty where a column lacks the metric (a reference that did not publish
 * it, or AUC at the chosen threshold, which does not depend on it); metrics
 * only a reference has are left out. A chosen threshold adds a line below
 * the table saying what it was chosen on. Lines carry no trailing blanks.
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
 * ```
 */
export function formatMetricsTable(evaluation: Evaluation): string {
  const chosen = evaluation.chosenThreshold;
  const columns: [string, Readonly<Record<string, number>>][] = [
    ["this run", evaluation.metrics],
    ...(chosen
      ? [[`at ${shortThreshold(chosen.threshold)} (val)`, chosen.metrics] as [
        string,
        Readonly<Record<string, number>>,
      ]]
      : []),
    ...Object.entries(evaluation.references ?? {}),
  ];
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
  return lines.join("\n");
}

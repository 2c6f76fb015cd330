/**
 * Formats an evaluation as a plain-text table, ours beside the references.
 *
 * @module
 */
import type { Evaluation } from "../stage.ts";

/**
 * One row per metric; columns: this run, then each reference.
 *
 * @example Usage
 * ```ts
 * import { formatMetricsTable } from "./metrics_table.ts";
 * const table = formatMetricsTable({ metrics: { auc: 0.98 }, references: { paper: { auc: 0.9773 } } });
 * console.assert(table.includes("0.9800") && table.includes("0.9773"));
 * ```
 */
export function formatMetricsTable(evaluation: Evaluation): string {
  const refs = Object.entries(evaluation.references ?? {});
  const header = ["metric", "this run", ...refs.map(([name]) => name)];
  const rows = Object.entries(evaluation.metrics).map(([metric, value]) => [
    metric,
    value.toFixed(4),
    ...refs.map(([, r]) => (r[metric] === undefined ? "" : r[metric].toFixed(4))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

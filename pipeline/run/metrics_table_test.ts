import { assertEquals } from "../../tests/assert.ts";
import { formatMetricsTable } from "./metrics_table.ts";

Deno.test("formatMetricsTable() aligns this run beside each reference", () => {
  const table = formatMetricsTable({
    metrics: { auc: 0.98, f1: 0.81236 },
    references: { paper: { auc: 0.9773 }, "2nd observer": { f1: 0.7881, auc: 0.5 } },
  });
  assertEquals(table.split("\n"), [
    "metric  this run   paper  2nd observer",
    "------  --------  ------  ------------",
    "auc       0.9800  0.9773        0.5000",
    "f1        0.8124                0.7881",
  ]);
});

Deno.test("formatMetricsTable() widens the first column to the longest metric", () => {
  const table = formatMetricsTable({ metrics: { sensitivity: 0.7, acc: 1 } });
  assertEquals(table.split("\n"), [
    "metric       this run",
    "-----------  --------",
    "sensitivity    0.7000",
    "acc            1.0000",
  ]);
});

Deno.test("formatMetricsTable() ignores reference metrics this run lacks", () => {
  const table = formatMetricsTable({ metrics: {}, references: { paper: { auc: 0.9 } } });
  assertEquals(table.split("\n"), ["metric  this run  paper", "------  --------  -----"]);
});

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

Deno.test("formatMetricsTable() puts the chosen threshold's column after this run, with a note", () => {
  const table = formatMetricsTable({
    metrics: { auc: 0.98, f1: 0.81, mcc: 0.78 },
    chosenThreshold: {
      threshold: 1763 / 4096, // 0.430419921875
      chosenOn: "4 validation images",
      metrics: { f1: 0.8234, mcc: 0.8 },
    },
    references: { paper: { auc: 0.9773, f1: 0.7947 } },
  });
  assertEquals(table.split("\n"), [
    "metric  this run  at 0.4304 (val)   paper",
    "------  --------  ---------------  ------",
    "auc       0.9800                   0.9773",
    "f1        0.8100           0.8234  0.7947",
    "mcc       0.7800           0.8000", // no trailing blanks
    "(val): threshold 0.4304 chosen on 4 validation images",
  ]);
});

Deno.test("formatMetricsTable() shows a round threshold without trailing zeros", () => {
  const table = formatMetricsTable({
    metrics: { f1: 0.5 },
    chosenThreshold: { threshold: 0.5, chosenOn: "1 validation image", metrics: { f1: 0.5 } },
  });
  assertEquals(table.split("\n")[0], "metric  this run  at 0.5 (val)");
  assertEquals(table.split("\n")[3], "(val): threshold 0.5 chosen on 1 validation image");
});

Deno.test("formatMetricsTable() puts the validation scores after this run, with a note", () => {
  const table = formatMetricsTable({
    metrics: { auc: 0.98, f1: 0.81 },
    chosenThreshold: { threshold: 0.4, chosenOn: "2 validation images", metrics: { f1: 0.82 } },
    validation: { on: "2 validation images (23_training, 24_training)", metrics: { auc: 0.97 } },
    references: { paper: { auc: 0.9773 } },
  });
  assertEquals(table.split("\n"), [
    "metric  this run  at 0.4 (val)  validation   paper",
    "------  --------  ------------  ----------  ------",
    "auc       0.9800                    0.9700  0.9773",
    "f1        0.8100        0.8200",
    "(val): threshold 0.4 chosen on 2 validation images",
    "validation: the same scores on 2 validation images (23_training, 24_training), not test images",
  ]);
});

Deno.test("formatMetricsTable() says where this run's ROC curve passes a reference's point", () => {
  const table = formatMetricsTable({
    metrics: { sensitivity: 0.72, specificity: 0.987 },
    references: { paper: { sensitivity: 0.7153, specificity: 0.9876 } },
    atReferencePoints: {
      paper: {
        atSpecificity: { threshold: 0.52, sensitivity: 0.7301, specificity: 0.98761 },
        atSensitivity: { threshold: 0.55, sensitivity: 0.71531, specificity: 0.98902 },
      },
    },
  });
  assertEquals(
    table.split("\n").at(-1),
    "paper's point on this run's ROC curve: sensitivity 0.7301 (paper 0.7153) at its " +
      "specificity, specificity 0.9890 (paper 0.9876) at its sensitivity",
  );
});

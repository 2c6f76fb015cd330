import { assert, assertEquals } from "../../../tests/assert.ts";
import { Image } from "imagescript";
import { RunFolder } from "../../../pipeline/run/run_folder.ts";
import { encodeRgbPng } from "../../../pipeline/image/write_png.ts";
import type { Evaluation } from "../../../pipeline/stage.ts";
import { pngDataUri } from "./report_html.ts";
import { parseHistory, prPlot, rocPlot, trainingPlot, writeReport } from "./write_report.ts";

const EVALUATION: Evaluation = {
  metrics: { auc: 0.75, f1: 0.5, sensitivity: 0.5, specificity: 0.5, precision: 0.5, prAuc: 0.7 },
  references: {
    paper: { auc: 0.9773, sensitivity: 0.7153, specificity: 0.9876, precision: 0.894 },
  },
};
// Positives {0.3, 0.9}, negatives {0.1, 0.6}.
const SCORES = { positives: [0.3, 0.9], negatives: [0.1, 0.6] };

/** Pixels of (about) a colour given in 0..1. */
function countColor(raster: { data: Float32Array }, color: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < raster.data.length; i += 3) {
    if (color.every((v, c) => Math.abs(raster.data[i + c] - v) < 1e-6)) n++;
  }
  return n;
}

const BLUE = [0.12, 0.47, 0.71], ORANGE = [1, 0.5, 0.05];

Deno.test("parseHistory() keeps the last line of each epoch, skips what is not an epoch, sorts", () => {
  const text = [
    '{"epoch":2,"loss":0.5,"valLoss":0.45,"learningRate":0.01}',
    "",
    "not json",
    '{"epoch":1,"loss":0.7}', // no valLoss: null
    '{"note":"no epoch"}',
    '{"epoch":2,"loss":0.4,"valLoss":null}', // a resumed run repeated epoch 2
    "null",
  ].join("\n");
  assertEquals(parseHistory(text), [
    { epoch: 1, loss: 0.7, valLoss: null },
    { epoch: 2, loss: 0.4, valLoss: null },
  ]);
});

Deno.test("trainingPlot() draws the validation loss only where there is one", () => {
  const both = trainingPlot([
    { epoch: 1, loss: 0.7, valLoss: 0.6 },
    { epoch: 2, loss: 0.5, valLoss: 0.55 },
  ])!;
  const lossOnly = trainingPlot([
    { epoch: 1, loss: 0.7, valLoss: null },
    { epoch: 2, loss: 0.5, valLoss: null },
  ])!;
  assert(countColor(both, BLUE) > 100 && countColor(both, ORANGE) > 100);
  assert(countColor(lossOnly, BLUE) > 100);
  assertEquals(countColor(lossOnly, ORANGE), 0);
});

Deno.test("rocPlot() and prPlot() mark this run's and each complete reference's operating point", () => {
  // Series colours: the curve and this run's point blue, the paper orange.
  const roc = rocPlot(SCORES, EVALUATION, 0.5);
  assert(countColor(roc, ORANGE) >= 37, "the paper's marker (and its legend entry)");
  const noSpecificity = rocPlot(SCORES, {
    ...EVALUATION,
    references: { paper: { auc: 0.9773, sensitivity: 0.7153 } },
  }, 0.5);
  assertEquals(countColor(noSpecificity, ORANGE), 0); // no point without 1 − specificity
  const pr = prPlot(SCORES, EVALUATION, 0.5);
  assert(countColor(pr, ORANGE) >= 37);
  assert(countColor(pr, BLUE) > 500, "the PR curve");
});

Deno.test("writeReport() writes the figures, the overlays and report.html embedding them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capillary-report-" });
  try {
    const run = new RunFolder(dir);
    await run.appendLine("history.jsonl", '{"epoch":1,"loss":0.7,"valLoss":0.6}');
    await run.appendLine("history.jsonl", '{"epoch":2,"loss":0.5,"valLoss":0.55}');
    const overlay = encodeRgbPng({
      width: 2,
      height: 1,
      channels: 3,
      data: new Float32Array([1, 1, 1, 1, 0.2, 0.2]),
    });
    const written = await writeReport(run, {
      title: "Capillary report: test",
      evaluation: EVALUATION,
      threshold: 0.5,
      scores: SCORES,
      images: [{ id: "t1", overlay }, { id: "t2", overlay }],
    });
    assertEquals(written, [
      "report/roc.png",
      "report/pr.png",
      "report/training.png",
      "report/overlays/t1.png",
      "report/overlays/t2.png",
      "report.html",
    ]);
    for (const name of ["roc", "pr", "training"]) {
      const image = await Image.decode(await Deno.readFile(`${dir}/report/${name}.png`));
      assertEquals([image.width, image.height], [720, 540], name);
    }
    assertEquals(await Deno.readFile(`${dir}/report/overlays/t2.png`), overlay);
    const html = await Deno.readTextFile(`${dir}/report.html`);
    for (const path of written.filter((p) => p.endsWith(".png"))) {
      assert(html.includes(pngDataUri(await Deno.readFile(`${dir}/${path}`))), path);
    }
    assert(html.includes(`<tr data-metric="auc"><th scope="row">AUC</th><td>0.7500</td>`), html);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeReport() leaves out the curves without both classes and training without history", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capillary-report-" });
  try {
    const written = await writeReport(new RunFolder(dir), {
      title: "no negatives",
      evaluation: { metrics: { f1: 1 } },
      threshold: 0.5,
      scores: { positives: [0.9], negatives: [] },
      images: [],
    });
    assertEquals(written, ["report/pr.png", "report.html"]);
    const html = await Deno.readTextFile(`${dir}/report.html`);
    assert(html.includes("ROC curve: not available"), html);
    assert(html.includes("Training curve: not available"), html);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

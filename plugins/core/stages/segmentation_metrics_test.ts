import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../../../tests/assert.ts";
import {
  CapillaryError,
  type Evaluation,
  loadBackend,
  type ModelSpec,
  type Raster,
  RunFolder,
  type Sample,
  type SegmentationData,
  type StageContext,
  tf,
  type TrainedModel,
} from "../../../mod.ts";
import { quietStageContext } from "../../../tests/stage_context.ts";
import { Image } from "imagescript";
import { OVERLAY_COLORS } from "../report/overlay.ts";
import { segmentationMetrics, segmentationMetricsOptions } from "./segmentation_metrics.ts";

await loadBackend("wasm");

/** A network of one fixed convolution (same padding, no bias, no activation). */
function fixedConvolution(name: string, kernel: [number, number], weights: number[]): ModelSpec {
  return {
    name,
    build(size, channels) {
      const input = tf.input({ shape: [size, size, channels] });
      const output = tf.layers.conv2d({
        name,
        filters: 1,
        kernelSize: kernel,
        padding: "same",
        useBias: false,
        weights: [tf.tensor4d(weights, [...kernel, 1, 1])],
      }).apply(input) as import("@tensorflow/tfjs").SymbolicTensor;
      return tf.model({ inputs: input, outputs: output });
    },
  };
}

/** A 1×1 convolution fixed to 1: the prediction is the image itself. */
const identity = fixedConvolution("identity", [1, 1], [1]);

/** A 4×1 sample; `image` holds the "probabilities" the identity model gives back. */
function sample(
  id: string,
  image: number[],
  mask: number[],
  roi = [1, 1, 1, 1],
  second?: number[],
): Sample {
  const raster = (values: number[]): Raster => ({
    width: 4,
    height: 1,
    channels: 1,
    data: Float32Array.from(values),
  });
  return {
    id,
    image: raster(image),
    mask: raster(mask),
    roi: raster(roi),
    ...(second ? { extra: { "2nd_manual": raster(second) } } : {}),
  };
}

const data: SegmentationData = {
  name: "hand-made",
  train: [
    // Validation pixels: positives {0.95, 0.65, 0.7}, negatives {0.62, 0.1, 0.61, 0.3, 0.2}.
    // F1 = 1 for every threshold in (0.62, 0.65]: on the 1/4096 grid k = 2540..2662
    // (0.62 in bin 2539, 0.65 in bin 2662); the middle is k = 2601.
    sample("v1", [0.95, 0.65, 0.62, 0.1], [1, 1, 0, 0]),
    sample("v2", [0.7, 0.61, 0.3, 0.2], [1, 0, 0, 0]),
    // Trained on, not validation: would spoil the choice if it were used (a positive at 0.05).
    sample("a", [0.05, 0.9, 0.9, 0.9], [1, 0, 0, 0]),
  ],
  test: [
    // at 0.5: tp 0.9, fp 0.6, fn 0.4, tn 0.2
    sample("t1", [0.9, 0.6, 0.4, 0.2], [1, 0, 1, 0], [1, 1, 1, 1], [1, 0, 0, 0]),
    // at 0.5: tp 0.8, fn 0.3, fp 0.7; 0.1 outside the ROI
    sample("t2", [0.8, 0.3, 0.7, 0.1], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 0]),
  ],
};

/** A 1×3 convolution with weights [1, 0, 0]: each pixel's prediction is its left neighbour's value (0 at the left edge). */
const leftNeighbour = fixedConvolution("shift", [1, 3], [1, 0, 0]);

function trained(validationIds?: string[], spec = identity): TrainedModel {
  return {
    spec,
    model: spec.build(8, 1),
    patchSize: 8,
    channels: 1,
    ...(validationIds ? { validationIds } : {}),
  };
}

async function evaluate(
  options: Record<string, unknown>,
  validationIds?: string[],
  history?: string,
  spec = identity,
  backend: "cpu" | "wasm" = "cpu",
): Promise<{ evaluation: Evaluation; folder: string; lines: string[] }> {
  const folder = await Deno.makeTempDir({ prefix: "capillary-evaluate-" });
  if (history !== undefined) await Deno.writeTextFile(`${folder}/history.jsonl`, history);
  const lines: string[] = [];
  const context: StageContext = {
    ...quietStageContext("core/segmentation_metrics"),
    useBackend: async () => (await tf.setBackend(backend), backend),
    run: new RunFolder(folder),
    progress: { info: (m: string) => void lines.push(m), task: () => ({ update() {}, done() {} }) },
  };
  const model = trained(validationIds, spec);
  try {
    const evaluation = await segmentationMetrics.run(
      segmentationMetricsOptions.parse(options),
      { data, trained: model },
      context,
    );
    return { evaluation, folder, lines };
  } catch (error) {
    await Deno.remove(folder, { recursive: true });
    throw error;
  } finally {
    model.model.dispose();
  }
}

function assertMetrics(actual: Readonly<Record<string, number>>, expected: Record<string, number>) {
  assertEquals(Object.keys(actual), Object.keys(expected));
  for (const [key, value] of Object.entries(expected)) {
    assertAlmostEquals(actual[key], value, 1e-12, key);
  }
}

Deno.test("segmentationMetrics.run() reports pooled, per-image and observer scores at 0.5", async () => {
  const { evaluation, folder } = await evaluate({});
  try {
    // Pooled at 0.5: tp 2, fp 2, fn 2, tn 1. Positives {0.9, 0.4, 0.8, 0.3}, negatives
    // {0.6, 0.2, 0.7}: AUC (3 + 3 + 1 + 1) / 12; AP from the top: 0.9 and 0.8 at precision 1,
    // 0.4 at 3/5, 0.3 at 4/6 → (2 + 3/5 + 4/6) / 4.
    assertMetrics(evaluation.metrics, {
      auc: 8 / 12,
      f1: 4 / 8,
      accuracy: 3 / 7,
      sensitivity: 2 / 4,
      specificity: 1 / 3,
      precision: 2 / 4,
      prAuc: (2 + 3 / 5 + 4 / 6) / 4,
      iou: 2 / 6,
      mcc: (2 * 1 - 2 * 2) / Math.sqrt(4 * 4 * 3 * 3),
      dice: (2 / 4 + 2 / 4) / 2,
    });
    // The second observer: t1 tp 1, fn 1, tn 2 (Dice 2/3); t2 tp 2, fp 1 (Dice 4/5).
    assertMetrics(evaluation.references!["2nd_manual"], {
      f1: 6 / 8,
      accuracy: 5 / 7,
      sensitivity: 3 / 4,
      specificity: 2 / 3,
      precision: 3 / 4,
      iou: 3 / 5,
      mcc: (3 * 2 - 1 * 1) / Math.sqrt(4 * 4 * 3 * 3),
      dice: (2 / 3 + 4 / 5) / 2,
    });
    assertEquals(evaluation.perImage!.map((p) => p.id), ["t1", "t2"]);
    assertMetrics(evaluation.perImage![1].metrics, {
      auc: 1 / 2, // 0.8 beats 0.7, 0.3 does not
      dice: 2 / 4,
      iou: 1 / 3,
      accuracy: 1 / 3,
      sensitivity: 1 / 2,
      specificity: 0,
      precision: 1 / 2,
    });
    assertEquals(evaluation.chosenThreshold, undefined); // no validation images
    assertEquals(
      await Deno.readTextFile(`${folder}/per_image.csv`),
      [
        "id,auc,dice,iou,accuracy,sensitivity,specificity,precision",
        "t1,0.7500,0.5000,0.3333,0.5000,0.5000,0.5000,0.5000",
        "t2,0.5000,0.5000,0.3333,0.3333,0.5000,0.0000,0.5000",
        "",
      ].join("\n"),
    );
    assertEquals([...Deno.readDirSync(`${folder}/predictions`)].map((e) => e.name).sort(), [
      "t1.png",
      "t2.png",
    ]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("segmentationMetrics.run() finds where the ROC curve passes a reference's point", async () => {
  const { evaluation, folder } = await evaluate({
    report: false,
    references: { paper: { sensitivity: 0.5, specificity: 2 / 3 }, other: { auc: 0.9 } },
  });
  try {
    // Positives {0.3, 0.4, 0.8, 0.9}, negatives {0.2, 0.6, 0.7}. At specificity >= 2/3 two
    // negatives stay below: above 0.6, the lowest such score being 0.7; positives above 0.6:
    // 0.8 and 0.9. At sensitivity >= 1/2 two positives stay at or above: 0.8, and all three
    // negatives are below it. A row without both rates gets no point.
    assertEquals(Object.keys(evaluation.atReferencePoints!), ["paper"]);
    const { atSpecificity, atSensitivity } = evaluation.atReferencePoints!.paper;
    assertEquals(atSpecificity, {
      threshold: Math.fround(0.7),
      sensitivity: 2 / 4,
      specificity: 2 / 3,
    });
    assertEquals(atSensitivity, {
      threshold: Math.fround(0.8),
      sensitivity: 2 / 4,
      specificity: 1,
    });
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("segmentationMetrics.run() predicts whole images, and averages test-time flips mirrored back", async () => {
  const options = { window: "image", chooseThreshold: false, report: false, observer: null };
  // Whole (one 8×8 window, zero-padded), no flips: the left neighbours. t1 → [0, 0.9, 0.6, 0.4],
  // t2 → [0, 0.8, 0.3, 0.7]: positives {0, 0.6, 0, 0.8}, negatives {0.9, 0.4, 0.3}: AUC 4/12.
  const plain = await evaluate(options, undefined, undefined, leftNeighbour);
  await Deno.remove(plain.folder, { recursive: true });
  assertAlmostEquals(plain.evaluation.metrics.auc, 4 / 12, 1e-12);
  assertEquals(plain.lines[0].includes("windows of 8×8 (stride 8)"), true, plain.lines[0]);

  // Mirrored left-right, the left neighbour becomes the right one; the mean of the two:
  // t1 → [0.3, 0.65, 0.4, 0.2], t2 → [0.15, 0.75, 0.2, (0.35 outside the ROI)].
  // Positives {0.3, 0.4, 0.15, 0.75}, negatives {0.65, 0.2, 0.2}: AUC (2 + 2 + 0 + 3) / 12;
  // at 0.5: tp 1 (0.75), fp 1 (0.65), fn 3, tn 2.
  const flipped = await evaluate(
    { ...options, flips: ["horizontal"] },
    undefined,
    undefined,
    leftNeighbour,
  );
  await Deno.remove(flipped.folder, { recursive: true });
  const m = flipped.evaluation.metrics;
  assertAlmostEquals(m.auc, 7 / 12, 1e-12);
  assertEquals([m.sensitivity, m.specificity, m.precision], [1 / 4, 2 / 3, 1 / 2]);
  assertEquals(flipped.lines[0].includes("2 flips"), true, flipped.lines[0]);
  // An image one pixel high is its own upside-down mirror: vertical flips change nothing.
  const both = await evaluate(
    { ...options, flips: ["horizontal", "vertical"] },
    undefined,
    undefined,
    leftNeighbour,
  );
  await Deno.remove(both.folder, { recursive: true });
  assertAlmostEquals(both.evaluation.metrics.auc, 7 / 12, 1e-12);
});

Deno.test("segmentationMetrics.run() on worker threads scores what this thread scores", async () => {
  const options = {
    window: "image",
    flips: ["horizontal", "transpose"],
    chooseThreshold: false,
    report: false,
    observer: null,
  };
  try {
    const here = await evaluate(options, undefined, undefined, leftNeighbour, "wasm");
    await Deno.remove(here.folder, { recursive: true });
    const there = await evaluate(
      { ...options, workers: 2 },
      undefined,
      undefined,
      leftNeighbour,
      "wasm",
    );
    await Deno.remove(there.folder, { recursive: true });
    assertEquals(there.lines.includes("prediction on 2 worker threads"), true, String(there.lines));
    assertEquals(there.evaluation.perImage, here.evaluation.perImage);
    assertEquals(there.evaluation.metrics, here.evaluation.metrics);
    // The flips average the left and upper neighbours: not what the identity would score.
    assertEquals(here.evaluation.metrics.auc !== 1, true);
  } finally {
    await tf.setBackend("cpu");
  }
});

Deno.test("segmentationMetrics.run() refuses worker threads on a backend without them", async () => {
  const error = await assertRejects(
    () => evaluate({ workers: 2, report: false }),
    CapillaryError,
    "set evaluate.workers to 1, or inferenceBackend: wasm (--set inferenceBackend=wasm)",
  );
  assertEquals(error.code, "E_WORKERS");
});

Deno.test("segmentationMetrics.run() chooses the threshold on the validation images only", async () => {
  const { evaluation, folder, lines } = await evaluate({ savePredictions: false }, ["v2", "v1"]);
  try {
    const chosen = evaluation.chosenThreshold!;
    assertEquals(chosen.threshold, 2601 / 4096); // 0.635009765625
    assertEquals(chosen.chosenOn, "2 validation images");
    // Test pixels at 0.635: t1 tp 0.9, tn 0.6, fn 0.4, tn 0.2; t2 tp 0.8, fn 0.3, fp 0.7:
    // pooled tp 2, fp 1, fn 2, tn 2; Dice t1 2/3, t2 2/4.
    assertMetrics(chosen.metrics, {
      f1: 4 / 7,
      accuracy: 4 / 7,
      sensitivity: 2 / 4,
      specificity: 2 / 3,
      precision: 2 / 3,
      iou: 2 / 5,
      mcc: (2 * 2 - 1 * 2) / Math.sqrt(3 * 4 * 3 * 4),
      dice: (2 / 3 + 2 / 4) / 2,
    });
    // The scores at the option's threshold are unchanged by the choice.
    assertAlmostEquals(evaluation.metrics.f1, 0.5, 1e-15);
    assertEquals(
      lines.some((l) => l.includes("threshold 0.6350 maximises F1 on 2 validation images")),
      true,
      lines.join("\n"),
    );
    assertEquals(lines.some((l) => l.includes("2 test and 2 validation images")), true);
    // Probabilities from 0.1 to 0.95: a ranking to choose among.
    assertEquals(lines.some((l) => l.includes("ranks next to nothing")), false, lines.join("\n"));
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("segmentationMetrics.run() says a threshold chosen among equal probabilities says little", async () => {
  // 0 everywhere: one probability for every pixel, as on the all-background plateau.
  const { folder, lines } = await evaluate(
    { savePredictions: false, report: false },
    ["v2", "v1"],
    undefined,
    fixedConvolution("zero", [1, 1], [0]),
  );
  await Deno.remove(folder, { recursive: true });
  assert(
    lines.includes(
      "warning: the 2 validation images got probabilities from 0.000 to 0.000 only: the network " +
        "ranks next to nothing (the all-background plateau?), so a threshold chosen among them " +
        "says little",
    ),
    lines.join("\n"),
  );
});

Deno.test("segmentationMetrics.run() scores the validation images at the threshold", async () => {
  const { evaluation, folder } = await evaluate({ savePredictions: false }, ["v2", "v1"]);
  try {
    const validation = evaluation.validation!;
    assertEquals(validation.on, "2 validation images (v2, v1)");
    // At 0.5: positives {0.95, 0.65, 0.7} all tp; negatives {0.62, 0.61} fp, {0.1, 0.3, 0.2} tn.
    // Every positive ranks above every negative: AUC 1. Dice v1 2·2/(2·2+1), v2 2/(2+1).
    assertMetrics(validation.metrics, {
      auc: 1,
      f1: 6 / 8,
      accuracy: 6 / 8,
      sensitivity: 1,
      specificity: 3 / 5,
      precision: 3 / 5,
      prAuc: 1,
      iou: 3 / 5,
      mcc: (3 * 3 - 2 * 0) / Math.sqrt(5 * 3 * 3 * 5),
      dice: (4 / 5 + 2 / 3) / 2,
    });
    // The training image "a" (a positive at 0.05) is not among them: AUC would be below 1.
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("segmentationMetrics.run() gives no validation scores without held-out images", async () => {
  const { evaluation, folder } = await evaluate({ savePredictions: false });
  try {
    assertEquals(evaluation.validation, undefined);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("segmentationMetrics.run() chooses no threshold when told not to", async () => {
  const { evaluation, folder } = await evaluate(
    { chooseThreshold: false, observer: null, savePredictions: false },
    ["v1"],
  );
  try {
    assertEquals(evaluation.chosenThreshold, undefined);
    assertEquals(evaluation.validation, undefined); // not predicted then
    assertEquals(evaluation.references, {});
    assertEquals(Object.keys(evaluation.metrics), [
      "auc",
      "f1",
      "accuracy",
      "sensitivity",
      "specificity",
      "precision",
      "prAuc",
      "iou",
      "mcc",
      "dice",
    ]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("segmentationMetrics.run() names a validation id that is not a training sample", async () => {
  await assertRejects(
    () => evaluate({ savePredictions: false }, ["v1", "nope"]),
    CapillaryError,
    'validation image "nope" named by the training stage is not a training sample',
  );
});

Deno.test("segmentationMetricsOptions chooses a threshold and writes the report by default", () => {
  const options = segmentationMetricsOptions.parse({});
  assertEquals([options.chooseThreshold, options.threshold, options.report], [true, 0.5, true]);
});

/** Every file under `folder`, relative, sorted. */
async function files(folder: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`, `${prefix}${e.name}/`);
      else out.push(prefix + e.name);
    }
  };
  await walk(folder, "");
  return out.sort();
}

Deno.test("segmentationMetrics.run() writes the report: curves, training, overlays, report.html", async () => {
  const history = '{"epoch":1,"loss":0.7,"valLoss":0.6}\n{"epoch":2,"loss":0.5,"valLoss":0.5}\n';
  const { evaluation, folder, lines } = await evaluate({}, ["v1"], history);
  try {
    assertEquals(await files(folder), [
      "history.jsonl",
      "per_image.csv",
      "predictions/t1.png",
      "predictions/t2.png",
      "predictions/validation/v1.png",
      "report.html",
      "report/overlays/t1.png",
      "report/overlays/t2.png",
      "report/pr.png",
      "report/roc.png",
      "report/training.png",
    ]);
    assertEquals(lines.some((l) => l.startsWith("report: ") && l.includes("report.html")), true);
    // The overlays at 0.5: t1 tp, fp, fn, tn; t2 tp, fn, fp and its last pixel outside the ROI.
    const rgba = (c: readonly number[]) => [...c.map((v) => Math.round(v * 255)), 255];
    const { tp, fp, fn, tn, outside } = OVERLAY_COLORS;
    for (
      const [id, expected] of [["t1", [tp, fp, fn, tn]], ["t2", [tp, fn, fp, outside]]] as const
    ) {
      const image = await Image.decode(await Deno.readFile(`${folder}/report/overlays/${id}.png`));
      assertEquals([image.width, image.height], [4, 1]);
      assertEquals(Array.from(image.bitmap), expected.flatMap(rgba), id);
    }
    // The page: a row per metric with this run, the chosen threshold, the validation images and
    // the second observer.
    const html = await Deno.readTextFile(`${folder}/report.html`);
    for (const key of Object.keys(evaluation.metrics)) {
      assertEquals(html.includes(`<tr data-metric="${key}">`), true, key);
    }
    const f1 = html.match(/<tr data-metric="f1">(.*?)<\/tr>/)![1];
    assertEquals([...f1.matchAll(/<td>([\d.]+)<\/td>/g)].map((m) => Number(m[1])), [
      Number(evaluation.metrics.f1.toFixed(4)),
      Number(evaluation.chosenThreshold!.metrics.f1.toFixed(4)),
      Number(evaluation.validation!.metrics.f1.toFixed(4)),
      Number(evaluation.references!["2nd_manual"].f1.toFixed(4)),
    ]);
    assertEquals(html.includes("the same scores on 1 validation image (v1)"), true);
    // Three figures and, per test image, its probability map and overlay, all inline.
    assertEquals(html.match(/<img src="data:image\/png;base64,/g)!.length, 3 + 2 * 2);
    assertEquals(/<img src="(?!data:)/.test(html), false);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("segmentationMetrics.run() writes no report when told not to", async () => {
  const { folder } = await evaluate({ report: false, savePredictions: false });
  try {
    assertEquals(await files(folder), ["per_image.csv"]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("segmentationMetricsOptions refuses a stride past a numeric window before any training", () => {
  const wide = segmentationMetricsOptions.safeParse({ window: 16, stride: 32 });
  assertEquals(wide.success, false);
  assertEquals(wide.error?.issues.map((i) => [i.path.join("."), i.message]), [[
    "stride",
    "stride 32 is larger than window 16, so pixels would be skipped; use at most 16",
  ]]);
  // Equal is fine, and a whole image's window is known only from the images.
  assertEquals(segmentationMetricsOptions.safeParse({ window: 16, stride: 16 }).success, true);
  assertEquals(segmentationMetricsOptions.safeParse({ window: "image", stride: 32 }).success, true);
});

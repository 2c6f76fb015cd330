/**
 * The whole path: `recipes/drive-smoke.yaml` through `runRecipe`, then every
 * file of the run folder checked; then twice more for determinism. About 8 s
 * a run here (wasm for training and prediction).
 */
import type { ComponentRef } from "../mod.ts";
import core from "../plugins/core/mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { readImage } from "../plugins/core/image/read_image.ts";
import { stepSchedule } from "../plugins/core/train/schedules.ts";
import {
  loadLayersModel,
  loadRecipe,
  type ResolvedRecipe,
  runRecipe,
  type RunResult,
  tf,
} from "../mod.ts";
import { resolvedRecipeObject } from "../pipeline/recipe/render.ts";
import { assertEquals } from "./assert.ts";
import { sanitizers, silent } from "./tiny_runs.ts";

const SMOKE = new URL("../recipes/drive-smoke.yaml", import.meta.url).pathname;
const METRICS = [
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
];
const STAGE_KINDS = ["load", "preprocess", "augment", "model", "train", "evaluate"];

// A cache of this file's own, so the first smoke run always loads and preprocesses.
const CACHE = await Deno.makeTempDir({ prefix: "capillary_e2e_cache_" });
Deno.env.set("CAPILLARY_CACHE", CACHE);
globalThis.addEventListener("unload", () => Deno.removeSync(CACHE, { recursive: true }));

interface HistoryLine {
  epoch: number;
  loss: number;
  valLoss: number | null;
  learningRate: number;
  seconds: number;
  steps: number;
}

async function history(folder: string): Promise<HistoryLine[]> {
  const text = await Deno.readTextFile(`${folder}/history.jsonl`);
  assertEquals(text.endsWith("\n"), true);
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

/** The smoke run, done once for every test of this file. */
let smokeRun: Promise<{ recipe: ResolvedRecipe; result: RunResult; root: string }> | undefined;
function smoke() {
  smokeRun ??= (async () => {
    const { recipe } = await loadRecipe(SMOKE, { builtins: [core] });
    const root = await Deno.makeTempDir({ prefix: "capillary_e2e_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    const result = await runRecipe(recipe, { outputRoot: root, progress: silent });
    return { recipe, result, root };
  })();
  return smokeRun;
}

Deno.test({
  name: "runRecipe() on drive-smoke writes a run folder with every artefact",
  ...sanitizers,
  async fn() {
    const { result, root } = await smoke();
    assertEquals(result.folder.startsWith(`${root}/drive-smoke/`), true, result.folder);
    const files: string[] = [];
    const walk = async (dir: string, prefix: string) => {
      for await (const e of Deno.readDir(dir)) {
        if (e.isDirectory) await walk(`${dir}/${e.name}`, `${prefix}${e.name}/`);
        else files.push(prefix + e.name);
      }
    };
    await walk(result.folder, "");
    // The checkpoint of the last epoch and of the best, each written whole (see checkpoint.ts).
    const checkpoint = (name: string) =>
      ["model.json", "optimizer.bin", "optimizer.json", "state.json", "weights.bin"]
        .map((f) => `${name}/${f}`);
    assertEquals(files.sort(), [
      ...checkpoint("checkpoint-best"), // sorts before "checkpoint/"
      ...checkpoint("checkpoint"),
      "data_digest.json",
      "history.jsonl",
      "metrics.json",
      "model/model.json",
      "model/weights.bin",
      "per_image.csv",
      "predictions/01_test.png",
      "predictions/02_test.png",
      "predictions/validation/22_training.png", // the held-out training image
      "recipe.resolved.yaml",
      "recipe.training.json",
      "report.html",
      "report/overlays/01_test.png",
      "report/overlays/02_test.png",
      "report/pr.png",
      "report/roc.png",
      "report/training.png",
    ]);
  },
});

Deno.test({
  name: "runRecipe() writes recipe.resolved.yaml that loads back to the same recipe",
  ...sanitizers,
  async fn() {
    const { recipe, result } = await smoke();
    const path = `${result.folder}/recipe.resolved.yaml`;
    const text = await Deno.readTextFile(path);
    assertEquals(text.startsWith(`# Resolved from ${recipe.file} by Capillary`), true, text);
    const again = (await loadRecipe(path, { builtins: [core] })).recipe;
    assertEquals(resolvedRecipeObject(again), resolvedRecipeObject(recipe));
    // Defaults were filled in, e.g. the train stage's optimizer momentum.
    const train = again.stages.get("train")![0].options as { optimizer: { momentum: number } };
    assertEquals(train.optimizer.momentum, 0.9);
  },
});

Deno.test({
  name:
    "runRecipe() writes metrics.json with the metrics, per-image scores, the backends and stage times",
  ...sanitizers,
  async fn() {
    const { result } = await smoke();
    const summary = JSON.parse(await Deno.readTextFile(`${result.folder}/metrics.json`));
    assertEquals(summary.recipe, "drive-smoke");
    assertEquals(summary.seed, 1);
    assertEquals(Object.keys(summary.metrics), METRICS);
    for (const m of METRICS) {
      const v = summary.metrics[m];
      const low = m === "mcc" ? -1 : 0; // a correlation
      assertEquals(typeof v === "number" && v >= low && v <= 1, true, `${m} = ${v}`);
    }
    assertEquals(summary.perImage.map((p: { id: string }) => p.id), ["01_test", "02_test"]);
    assertEquals(summary.perImage, result.evaluation.perImage);
    const csv = (await Deno.readTextFile(`${result.folder}/per_image.csv`)).trimEnd().split("\n");
    assertEquals(csv[0], "id,auc,dice,iou,accuracy,sensitivity,specificity,precision");
    assertEquals(csv.length, 3);
    // drive-smoke holds out a validation image, so a threshold is chosen on it.
    assertEquals(summary.chosenThreshold, result.evaluation.chosenThreshold);
    assertEquals(summary.chosenThreshold.chosenOn, "1 validation image");
    // And that image's own scores, every metric, what settings may be chosen on.
    assertEquals(summary.validation, result.evaluation.validation);
    assertEquals(summary.validation.on.startsWith("1 validation image ("), true);
    assertEquals(Object.keys(summary.validation.metrics), METRICS);
    // The file holds what runRecipe returned.
    assertEquals(summary.metrics, result.evaluation.metrics);
    // DRIVE's second observer against the first on test images 01 and 02, inside the FOV, as an
    // independent scorer (own GIF decoder, own counts) gave them to four decimals.
    assertEquals(summary.references, result.evaluation.references);
    const observer = summary.references["2nd_manual"];
    assertEquals(
      ["f1", "accuracy", "sensitivity", "specificity", "precision"].map((m) =>
        observer[m].toFixed(4)
      ),
      ["0.8179", "0.9493", "0.8111", "0.9719", "0.8249"],
    );
    const names = ["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"];
    assertEquals(names.includes(summary.backend.train), true, summary.backend.train);
    assertEquals(names.includes(summary.backend.inference), true, summary.backend.inference);
    assertEquals(typeof summary.backend.trainDetail, "string");
    for (const kind of [...STAGE_KINDS, "total"]) {
      const s = summary.seconds[kind];
      assertEquals(typeof s === "number" && s >= 0, true, `${kind}: ${s}`);
    }
    const stages = STAGE_KINDS.reduce((a, k) => a + summary.seconds[k], 0);
    assertEquals(summary.seconds.total >= stages, true, JSON.stringify(summary.seconds));
  },
});

Deno.test({
  name: "runRecipe() writes one history line per epoch, learning rates following the step schedule",
  ...sanitizers,
  async fn() {
    const { recipe, result } = await smoke();
    const lines = await history(result.folder);
    // drive-smoke: epochs 2, 40 training patches (the other image validates), batch 8 ->
    // 5 steps an epoch. Step schedule, every 1 epoch, factor 0.5, base 0.05: the rate at an
    // epoch's last step (epoch e + 4/5) is 0.05 · 0.5^e, so 0.05 then 0.025.
    assertEquals(lines.map((l) => l.epoch), [1, 2]);
    assertEquals(lines.map((l) => l.learningRate), [0.05, 0.025]);
    // The same from the schedule code, with the recipe's own schedule.
    const { schedule } = recipe.stages.get("train")![0].options as { schedule: ComponentRef };
    assertEquals(schedule, { use: "core/step", with: { every: 1, factor: 0.5 } });
    const rate = stepSchedule.create(schedule.with as { every: number; factor: number });
    assertEquals([0, 1].map((e) => rate(e + 4 / 5, 0.05, 2)), [0.05, 0.025]);
    for (const l of lines) {
      assertEquals(Object.keys(l).sort(), [
        "epoch",
        "learningRate",
        "loss",
        "seconds",
        "steps",
        "valDice",
        "valLoss",
      ]);
      assertEquals(Number.isFinite(l.loss) && l.loss > 0, true, `loss ${l.loss}`);
      assertEquals(typeof l.valLoss === "number" && l.valLoss > 0, true, `valLoss ${l.valLoss}`);
      assertEquals(l.seconds > 0, true);
      assertEquals(l.steps, 5); // no time budget: every planned step
    }
  },
});

Deno.test({
  name: "runRecipe() saves a model that loadLayersModel reads back with every weight",
  ...sanitizers,
  async fn() {
    const { result } = await smoke();
    const dir = `${result.folder}/model`;
    const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    assertEquals(json.format, "layers-model");
    assertEquals(json.weightsManifest[0].paths, ["weights.bin"]);
    const bytes = (await Deno.stat(`${dir}/weights.bin`)).size;
    const model = await loadLayersModel(dir);
    // drive-smoke's network: bcdunet width 4, dense 1, one input channel, 32×32 patches.
    const reference = buildBcduNet(tf, { width: 4, dense: 1, dropout: 0.5, seed: 0 }, 32, 1);
    try {
      assertEquals(model.countParams(), reference.countParams());
      assertEquals(bytes, 4 * reference.countParams());
      assertEquals(model.inputs[0].shape, [null, 32, 32, 1]);
      assertEquals(
        model.weights.map((w) => w.shape),
        reference.weights.map((w) => w.shape),
      );
    } finally {
      model.dispose();
      reference.dispose();
    }
  },
});

Deno.test({
  name: "runRecipe() writes one 565×584 grey prediction PNG per test image",
  ...sanitizers,
  async fn() {
    const { result } = await smoke();
    for (const id of ["01_test", "02_test"]) {
      const png = await readImage(`${result.folder}/predictions/${id}.png`);
      assertEquals([png.width, png.height, png.channels], [565, 584, 1], id);
      assertEquals(png.data.every((v) => v >= 0 && v <= 255 && Number.isInteger(v)), true);
    }
  },
});

Deno.test({
  name: "runRecipe() twice with one seed gives identical losses and weights, another seed others",
  ...sanitizers,
  async fn() {
    // Measured here: on wasm and on cpu, and on webgpu over lavapipe, two runs of one recipe
    // and seed in one process give bit-identical histories (drive-smoke on webgpu: losses
    // 0.6778006255626678 then 0.6004789173603058 both times).
    const { recipe, result, root } = await smoke();
    const rerun = (seed: number) =>
      runRecipe({ ...recipe, seed }, { outputRoot: root, progress: silent });
    const outcome = async (run: RunResult) => ({
      losses: (await history(run.folder)).map((l) => [l.loss, l.valLoss]),
      weights: await Deno.readFile(`${run.folder}/model/weights.bin`),
      metrics: run.evaluation.metrics,
      backend: (run.summary.backend as { train: string }).train,
    });
    const a = await outcome(result);
    const b = await outcome(await rerun(1));
    const c = await outcome(await rerun(2));
    assertEquals(b.backend, a.backend);
    assertEquals(a.losses.length, 2);
    assertEquals(b.losses, a.losses);
    assertEquals(b.weights, a.weights);
    assertEquals(b.metrics, a.metrics);
    assertEquals(c.losses[0][0] === a.losses[0][0], false, "seed 2 trained like seed 1");
    assertEquals(c.weights.join() === a.weights.join(), false);
  },
});

Deno.test({
  name:
    "a second run reuses the cached data, skips decoding and preprocessing, and gets the same metrics",
  ...sanitizers,
  async fn() {
    const { recipe, result: first, root } = await smoke();
    const entries = [...Deno.readDirSync(CACHE)].map((e) => e.name);
    assertEquals(entries.length, 1, entries.join());
    const lines: string[] = [];
    const second = await runRecipe(recipe, {
      outputRoot: root,
      progress: { info: (m) => void lines.push(m), task: () => ({ update() {}, done() {} }) },
    });
    const cached = lines.find((l) => l.includes("load + preprocess: cached"));
    assertEquals(cached?.includes("14 files unchanged"), true, lines.join("\n"));
    assertEquals(lines.some((l) => l.includes("▶ load: core/drive")), false);
    assertEquals(second.evaluation.metrics, first.evaluation.metrics);
    // Without the cache the stages run again.
    lines.length = 0;
    await runRecipe(recipe, {
      outputRoot: root,
      cache: false,
      progress: { info: (m) => void lines.push(m), task: () => ({ update() {}, done() {} }) },
    });
    assertEquals(lines.some((l) => l.includes("▶ load: core/drive")), true);
  },
});

Deno.test({
  name: "runRecipe() without an augment stage holds out the same validation images",
  ...sanitizers,
  async fn() {
    // Each stage draws from its own slot's stream: removing one (an ablation) must not
    // reshuffle the others, or the ablation's validation scores are of other images.
    const { recipe } = await loadRecipe(SMOKE, { builtins: [core] });
    const root = await Deno.makeTempDir({ prefix: "capillary_e2e_ablation_" });
    try {
      const withImages = (stages: ResolvedRecipe["stages"]) => {
        const load = stages.get("load")![0], train = stages.get("train")![0];
        const next = new Map(stages);
        next.set("load", [{ ...load, options: { ...load.options, trainLimit: 8 } }]);
        next.set("train", [{
          ...train,
          options: { ...train.options, epochs: 1, validation: { images: 3, patches: 8 } },
        }]);
        return next;
      };
      const full = { ...recipe, stages: withImages(recipe.stages) };
      const withoutAugment = new Map(full.stages);
      withoutAugment.delete("augment");
      const heldOut = async (r: ResolvedRecipe) =>
        (await runRecipe(r, { outputRoot: root, progress: silent })).evaluation.validation?.on;
      const a = await heldOut(full), b = await heldOut({ ...full, stages: withoutAugment });
      assertEquals(a?.startsWith("3 validation images"), true);
      assertEquals(b, a);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

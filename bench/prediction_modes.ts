/**
 * Scores a finished run's network on its validation images (never the test
 * images) under several ways of predicting a whole image: sliding windows at
 * a stride, the image whole, and test-time flips. What chose drive.yaml's
 * `evaluate.window` and `evaluate.flips`.
 *
 * ```sh
 * deno run -A bench/prediction_modes.ts runs/drive/<run> [window:stride:flips ...]
 * ```
 *
 * A mode is `96:32:none`, `image:0:none`, `image:0:horizontal`,
 * `image:0:horizontal+vertical`, …; without modes, a standard set. Prints
 * pooled AUC, F1, sensitivity, specificity and precision at 0.5, accuracy
 * at 0.4, 0.5 and 0.6, inside the FOV, and the seconds each mode took.
 *
 * @module
 */
import {
  chooseBackend,
  copyWeightsByLayer,
  loadLayersModel,
  loadRecipe,
  type ModelSpec,
  tf,
} from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import {
  SegmentationScorer,
  ThresholdScorer,
} from "../plugins/core/metrics/segmentation_metrics.ts";
import {
  type FlipAxis,
  flipCombinations,
  predictWindows,
  windowGeometry,
} from "../plugins/core/patches/predict_windows.ts";
import { splitByImage } from "../plugins/core/train/validation.ts";
import { stageRandom } from "../pipeline/random.ts";
import { quietStageContext } from "../tests/stage_context.ts";
import { runDataStages } from "./recipe_data.ts";

const [runDir, ...modeArgs] = Deno.args;
if (!runDir) {
  throw new Error("usage: bench/prediction_modes.ts <run folder> [window:stride:flips ...]");
}
const file = `${runDir}/recipe.resolved.yaml`;
const { recipe } = await loadRecipe(file, { builtins: BUILTIN_PLUGINS });
const stages = (kind: string) => recipe.stages.get(kind as never) ?? [];
const data = await runDataStages(recipe, file);

// core/train's split, as the run drew it (see drive_trials_data.ts).
const trainOptions = stages("train")[0].options as { validation: { images: number } };
const { validation } = splitByImage(
  data.train,
  trainOptions.validation.images,
  stageRandom(recipe.seed, "train").fork(),
);
console.log(`validation images: ${validation.map((s) => s.id).join(", ")}`);

const backend = await chooseBackend("wasm", "inference");
await tf.setBackend(backend.info.tfName);
const modelStage = stages("model")[0];
const spec = await modelStage.registered.stage.run(
  modelStage.options as never,
  data as never,
  quietStageContext(modelStage.id, "."),
) as ModelSpec;
const saved = await loadLayersModel(`${runDir}/model`);
const patchSize = saved.inputs[0].shape[1] ?? 48;

const modes = modeArgs.length ? modeArgs : [
  "96:32:none",
  "96:48:none",
  "image:0:none",
  "image:0:horizontal",
  "image:0:horizontal+vertical",
];
for (const mode of modes) {
  const [w, s, f] = mode.split(":");
  const axes = f === "none" ? [] : f.split("+") as FlipAxis[];
  const { window, stride } = windowGeometry(
    w === "image" ? "image" : Number(w),
    Number(s) || null,
    patchSize,
    validation.map((v) => v.image),
  );
  const model = spec.build(window, validation[0].image.channels);
  copyWeightsByLayer(saved, model, runDir);
  const started = performance.now();
  const scorer = new SegmentationScorer(0.5);
  // Accuracy around 0.5: where it peaks says whether 0.5 is this network's best operating point.
  const around = [0.4, 0.6].map((t) => new ThresholdScorer(t));
  for (const sample of validation) {
    const p = await predictWindows(tf, model, sample.image, {
      window,
      stride,
      batchSize: 16,
      flips: flipCombinations(axes),
    });
    scorer.add(p.data, sample.mask.data, sample.roi.data, sample.id);
    for (const at of around) at.add(p.data, sample.mask.data, sample.roi.data);
  }
  model.dispose();
  const r = scorer.result();
  const seconds = (performance.now() - started) / 1000;
  const [low, high] = around.map((at) => at.result().accuracy.toFixed(4));
  console.log(
    `${mode.padEnd(30)} AUC ${r.auc.toFixed(4)}  F1 ${r.f1.toFixed(4)}  Se ${
      r.sensitivity.toFixed(4)
    }  Sp ${r.specificity.toFixed(4)}  Prec ${r.precision.toFixed(4)}  ` +
      `Acc at 0.4 / 0.5 / 0.6 ${low} / ${r.accuracy.toFixed(4)} / ${high}  ${seconds.toFixed(1)} s`,
  );
}

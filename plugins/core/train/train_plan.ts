/**
 * What `deno task plan` says of `core/train` before anything runs: patches,
 * steps, the arithmetic, the loss and optimizer, the learning rate of each
 * epoch, and which layers `freeze`, `unfreeze` and `parameterGroups` select.
 *
 * @module
 */
import {
  CapillaryError,
  countOf,
  type DataPlan,
  type ModelPlan,
  type PlanContext,
  type PlannedLayer,
  Random,
  type StagePlan,
} from "../../../mod.ts";
import {
  everyLayerFrozen,
  frozenBatchNormLine,
  isBatchNorm,
  selectLayerSettings,
} from "./layer_control.ts";
import { fittingPatchSize } from "../patches/sample_patches.ts";
import type { TrainOptions } from "./train_options.ts";
import { splitByImage } from "./validation.ts";
import { workerLossSource } from "./worker_loss.ts";

const FLOP_UNITS = [
  [1e15, "PFLOP"],
  [1e12, "TFLOP"],
  [1e9, "GFLOP"],
  [1e6, "MFLOP"],
  [1e3, "kFLOP"],
] as const;

/**
 * A FLOP count in the largest unit that shows it as at least 1 with `digits`
 * decimals: a tiny network trains in "41.30 GFLOP", not "0.04 TFLOP".
 */
function formatFlop(flop: number, digits: number): string {
  for (const [scale, unit] of FLOP_UNITS) {
    const text = (flop / scale).toFixed(digits);
    if (Number(text) >= 1) return `${text} ${unit}`;
  }
  return `${flop.toFixed(0)} FLOP`;
}

/** What `freeze`, `unfreeze` and `parameterGroups` select, checked against the layers. */
function layerPlan(
  options: TrainOptions,
  layers: readonly PlannedLayer[] | undefined,
): string[] {
  const { freeze, unfreeze, parameterGroups } = options;
  if (!freeze.length && !unfreeze.length && !parameterGroups.length) return [];
  if (!layers) return ["(the model lists no layers: freeze and parameter groups not checked)"];
  const names = layers.map((l) => l.name);
  const size = (selected: readonly string[]) =>
    `${selected.length} layers, ${
      layers.filter((l) => selected.includes(l.name)).reduce((n, l) => n + l.parameters, 0)
        .toLocaleString("en")
    } parameters`;
  const selection = selectLayerSettings(options, names);
  const frozen = new Set(selection.frozen);
  // What the run would refuse before its first step (layer_control.ts), said here too.
  if (frozen.size && layers.every((l) => frozen.has(l.name) || l.parameters === 0)) {
    throw everyLayerFrozen();
  }
  const warned = (warning?: string) => warning ? ` (warning: ${warning})` : "";
  const norms = layers.filter((l) =>
    frozen.has(l.name) && l.className !== undefined && isBatchNorm(l.className)
  );
  return [
    ...(frozen.size
      ? [`frozen at the start: ${size(selection.frozen)} (${selection.frozen.join(", ")})`]
      : []),
    ...(norms.length ? [frozenBatchNormLine(norms.length, options.frozenBatchNorm)] : []),
    ...[...selection.thaws].sort((a, b) => a.epoch - b.epoch).map((t) =>
      `thawed at epoch ${t.epoch}: ${size(t.layers)}${warned(t.warning)}`
    ),
    ...selection.groups.map((g) =>
      `learning rate ${g.learningRate}: ${size(g.layers)}${warned(g.warning)}`
    ),
  ];
}

/** A component reference in words: `fixture/dice (smooth 1, mode "soft")`. */
function refText(ref: { use: string; with: Record<string, unknown> }): string {
  const settings = Object.entries(ref.with).map(([key, value]) =>
    `${key} ${JSON.stringify(value)}`
  );
  return `${ref.use}${settings.length ? ` (${settings.join(", ")})` : ""}`;
}

/**
 * The training loss in words: a plugin's loss component with its options
 * (`fixture/dice (smooth 1, bceWeight 0.5)`), or core's binary cross-entropy.
 */
function lossText({ loss, positiveWeight }: TrainOptions): string {
  if (loss) return refText(loss);
  return `binary cross-entropy${
    positiveWeight === 1 ? "" : ` with foreground pixels weighted ${positiveWeight}`
  }`;
}

/**
 * The plan of `core/train` for these options, data and model; throws what
 * the run would refuse (patches larger than the images, more validation
 * images than leave one to train on, layer patterns that select nothing).
 */
export function trainPlan(
  options: TrainOptions,
  { data, model }: { data: DataPlan; model: ModelPlan },
  context: PlanContext,
): StagePlan<"train"> {
  const { size, count, insideRoi } = options.patches;
  // What the run would refuse when it cuts patches: said by the plan too, before any loading.
  const least = data.smallest ??
    (data.height === null || data.width === null
      ? undefined
      : { width: data.width, height: data.height });
  const side = least && Math.min(least.height, least.width);
  if (least && side !== undefined && size > side) {
    const images = data.smallest
      ? `images as narrow as ${least.width} or as low as ${least.height} pixels`
      : `images of ${least.width}×${least.height}`;
    throw new CapillaryError(
      `Cannot cut patches of ${size}×${size} from ${images}: ` +
        `set train.patches.size to ${fittingPatchSize(side)}`,
    );
  }
  const held = options.validation.images;
  // The run's own hold-out (validation.ts) on stand-ins for the images: what it refuses (too few
  // images to hold `held` out), the plan refuses in the same words.
  const trainImages = splitByImage(
    Array.from({ length: data.train }, (_, i) => ({ id: String(i) })),
    held,
    new Random(0),
  ).train.length;
  const validation = held === 0
    ? 0
    : options.validation.patches ?? Math.round((count * held) / Math.max(1, trainImages));
  const training = count;
  const steps = Math.floor(training / options.batchSize);
  const b = options.batchSize, c = data.channels;
  const forward = model.forwardFlops?.(size, c);
  // Set for a plugin's optimizer too: the options refuse one without it.
  const learningRate = options.optimizer.learningRate!;
  const o = options.optimizer;
  // The schema refuses weightDecay with plain Adam, so a decay here is SGD's or AdamW's.
  const decayText = "use" in o
    ? ""
    : o.weightDecay
    ? `, weight decay ${o.weightDecay}${
      o.type === "sgd" ? " (L2, in the gradient)" : " (decoupled)"
    }${o.decayExclude.length ? ` except on ${o.decayExclude.join(", ")}` : ""}`
    : "";
  const optimizerText = "use" in o
    ? `optimizer ${refText(o)}, learning rate ${learningRate}`
    : (o.type === "sgd"
      ? `SGD, learning rate ${learningRate}, momentum ${o.momentum}${
        o.nesterov ? " (Nesterov)" : ""
      }`
      : `${o.type === "adam" ? "Adam" : "AdamW"}, learning rate ${learningRate}, ` +
        `betas ${o.beta1}/${o.beta2}`) + decayText;
  // What the run refuses before training: a loss its data-parallel workers cannot build.
  if (options.loss && options.workers > 1) {
    workerLossSource(options, context.createComponent("loss", options.loss));
  }
  const schedule = context.createComponent("schedule", options.schedule);
  const rate = (epoch: number) => schedule(epoch, learningRate, options.epochs).toPrecision(3);
  const epochs = Array.from({ length: options.epochs }, (_, e) => e);
  const shown = epochs.length > 12 ? [...epochs.slice(0, 6), ...epochs.slice(-6)] : epochs;
  return {
    output: { patchSize: size, channels: c },
    lines: [
      ...layerPlan(options, model.layers?.(size, c)),
      `patches ${size}×${size}×${c}${
        insideRoi ? ", centred inside the region of interest" : ""
      }: ` +
      `${count} to train from ${countOf(trainImages, "image")}; ` +
      (held
        ? `${validation} to validate from ${countOf(held, "held-out image")} (split by image), ` +
          `monitoring ${options.monitor}${
            options.earlyStopping ? `, early stopping after ${options.earlyStopping.patience}` : ""
          }${options.restoreBest ? ", best epoch restored" : ""}`
        : "no validation"),
      `batch ${b}: input [${b}, ${size}, ${size}, ${c}] → output [${b}, ${size}, ${size}, 1]; ` +
      `${steps} steps per epoch × ${options.epochs} epochs = ${steps * options.epochs} steps` +
      (options.maxMinutes === null
        ? ""
        : ` (fewer per epoch if the pace says they overrun train.maxMinutes ${options.maxMinutes})`) +
      (options.workers > 1
        ? `; each batch shared by ${options.workers} processes (data parallel)`
        : ""),
      `${model.name}: ${model.parameters(size, c).toLocaleString("en")} parameters` +
      (forward === undefined ? "" : `; ${formatFlop(forward, 1)} forward per patch, ` +
        `${formatFlop(3 * forward * b, 2)} per training step, ` +
        `${formatFlop(3 * forward * training * options.epochs, 2)} in all`),
      `loss: ${lossText(options)}; ${optimizerText}, schedule ${options.schedule.use}`,
      `learning rate per epoch (start → end): ${
        shown.map((e) => `${e + 1}: ${rate(e)} → ${rate(e + 1 - 1 / steps)}`).join(", ")
      }${shown.length < epochs.length ? " (middle epochs left out)" : ""}`,
    ],
  };
}

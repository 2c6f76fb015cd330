/**
 * `core/train`: trains the network on random patches of the training images
 * with binary cross-entropy and SGD (momentum) under a learning-rate
 * schedule. Writes one line per epoch to the run's `history.jsonl`.
 *
 * @module
 */
import { z } from "zod";
import {
  CapillaryError,
  componentRef,
  copyWeightsByLayer,
  defineStage,
  formatDuration,
  GradientWorkers,
  isOutOfMemory,
  type PatchBatch,
  type TrainedModel,
  withCleanup,
} from "../../../mod.ts";
import { samplePatches } from "../patches/sample_patches.ts";
import { dataParallelStep } from "../train/data_parallel.ts";
import { readSteps, trainStepUnread } from "../train/step_reads.ts";
import { groupedOptimizer } from "../train/grouped_optimizer.ts";
import { Monitor, type MonitorState } from "../train/monitor.ts";
import { belowThresholdWarning, splitByImage, ValidationScorer } from "../train/validation.ts";
import { weightedBinaryCrossentropy } from "../train/weighted_bce.ts";
import { trainingOutOfMemory } from "../train/memory_advice.ts";
import { layerControl } from "../train/layer_control.ts";
import { budgetCaveat, epochFraction, type EpochSpan, TimeBudget } from "../train/time_budget.ts";
import { selectLayers, selectWeights } from "../train/layer_patterns.ts";

/** Weights that weight decay leaves alone (SGD's and AdamW's option). */
const decayExclude = z.array(z.string().min(1)).default([]).describe(
  "Weights that weight decay leaves alone, by name pattern on `layer/weight` (`*` any " +
    "characters): `['*/bias', '*/gamma', '*/beta']` spares biases and batch norm, as Keras' " +
    "`exclude_from_weight_decay` and mmengine's `bias_decay_mult`/`norm_decay_mult` of 0 do.",
);

/** Options of `core/train`. */
export const trainOptions = z.object({
  epochs: z.number().int().min(1).default(5).describe("Passes over the training patches."),
  batchSize: z.number().int().min(1).default(16).describe("Patches per step."),
  workers: z.number().int().min(1).max(64).default(1).describe(
    "Processes that share each batch (data parallel on the wasm backend): this thread and " +
      "workers − 1 worker threads, each with a shard of batchSize / workers patches; the " +
      "averaged gradient is applied once. 2 on 2 cores trained 1.36× as many patches per " +
      "second at width 8. Batch norm normalises each shard by itself.",
  ),
  patches: z.object({
    size: z.number().int().min(8).multipleOf(8).default(48)
      .describe("Side of the square training patches (a multiple of 8)."),
    count: z.number().int().min(2).default(20000)
      .describe("Patches drawn once at random positions, spread evenly over the training images."),
    insideRoi: z.boolean().default(true)
      .describe("Only draw patches whose centre lies inside the region of interest (the FOV)."),
  }).strict().default({ size: 48, count: 20000, insideRoi: true }),
  validation: z.object({
    images: z.number().int().min(0).default(2).describe(
      "Training images held out whole to validate on (never trained on), chosen with the " +
        "recipe's seed; 0: none.",
    ),
    patches: z.number().int().min(1).nullable().default(null).describe(
      "Patches drawn from them; null: as many per image as training draws.",
    ),
  }).strict().default({ images: 2, patches: null })
    .describe("The validation split, by image: its loss and Dice are reported each epoch."),
  monitor: z.enum(["valLoss", "valDice"]).default("valLoss")
    .describe("The validation score that picks the best epoch and drives early stopping."),
  restoreBest: z.boolean().default(true)
    .describe("Finish with the weights of the best epoch by `monitor`, not the last."),
  earlyStopping: z.object({
    patience: z.number().int().min(1).default(3)
      .describe("Epochs without an improvement of `monitor` before training stops."),
    minDelta: z.number().min(0).default(0).describe("The least change that counts as one."),
  }).strict().nullable().default(null).describe("Stops when `monitor` stops improving; null: off."),
  maxMinutes: z.number().positive().nullable().default(null).describe(
    "A time budget for training, in minutes (validation included; loading and evaluation not), " +
      "as Lightning's max_time, met to a few percent. Once the pace of steps 51 to 100 is known " +
      "(or of the first epoch, if shorter), every epoch is shortened to fit if need be, and " +
      "again after each epoch from its whole pace: fewer patches each, the learning-rate " +
      "schedule stretched over them, so it still runs its whole course. The log and " +
      "`history.jsonl` (`steps`) say what ran; such a run depends on the machine's speed. " +
      "null: no budget.",
  ),
  clipNorm: z.number().positive().nullable().default(null)
    .describe("Rescales the gradients when their global L2 norm exceeds this; null: off."),
  positiveWeight: z.number().positive().default(1)
    .describe("Weight of foreground pixels in the binary cross-entropy (1: unweighted)."),
  optimizer: z.union([
    z.object({
      type: z.literal("sgd").default("sgd").describe("SGD with momentum, as in the seed paper."),
      learningRate: z.number().positive().default(0.01).describe("The base learning rate."),
      momentum: z.number().min(0).max(1).default(0.9),
      nesterov: z.boolean().default(false),
      weightDecay: z.number().min(0).default(0)
        .describe("L2 penalty added to the gradient, as PyTorch's SGD does."),
      decayExclude,
    }).strict(),
    z.object({
      type: z.enum(["adam", "adamw"])
        .describe("Adam (Kingma and Ba), or AdamW with decoupled weight decay, for comparison."),
      learningRate: z.number().positive().default(0.001).describe("The base learning rate."),
      beta1: z.number().min(0).max(1).default(0.9),
      beta2: z.number().min(0).max(1).default(0.999),
      epsilon: z.number().positive().default(1e-7),
      weightDecay: z.number().min(0).default(0)
        .describe("AdamW's decoupled weight decay (ignored by adam: use adamw)."),
      decayExclude,
    }).strict(),
  ]).default({
    type: "sgd",
    learningRate: 0.01,
    momentum: 0.9,
    nesterov: false,
    weightDecay: 0,
    decayExclude: [],
  })
    .describe("The optimizer: `sgd` (with momentum; the default), `adam` or `adamw`."),
  schedule: componentRef("schedule", { use: "core/cosine", with: {} })
    .describe("How the learning rate changes over training."),
  freeze: z.array(z.string().min(1)).default([]).describe(
    "Layers whose weights stay as they start (e.g. from `stages.model.from`), by name pattern " +
      "(`*` any characters, `?` one): `down*` keeps the encoder. `deno task plan` lists the layers.",
  ),
  unfreeze: z.array(
    z.object({
      epoch: z.number().int().min(1).describe("The epoch (from 1) at whose start the layers thaw."),
      layers: z.array(z.string().min(1)).min(1).default(["*"])
        .describe("Name patterns of the layers to thaw (default: all)."),
    }).strict(),
  ).default([])
    .describe("Thaws frozen layers on a schedule, e.g. `[{ epoch: 2 }]` trains all from epoch 2."),
  parameterGroups: z.array(
    z.object({
      layers: z.array(z.string().min(1)).min(1).describe("Name patterns of the group's layers."),
      learningRate: z.number().positive()
        .describe("The group's base learning rate; the schedule scales it like the default one."),
    }).strict(),
  ).default([]).describe(
    "Layers that learn at their own base learning rate (a layer joins the first group it " +
      "matches); the rest use optimizer.learningRate.",
  ),
}).strict().superRefine((options, context) => {
  if (options.schedule.use === "core/plateau" && options.validation.images === 0) {
    context.addIssue({
      code: "custom",
      path: ["schedule"],
      message: "core/plateau watches the validation loss: set validation.images above 0",
    });
  }
  if (options.batchSize < options.workers) {
    context.addIssue({
      code: "custom",
      path: ["workers"],
      message: `${options.workers} workers need a batchSize of at least ${options.workers}`,
    });
  }
  if (options.optimizer.type === "adam" && options.optimizer.weightDecay > 0) {
    context.addIssue({
      code: "custom",
      path: ["optimizer", "weightDecay"],
      message: "adam ignores weightDecay: use type adamw for decoupled weight decay",
    });
  }
  if (options.optimizer.decayExclude.length && !options.optimizer.weightDecay) {
    context.addIssue({
      code: "custom",
      path: ["optimizer", "decayExclude"],
      message: "decayExclude spares weights from weight decay: set optimizer.weightDecay above 0",
    });
  }
  if (options.earlyStopping && options.validation.images === 0) {
    context.addIssue({
      code: "custom",
      path: ["earlyStopping"],
      message: "early stopping watches the validation images: set validation.images above 0",
    });
  }
  options.unfreeze.forEach((entry, i) => {
    if (entry.epoch > options.epochs) {
      context.addIssue({
        code: "custom",
        path: ["unfreeze", i, "epoch"],
        message: `epoch ${entry.epoch} is after the last epoch (${options.epochs})`,
      });
    }
  });
});

/** The options of `core/train` after defaults. */
export type TrainOptions = z.output<typeof trainOptions>;

function gather(source: PatchBatch, indices: readonly number[]): PatchBatch {
  const imageStride = source.size * source.size * source.channels;
  const maskStride = source.size * source.size;
  const images = new Float32Array(indices.length * imageStride);
  const masks = new Float32Array(indices.length * maskStride);
  const rois = source.rois && new Float32Array(indices.length * maskStride);
  indices.forEach((p, i) => {
    images.set(source.images.subarray(p * imageStride, (p + 1) * imageStride), i * imageStride);
    masks.set(source.masks.subarray(p * maskStride, (p + 1) * maskStride), i * maskStride);
    rois?.set(source.rois!.subarray(p * maskStride, (p + 1) * maskStride), i * maskStride);
  });
  return { ...source, images, masks, ...(rois ? { rois } : {}), count: indices.length };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The checkpoint names in the run folder: the last epoch's, and the best epoch's weights. */
const CHECKPOINT = "checkpoint", BEST = "checkpoint-best";

/** One line of `history.jsonl`. */
interface EpochRecord {
  epoch: number;
  loss: number;
  valLoss: number | null;
  valDice: number | null;
  learningRate: number;
  seconds: number;
  /** Steps the epoch ran (fewer than planned where `maxMinutes` shortened it). */
  steps: number;
}

/** What a checkpoint keeps of the training loop, beside weights and optimizer. */
interface TrainState {
  /** Epochs finished. */
  epoch: number;
  random: number;
  augmentRandom: number;
  monitor: MonitorState;
  /** A schedule's own state (reduce on plateau), when it has one. */
  schedule?: unknown;
  history: EpochRecord[];
  /** Steps per epoch, once `maxMinutes` has fitted them to the budget. */
  stepsPerEpoch?: number;
}

/**
 * Steps between reads of the losses and the weights (one round trip each:
 * plugins/core/train/step_reads.ts), and at the end of each epoch. Every
 * weight is checked for finiteness at each read: the loss alone cannot tell,
 * since on wasm XNNPACK's clamps turn NaN activations into finite values, so a
 * diverged network can report a finite loss.
 */
const READ_STEPS = 50;

/** What `freeze`, `unfreeze` and `parameterGroups` select, checked against the layers. */
function layerPlan(
  options: TrainOptions,
  layers: readonly { name: string; parameters: number }[] | undefined,
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
  const lines: string[] = [];
  if (freeze.length) {
    const frozen = selectLayers(freeze, names, "train.freeze");
    lines.push(`frozen at the start: ${size(frozen)} (${frozen.join(", ")})`);
  }
  unfreeze.forEach((u, i) => {
    const thawed = selectLayers(u.layers, names, `train.unfreeze[${i}].layers`);
    lines.push(`thawed at epoch ${u.epoch}: ${size(thawed)}`);
  });
  const taken = new Set<string>(); // a layer joins the first group it matches
  parameterGroups.forEach((g, i) => {
    const members = selectLayers(g.layers, names, `train.parameterGroups[${i}].layers`)
      .filter((n) => !taken.has(n));
    members.forEach((n) => taken.add(n));
    lines.push(`learning rate ${g.learningRate}: ${size(members)}`);
  });
  return lines;
}

/** The `core/train` stage. */
export const train = defineStage({
  name: "train",
  kind: "train",
  description:
    "Binary cross-entropy, SGD with momentum (or Adam) and a learning-rate schedule, on random patches.",
  options: trainOptions,
  plan(options, { data, model }, context) {
    const { size, count, insideRoi } = options.patches;
    // What the run would refuse when it cuts patches: said by the plan too, before any loading.
    const side = data.height === null || data.width === null
      ? null
      : Math.min(data.height, data.width);
    if (side !== null && size > side) {
      throw new CapillaryError(
        `Cannot cut patches of ${size}×${size} from images of ${data.width}×${data.height}: ` +
          `set train.patches.size to at most ${side}`,
      );
    }
    const held = options.validation.images;
    const trainImages = data.train - held;
    const validation = held === 0
      ? 0
      : options.validation.patches ?? Math.round((count * held) / Math.max(1, trainImages));
    const training = count;
    const steps = Math.floor(training / options.batchSize);
    const b = options.batchSize, c = data.channels;
    const forward = model.forwardFlops?.(size, c);
    const { learningRate } = options.optimizer;
    const o = options.optimizer;
    // The schema refuses weightDecay with plain Adam, so a decay here is SGD's or AdamW's.
    const decayText = o.weightDecay
      ? `, weight decay ${o.weightDecay}${
        o.type === "sgd" ? " (L2, in the gradient)" : " (decoupled)"
      }${o.decayExclude.length ? ` except on ${o.decayExclude.join(", ")}` : ""}`
      : "";
    const optimizerText = (o.type === "sgd"
      ? `SGD, learning rate ${learningRate}, momentum ${o.momentum}${
        o.nesterov ? " (Nesterov)" : ""
      }`
      : `${o.type === "adam" ? "Adam" : "AdamW"}, learning rate ${learningRate}, ` +
        `betas ${o.beta1}/${o.beta2}`) + decayText;
    const schedule = context.createComponent("schedule", options.schedule);
    const rate = (epoch: number) =>
      schedule(epoch, learningRate, options.epochs).toPrecision(3);
    const epochs = Array.from({ length: options.epochs }, (_, e) => e);
    const shown = epochs.length > 12 ? [...epochs.slice(0, 6), ...epochs.slice(-6)] : epochs;
    return {
      output: { patchSize: size, channels: c },
      lines: [
        ...layerPlan(options, model.layers?.(size, c)),
        `patches ${size}×${size}×${c}${insideRoi ? ", centred inside the FOV" : ""}: ` +
        `${count} to train from ${plural(trainImages, "image")}; ` +
        (held
          ? `${validation} to validate from ${plural(held, "held-out image")} (split by image), ` +
            `monitoring ${options.monitor}${
              options.earlyStopping
                ? `, early stopping after ${options.earlyStopping.patience}`
                : ""
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
        (forward === undefined ? "" : `; ${(forward / 1e6).toFixed(1)} MFLOP forward per patch, ` +
          `${(3 * forward * b / 1e9).toFixed(2)} GFLOP per training step, ` +
          `${(3 * forward * training * options.epochs / 1e12).toFixed(2)} TFLOP in all`),
        `loss: binary cross-entropy${
          options.positiveWeight === 1
            ? ""
            : ` with foreground pixels weighted ${options.positiveWeight}`
        }; ${optimizerText}, schedule ${options.schedule.use}`,
        `learning rate per epoch (start → end): ${
          shown.map((e) => `${e + 1}: ${rate(e)} → ${rate(e + 1 - 1 / steps)}`).join(", ")
        }${shown.length < epochs.length ? " (middle epochs left out)" : ""}`,
      ],
    };
  },
  async run(options, { data, model: spec, augment }, context): Promise<TrainedModel> {
    const { tf, random, progress, checkpoints } = context;
    const backend = await context.useBackend("train");
    const { size } = options.patches;
    const split = splitByImage(data.train, options.validation.images, random.fork());
    const all = samplePatches(split.train, options.patches, random.fork());
    const validationPatches = split.validation.length
      ? samplePatches(split.validation, {
        ...options.patches,
        count: options.validation.patches ??
          Math.round((options.patches.count * split.validation.length) / split.train.length),
      }, random.fork())
      : undefined;
    const training = random.shuffle([...Array(all.count).keys()]);
    if (training.length < options.batchSize) {
      throw new CapillaryError(
        `Cannot train: ${training.length} training patches for batch size ${options.batchSize}; raise patches.count or lower batchSize`,
      );
    }
    const model = spec.build(size, all.channels);
    const layers = layerControl(model, options);
    const decayExcluded = selectWeights(
      options.optimizer.decayExclude,
      model,
      "train.optimizer.decayExclude",
    );
    if (decayExcluded.size) {
      // Of the weights training updates (frozen layers' and batch norm's statistics are not).
      const updated = model.trainableWeights;
      const spared = updated.filter((w) =>
        decayExcluded.has((w.read() as unknown as { name: string }).name)
      );
      progress.info(
        `weight decay spares ${spared.length} of ${updated.length} weights ` +
          `(${options.optimizer.decayExclude.join(", ")})`,
      );
    }
    const optimizer = groupedOptimizer(tf, options.optimizer, layers.groups, layers.variables, {
      clipNorm: options.clipNorm,
      decayExcluded,
    });
    const loss = options.positiveWeight === 1
      ? "binaryCrossentropy"
      : weightedBinaryCrossentropy(tf, options.positiveWeight);
    const compile = () => model.compile({ optimizer, loss });
    // Data parallel: one loss for this thread and the workers (plain BCE is weight 1).
    const shardLoss = weightedBinaryCrossentropy(tf, options.positiveWeight);
    const startWorkers = async () => {
      if (backend !== "wasm") {
        throw new CapillaryError(
          `Cannot train with train.workers ${options.workers} on the ${backend} backend: ` +
            "data-parallel workers run the wasm backend; set train.workers to 1 or use --backend wasm",
          "E_WORKERS",
        );
      }
      const started = await GradientWorkers.start(options.workers - 1, {
        topology: model.toJSON(null, false),
        layerModules: spec.layerModules ?? [],
        loss: {
          module: new URL("../train/weighted_bce.ts", import.meta.url).href,
          factory: "weightedBinaryCrossentropy",
          args: [options.positiveWeight],
        },
      });
      progress.info(
        `data parallel: each batch of ${options.batchSize} shared by this thread and ` +
          `${started.count} worker${started.count === 1 ? "" : "s"}`,
      );
      return started;
    };
    const plannedSteps = Math.floor(training.length / options.batchSize);
    const augmentRandom = random.fork();
    let history: EpochRecord[] = [];
    let startEpoch = 0;

    // A resumed run continues from its last checkpoint: weights, optimizer,
    // generators and monitor as they were, so it ends where an unbroken run would.
    const saved = checkpoints.resuming ? await checkpoints.load<TrainState>(CHECKPOINT) : undefined;
    if (saved) {
      copyWeightsByLayer(saved.model, model, saved.path);
      saved.model.dispose();
      startEpoch = saved.state.epoch;
      for (let e = 1; e <= startEpoch; e++) layers.thaw(e);
    }
    const budget = options.maxMinutes === null ? undefined : new TimeBudget({
      minutes: options.maxMinutes,
      plannedSteps,
      epochs: options.epochs,
      batchSize: options.batchSize,
      patches: training.length,
      fitted: saved?.state.stepsPerEpoch,
    });
    compile();
    const monitor = new Monitor(options.monitor === "valLoss" ? "min" : "max", {
      patience: options.earlyStopping?.patience ?? null,
      minDelta: options.earlyStopping?.minDelta ?? 0,
    }, saved?.state.monitor);
    if (saved) {
      await optimizer.setWeights([...saved.optimizer]);
      random.restore(saved.state.random);
      augmentRandom.restore(saved.state.augmentRandom);
      history = saved.state.history;
      // Lines of epochs after the checkpoint (a kill between the two writes) go.
      await context.run.write(
        "history.jsonl",
        history.map((h) => `${JSON.stringify(h)}\n`).join(""),
      );
      progress.info(`resuming after epoch ${startEpoch} from ${saved.path}`);
    }
    progress.info(
      `${spec.name}: ${model.countParams().toLocaleString("en")} parameters on ${backend}; ` +
        `${training.length} training patches of ${size}×${size} from ${split.train.length} images` +
        (validationPatches
          ? `, ${validationPatches.count} validation patches from ${split.validation.length} ` +
            `held-out images (${split.validation.map((s) => s.id).join(", ")})`
          : ""),
    );
    for (const line of layers.describe()) progress.info(line);
    const workers = options.workers > 1 ? await startWorkers() : undefined;

    const toTensors = (batch: PatchBatch) => ({
      x: tf.tensor4d(batch.images, [batch.count, size, size, batch.channels]),
      y: tf.tensor4d(batch.masks, [batch.count, size, size, 1]),
    });
    const validate = async () => {
      if (!validationPatches) return null;
      const scorer = new ValidationScorer();
      const indices = [...Array(validationPatches.count).keys()];
      for (let i = 0; i < indices.length; i += options.batchSize) {
        const batch = gather(validationPatches, indices.slice(i, i + options.batchSize));
        const x = tf.tensor4d(batch.images, [batch.count, size, size, batch.channels]);
        const y = model.predict(x) as import("@tensorflow/tfjs").Tensor;
        scorer.add(await y.data(), batch.masks);
        tf.dispose([x, y]);
      }
      return scorer.result();
    };
    const lastGood = (epoch: number) =>
      epoch > 0
        ? `; the checkpoint of epoch ${epoch} is in ${context.run.resolve(CHECKPOINT)}`
        : "";

    const schedule = context.createComponent("schedule", options.schedule);
    if (saved?.state.schedule !== undefined) schedule.restore?.(saved.state.schedule);
    const trainingStarted = performance.now();
    let epoch = startEpoch;
    // The epochs, from `epoch` on; `epoch` ends one past the last one trained.
    async function trainEpochs() {
      for (; epoch < options.epochs; epoch++) {
        const started = performance.now();
        if (layers.thaw(epoch + 1)) {
          compile();
          for (const line of layers.describe(epoch + 1)) progress.info(line);
        }
        let span: EpochSpan = {
          fromStep: 0,
          fromFraction: 0,
          steps: budget?.stepsPerEpoch ?? plannedSteps,
        };
        const task = progress.task(`epoch ${epoch + 1}/${options.epochs}`, span.steps);
        const shuffled = random.shuffle([...training]);
        // Seconds of the epochs before this one (a resumed run's too), for the time budget.
        const spentBefore = history.reduce((sum, h) => sum + h.seconds, 0);
        let lossSum = 0;
        let rate = 0;
        // Losses not yet read back (tensors) or read already (data-parallel steps' numbers).
        const unread: (import("@tensorflow/tfjs").Tensor | number)[] = [];
        const unreadRates: number[] = [];
        let stepsRead = 0;
        for (let step = 0; step < span.steps; step++) {
          const fraction = epochFraction(step, span);
          optimizer.setRates((base) => schedule(epoch + fraction, base, options.epochs));
          rate = optimizer.rates[0];
          const batch = augment(
            gather(all, shuffled.slice(step * options.batchSize, (step + 1) * options.batchSize)),
            augmentRandom,
          );
          if (workers) {
            unread.push(await dataParallelStep(tf, model, optimizer, shardLoss, workers, batch));
          } else {
            const { x, y } = toTensors(batch);
            unread.push(trainStepUnread(model, x, y));
            tf.dispose([x, y]);
          }
          unreadRates.push(rate);
          if (step + 1 === span.steps || (step + 1) % READ_STEPS === 0) {
            const read = await readSteps(tf, unread.splice(0), model);
            const rates = unreadRates.splice(0);
            const firstStep = step + 2 - read.losses.length;
            read.losses.forEach((value, i) => {
              if (!Number.isFinite(value)) {
                throw new CapillaryError(
                  `Cannot train: the loss became ${value} at epoch ${epoch + 1}, step ${
                    firstStep + i
                  } (learning rate ${rates[i]}); lower optimizer.learningRate or check the data` +
                    lastGood(epoch),
                  "E_NAN_LOSS",
                );
              }
              lossSum += value;
            });
            stepsRead = step + 1;
            const change = budget?.atRead({
              now: performance.now(),
              epochStart: started,
              epoch,
              stepsDone: step + 1,
              span,
              spentBefore,
            });
            if (change) {
              span = change.span;
              task.setTotal?.(span.steps);
              progress.info(change.message);
            }
            const bad = read.nonFiniteWeight;
            if (bad) {
              throw new CapillaryError(
                `Cannot train: weight "${bad.name}" became ${bad.value} by epoch ${
                  epoch + 1
                }, step ${
                  step + 1
                } (learning rate ${rate}); lower optimizer.learningRate or check the data` +
                  lastGood(epoch),
                "E_NAN_LOSS",
              );
            }
          }
          // The loss shown is the mean of the steps read so far (none before the first read).
          task.update(step + 1, stepsRead ? { loss: lossSum / stepsRead, lr: rate } : { lr: rate });
        }
        const scores = await validate();
        const entry: EpochRecord = {
          epoch: epoch + 1,
          loss: lossSum / span.steps,
          valLoss: scores?.loss ?? null,
          valDice: scores?.dice ?? null,
          learningRate: rate,
          seconds: (performance.now() - started) / 1000,
          steps: span.steps,
        };
        history.push(entry);
        const refit = budget?.atEpochEnd(
          epoch,
          entry.seconds,
          entry.steps,
          spentBefore + entry.seconds,
        );
        if (refit) progress.info(refit);
        if (scores) schedule.observe?.(epoch + 1, scores.loss);
        const verdict = scores
          ? monitor.update(options.monitor === "valLoss" ? scores.loss : scores.dice, epoch + 1)
          : { improved: false, stop: false };
        const left = ((performance.now() - trainingStarted) / 1000 / (epoch + 1 - startEpoch)) *
          (options.epochs - epoch - 1);
        task.done(
          `loss ${entry.loss.toFixed(4)}${
            scores
              ? `, validation loss ${scores.loss.toFixed(4)}, Dice ${scores.dice.toFixed(4)}${
                verdict.improved ? " (best)" : ""
              }`
              : ""
          }${left > 0 && !verdict.stop ? `; training ETA ${formatDuration(left)}` : ""}`,
        );
        const warning = scores && belowThresholdWarning(scores);
        if (warning) progress.info(`warning: epoch ${epoch + 1}: ${warning}`);
        await context.run.appendLine("history.jsonl", JSON.stringify(entry));
        if (verdict.improved && options.restoreBest) {
          await checkpoints.save(BEST, { model, optimizer: [], state: { epoch: epoch + 1 } });
        }
        const state: TrainState = {
          epoch: epoch + 1,
          random: random.state,
          augmentRandom: augmentRandom.state,
          monitor: monitor.state,
          schedule: schedule.state?.(),
          history,
          ...(budget?.fitted ? { stepsPerEpoch: budget.stepsPerEpoch } : {}),
        };
        await checkpoints.save(CHECKPOINT, {
          model,
          optimizer: await optimizer.getWeights(),
          state: state as unknown as Record<string, unknown>,
        });
        if (verdict.stop) {
          progress.info(
            `early stopping after epoch ${epoch + 1}: ${options.monitor} has not improved for ` +
              `${options.earlyStopping!.patience} epochs (best ${
                monitor.state.best?.toFixed(4)
              } at epoch ${monitor.state.bestEpoch})`,
          );
          epoch++;
          break;
        }
      }
    }
    // withCleanup: after memory ran out, closing the workers can fail too; the first error counts.
    await withCleanup(async () => {
      try {
        await trainEpochs();
      } catch (error) {
        if (!isOutOfMemory(error)) throw error;
        throw trainingOutOfMemory(error as Error, {
          batchSize: options.batchSize,
          patchSize: size,
          workers: options.workers,
          parameters: model.countParams(),
          backend: tf.getBackend(),
        });
      }
    }, async () => {
      await workers?.close();
    });
    const { bestEpoch, best } = monitor.state;
    if (options.restoreBest && bestEpoch > 0 && bestEpoch !== epoch) {
      const bestSaved = await checkpoints.load(BEST);
      if (bestSaved) {
        copyWeightsByLayer(bestSaved.model, model, bestSaved.path);
        bestSaved.model.dispose();
        progress.info(
          `restored the weights of epoch ${bestEpoch} (best ${options.monitor} ${
            best?.toFixed(4)
          })`,
        );
      }
    }
    layers.thawAll(); // the trained network as a later run would start from it
    const caveat = options.maxMinutes === null ? undefined : budgetCaveat(
      history.map((h) => h.steps ?? plannedSteps),
      plannedSteps,
      options.batchSize,
      options.maxMinutes,
    );
    if (caveat) progress.info(`warning: ${caveat}`);
    return {
      spec,
      model,
      patchSize: size,
      channels: all.channels,
      validationIds: split.validation.map((s) => s.id),
      ...(caveat ? { caveats: [caveat] } : {}),
    };
  },
});

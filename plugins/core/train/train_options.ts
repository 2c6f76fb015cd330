/**
 * The options of `core/train`: the zod schema that types, documents and
 * validates them, with the checks that span several options.
 *
 * @module
 */
import { z } from "zod";
import { componentRef, componentRefWith } from "../../../mod.ts";

/** Weights that weight decay leaves alone (SGD's and AdamW's option). */
const decayExclude = z.array(z.string().min(1)).default([]).describe(
  "Weights that weight decay leaves alone, by name pattern on `layer/weight` (`*` any " +
    "characters): `['*/bias', '*/gamma', '*/beta']` spares biases and batch norm, as Keras' " +
    "`exclude_from_weight_decay` and mmengine's `bias_decay_mult`/`norm_decay_mult` of 0 do.",
);

/** What a plugin's optimizer leaves to its own options, in the words of the refusal. */
const PLUGIN_DECAY = "belongs to the built-in sgd and adamw";

/**
 * A plugin's optimizer (an optimizer component): `{ use, with, learningRate }`.
 * `weightDecay` and `decayExclude` are declared only to be refused with a
 * reason (in the refinement below), not as unknown keys.
 */
const pluginOptimizer = componentRefWith("optimizer", {
  // Optional to zod only: a missing rate is refused below, in words (in a union, zod would
  // report the key `use` unknown to sgd instead).
  learningRate: z.number().positive().optional().describe(
    "The base learning rate the plugin's optimizer starts at (parameter groups have their " +
      "own), which the schedule scales; required: a plugin's optimizer has no default rate.",
  ),
  weightDecay: z.unknown().optional().meta({
    not: {},
    description: `Not here: weight decay ${PLUGIN_DECAY}; give the plugin's optimizer its own ` +
      "decay option under `with`.",
  }),
  decayExclude: z.unknown().optional().meta({
    not: {},
    description: `Not here: decayExclude ${PLUGIN_DECAY}.`,
  }),
});

/** Options of `core/train`. */
export const trainOptions = z.object({
  epochs: z.number().int().min(1).default(5).describe("Passes over the training patches."),
  batchSize: z.number().int().min(1).default(16).describe("Patches per step."),
  workers: z.number().int().min(1).max(64).default(1).describe(
    "Processes that share each batch (data parallel on the wasm backend): this thread and " +
      "workers − 1 worker threads, each with a shard of batchSize / workers patches; the " +
      "averaged gradient is applied once. 2 on 2 cores trained 1.61× as many patches per " +
      "second as one process at width 8 (bench/data_parallel.ts, 2026-12-02). Batch norm " +
      "normalises each shard by itself.",
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
  positiveWeight: z.number().positive().default(1).describe(
    "Weight of foreground pixels in core's binary cross-entropy (1: unweighted); only without " +
      "`loss`.",
  ),
  loss: componentRef("loss").nullable().default(null).describe(
    "The training loss, a plugin's loss component (`{ use: plugin/name, with: { ... } }`); " +
      "null: binary cross-entropy, weighted by positiveWeight. The validation loss (`valLoss`, " +
      "what `monitor: valLoss` watches) stays the unweighted binary cross-entropy whatever " +
      "trains.",
  ),
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
    pluginOptimizer,
  ]).default({
    type: "sgd",
    learningRate: 0.01,
    momentum: 0.9,
    nesterov: false,
    weightDecay: 0,
    decayExclude: [],
  })
    .describe(
      "The optimizer: `sgd` (with momentum; the default), `adam` or `adamw`, or a plugin's " +
        "optimizer component, `{ use: plugin/name, with: { ... }, learningRate: 0.01 }`.",
    ),
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
  frozenBatchNorm: z.enum(["inference", "batch"]).default("inference").describe(
    "How a frozen batch norm layer normalises while the network trains: `inference` with its " +
      "moving mean and variance, which stay as they start (Keras' `trainable = False`), or " +
      "`batch` with each batch's statistics, updating the moving ones (TensorFlow.js's own).",
  ),
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
  if (options.loss !== null && options.positiveWeight !== 1) {
    context.addIssue({
      code: "custom",
      path: ["positiveWeight"],
      message: `positiveWeight weights core's binary cross-entropy only, not the loss ` +
        `${options.loss.use}: leave it out, or give the loss its own weighting option`,
    });
  }
  if (options.batchSize < options.workers) {
    context.addIssue({
      code: "custom",
      path: ["workers"],
      message: `${options.workers} workers need a batchSize of at least ${options.workers}`,
    });
  }
  if ("use" in options.optimizer) {
    if (options.optimizer.learningRate === undefined) {
      context.addIssue({
        code: "custom",
        path: ["optimizer", "learningRate"],
        message: `set optimizer.learningRate, the base rate of ${options.optimizer.use}: a ` +
          "plugin's optimizer has no default rate",
      });
    }
    for (const key of ["weightDecay", "decayExclude"] as const) {
      if (options.optimizer[key] === undefined) continue;
      context.addIssue({
        code: "custom",
        path: ["optimizer", key],
        message: `${key} ${PLUGIN_DECAY}, not the plugin's optimizer ${options.optimizer.use}: ` +
          "leave it out, and give the optimizer its decay in its own options (under `with`)",
      });
    }
  } else if (options.optimizer.type === "adam" && options.optimizer.weightDecay > 0) {
    context.addIssue({
      code: "custom",
      path: ["optimizer", "weightDecay"],
      message: "adam ignores weightDecay: use type adamw for decoupled weight decay",
    });
  }
  if (
    !("use" in options.optimizer) && options.optimizer.decayExclude.length &&
    !options.optimizer.weightDecay
  ) {
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

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
  defineStage,
  formatDuration,
  type PatchBatch,
  type TrainedModel,
} from "../../../mod.ts";
import { samplePatches } from "../patches/sample_patches.ts";
import { groupedOptimizer } from "../train/grouped_optimizer.ts";
import { layerControl } from "../train/layer_control.ts";
import { selectLayers } from "../train/layer_patterns.ts";

/** Options of `core/train`. */
export const trainOptions = z.object({
  epochs: z.number().int().min(1).default(5).describe("Passes over the training patches."),
  batchSize: z.number().int().min(1).default(16).describe("Patches per step."),
  patches: z.object({
    size: z.number().int().min(8).multipleOf(8).default(48)
      .describe("Side of the square training patches (a multiple of 8)."),
    count: z.number().int().min(2).default(20000)
      .describe("Patches drawn once at random positions, spread evenly over the training images."),
    insideRoi: z.boolean().default(true)
      .describe("Only draw patches whose centre lies inside the region of interest (the FOV)."),
  }).strict().default({ size: 48, count: 20000, insideRoi: true }),
  validationFraction: z.number().min(0).max(0.5).default(0.1)
    .describe("Share of the patches held out to report a validation loss each epoch."),
  optimizer: z.union([
    z.object({
      type: z.literal("sgd").default("sgd").describe("SGD with momentum, as in the seed paper."),
      learningRate: z.number().positive().default(0.01).describe("The base learning rate."),
      momentum: z.number().min(0).max(1).default(0.9),
      nesterov: z.boolean().default(false),
    }).strict(),
    z.object({
      type: z.literal("adam").describe("Adam (Kingma and Ba), for comparison."),
      learningRate: z.number().positive().default(0.001).describe("The base learning rate."),
      beta1: z.number().min(0).max(1).default(0.9),
      beta2: z.number().min(0).max(1).default(0.999),
      epsilon: z.number().positive().default(1e-7),
    }).strict(),
  ]).default({ type: "sgd", learningRate: 0.01, momentum: 0.9, nesterov: false })
    .describe("The optimizer: `sgd` (with momentum; the default) or `adam`."),
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

/**
 * Steps between checks that every weight is finite. The loss alone cannot
 * tell: on wasm, XNNPACK's clamps turn NaN activations into finite values, so
 * a diverged network can report a finite loss.
 */
const WEIGHT_CHECK_STEPS = 50;

async function firstNonFiniteWeight(
  model: import("@tensorflow/tfjs").LayersModel,
): Promise<{ name: string; value: number } | undefined> {
  for (const weight of model.weights) {
    const values = await weight.read().data();
    for (const value of values) if (!Number.isFinite(value)) return { name: weight.name, value };
  }
  return undefined;
}

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
    const validation = Math.floor(count * options.validationFraction);
    const training = count - validation;
    const steps = Math.floor(training / options.batchSize);
    const b = options.batchSize, c = data.channels;
    const forward = model.forwardFlops?.(size, c);
    const { learningRate } = options.optimizer;
    const o = options.optimizer;
    const optimizerText = o.type === "sgd"
      ? `SGD, learning rate ${learningRate}, momentum ${o.momentum}${
        o.nesterov ? " (Nesterov)" : ""
      }`
      : `Adam, learning rate ${learningRate}, betas ${o.beta1}/${o.beta2}`;
    const schedule = context.createComponent("schedule", options.schedule);
    const rate = (epoch: number) => schedule(epoch, learningRate, options.epochs).toPrecision(3);
    const epochs = Array.from({ length: options.epochs }, (_, e) => e);
    const shown = epochs.length > 12 ? [...epochs.slice(0, 6), ...epochs.slice(-6)] : epochs;
    return {
      output: { patchSize: size, channels: c },
      lines: [
        ...layerPlan(options, model.layers?.(size, c)),
        `patches ${size}×${size}×${c}: ${count} from ${data.train} training images` +
        `${
          insideRoi ? ", centred inside the FOV" : ""
        }; ${training} to train, ${validation} to validate`,
        `batch ${b}: input [${b}, ${size}, ${size}, ${c}] → output [${b}, ${size}, ${size}, 1]; ` +
        `${steps} steps per epoch × ${options.epochs} epochs = ${steps * options.epochs} steps`,
        `${model.name}: ${model.parameters(size, c).toLocaleString("en")} parameters` +
        (forward === undefined ? "" : `; ${(forward / 1e6).toFixed(1)} MFLOP forward per patch, ` +
          `${(3 * forward * b / 1e9).toFixed(2)} GFLOP per training step, ` +
          `${(3 * forward * training * options.epochs / 1e12).toFixed(2)} TFLOP in all`),
        `loss: binary cross-entropy; ${optimizerText}, schedule ${options.schedule.use}`,
        `learning rate per epoch (start → end): ${
          shown.map((e) => `${e + 1}: ${rate(e)} → ${rate(e + 1 - 1 / steps)}`).join(", ")
        }${shown.length < epochs.length ? " (middle epochs left out)" : ""}`,
      ],
    };
  },
  async run(options, { data, model: spec, augment }, context): Promise<TrainedModel> {
    const { tf, random, progress } = context;
    const backend = await context.useBackend("train");
    const { size } = options.patches;
    const all = samplePatches(data.train, options.patches, random.fork());
    const order = random.shuffle([...Array(all.count).keys()]);
    const validationCount = Math.floor(all.count * options.validationFraction);
    const validation = order.slice(0, validationCount);
    const training = order.slice(validationCount);
    if (training.length < options.batchSize) {
      throw new CapillaryError(
        `Cannot train: ${training.length} training patches for batch size ${options.batchSize}; raise patches.count or lower batchSize`,
      );
    }
    const model = spec.build(size, all.channels);
    const layers = layerControl(model, options);
    const optimizer = groupedOptimizer(tf, options.optimizer, layers.groups, layers.variables);
    model.compile({ optimizer, loss: "binaryCrossentropy" });
    progress.info(
      `${spec.name}: ${model.countParams().toLocaleString("en")} parameters on ${backend}; ` +
        `${training.length} training and ${validation.length} validation patches of ${size}×${size}`,
    );
    for (const line of layers.describe()) progress.info(line);

    const stepsPerEpoch = Math.floor(training.length / options.batchSize);
    const augmentRandom = random.fork();
    const toTensors = (batch: PatchBatch) => ({
      x: tf.tensor4d(batch.images, [batch.count, size, size, batch.channels]),
      y: tf.tensor4d(batch.masks, [batch.count, size, size, 1]),
    });
    const validationLoss = async () => {
      if (!validation.length) return null;
      let sum = 0;
      for (let i = 0; i < validation.length; i += options.batchSize) {
        const { x, y } = toTensors(gather(all, validation.slice(i, i + options.batchSize)));
        const loss = model.evaluate(x, y, {
          batchSize: options.batchSize,
        }) as import("@tensorflow/tfjs").Scalar;
        sum += (await loss.data())[0] * x.shape[0];
        tf.dispose([x, y, loss]);
      }
      return sum / validation.length;
    };

    const schedule = context.createComponent("schedule", options.schedule);
    const trainingStarted = performance.now();
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const started = performance.now();
      if (layers.thaw(epoch + 1)) {
        model.compile({ optimizer, loss: "binaryCrossentropy" });
        for (const line of layers.describe(epoch + 1)) progress.info(line);
      }
      const task = progress.task(`epoch ${epoch + 1}/${options.epochs}`, stepsPerEpoch);
      const shuffled = random.shuffle([...training]);
      let lossSum = 0;
      let rate = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        optimizer.setRates((base) => schedule(epoch + step / stepsPerEpoch, base, options.epochs));
        rate = optimizer.rates[0];
        const batch = augment(
          gather(all, shuffled.slice(step * options.batchSize, (step + 1) * options.batchSize)),
          augmentRandom,
        );
        const { x, y } = toTensors(batch);
        const loss = await model.trainOnBatch(x, y) as number;
        tf.dispose([x, y]);
        if (!Number.isFinite(loss)) {
          throw new CapillaryError(
            `Cannot train: the loss became ${loss} at epoch ${epoch + 1}, step ${
              step + 1
            } (learning rate ${rate}); lower optimizer.learningRate or check the data`,
            "E_NAN_LOSS",
          );
        }
        lossSum += loss;
        task.update(step + 1, { loss: lossSum / (step + 1), lr: rate });
        if ((step + 1) % WEIGHT_CHECK_STEPS === 0 || step + 1 === stepsPerEpoch) {
          const bad = await firstNonFiniteWeight(model);
          if (bad) {
            throw new CapillaryError(
              `Cannot train: weight "${bad.name}" became ${bad.value} by epoch ${epoch + 1}, step ${
                step + 1
              } (learning rate ${rate}); lower optimizer.learningRate or check the data`,
              "E_NAN_LOSS",
            );
          }
        }
      }
      const valLoss = await validationLoss();
      const seconds = (performance.now() - started) / 1000;
      const entry = {
        epoch: epoch + 1,
        loss: lossSum / stepsPerEpoch,
        valLoss,
        learningRate: rate,
        seconds,
      };
      const left = ((performance.now() - trainingStarted) / 1000 / (epoch + 1)) *
        (options.epochs - epoch - 1);
      task.done(
        `loss ${entry.loss.toFixed(4)}${
          valLoss === null ? "" : `, validation loss ${valLoss.toFixed(4)}`
        }${left > 0 ? `; training ETA ${formatDuration(left)}` : ""}`,
      );
      await context.run.appendLine("history.jsonl", JSON.stringify(entry));
    }
    layers.thawAll(); // the trained network as a later run would start from it
    return { spec, model, patchSize: size, channels: all.channels };
  },
});

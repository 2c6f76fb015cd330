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
  optimizer: z.object({
    type: z.literal("sgd").default("sgd"),
    learningRate: z.number().positive().default(0.01).describe("The base learning rate."),
    momentum: z.number().min(0).max(1).default(0.9),
    nesterov: z.boolean().default(false),
  }).strict().default({ type: "sgd", learningRate: 0.01, momentum: 0.9, nesterov: false })
    .describe("Stochastic gradient descent with momentum, as in the seed paper."),
  schedule: componentRef("schedule", { use: "core/cosine", with: {} })
    .describe("How the learning rate changes over training."),
}).strict();

/** The options of `core/train` after defaults. */
export type TrainOptions = z.output<typeof trainOptions>;

function gather(source: PatchBatch, indices: readonly number[]): PatchBatch {
  const imageStride = source.size * source.size * source.channels;
  const maskStride = source.size * source.size;
  const images = new Float32Array(indices.length * imageStride);
  const masks = new Float32Array(indices.length * maskStride);
  indices.forEach((p, i) => {
    images.set(source.images.subarray(p * imageStride, (p + 1) * imageStride), i * imageStride);
    masks.set(source.masks.subarray(p * maskStride, (p + 1) * maskStride), i * maskStride);
  });
  return { ...source, images, masks, count: indices.length };
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

/** The `core/train` stage. */
export const train = defineStage({
  name: "train",
  kind: "train",
  description:
    "Binary cross-entropy, SGD with momentum and a learning-rate schedule, on random patches.",
  options: trainOptions,
  plan(options, { data, model }, context) {
    const { size, count, insideRoi } = options.patches;
    const validation = Math.floor(count * options.validationFraction);
    const training = count - validation;
    const steps = Math.floor(training / options.batchSize);
    const b = options.batchSize, c = data.channels;
    const forward = model.forwardFlops?.(size, c);
    const { learningRate, momentum, nesterov } = options.optimizer;
    const schedule = context.createComponent("schedule", options.schedule);
    const rate = (epoch: number) => schedule(epoch, learningRate, options.epochs).toPrecision(3);
    const epochs = Array.from({ length: options.epochs }, (_, e) => e);
    const shown = epochs.length > 12 ? [...epochs.slice(0, 6), ...epochs.slice(-6)] : epochs;
    return {
      output: { patchSize: size, channels: c },
      lines: [
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
        `loss: binary cross-entropy; SGD, learning rate ${learningRate}, momentum ${momentum}` +
        `${nesterov ? " (Nesterov)" : ""}, schedule ${options.schedule.use}`,
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
    const optimizer = tf.train.momentum(
      options.optimizer.learningRate,
      options.optimizer.momentum,
      options.optimizer.nesterov,
    );
    model.compile({ optimizer, loss: "binaryCrossentropy" });
    progress.info(
      `${spec.name}: ${model.countParams().toLocaleString("en")} parameters on ${backend}; ` +
        `${training.length} training and ${validation.length} validation patches of ${size}×${size}`,
    );

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
      const task = progress.task(`epoch ${epoch + 1}/${options.epochs}`, stepsPerEpoch);
      const shuffled = random.shuffle([...training]);
      let lossSum = 0;
      let rate = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        rate = schedule(
          epoch + step / stepsPerEpoch,
          options.optimizer.learningRate,
          options.epochs,
        );
        optimizer.setLearningRate(rate);
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
    return { spec, model, patchSize: size, channels: all.channels };
  },
});

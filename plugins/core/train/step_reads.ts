/**
 * Training steps whose losses are read back in blocks, with the weights in
 * the same read: one round trip to the backend per block of steps instead
 * of one per step and one per weight.
 *
 * `trainOnBatch` waits for each step's loss. On the host backends (`wasm`,
 * `cpu`) that costs nothing, but on a GPU each read waits for the device to
 * finish (in Deno's WebGPU on Mesa's lavapipe, reading one small tensor took
 * about 12 ms), and while it waits the next step is not being encoded, so the
 * device and the host take turns instead of working at once. A check that every weight
 * is finite read each weight on its own: 68 reads for a BCDU-Net.
 *
 * @module
 */
import type { tf as TfNamespace } from "../../../pipeline/backend/tfjs.ts";
import type { Tf } from "../../../mod.ts";

type Tensor = TfNamespace.Tensor;
type LayersModel = TfNamespace.LayersModel;

/** tfjs-layers 4.22's own training function, which `trainOnBatch` calls before reading the losses. */
interface TrainFunctionOwner {
  makeTrainFunction(): (data: Tensor[]) => Tensor[];
}

/**
 * One training step on `x` and `y`, exactly as `model.trainOnBatch(x, y)`
 * takes it (the same kernels, so the same weights), but with the loss left
 * unread: a scalar tensor that the caller reads (see {@link readSteps}) and
 * disposes. The model must be compiled with a loss and no metrics.
 *
 * @param model A compiled model.
 * @param x The inputs of the batch.
 * @param y The targets of the batch.
 * @returns The step's loss, unread.
 *
 * @example Usage
 * ```ts
 * import { tf } from "../../../mod.ts";
 * import { trainStepUnread } from "./step_reads.ts";
 * await tf.setBackend("cpu");
 * const input = tf.input({ shape: [1] });
 * const output = tf.layers.dense({ units: 1, kernelInitializer: "ones" }).apply(input);
 * const model = tf.model({ inputs: input, outputs: output as never });
 * model.compile({ optimizer: tf.train.sgd(0.1), loss: "meanSquaredError" });
 * const loss = trainStepUnread(model, tf.tensor2d([[1]]), tf.tensor2d([[3]]));
 * console.assert(loss.dataSync()[0] === 4); // (1·1 + 0 − 3)², before the update
 * ```
 */
export function trainStepUnread(model: LayersModel, x: Tensor, y: Tensor): Tensor {
  const [loss, ...metrics] = (model as unknown as TrainFunctionOwner).makeTrainFunction()([x, y]);
  for (const metric of metrics) metric.dispose();
  return loss;
}

/** What {@link readSteps} read. */
export interface StepReads {
  /** The losses, in the order given. */
  readonly losses: number[];
  /** The first weight with a value that is not finite, and that value; absent when all are. */
  readonly nonFiniteWeight?: { readonly name: string; readonly value: number };
}

/**
 * Reads a block of steps' losses and every weight of `model` back in one
 * read, and disposes the loss tensors.
 *
 * @param tf The TensorFlow.js runtime.
 * @param losses Each step's loss: a scalar tensor not yet read, or a number already read.
 * @param model The model whose weights are checked.
 * @returns The losses as numbers and the first weight that is not finite, if any.
 *
 * @example Usage
 * ```ts
 * import { tf } from "../../../mod.ts";
 * import { readSteps } from "./step_reads.ts";
 * await tf.setBackend("cpu");
 * const input = tf.input({ shape: [1] });
 * const dense = tf.layers.dense({ units: 1, kernelInitializer: "ones", name: "read_steps_doc" });
 * const model = tf.model({ inputs: input, outputs: dense.apply(input) as never });
 * const read = await readSteps(tf, [tf.scalar(0.5), 0.25], model);
 * console.assert(read.losses[0] === 0.5 && read.losses[1] === 0.25 && !read.nonFiniteWeight);
 * dense.setWeights([tf.tensor2d([[NaN]]), tf.tensor1d([0])]);
 * const bad = await readSteps(tf, [], model);
 * console.assert(bad.nonFiniteWeight!.name === "read_steps_doc/kernel");
 * ```
 */
export async function readSteps(
  tf: Tf,
  losses: readonly (Tensor | number)[],
  model: LayersModel,
): Promise<StepReads> {
  const unread = losses.filter((loss): loss is Tensor => typeof loss !== "number");
  const weights = model.weights;
  const all = tf.tidy(() =>
    tf.concat([
      ...unread.map((loss) => loss.reshape([-1])),
      ...weights.map((weight) => weight.read().reshape([-1])),
    ])
  );
  let values: Float32Array;
  try {
    values = await all.data() as Float32Array;
  } finally {
    all.dispose();
    tf.dispose(unread);
  }
  let next = 0;
  const read = losses.map((loss) => typeof loss === "number" ? loss : values[next++]);
  for (const weight of weights) {
    const size = weight.shape.reduce((n: number, d) => n * (d ?? 1), 1);
    for (let i = next; i < next + size; i++) {
      if (!Number.isFinite(values[i])) {
        return { losses: read, nonFiniteWeight: { name: weight.name, value: values[i] } };
      }
    }
    next += size;
  }
  return { losses: read };
}

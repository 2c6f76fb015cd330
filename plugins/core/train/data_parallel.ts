/**
 * One data-parallel training step: the batch is cut into one shard per
 * process, the gradient workers compute theirs while this thread computes
 * its own, and the shard gradients, weighted by shard size, are averaged
 * and applied once. With equal shards that is the gradient of the mean loss
 * over the whole batch, except that batch norm sees each shard alone.
 *
 * @module
 */
import { type GradientWorkers, type Shard, type Tf, weightsInLayerOrder } from "../../../mod.ts";
import type { tf as TfNamespace } from "../../../pipeline/backend/tfjs.ts";

type Tensor = TfNamespace.Tensor;
type LossFunction = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * Where each of `parts` shards of `count` samples starts and ends: sizes
 * differ by at most one, larger first.
 *
 * @example Usage
 * ```ts
 * import { shardBounds } from "./data_parallel.ts";
 * console.assert(JSON.stringify(shardBounds(9, 2)) === "[[0,5],[5,9]]");
 * ```
 */
export function shardBounds(count: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const size = Math.floor(count / parts) + (i < count % parts ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

/** A batch as flat arrays: `count` samples of `size × size × channels`, masks of one channel. */
export interface FlatBatch {
  readonly images: Float32Array;
  readonly masks: Float32Array;
  readonly count: number;
  readonly size: number;
  readonly channels: number;
}

/**
 * Trains `model` on `batch` with `optimizer`, split between this thread and
 * `workers` (one shard each); returns the batch's mean loss.
 *
 * @throws {RangeError} When the batch has fewer samples than processes.
 */
export async function dataParallelStep(
  tf: Tf,
  model: TfNamespace.LayersModel,
  optimizer: TfNamespace.Optimizer,
  loss: LossFunction,
  workers: GradientWorkers,
  batch: FlatBatch,
): Promise<number> {
  const parts = workers.count + 1;
  if (batch.count < parts) {
    throw new RangeError(`a batch of ${batch.count} cannot feed ${parts} processes`);
  }
  const pixels = batch.size * batch.size;
  const bounds = shardBounds(batch.count, parts);
  const shards: Shard[] = bounds.map(([from, to]) => ({
    x: batch.images.slice(from * pixels * batch.channels, to * pixels * batch.channels),
    xShape: [to - from, batch.size, batch.size, batch.channels],
    y: batch.masks.slice(from * pixels, to * pixels),
    yShape: [to - from, batch.size, batch.size, 1],
  }));
  const trainableWeights = new Set(model.trainableWeights);
  const weights = weightsInLayerOrder(model);
  const trainable = weights.flatMap((w, i) => trainableWeights.has(w) ? [i] : []);
  // The workers start first, at the weights before this step (sent synchronously).
  const theirs = workers.compute(model, trainable, shards.slice(1));
  const variables = trainable.map((i) => weights[i].read() as TfNamespace.Variable);
  const mine = tf.tidy(() => {
    const x = tf.tensor(shards[0].x, shards[0].xShape);
    const y = tf.tensor(shards[0].y, shards[0].yShape);
    return tf.variableGrads(
      () => tf.mean(loss(y, model.apply(x, { training: true }) as Tensor)) as TfNamespace.Scalar,
      variables,
    );
  });
  const others = await theirs;
  const weightOf = ([from, to]: [number, number]) => (to - from) / batch.count;
  // Averaged here in one pass per variable, rounded as tfjs's mul and add round: as kernels it
  // was hundreds of small calls (a multiply and an add per variable and shard) while the
  // workers wait.
  const shardWeights = bounds.map((b) => Math.fround(weightOf(b)));
  const averaged: Record<string, Tensor> = {};
  let at = 0;
  for (const v of variables) {
    const own = mine.grads[v.name].dataSync() as Float32Array;
    const sum = new Float32Array(v.size);
    for (let j = 0; j < v.size; j++) sum[j] = own[j] * shardWeights[0];
    others.forEach(({ gradients }, k) => {
      const weight = shardWeights[k + 1];
      for (let j = 0; j < v.size; j++) sum[j] += Math.fround(gradients[at + j] * weight);
    });
    averaged[v.name] = tf.tensor(sum, v.shape);
    at += v.size;
  }
  optimizer.applyGradients(averaged as TfNamespace.NamedTensorMap);
  const value = (await mine.value.data())[0] * weightOf(bounds[0]) +
    others.reduce((s, { loss }, k) => s + loss * weightOf(bounds[k + 1]), 0);
  tf.dispose([mine.value, ...Object.values(mine.grads), ...Object.values(averaged)]);
  return value;
}

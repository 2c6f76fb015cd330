/**
 * What the data-parallel benches (`data_parallel.ts`, `core_contention.ts`)
 * share: random 48×48 batches, and gradient workers for a BCDU-Net trained
 * on plain binary cross-entropy, as core/train starts them.
 *
 * @module
 */
import { GradientWorkers, tf } from "../mod.ts";
import { BCDUNET_LAYER_MODULES } from "../plugins/core/_bcdunet.ts";
import type { FlatBatch } from "../plugins/core/train/data_parallel.ts";

/** Patch side of the benches' batches. */
export const PATCH = 48;

/**
 * Four random batches of `2 × perProcess` patches (about 10 % vessel
 * pixels), for the data-parallel step, and each batch's first half as
 * tensors, for one process's `trainOnBatch`. Needs a backend set.
 */
export function randomBatches(perProcess: number): {
  batches: FlatBatch[];
  halves: { x: tf.Tensor4D; y: tf.Tensor4D }[];
} {
  const random = (n: number, seed: number) =>
    tf.randomUniform([n], 0, 1, "float32", seed).dataSync() as Float32Array;
  const pixels = PATCH * PATCH;
  const batches = Array.from({ length: 4 }, (_, i) => ({
    images: random(2 * perProcess * pixels, i),
    masks: random(2 * perProcess * pixels, 100 + i).map((v) => (v > 0.9 ? 1 : 0)),
    count: 2 * perProcess,
    size: PATCH,
    channels: 1,
  }));
  const shape: [number, number, number, number] = [perProcess, PATCH, PATCH, 1];
  const halves = batches.map((b) => ({
    x: tf.tensor4d(b.images.subarray(0, perProcess * pixels), shape),
    y: tf.tensor4d(b.masks.subarray(0, perProcess * pixels), shape),
  }));
  return { batches, halves };
}

/** Starts `count` gradient workers, each with a replica of `net` and unweighted BCE. */
export function startBcduNetWorkers(net: tf.LayersModel, count = 1): Promise<GradientWorkers> {
  return GradientWorkers.start(count, {
    topology: net.toJSON(null, false),
    layerModules: BCDUNET_LAYER_MODULES,
    loss: {
      module: new URL("../plugins/core/train/weighted_bce.ts", import.meta.url).href,
      factory: "weightedBinaryCrossentropy",
      args: [1],
    },
  });
}

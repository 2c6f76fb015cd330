import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import { random } from "../../../tests/random_data.ts";
import { CapillaryError, GradientWorkers, holdInInference, loadBackend, tf } from "../../../mod.ts";
import { BCDUNET_LAYER_MODULES, buildBcduNet } from "../_bcdunet.ts";
import { dataParallelStep, shardBounds } from "./data_parallel.ts";
import { weightedBinaryCrossentropy } from "./weighted_bce.ts";

await loadBackend("wasm");
await tf.setBackend("wasm");

type LayersModel = import("@tensorflow/tfjs").LayersModel;

const LOSS = {
  module: new URL("./weighted_bce.ts", import.meta.url).href,
  factory: "weightedBinaryCrossentropy",
  args: [1],
};

Deno.test("shardBounds cuts a batch into near-equal shards, larger first", () => {
  assertEquals(shardBounds(8, 2), [[0, 4], [4, 8]]);
  assertEquals(shardBounds(9, 2), [[0, 5], [5, 9]]);
  assertEquals(shardBounds(7, 3), [[0, 3], [3, 5], [5, 7]]);
  assertEquals(shardBounds(2, 2), [[0, 1], [1, 2]]);
});

/**
 * Two 3×3 convolutions; with `batchNorm`, a batch norm between them whose
 * moving statistics are not the identity's (mean 0.3, variance 2). Without
 * one, or with it held in inference, the sharded gradient must equal the
 * whole batch's.
 */
function smallNet(seed: number, batchNorm = false): LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  let hidden = tf.layers.conv2d({
    filters: 3,
    kernelSize: 3,
    padding: "same",
    activation: "relu",
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  }).apply(input) as import("@tensorflow/tfjs").SymbolicTensor;
  if (batchNorm) {
    hidden = tf.layers.batchNormalization({
      movingMeanInitializer: tf.initializers.constant({ value: 0.3 }),
      movingVarianceInitializer: tf.initializers.constant({ value: 2 }),
    }).apply(hidden) as typeof hidden;
  }
  const output = tf.layers.conv2d({
    filters: 1,
    kernelSize: 3,
    padding: "same",
    activation: "sigmoid",
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
  }).apply(hidden) as import("@tensorflow/tfjs").SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

function batchOf(count: number) {
  const images = random(count * 64, 11);
  const masks = random(count * 64, 12).map((v) => (v > 0.6 ? 1 : 0));
  return { images, masks, count, size: 8, channels: 1 };
}

/**
 * One data-parallel step (this thread and one worker) against one plain SGD
 * step on the whole batch, from the same weights; `frozenAtStart` layers are
 * frozen while the workers start, `frozenAtStep` ones during the step, and
 * `heldAtStep` ones (of the network with a batch norm, layer 2) held in
 * inference during the step.
 */
async function compareWithWholeBatch(
  frozenAtStart: number[],
  frozenAtStep: number[],
  heldAtStep?: number[],
) {
  const batch = batchOf(5); // shards of 3 (this thread) and 2 (the worker): weights 3/5 and 2/5
  const sharded = smallNet(7, heldAtStep !== undefined);
  const whole = smallNet(7, heldAtStep !== undefined);
  const loss = weightedBinaryCrossentropy(tf, 1);
  const freeze = (model: LayersModel, layers: number[]) =>
    model.layers.forEach((l, i) => (l.trainable = !layers.includes(i)));
  freeze(sharded, frozenAtStart);
  const workers = await GradientWorkers.start(1, {
    topology: sharded.toJSON(null, false),
    layerModules: [],
    loss: LOSS,
  });
  freeze(sharded, frozenAtStep);
  freeze(whole, frozenAtStep);
  for (const model of [sharded, whole]) {
    model.layers.forEach((l, i) => holdInInference(l, heldAtStep?.includes(i) ?? false));
  }
  const shardedSgd = tf.train.sgd(0.5);
  const wholeSgd = tf.train.sgd(0.5);
  try {
    const value = await dataParallelStep(tf, sharded, shardedSgd, loss, workers, batch);
    const x = tf.tensor4d(batch.images, [5, 8, 8, 1]);
    const y = tf.tensor4d(batch.masks, [5, 8, 8, 1]);
    const expected = wholeSgd.minimize(
      () =>
        tf.mean(
          loss(y, whole.apply(x, { training: true }) as import("@tensorflow/tfjs").Tensor),
        ) as never,
      true,
      whole.trainableWeights.map((w) => w.read() as import("@tensorflow/tfjs").Variable),
    )!;
    assertEquals(Math.abs(value - expected.dataSync()[0]) < 1e-5, true, `loss ${value}`);
    const start = smallNet(7, heldAtStep !== undefined);
    sharded.layers.forEach((layer, l) => {
      layer.weights.forEach((w, k) => {
        const got = w.read().dataSync();
        const want = whole.layers[l].weights[k].read().dataSync();
        const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
        assertEquals(worst < 1e-5, true, `${w.name}: off by ${worst}`);
        // Trained layers moved, frozen ones did not (the test would pass vacuously otherwise).
        const before = start.layers[l].weights[k].read().dataSync();
        const moved = Array.from(got).some((v, i) => Math.abs(v - before[i]) > 1e-6);
        assertEquals(moved, !frozenAtStep.includes(l), `${w.name} moved`);
      });
    });
    tf.dispose([x, y, expected]);
    start.dispose();
  } finally {
    await workers.close();
    shardedSgd.dispose();
    wholeSgd.dispose();
  }
}

Deno.test("a data-parallel step applies the whole batch's mean gradient", async () => {
  await compareWithWholeBatch([], []);
});

Deno.test("a layer frozen or thawed after the workers started is trained as this thread says", async () => {
  // Layer 1 is the first convolution (layer 0 is the input).
  await compareWithWholeBatch([1], []); // thawed: model.weights reorders, the workers must follow
  await compareWithWholeBatch([], [1]); // frozen: only the head moves
});

Deno.test("a batch norm held in inference is held in the workers too", async () => {
  // Frozen and held (as train.frozenBatchNorm: inference does): each shard normalises with the
  // moving statistics, so the shards' gradients add up to the whole batch's exactly as without
  // batch norm; a worker normalising by its shard's own statistics would not match.
  await compareWithWholeBatch([], [2], [2]);
  // The control: not held, each shard normalises by its own statistics and the step differs.
  await assertRejects(() => compareWithWholeBatch([], [], []), Error, "values differ");
});

Deno.test("workers rebuild a network with custom layers from the modules that register them", async () => {
  const config = { width: 2, dense: 1 as const, dropout: 0, seed: 3, batchNorm: true };
  const model = buildBcduNet(tf, config, 16, 1);
  const layerModules = [...BCDUNET_LAYER_MODULES];
  const workers = await GradientWorkers.start(1, {
    topology: model.toJSON(null, false),
    layerModules,
    loss: LOSS,
  });
  const optimizer = tf.train.momentum(0.1, 0.9);
  try {
    const images = random(4 * 256, 5);
    const masks = random(4 * 256, 6).map((v) => (v > 0.7 ? 1 : 0));
    const batch = { images, masks, count: 4, size: 16, channels: 1 };
    const loss = weightedBinaryCrossentropy(tf, 1);
    const first = await dataParallelStep(tf, model, optimizer, loss, workers, batch);
    const second = await dataParallelStep(tf, model, optimizer, loss, workers, batch);
    assertEquals(Number.isFinite(first) && Number.isFinite(second), true);
    // BCE of a fresh sigmoid network on ~30 % foreground is near log 2; a step lowers it.
    assertEquals(second < first, true, `loss ${first} → ${second}`);
  } finally {
    await workers.close();
    optimizer.dispose();
    model.dispose();
  }
});

Deno.test("a network with custom layers but no layerModules fails with what to do", async () => {
  const model = buildBcduNet(
    tf,
    { width: 2, dense: 1, dropout: 0, seed: 3, batchNorm: false },
    16,
    1,
  );
  try {
    const error = await assertRejects(
      () =>
        GradientWorkers.start(1, {
          topology: model.toJSON(null, false),
          layerModules: [],
          loss: LOSS,
        }),
      CapillaryError,
    );
    assertEquals(error.code, "E_WORKERS");
    if (!/layerModules.*train\.workers to 1/.test(error.message)) throw new Error(error.message);
  } finally {
    model.dispose();
  }
});

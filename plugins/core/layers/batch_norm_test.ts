import { assert, assertEquals } from "../../../tests/assert.ts";
import { loadBackend, loadLayersModel, saveLayersModel, tf } from "../../../mod.ts";
import { BATCH_NORM_GRAD, BATCH_NORM_TRAINING, BatchNormalization } from "./batch_norm.ts";

await loadBackend("wasm");

/** The largest difference between two tensors, over the largest magnitude of the second. */
function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  const a = actual.dataSync(), e = expected.dataSync();
  const scale = Math.max(1e-6, ...e.map(Math.abs));
  return Math.max(...e.map((v, i) => Math.abs(a[i] - v))) / scale;
}

async function onBothBackends(body: (backend: string) => void | Promise<void>) {
  const before = tf.getBackend();
  try {
    for (const backend of ["wasm", "cpu"]) {
      await tf.setBackend(backend);
      await body(backend);
    }
  } finally {
    await tf.setBackend(before);
  }
}

/** A stock layer and ours with the same weights, built for `[2, 5, 4, 3]` inputs. */
function pair(momentum = 0.9) {
  const args = { axis: 3, momentum };
  const stock = tf.layers.batchNormalization(args);
  const ours = new BatchNormalization(args);
  const x = tf.randomNormal([2, 5, 4, 3], 1.5, 2, "float32", 1);
  stock.build(x.shape);
  ours.build(x.shape);
  const weights = [
    tf.tensor([0.5, 2, -1]), // gamma
    tf.tensor([0.1, -0.3, 0]), // beta
    tf.tensor([0.2, 0, 1]), // moving mean
    tf.tensor([1, 3, 0.5]), // moving variance
  ];
  stock.setWeights(weights);
  ours.setWeights(weights);
  return { stock, ours, x };
}

Deno.test("BatchNormalization trains as tfjs-layers': output, moving averages, gradients", async () => {
  await onBothBackends((backend) => {
    const { stock, ours, x } = pair();
    const w = tf.randomNormal(x.shape, 0, 1, "float32", 2);
    const run = (layer: tf.layers.Layer) => {
      const trainable = layer.trainableWeights.map((v) =>
        (v as unknown as { val: tf.Variable }).val
      );
      const f = (input: tf.Tensor) =>
        tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, w));
      const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, trainable);
      const dx = tf.grad(f)(x);
      return {
        y: layer.apply(x, { training: true }) as tf.Tensor,
        grads: Object.values(grads),
        dx,
      };
    };
    const expected = run(stock), actual = run(ours);
    assert(relativeError(actual.y, expected.y) < 1e-5, `${backend}: output`);
    assert(relativeError(actual.dx, expected.dx) < 1e-4, `${backend}: input gradient`);
    assertEquals(actual.grads.length, 2);
    actual.grads.forEach((g, i) =>
      assert(relativeError(g, expected.grads[i]) < 1e-5, `${backend}: ${i}`)
    );
    // Four training calls each: the moving averages moved alike.
    const [stockMean, stockVariance] = stock.getWeights().slice(2);
    const [mean, variance] = ours.getWeights().slice(2);
    assert(relativeError(mean, stockMean) < 1e-5 && relativeError(variance, stockVariance) < 1e-5);
    assert(stockMean.dataSync()[0] !== 0.2, "the moving mean moved");
  });
});

Deno.test("BatchNormalization's kernel is differentiated through its mean and variance too", async () => {
  // tf.moments + tf.batchNorm, as the stock layer computes them, against the kernel's three outputs.
  await onBothBackends((backend) => {
    const x = tf.randomNormal([3, 4, 2], 0, 3, "float32", 5);
    const gamma = tf.tensor([1.5, -0.5]), beta = tf.tensor([0.2, 1]);
    const [wy, wm, wv] = [x.shape, [2], [2]].map((s, i) =>
      tf.randomNormal(s, 0, 1, "float32", 9 + i)
    );
    const loss = (y: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor) =>
      tf.addN([tf.sum(tf.mul(y, wy)), tf.sum(tf.mul(mean, wm)), tf.sum(tf.mul(variance, wv))]);
    const stock = (input: tf.Tensor) => {
      const { mean, variance } = tf.moments(input, [0, 1]);
      return loss(tf.batchNorm(input, mean, variance, beta, gamma, 1e-3), mean, variance);
    };
    const ours = (input: tf.Tensor) => {
      const [y, mean, variance] = tf.engine().runKernel(
        BATCH_NORM_TRAINING,
        { x: input, gamma, beta } as unknown as tf.NamedTensorMap,
        { epsilon: 1e-3 } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      return loss(y, mean, variance);
    };
    assert(relativeError(ours(x), stock(x)) < 1e-5, backend);
    assert(relativeError(tf.grad(ours)(x), tf.grad(stock)(x)) < 1e-4, `${backend}: gradient`);
  });
});

Deno.test("BatchNormalization with a frozen layer trains without keeping tensors", async () => {
  await tf.setBackend("wasm");
  const { ours, x } = pair();
  ours.trainable = false; // the scale and offset get no gradient
  const f = (input: tf.Tensor) => tf.sum(ours.apply(input, { training: true }) as tf.Tensor);
  tf.dispose(tf.grad(f)(x));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose(tf.grad(f)(x));
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("BatchNormalization's backward pass is one kernel call per layer", async () => {
  await tf.setBackend("wasm");
  const { ours, x } = pair();
  const trainable = ours.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
  const f = () => tf.sum(ours.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const info = await tf.profile(() => {
    const { grads } = tf.variableGrads(f, trainable);
    tf.dispose(Object.values(grads));
  });
  const calls = (name: string) => info.kernels.filter((k) => k.name === name).length;
  assertEquals(calls(BATCH_NORM_GRAD), 1);
  assertEquals(calls(BATCH_NORM_TRAINING), 1);
});

Deno.test("BatchNormalization predicts with the moving statistics and saves as its own class", async () => {
  await tf.setBackend("wasm");
  const { stock, ours, x } = pair();
  assert(relativeError(ours.apply(x) as tf.Tensor, stock.apply(x) as tf.Tensor) < 1e-6);
  const input = tf.input({ shape: [5, 4, 3] });
  const layer = new BatchNormalization({ axis: 3, name: "saved_bn" });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  layer.setWeights(ours.getWeights());
  const dir = await Deno.makeTempDir();
  try {
    await saveLayersModel(model, dir);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    assertEquals(json.modelTopology.config.layers[1].class_name, "CapillaryBatchNormalization");
    const loaded = await loadLayersModel(dir);
    assertEquals(
      Array.from((loaded.predict(x) as tf.Tensor).dataSync()),
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

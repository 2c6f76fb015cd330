import { assert } from "../../../tests/assert.ts";
import { loadBackend, tf } from "../../../mod.ts";
import { BATCH_NORM_GRAD, BATCH_NORM_TRAINING, registerBatchNormKernels } from "./batch_norm.ts";
import { noWebgpu as ignore, webgpuTestName as named } from "../../../tests/webgpu_adapter.ts";

registerBatchNormKernels();

/** `[y, mean, variance]` and the gradients of a loss of all three, on the active backend. */
async function trainingAndGradients(shape: number[]): Promise<Float32Array[]> {
  const channels = shape[shape.length - 1];
  const x = tf.randomUniform(shape, -2, 3, "float32", 1);
  const gamma = tf.randomUniform([channels], 0.5, 1.5, "float32", 2);
  const beta = tf.randomUniform([channels], -1, 1, "float32", 3);
  const wy = tf.randomUniform(shape, -1, 1, "float32", 4);
  const [wm, wv] = [5, 6].map((seed) => tf.randomUniform([channels], -1, 1, "float32", seed));
  const run = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.engine().runKernel(
      BATCH_NORM_TRAINING,
      { x: xs, gamma: g, beta: b } as unknown as tf.NamedTensorMap,
      { epsilon: 1e-3 } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor[];
  const outputs = run(x, gamma, beta);
  // Mean and variance in the loss too, so that their gradients reach dx.
  const grads = tf.grads((xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const [y, mean, variance] = run(xs, g, b);
    return tf.addN([tf.sum(tf.mul(y, wy)), tf.sum(tf.mul(mean, wm)), tf.sum(tf.mul(variance, wv))]);
  })([x, gamma, beta]);
  const all = [...outputs, ...grads];
  const values = await Promise.all(all.map(async (t) => await t.data() as Float32Array));
  tf.dispose([x, gamma, beta, wy, wm, wv, ...all]);
  return values;
}

Deno.test({
  name: named("batch norm's training kernels on webgpu: the cpu kernels' values, to rounding"),
  ignore,
  fn: async () => {
    await loadBackend("webgpu");
    try {
      // 5 channels (not a multiple of 4); 18,432 values a channel (many per thread).
      for (const shape of [[3, 7, 6, 5], [8, 48, 48, 16]]) {
        await tf.setBackend("cpu");
        const expected = await trainingAndGradients(shape);
        await tf.setBackend("webgpu");
        const { kernels } = await tf.profile(async () => {
          await trainingAndGradients(shape);
        });
        const names = kernels.map((k) => k.name);
        assert(
          names.includes(BATCH_NORM_TRAINING) && names.includes(BATCH_NORM_GRAD),
          "kernels ran",
        );
        const actual = await trainingAndGradients(shape);
        const what = ["y", "mean", "variance", "dx", "d gamma", "d beta"];
        expected.forEach((values, i) => {
          // Sums over thousands of values, in float32 here and float64 there.
          const scale = values.reduce((most, v) => Math.max(most, Math.abs(v)), 1);
          values.forEach((v, j) => {
            const off = Math.abs(actual[i][j] - v);
            assert(
              off <= 2e-5 * scale,
              `${what[i]}[${j}] of [${shape}]: ${actual[i][j]} against ${v}`,
            );
          });
        });
      }
    } finally {
      await tf.setBackend("cpu");
    }
  },
});

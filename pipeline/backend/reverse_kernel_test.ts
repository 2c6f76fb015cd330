import { tf } from "./tfjs.ts";
import { liftReverseRankLimit } from "./reverse_kernel.ts";
import { assertEquals, assertThrows } from "../../tests/assert.ts";

import { noWebgpu as ignore, webgpuTestName as named } from "../../tests/webgpu_adapter.ts";

type Tensor = import("@tensorflow/tfjs").Tensor;

/** Runs `fn` on `backend` and returns the values and shape of the tensor it makes. */
async function on(
  backend: string,
  fn: () => Tensor,
): Promise<{ values: number[]; shape: number[] }> {
  if (!(await tf.setBackend(backend))) throw new Error(`cannot set backend ${backend}`);
  const t = fn();
  const out = { values: Array.from(await t.data()), shape: t.shape };
  t.dispose();
  return out;
}

/** Deterministic values 0..n-1 scrambled, so that every position is distinct. */
function values(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Float32Array(n).map((_, i) => ((i * 7919 + seed * 104729) % 10007) / 100 - 50);
}

// Must run before the test that patches the kernel (tests in a file run in order, and each
// test file runs in its own isolate, so no other file's patch can leak in).
Deno.test({
  name: named(`webgpu's own Reverse kernel fails on a rank-5 tensor whose batch is above 1`),
  ignore,
  async fn() {
    await tf.setBackend("webgpu");
    // tfjs-backend-webgpu 4.22 pads the shape into a rank-4 one by dropping the leading
    // axes, so the reshape to [3, 2, 2, 2] of 48 values throws.
    const x = tf.tensor(values([2, 3, 2, 2, 2], 1), [2, 3, 2, 2, 2]);
    assertThrows(() => tf.reverse(x, 1), Error, "Size(48) must match the product of shape 3,2,2,2");
    // With a batch of 1 the dropped axis has length 1 and the result happens to be right.
    const one = tf.tensor(values([1, 3, 2, 2, 2], 2), [1, 3, 2, 2, 2]);
    const got = Array.from(await tf.reverse(one, 1).data());
    const cpu = await on(
      "cpu",
      () => tf.reverse(tf.tensor(values([1, 3, 2, 2, 2], 2), [1, 3, 2, 2, 2]), 1),
    );
    assertEquals(got, cpu.values);
    // The consequence: a ConvLSTM2D with goBackwards cannot run on a batch of 2.
    await tf.setBackend("webgpu");
    const layer = tf.layers.convLstm2d({
      filters: 2,
      kernelSize: 3,
      padding: "same",
      goBackwards: true,
    });
    assertThrows(
      () => layer.apply(tf.ones([2, 2, 4, 4, 1])),
      Error,
      "must match the product of shape",
    );
    tf.dispose([x, one]);
    layer.dispose();
  },
});

Deno.test({
  name: named(
    `liftReverseRankLimit("webgpu") reverses rank-5 and rank-6 tensors exactly as the cpu backend does`,
  ),
  ignore,
  async fn() {
    assertEquals(liftReverseRankLimit("webgpu"), true);
    // Idempotent: a second call keeps the one patch.
    assertEquals(liftReverseRankLimit("webgpu"), true);
    const cases: [number[], number[]][] = [
      [[2, 3, 2, 4, 2], [1]],
      [[2, 3, 2, 4, 2], [0]],
      [[2, 3, 2, 4, 2], [4]],
      [[2, 3, 2, 4, 2], [-1]],
      [[2, 3, 2, 4, 2], [0, 2]],
      [[2, 3, 2, 4, 2], [1, 3, 4]],
      [[2, 3, 2, 4, 2], [0, 1, 2, 3, 4]],
      [[3, 2, 1, 2, 3, 2], [0]],
      [[3, 2, 1, 2, 3, 2], [1, 5]],
      [[3, 2, 1, 2, 3, 2], [2, 3, 4]],
      [[3, 2, 1, 2, 3, 2], [0, 1, 2, 3, 4, 5]],
    ];
    for (const [[shape, axes], k] of cases.map((c, k) => [c, k] as const)) {
      const data = values(shape, k + 3);
      const cpu = await on("cpu", () => tf.reverse(tf.tensor(data, shape), axes));
      const gpu = await on("webgpu", () => tf.reverse(tf.tensor(data, shape), axes));
      assertEquals(gpu.shape, shape);
      assertEquals(gpu.values, cpu.values, `shape ${shape} axes ${axes}`);
      // And it did something: reversing an axis of length > 1 moves values.
      assertEquals(gpu.values.join() === Array.from(data).join(), false);
    }
    // By hand: reversing axis 1 of [[a], [b], [c]] per batch item, rank 5.
    const small = await on(
      "webgpu",
      () => tf.reverse(tf.tensor([1, 2, 3, 4, 5, 6], [2, 3, 1, 1, 1]), 1),
    );
    assertEquals(small.values, [3, 2, 1, 6, 5, 4]);
  },
});

Deno.test({
  name: named(`liftReverseRankLimit("webgpu") leaves ranks 1 to 4 to the backend's own kernel`),
  ignore,
  async fn() {
    liftReverseRankLimit("webgpu");
    const cases: [number[], number[]][] = [
      [[5], [0]],
      [[3, 4], [1]],
      [[3, 4], [0, 1]],
      [[2, 3, 4], [0, 2]],
      [[2, 3, 4, 2], [1]],
      [[2, 3, 4, 2], [0, 3]],
    ];
    for (const [shape, axes] of cases) {
      const data = values(shape, shape.length);
      const cpu = await on("cpu", () => tf.reverse(tf.tensor(data, shape), axes));
      const gpu = await on("webgpu", () => tf.reverse(tf.tensor(data, shape), axes));
      assertEquals(gpu.values, cpu.values, `shape ${shape} axes ${axes}`);
    }
    assertEquals((await on("webgpu", () => tf.reverse(tf.tensor([1, 2, 3]), 0))).values, [3, 2, 1]);
  },
});

Deno.test({
  name: named(`liftReverseRankLimit("webgpu") frees its intermediate buffers`),
  ignore,
  async fn() {
    liftReverseRankLimit("webgpu");
    await tf.setBackend("webgpu");
    const x = tf.tensor(values([2, 3, 2, 4, 2], 9), [2, 3, 2, 4, 2]);
    const warm = tf.reverse(x, [0, 1, 4]);
    await warm.data();
    warm.dispose();
    const before = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) {
      const y = tf.reverse(x, [0, 1, 4]);
      await y.data();
      y.dispose();
    }
    assertEquals(tf.engine().backend.numDataIds(), before);
    x.dispose();
  },
});

/** Output and gradients of sum(w · convLstm2d(x)) for a tiny backward ConvLSTM. */
async function convLstmGradients(backend: string, weights?: Float32Array[]) {
  await tf.setBackend(backend);
  const layer = tf.layers.convLstm2d({
    filters: 2,
    kernelSize: 3,
    padding: "same",
    goBackwards: true,
    returnSequences: false,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    recurrentInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 3 }),
  });
  const shape = [2, 2, 4, 4, 3]; // batch 2, 2 steps, 4×4, 3 channels
  const x = tf.variable(
    tf.tensor(values(shape, 5).map((v) => v / 50), shape),
    true,
    `x_${backend}`,
  );
  const w = tf.tensor(values([2, 4, 4, 2], 6).map((v) => v / 50), [2, 4, 4, 2]);
  // The first call creates the weights; then take the given ones, if any.
  tf.dispose(layer.apply(x) as Tensor);
  if (weights) layer.setWeights(weights.map((v, i) => tf.tensor(v, layer.getWeights()[i].shape)));
  const variables = [
    x,
    ...layer.trainableWeights.map((v) => v.read() as import("@tensorflow/tfjs").Variable),
  ];
  const output = layer.apply(x) as Tensor;
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(layer.apply(x) as Tensor, w)) as import("@tensorflow/tfjs").Scalar,
    variables,
  );
  const result = {
    weights: await Promise.all(layer.getWeights().map(async (t) => await t.data() as Float32Array)),
    output: Array.from(await output.data()),
    loss: (await value.data())[0],
    grads: await Promise.all(variables.map(async (v) => Array.from(await grads[v.name].data()))),
    names: ["input", ...layer.trainableWeights.map((v) => v.originalName.split("/").pop()!)],
  };
  tf.dispose([output, value, w, x, ...Object.values(grads)]);
  layer.dispose();
  return result;
}

function assertRelativelyClose(
  actual: number[],
  expected: number[],
  tolerance: number,
  what: string,
) {
  assertEquals(actual.length, expected.length, what);
  const scale = Math.max(...expected.map(Math.abs));
  const worst = Math.max(...actual.map((a, i) => Math.abs(a - expected[i])));
  assertEquals(scale > 0, true, `${what} is all zero`);
  assertEquals(worst <= tolerance * scale, true, `${what}: off by ${worst}, scale ${scale}`);
}

Deno.test({
  name: named(
    `a goBackwards ConvLSTM2D on patched webgpu has the cpu backend's gradients within 1e-4`,
  ),
  ignore,
  async fn() {
    liftReverseRankLimit("webgpu");
    const cpu = await convLstmGradients("cpu");
    const gpu = await convLstmGradients("webgpu", cpu.weights);
    assertEquals(gpu.names, ["input", "kernel", "recurrent_kernel", "bias"]);
    assertRelativelyClose(gpu.output, cpu.output, 1e-4, "output");
    assertRelativelyClose([gpu.loss], [cpu.loss], 1e-4, "loss");
    cpu.grads.forEach((g, i) =>
      assertRelativelyClose(gpu.grads[i], g, 1e-4, `d/d ${cpu.names[i]}`)
    );
  },
});

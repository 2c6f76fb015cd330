import { tf } from "./tfjs.ts";
import { runChannelSums, runElementwise } from "./webgpu_programs.ts";
import { assert, assertEquals } from "../../tests/assert.ts";
import { noWebgpu as ignore, webgpuTestName as named } from "../../tests/webgpu_adapter.ts";

type Tensor = import("@tensorflow/tfjs").Tensor;

/** Wraps a kernel's output in a tensor (as a kernel's caller would) and reads it. */
async function read(info: tf.TensorInfo): Promise<Float32Array> {
  const tensor = tf.engine().makeTensorFromTensorInfo(info) as Tensor;
  const values = await tensor.data() as Float32Array;
  tensor.dispose();
  return values;
}

Deno.test({
  // A paper-width layer (batch 64 of 48×48×64) has 9.4 M elements: more workgroups of 64 than
  // one dispatch dimension allows (65,535), so the backend spreads them over two.
  name: named("runElementwise: every element, past one dispatch dimension's 65,535 workgroups"),
  ignore,
  async fn() {
    await tf.setBackend("webgpu");
    const size = 64 * 65_535 + 1_000;
    const input = tf.tensor1d(new Float32Array(size).map((_, i) => i % 1_000));
    const output = await read(runElementwise(tf.backend(), {
      key: "test_affine",
      outputShape: [size],
      inputs: { X: input },
      uniforms: { slope: { type: "f32", value: 2 }, shift: { type: "f32", value: 0.5 } },
      body: "setOutputAtIndex(index, X[index] * uniforms.slope + uniforms.shift);",
    }));
    input.dispose();
    assertEquals(output.length, size);
    const wrong = output.findIndex((v, i) => v !== (i % 1_000) * 2 + 0.5);
    assertEquals(wrong, -1, `element ${wrong} is ${output[wrong]}`);
  },
});

Deno.test({
  name: named("runChannelSums: each channel's sum of a term, scaled"),
  ignore,
  async fn() {
    await tf.setBackend("webgpu");
    // [4 values, 3 channels], channels last: channel c holds c + 1, 10(c + 1), … in value order.
    const x = tf.tensor2d([[1, 2, 3], [10, 20, 30], [-1, -2, -3], [0.5, 1, 1.5]]);
    const sums = (term: string, scale?: number) =>
      read(runChannelSums(tf.backend(), {
        key: `test_${term.replaceAll(/\W/g, "")}`,
        values: 4,
        channels: 3,
        inputs: { X: x },
        term,
        scale,
      }));
    // 1 + 10 − 1 + 0.5 = 10.5 for channel 0, and c + 1 times that for channel c.
    assertEquals(Array.from(await sums("X[i]")), [10.5, 21, 31.5]);
    // Squares: 1 + 100 + 1 + 0.25 = 102.25, times (c + 1)², then a quarter (a mean).
    assertEquals(Array.from(await sums("X[i] * X[i]", 0.25)), [25.5625, 102.25, 230.0625]);
    x.dispose();
  },
});

Deno.test({
  name: named("runChannelSums: 147,456 values a channel (a paper-width layer's batch norm)"),
  ignore,
  async fn() {
    await tf.setBackend("webgpu");
    const values = 64 * 48 * 48, channels = 3;
    // Channel c holds c + 1 at every value: sums (c + 1) · 147,456, exact in float32.
    const x = tf.tidy(() => tf.mul(tf.ones([values, channels]), tf.tensor1d([1, 2, 3])));
    const sums = await read(runChannelSums(tf.backend(), {
      key: "test_large",
      values,
      channels,
      inputs: { X: x },
      term: "X[i]",
    }));
    x.dispose();
    assertEquals(Array.from(sums), [1, 2, 3].map((c) => c * values));
    assert(sums.every(Number.isFinite));
  },
});

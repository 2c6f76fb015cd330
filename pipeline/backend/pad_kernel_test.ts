import { tf } from "./tfjs.ts";
import { liftPadRankLimit } from "./pad_kernel.ts";
import { assert, assertEquals } from "../../tests/assert.ts";

import { noWebgpu as ignore, webgpuTestName as named } from "../../tests/webgpu_adapter.ts";

type Tensor = import("@tensorflow/tfjs").Tensor;

/** The values `fn` makes on `backend`. */
async function on(backend: string, fn: () => Tensor): Promise<number[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`cannot set backend ${backend}`);
  const t = fn();
  const out = Array.from(await t.data());
  t.dispose();
  return out;
}

/** Distinct values 1..n in a scrambled order. */
function values(n: number): Float32Array {
  return new Float32Array(n).map((_, i) => ((i * 7919) % 10007) + 1);
}

const paddings5: [number, number][] = [[0, 0], [1, 0], [0, 0], [0, 2], [0, 0]];
const pad5 = () => tf.pad(tf.tensor(values(2 * 1 * 3 * 3 * 4), [2, 1, 3, 3, 4]), paddings5, 0.5);
/** The gradient of a rank-5 slice, as a ConvLSTM's per-step slice takes it: a pad. */
const sliceGradient = () =>
  tf.grad((x: Tensor) =>
    tf.sum(
      tf.mul(tf.slice(x, [0, 1, 0, 0, 0], [2, 1, 3, 3, 4]), tf.tensor(values(72), [2, 1, 3, 3, 4])),
    )
  )(tf.ones([2, 2, 3, 3, 4]));

// Must run before the test that patches the kernel (tests in a file run in order, and each
// test file runs in its own isolate).
Deno.test({
  name: named("webgpu's own PadV2 kernel pads a rank-5 tensor wrongly"),
  ignore,
  async fn() {
    const [gpu, cpu] = [await on("webgpu", pad5), await on("cpu", pad5)];
    assert(
      gpu.some((v, i) => v !== cpu[i]),
      "webgpu's rank-5 pad now matches cpu's: drop the patch?",
    );
  },
});

Deno.test({
  name: named(`liftPadRankLimit("webgpu") pads rank-5 tensors, and slices' gradients, as cpu does`),
  ignore,
  async fn() {
    assertEquals(liftPadRankLimit("webgpu"), true);
    assertEquals(liftPadRankLimit("webgpu"), true); // idempotent
    const cpu = await on("cpu", pad5);
    assertEquals(cpu.length, 2 * 2 * 3 * 5 * 4);
    assertEquals(cpu.slice(0, 3), [0.5, 0.5, 0.5]); // the new first step is the constant
    assertEquals(await on("webgpu", pad5), cpu);
    const gradient = await on("cpu", sliceGradient);
    assertEquals(gradient.slice(0, 36), new Array(36).fill(0)); // step 0 was not sliced
    assertEquals(gradient.slice(36, 72), Array.from(values(72).slice(0, 36)));
    assertEquals(await on("webgpu", sliceGradient), gradient);
    // Ranks up to 4 keep the backend's own kernel, which is right there.
    const pad3 = () => tf.pad(tf.tensor(values(24), [2, 3, 4]), [[1, 0], [0, 0], [2, 1]]);
    assertEquals(await on("webgpu", pad3), await on("cpu", pad3));
  },
});

Deno.test({
  name: named(`liftPadRankLimit("webgpu") frees its intermediate buffers`),
  ignore,
  async fn() {
    liftPadRankLimit("webgpu");
    await tf.setBackend("webgpu");
    const x = tf.tensor(values(72), [2, 1, 3, 3, 4]);
    const before = tf.memory().numTensors, bytes = tf.engine().backend.numDataIds();
    const y = tf.pad(x, paddings5);
    assertEquals(tf.memory().numTensors, before + 1);
    assertEquals(tf.engine().backend.numDataIds(), bytes + 1);
    tf.dispose([x, y]);
  },
});

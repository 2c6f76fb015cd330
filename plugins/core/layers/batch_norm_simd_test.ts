import { assert, assertEquals } from "../../../tests/assert.ts";
import { type KernelMemory, kernelMemory, loadBackend, tf } from "../../../mod.ts";
import { batchNormGradients, batchNormTraining } from "./batch_norm.ts";
import { batchNormModuleBytes } from "./batch_norm_simd.ts";

await loadBackend("wasm");
await tf.setBackend("wasm");

/** The wasm backend's memory, with its heap (SIMD passes) or without (JavaScript loops). */
function memories(): { simd: KernelMemory; scalar: KernelMemory } {
  const simd = kernelMemory("wasm", tf.backend());
  return { simd, scalar: { ...simd, heap: undefined } };
}

/** Runs a host kernel on tensors and returns its outputs as arrays. */
function run(
  kernel: typeof batchNormTraining,
  memory: KernelMemory,
  inputs: Record<string, tf.Tensor>,
): Float32Array[] {
  const infos = Object.fromEntries(
    Object.entries(inputs).map((
      [name, t],
    ) => [name, { dataId: t.dataId, shape: t.shape, dtype: t.dtype }]),
  );
  const outputs = kernel(memory, infos, 1e-3);
  return outputs.map((info) => {
    const values = memory.view(info).slice();
    memory.release(info);
    return values;
  });
}

/** A tensor's values as numbers. */
const values = (t: tf.Tensor): number[] => Array.from(t.dataSync() as Float32Array);

const random = (shape: number[], seed: number, mean = 0, std = 1) =>
  tf.randomNormal(shape, mean, std, "float32", seed);

Deno.test("the batch-norm module is valid WebAssembly for every multiple of 4 channels", () => {
  for (const channels of [4, 8, 12, 64]) {
    assert(WebAssembly.validate(batchNormModuleBytes(channels)), `${channels} channels`);
  }
});

Deno.test("the SIMD training pass gives the JavaScript loops' bits", () => {
  assert(memories().simd.heap, "the wasm heap is importable here");
  for (const channels of [4, 8, 12, 16, 64]) {
    const shape = [2, 5, 7, channels];
    const inputs = {
      x: random(shape, channels, 3, 2),
      gamma: random([channels], 1, 1, 0.5),
      beta: random([channels], 2),
    };
    const { simd, scalar } = memories();
    const got = run(batchNormTraining, simd, inputs);
    const want = run(batchNormTraining, scalar, inputs);
    for (const [i, name] of ["y", "mean", "variance"].entries()) {
      assertEquals(got[i], want[i], `${name}, ${channels} channels`);
    }
    // Hand check of one channel's moments against its 70 values.
    const xs = values(inputs.x).filter((_, i) => i % channels === 1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert(Math.abs(got[1][1] - mean) < 1e-5, "mean of channel 1");
    const variance = xs.reduce((a, v) => a + (v - mean) ** 2, 0) / xs.length;
    assert(Math.abs(got[2][1] - variance) < 1e-4, "variance of channel 1");
  }
});

Deno.test("the SIMD gradient gives the JavaScript loops' bits", () => {
  for (const channels of [4, 8, 32]) {
    const shape = [3, 4, 6, channels];
    const x = random(shape, 10 + channels, -1, 3);
    const moments = tf.moments(x, [0, 1, 2]);
    const inputs = {
      dy: random(shape, 20 + channels),
      x,
      gamma: random([channels], 3, 1, 0.5),
      mean: moments.mean,
      variance: moments.variance,
      dMean: random([channels], 4),
      dVariance: random([channels], 5),
    };
    const { simd, scalar } = memories();
    const got = run(batchNormGradients, simd, inputs);
    const want = run(batchNormGradients, scalar, inputs);
    for (const [i, name] of ["dx", "dGamma", "dBeta"].entries()) {
      assertEquals(got[i], want[i], `${name}, ${channels} channels`);
    }
    // dBeta is Σ dy per channel.
    const dy = values(inputs.dy);
    const dBeta0 = dy.filter((_, i) => i % channels === 0).reduce((a, b) => a + b, 0);
    assert(Math.abs(got[2][0] - dBeta0) < 1e-4, "dBeta of channel 0");
  }
});

Deno.test("channels that are not a multiple of 4 take the JavaScript loops", () => {
  const { simd } = memories();
  const inputs = { x: random([2, 3, 3, 6], 7), gamma: tf.ones([6]), beta: tf.zeros([6]) };
  const [y] = run(batchNormTraining, simd, inputs);
  // γ = 1, β = 0: each channel comes out with mean 0.
  const channel0 = y.filter((_, i) => i % 6 === 0);
  assert(Math.abs(channel0.reduce((a, b) => a + b, 0) / channel0.length) < 1e-6);
});

/**
 * Micro-benchmarks of Capillary's wasm kernels, for the figures in the
 * README: convolutions on 1 and 2 threads (interleaved rounds, medians), and
 * the fast leading-axis `Sum` against the stock one.
 *
 * ```sh
 * deno run -A bench/kernels.ts
 * ```
 *
 * @module
 */
import { loadBackend, tf } from "../mod.ts";
import { setSplitThreshold, startWasmThreads } from "../pipeline/backend/wasm_threads.ts";

await import("@tensorflow/tfjs-backend-wasm");
const stockSum = tf.getKernel("Sum", "wasm")!;
await loadBackend("wasm");
await tf.setBackend("wasm");
const fastSum = tf.getKernel("Sum", "wasm")!;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

console.log("convolution (x, filter), same padding | MFLOP | 1 thread ms | 2 threads ms | speedup");
setSplitThreshold(0);
const shapes: [[number, number, number, number], [number, number, number, number]][] = [
  [[16, 6, 6, 512], [3, 3, 512, 512]],
  [[16, 24, 24, 128], [3, 3, 128, 128]],
  [[16, 48, 48, 32], [3, 3, 32, 32]],
  [[16, 48, 48, 8], [3, 3, 8, 32]],
  [[16, 48, 48, 8], [3, 3, 8, 8]],
  [[16, 24, 24, 16], [3, 3, 16, 8]],
];
for (const [xs, fs] of shapes) {
  const x = tf.randomUniform(xs) as tf.Tensor4D, f = tf.randomUniform(fs) as tf.Tensor4D;
  const flop = 2 * xs[0] * xs[1] * xs[2] * fs[0] * fs[1] * fs[2] * fs[3];
  const reps = Math.max(2, Math.min(50, Math.round(3e8 / flop)));
  const t: Record<number, number[]> = { 1: [], 2: [] };
  for (let round = 0; round < 6; round++) {
    for (const n of [1, 2]) {
      await startWasmThreads(n);
      tf.conv2d(x, f, 1, "same").dispose();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) tf.conv2d(x, f, 1, "same").dispose();
      t[n].push((performance.now() - t0) / reps);
    }
  }
  console.log(
    `${JSON.stringify(xs)} ${JSON.stringify(fs)} | ${(flop / 1e6).toFixed(0)} | ${
      median(t[1]).toFixed(2)
    } | ${median(t[2]).toFixed(2)} | ${(median(t[1]) / median(t[2])).toFixed(2)}`,
  );
  tf.dispose([x, f]);
}
setSplitThreshold();

// Each sum gets a tensor it has not seen, as in training, where every gradient is new: summing
// one tensor over and over would hide per-tensor costs (wasm's BatchMatMul packs and caches its
// right operand per tensor id, which made an earlier fast Sum look 20× faster than it was).
console.log("\nSum over axes [0, 1, 2], fresh tensors | stock ms | fast ms | speedup");
const use = (k: tf.KernelConfig) => {
  tf.unregisterKernel("Sum", "wasm");
  tf.registerKernel(k);
};
for (
  const shape of [[8, 48, 48, 8], [16, 48, 48, 16], [16, 48, 48, 64], [32, 24, 24, 64], [
    16,
    12,
    12,
    256,
  ]]
) {
  const x = tf.randomUniform(shape);
  const time = () => {
    const fresh = Array.from({ length: 21 }, () => tf.add(x, 0));
    tf.sum(fresh[20], [0, 1, 2]).dispose();
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) tf.sum(fresh[i], [0, 1, 2]).dispose();
    const ms = (performance.now() - t0) / 20;
    tf.dispose(fresh);
    return ms;
  };
  use(stockSum);
  const stock = time();
  use(fastSum);
  const fast = time();
  console.log(
    `${JSON.stringify(shape)} | ${stock.toFixed(2)} | ${fast.toFixed(2)} | ${
      (stock / fast).toFixed(1)
    }`,
  );
  x.dispose();
}
Deno.exit(0);

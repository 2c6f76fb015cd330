/**
 * Where a training step's time goes: `tf.profile` of one BCDU-Net step
 * (width 8, batch norm, 8 random patches of 48×48, one wasm thread, as each
 * process of drive.yaml's data-parallel step runs), kernel calls and
 * milliseconds summed per kernel name, the 30 costliest first. What the
 * README's kernel counts come from. With `convolutions`, the convolutions
 * and their two gradients by shape instead, each with its GFLOP/s (means of
 * 3 profiled steps): what a faster gradient kernel would have to beat.
 *
 * ```sh
 * deno run -A bench/step_profile.ts [convlstm|concat] [convolutions] [simd|composed] [bn-loops] [cell-loops]
 * ```
 *
 * `bn-loops` and `cell-loops` run batch norm's training kernels and the
 * ConvLSTM cell's as JavaScript loops instead of their WebAssembly SIMD
 * passes (the same bits).
 *
 * @module
 */
import { loadBackend, tf } from "../mod.ts";
import { widthEightBatch, widthEightNet } from "./width_eight.ts";
import { fusedMomentum } from "../plugins/core/train/fused_momentum.ts";
import { stopWasmThreads } from "../pipeline/backend/wasm_threads.ts";
import { forceFilterGradientStrategy } from "../pipeline/backend/wasm_training_kernels.ts";
import { useBatchNormSimd } from "../plugins/core/layers/batch_norm.ts";
import { useLstmCellSimd } from "../plugins/core/layers/lstm_cell.ts";

const skip: "convlstm" | "concat" = Deno.args.includes("concat") ? "concat" : "convlstm";
const byShape = Deno.args.includes("convolutions");
// The filter gradient by the SIMD kernel (`simd`) or by XNNPACK compositions (`composed`) only.
if (Deno.args.includes("simd")) forceFilterGradientStrategy("simd");
if (Deno.args.includes("composed")) forceFilterGradientStrategy("composed");
if (Deno.args.includes("bn-loops")) useBatchNormSimd(false);
if (Deno.args.includes("cell-loops")) useLstmCellSimd(false);
await loadBackend("wasm");
await tf.setBackend("wasm");
await stopWasmThreads();
const net = widthEightNet(fusedMomentum(tf, 0.01, 0.9, true), skip);
const [x, y] = widthEightBatch();
for (let i = 0; i < 3; i++) await net.trainOnBatch(x, y);
const t0 = performance.now();
for (let i = 0; i < 5; i++) await net.trainOnBatch(x, y);
console.log(`step: ${((performance.now() - t0) / 5).toFixed(1)} ms (mean of 5, unprofiled)`);
if (byShape) {
  await printConvolutions(3);
  Deno.exit(0);
}
const info = await tf.profile(async () => {
  await net.trainOnBatch(x, y);
});
const byName = new Map<string, { calls: number; ms: number }>();
for (const kernel of info.kernels) {
  const entry = byName.get(kernel.name) ?? { calls: 0, ms: 0 };
  entry.calls++;
  entry.ms += typeof kernel.kernelTimeMs === "number" ? kernel.kernelTimeMs : 0;
  byName.set(kernel.name, entry);
}
const total = [...byName.values()].reduce((n, e) => n + e.ms, 0);
console.log(`${info.kernels.length} kernel calls, ${total.toFixed(1)} ms in kernels (profiled)`);
console.log("kernel | calls | ms");
for (const [name, { calls, ms }] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
  console.log(`${name} | ${calls} | ${ms.toFixed(2)}`);
}
Deno.exit(0);

/**
 * Multiply-adds × 2 of one convolution kernel call, from its shapes: the
 * forward kernels' output, or the gradients' dy, times the filter's
 * kh·kw·Ci. Undefined for kernels that are not convolutions.
 */
function convolutionFlops(
  name: string,
  inputs: number[][],
  outputs: number[][],
): number | undefined {
  const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);
  const taps = (filter: number[]) => filter[0] * filter[1] * filter[2];
  if (name === "Conv2D" || name === "FusedConv2D") return 2 * size(outputs[0]) * taps(inputs[1]);
  if (name === "Conv2DBackpropInput") return 2 * size(inputs[0]) * taps(inputs[1]);
  if (name === "Conv2DBackpropFilter") return 2 * size(inputs[1]) * taps(outputs[0]);
  return undefined;
}

/** Prints each convolution kernel by shape: calls, ms and GFLOP/s per step. */
async function printConvolutions(steps: number): Promise<void> {
  const rows = new Map<string, { name: string; calls: number; ms: number; flops: number }>();
  for (let s = 0; s < steps; s++) {
    const profile = await tf.profile(async () => {
      await net.trainOnBatch(x, y);
    });
    for (const kernel of profile.kernels) {
      const flops = convolutionFlops(kernel.name, kernel.inputShapes, kernel.outputShapes);
      if (flops === undefined) continue;
      const key = `${kernel.name} ${JSON.stringify(kernel.inputShapes.slice(0, 2))}`;
      const row = rows.get(key) ?? { name: kernel.name, calls: 0, ms: 0, flops: 0 };
      row.calls++;
      row.ms += typeof kernel.kernelTimeMs === "number" ? kernel.kernelTimeMs : 0;
      row.flops += flops;
      rows.set(key, row);
    }
  }
  const perKernel = new Map<string, { ms: number; flops: number }>();
  console.log("kernel and input shapes | calls | ms | GFLOP/s");
  for (const [key, row] of [...rows].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(
      `${key} | ${row.calls / steps} | ${(row.ms / steps).toFixed(2)} | ${
        (row.flops / row.ms / 1e6).toFixed(1)
      }`,
    );
    const sum = perKernel.get(row.name) ?? { ms: 0, flops: 0 };
    sum.ms += row.ms / steps;
    sum.flops += row.flops / steps;
    perKernel.set(row.name, sum);
  }
  console.log("kernel | ms a step | GFLOP a step | GFLOP/s");
  for (const [name, { ms, flops }] of perKernel) {
    console.log(
      `${name} | ${ms.toFixed(2)} | ${(flops / 1e9).toFixed(3)} | ${(flops / ms / 1e6).toFixed(1)}`,
    );
  }
}

/**
 * Where a training step's time goes: `tf.profile` of one BCDU-Net step
 * (width 8, batch norm, 8 random patches of 48×48, one wasm thread, as each
 * process of drive.yaml's data-parallel step runs), kernel calls and
 * milliseconds summed per kernel name, the 30 costliest first. What the
 * README's kernel counts come from.
 *
 * ```sh
 * deno run -A bench/step_profile.ts [convlstm|concat]
 * ```
 *
 * @module
 */
import { loadBackend, tf } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { fusedMomentum } from "../plugins/core/train/fused_momentum.ts";
import { stopWasmThreads } from "../pipeline/backend/wasm_threads.ts";

const skip = (Deno.args[0] ?? "convlstm") as "convlstm" | "concat";
await loadBackend("wasm");
await tf.setBackend("wasm");
await stopWasmThreads();
const config = { width: 8, dense: 1 as const, dropout: 0.5, seed: 1, batchNorm: true, skip };
const net = buildBcduNet(tf, config, 48, 1);
net.compile({ optimizer: fusedMomentum(tf, 0.01, 0.9, true), loss: "binaryCrossentropy" });
const x = tf.randomUniform([8, 48, 48, 1], 0, 1, "float32", 1);
const y = tf.tidy(() =>
  tf.randomUniform([8, 48, 48, 1], 0, 1, "float32", 2).greater(0.9).cast("float32")
);
for (let i = 0; i < 3; i++) await net.trainOnBatch(x, y);
const t0 = performance.now();
for (let i = 0; i < 5; i++) await net.trainOnBatch(x, y);
console.log(`step: ${((performance.now() - t0) / 5).toFixed(1)} ms (mean of 5, unprofiled)`);
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

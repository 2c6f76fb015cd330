/**
 * What a training step costs on a backend beyond its arithmetic: the host
 * time to issue one elementwise op, the time to read one value back, the
 * kernel calls of one BCDU-Net step (those that dispatch a shader, since
 * `Identity` and `Reshape` only relabel memory), and the time per step at
 * almost no arithmetic (width 8, one 16×16 patch) three ways: by
 * `trainOnBatch` (a read per step), by `trainOnBatch` with each weight read
 * every 50 steps (core/train before 2026-12-07), and by `trainStepUnread`
 * with one read per 50 steps (core/train since). What README's "Backends"
 * quotes for a GPU run.
 *
 * ```sh
 * deno run -A bench/webgpu_overhead.ts [webgpu|wasm|cpu]
 * ```
 *
 * @module
 */
import { loadBackend, tf } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { fusedMomentum } from "../plugins/core/train/fused_momentum.ts";
import { readSteps, trainStepUnread } from "../plugins/core/train/step_reads.ts";

const backend = (Deno.args[0] ?? "webgpu") as "webgpu" | "wasm" | "cpu";
const info = await loadBackend(backend);
await tf.setBackend(backend);
console.log(`backend ${backend}: ${info.detail}`);

// Issuing: a chain of adds on 64×64 tensors (large enough that webgpu does not hand them to the CPU).
const a = tf.ones([64, 64]);
const one = tf.ones([64, 64]);
for (const n of [500, 5000]) {
  const started = performance.now();
  let c = a;
  for (let i = 0; i < n; i++) {
    const next = tf.add(c, one);
    if (c !== a) c.dispose();
    c = next;
  }
  const issued = performance.now() - started;
  await c.data();
  c.dispose();
  console.log(
    `${n} adds: issued in ${(issued * 1000 / n).toFixed(1)} µs each, ` +
      `${((performance.now() - started) * 1000 / n).toFixed(1)} µs each with the final read`,
  );
}
const reads = 50;
let started = performance.now();
for (let i = 0; i < reads; i++) {
  const d = tf.add(a, one);
  await d.data();
  d.dispose();
}
console.log(`an add and its read: ${((performance.now() - started) / reads).toFixed(2)} ms`);

const config = {
  width: 8,
  dense: 1 as const,
  dropout: 0.5,
  seed: 1,
  batchNorm: true,
  skip: "convlstm" as const,
};
const net = buildBcduNet(tf, config, 16, 1);
net.compile({ optimizer: fusedMomentum(tf, 0.01, 0.9, true), loss: "binaryCrossentropy" });
const x = tf.randomUniform([1, 16, 16, 1], 0, 1, "float32", 1);
const y = tf.tidy(() =>
  tf.randomUniform([1, 16, 16, 1], 0, 1, "float32", 2).greater(0.9).cast("float32")
);
for (let i = 0; i < 3; i++) await net.trainOnBatch(x, y);
const profile = await tf.profile(async () => {
  await net.trainOnBatch(x, y);
});
const relabels = profile.kernels.filter((k) => k.name === "Identity" || k.name === "Reshape");
console.log(
  `one step: ${profile.kernels.length} kernel calls, ` +
    `${profile.kernels.length - relabels.length} other than Identity and Reshape`,
);

const steps = 50;
for (let round = 1; round <= 2; round++) {
  started = performance.now();
  for (let i = 0; i < steps; i++) await net.trainOnBatch(x, y);
  const perStep = (performance.now() - started) / steps;
  started = performance.now();
  for (let i = 0; i < steps; i++) await net.trainOnBatch(x, y);
  for (const weight of net.weights) await weight.read().data();
  const withChecks = (performance.now() - started) / steps;
  started = performance.now();
  const losses = [];
  for (let i = 0; i < steps; i++) losses.push(trainStepUnread(net, x, y));
  await readSteps(tf, losses, net);
  const unread = (performance.now() - started) / steps;
  console.log(
    `round ${round}, ms a step: trainOnBatch ${perStep.toFixed(1)}, ` +
      `with each weight read once ${withChecks.toFixed(1)}, ` +
      `unread with one read per ${steps} steps ${unread.toFixed(1)}`,
  );
}
Deno.exit(0);

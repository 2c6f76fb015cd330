/**
 * Whether Capillary's JavaScript kernel loops keep their speed once training
 * has run: each loop timed on plain arrays in a fresh process, then again
 * after 10 width-8 training steps in the same process. Found 2026-12-07: a
 * loop whose function destructured shape arrays (`[batch, height, …]:
 * readonly number[]`) or took plan numbers left as doubles by a division was
 * deoptimised by the many shapes training passes it and ran 2–5× slower from
 * then on; reading them by index as int32 keeps it at its fresh speed.
 *
 * ```sh
 * deno run -A bench/after_training.ts
 * ```
 *
 * @module
 */
import { loadBackend, tf } from "../mod.ts";
import { fusedMomentum } from "../plugins/core/train/fused_momentum.ts";
import { movingAverage } from "../plugins/core/layers/moving_average.ts";
import { stopWasmThreads } from "../pipeline/backend/wasm_threads.ts";
import { maxPoolGradTiled } from "../pipeline/backend/max_pool_grad.ts";
import { phasePlan, writePhaseFilter } from "../pipeline/backend/phase_filter.ts";
import { copySlice } from "../pipeline/backend/slice_copy.ts";
import { widthEightBatch, widthEightNet } from "./width_eight.ts";

await loadBackend("wasm");
await tf.setBackend("wasm");
await stopWasmThreads();

const random = (n: number) => new Float32Array(n).map(() => Math.random() - 0.5);
const pooled = random(8 * 48 * 48 * 8), poolDy = random(8 * 24 * 24 * 8);
const poolDx = new Float32Array(pooled.length);
const filter = random(3 * 3 * 64 * 64), combined = new Float32Array(filter.length);
const samePlan = phasePlan(3, 1, 1);
const statistic = random(64), batchStatistic = random(64), averaged = new Float32Array(64);
const sequence = random(8 * 2 * 24 * 24 * 16), step = new Float32Array(sequence.length / 2);
const loops: [string, () => void][] = [
  [
    "maxPoolGradTiled [8,48,48,8]",
    () => maxPoolGradTiled(pooled, poolDy, poolDx, [8, 48, 48, 8], [2, 2]),
  ],
  [
    "writePhaseFilter [3,3,64,64]",
    () => writePhaseFilter(filter, [3, 3, 64, 64], samePlan, samePlan, [1, 1], combined),
  ],
  ["movingAverage 64", () => movingAverage(statistic, batchStatistic, 0.99, averaged)],
  [
    "copySlice [8,2,9216] step 1",
    () => copySlice(sequence, [8, 2, 9216], [0, 1, 0], [8, 1, 9216], step),
  ],
];

/** Microseconds a call: the median of 5 rounds of 200, after 200 to compile it. */
function time(run: () => void): number {
  for (let i = 0; i < 200; i++) run();
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) run();
    rounds.push((performance.now() - t0) / 200 * 1000);
  }
  return rounds.sort((a, b) => a - b)[2];
}

const fresh = loops.map(([, run]) => time(run));
const net = widthEightNet(fusedMomentum(tf, 0.01, 0.9, true));
const [x, y] = widthEightBatch();
for (let i = 0; i < 10; i++) await net.trainOnBatch(x, y);
console.log("loop, 1 thread | fresh µs | after 10 training steps µs | ratio");
for (const [i, [name, run]] of loops.entries()) {
  const after = time(run);
  console.log(
    `${name} | ${fresh[i].toFixed(1)} | ${after.toFixed(1)} | ${(after / fresh[i]).toFixed(2)}`,
  );
}
Deno.exit(0);

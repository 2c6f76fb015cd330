/**
 * What `train.workers: 2` buys: patches per second of core/train's
 * data-parallel step (`dataParallelStep` with one `GradientWorkers` worker,
 * the batch shared in two) against `trainOnBatch` on one batch at a time
 * with every core for the convolutions, in interleaved rounds, on random
 * 48×48 batches of a BCDU-Net.
 *
 * ```sh
 * deno run -A bench/data_parallel.ts [--width 8] [--batch 8] [--steps 20] [--rounds 4]
 * ```
 *
 * `--batch` is per process: the data-parallel step trains twice as many.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadBackend, tf } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { randomBatches, startBcduNetWorkers } from "./data_parallel_setup.ts";
import { dataParallelStep } from "../plugins/core/train/data_parallel.ts";
import { weightedBinaryCrossentropy } from "../plugins/core/train/weighted_bce.ts";
import { startWasmThreads, stopWasmThreads } from "../pipeline/backend/wasm_threads.ts";

const { values } = parseArgs({
  options: {
    width: { type: "string", default: "8" },
    batch: { type: "string", default: "8" },
    steps: { type: "string", default: "20" },
    rounds: { type: "string", default: "4" },
  },
});
const width = Number(values.width), batch = Number(values.batch);
const steps = Number(values.steps), rounds = Number(values.rounds);
const cores = navigator.hardwareConcurrency ?? 2;

await loadBackend("wasm");
await tf.setBackend("wasm");
const { batches, halves } = randomBatches(batch);

const config = { width, dense: 1 as const, dropout: 0.5, seed: 1, batchNorm: true };
const single = buildBcduNet(tf, config, 48, 1);
single.compile({ optimizer: tf.train.momentum(0.01, 0.9, true), loss: "binaryCrossentropy" });
const parallel = buildBcduNet(tf, config, 48, 1);
const optimizer = tf.train.momentum(0.01, 0.9, true);
const loss = weightedBinaryCrossentropy(tf, 1);
const workers = await startBcduNetWorkers(parallel);

const rates = { single: [] as number[], parallel: [] as number[] };
for (let round = 0; round < rounds; round++) {
  await startWasmThreads(cores); // one process: every core for the large convolutions
  await single.trainOnBatch(halves[0].x, halves[0].y);
  let t0 = performance.now();
  for (let i = 0; i < steps; i++) await single.trainOnBatch(halves[i % 4].x, halves[i % 4].y);
  rates.single.push((steps * batch) / ((performance.now() - t0) / 1000));
  await stopWasmThreads(); // data parallel: the worker has the other core
  await dataParallelStep(tf, parallel, optimizer, loss, workers, batches[0]);
  t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    await dataParallelStep(tf, parallel, optimizer, loss, workers, batches[i % 4]);
  }
  rates.parallel.push((steps * 2 * batch) / ((performance.now() - t0) / 1000));
  console.log(
    `round ${round + 1}: trainOnBatch (${cores} threads) ${rates.single.at(-1)!.toFixed(1)} ` +
      `patches/s, data parallel (2 processes) ${rates.parallel.at(-1)!.toFixed(1)} patches/s`,
  );
}
await workers.close();
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
console.log(
  `width ${width}, batch ${batch} per process, ${rounds} rounds of ${steps} steps: ` +
    `data parallel / trainOnBatch = ${(mean(rates.parallel) / mean(rates.single)).toFixed(2)}`,
);
Deno.exit(0);

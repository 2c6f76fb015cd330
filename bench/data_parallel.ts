/**
 * Is data-parallel training worth building? At width 8 almost every
 * convolution is below the 10⁸ FLOP at which `wasm_threads.ts` splits one,
 * so a training step runs on one core of two. Here a worker with its own
 * single-threaded wasm backend computes the gradients of a second batch while
 * the main thread computes its own; the main thread averages the two and
 * applies them, then sends the worker the new weights with its next batch.
 * Compared in interleaved rounds with `trainOnBatch` on one batch at a time
 * (every core): samples per second, on random 48×48 batches.
 *
 * ```sh
 * deno run -A bench/data_parallel.ts [--width 8] [--batch 8] [--steps 20] [--rounds 3]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadBackend, tf } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { startWasmThreads } from "../pipeline/backend/wasm_threads.ts";

const { values } = parseArgs({
  options: {
    width: { type: "string", default: "8" },
    batch: { type: "string", default: "8" },
    steps: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
  },
});
const width = Number(values.width), batch = Number(values.batch);
const steps = Number(values.steps), rounds = Number(values.rounds);

await loadBackend("wasm");
await tf.setBackend("wasm");
const shape: [number, number, number, number] = [batch, 48, 48, 1];
const batches = Array.from({ length: 4 }, (_, i) => ({
  x: tf.randomUniform(shape, 0, 1, "float32", i) as tf.Tensor4D,
  y: tf.randomUniform([batch, 48, 48, 1], 0, 1, "float32", 100 + i).greater(0.9)
    .toFloat() as tf.Tensor4D,
}));
const arrays = batches.map((b) => ({
  x: b.x.dataSync() as Float32Array,
  y: b.y.dataSync() as Float32Array,
}));

const model = buildBcduNet(tf, { width, dense: 1, dropout: 0.5, seed: 1, batchNorm: true }, 48, 1);
const optimizer = tf.train.momentum(0.01, 0.9, true);
model.compile({ optimizer, loss: "binaryCrossentropy" });
const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);

const worker = new Worker(new URL("./data_parallel_worker.ts", import.meta.url), {
  type: "module",
});
let pending: ((m: { grads?: Float32Array; ready?: boolean }) => void) | undefined;
worker.onmessage = (e) => pending!(e.data);
const reply = () => new Promise<{ grads?: Float32Array; ready?: boolean }>((r) => (pending = r));
worker.postMessage({ setUp: { width, seed: 2 } });
await reply();

function flatWeights(): Float32Array {
  const parts = model.weights.map((w) => w.read().dataSync() as Float32Array);
  const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (flat.set(p, at), at += p.length);
  return flat;
}

async function parallelStep(i: number): Promise<void> {
  const theirs = arrays[(2 * i + 1) % 4];
  const weights = flatWeights();
  const x = theirs.x.slice(), y = theirs.y.slice();
  worker.postMessage({ weights, x, y, shape }, [weights, x, y].map((a) => a.buffer as ArrayBuffer));
  const answer = reply();
  const mine = batches[(2 * i) % 4];
  const { grads } = optimizer.computeGradients(
    () =>
      tf.mean(
        tf.metrics.binaryCrossentropy(mine.y, model.apply(mine.x, { training: true }) as tf.Tensor),
      ) as tf.Scalar,
    vars,
  );
  const other = (await answer).grads!;
  let at = 0;
  const averaged: Record<string, tf.Variable> = {};
  for (const v of vars) {
    const g = tf.tensor(other.subarray(at, at + v.size), v.shape);
    averaged[v.name] = tf.mul(tf.add(grads[v.name], g), 0.5) as tf.Variable;
    g.dispose();
    at += v.size;
  }
  optimizer.applyGradients(averaged);
  tf.dispose([...Object.values(grads), ...Object.values(averaged)]);
}

const result = { single: [] as number[], parallel: [] as number[] };
for (let round = 0; round < rounds; round++) {
  await startWasmThreads(navigator.hardwareConcurrency ?? 2);
  await model.trainOnBatch(batches[0].x, batches[0].y);
  let t0 = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(batches[i % 4].x, batches[i % 4].y);
  result.single.push((steps * batch) / ((performance.now() - t0) / 1000));
  await startWasmThreads(1);
  await parallelStep(0);
  t0 = performance.now();
  for (let i = 0; i < steps; i++) await parallelStep(i);
  result.parallel.push((steps * 2 * batch) / ((performance.now() - t0) / 1000));
  console.log(
    `round ${round + 1}: trainOnBatch ${result.single.at(-1)!.toFixed(1)} samples/s, ` +
      `2-way data parallel ${result.parallel.at(-1)!.toFixed(1)} samples/s`,
  );
}
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
console.log(
  `width ${width}, batch ${batch} per process: data parallel / trainOnBatch = ${
    (mean(result.parallel) / mean(result.single)).toFixed(2)
  }`,
);
worker.terminate();
Deno.exit(0);

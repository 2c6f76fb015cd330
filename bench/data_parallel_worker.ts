/**
 * The worker side of `bench/data_parallel.ts`: its own single-threaded wasm
 * backend and replica of the network; for each message it loads the weights
 * it is sent, computes the loss gradients on its share of the batch, and
 * sends them back as one flat buffer.
 *
 * @module
 */
import { loadBackend, tf } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { startWasmThreads } from "../pipeline/backend/wasm_threads.ts";

interface Job {
  weights: Float32Array;
  x: Float32Array;
  y: Float32Array;
  shape: [number, number, number, number];
}

const self_ = self as unknown as {
  onmessage: (e: MessageEvent) => void;
  postMessage: (m: unknown, t?: Transferable[]) => void;
};
let model: ReturnType<typeof buildBcduNet> | undefined;

async function setUp(width: number, seed: number) {
  await loadBackend("wasm");
  await tf.setBackend("wasm");
  await startWasmThreads(1);
  model = buildBcduNet(tf, { width, dense: 1, dropout: 0.5, seed, batchNorm: true }, 48, 1);
}

function gradients(job: Job): Float32Array {
  const m = model!;
  // All weights (batch norm's moving statistics too) follow the main thread's.
  let offset = 0;
  for (const w of m.weights) {
    const size = (w.shape as number[]).reduce((a, b) => a * b, 1);
    w.write(tf.tensor(job.weights.subarray(offset, offset + size), w.shape as number[]));
    offset += size;
  }
  const vars = m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  return tf.tidy(() => {
    const x = tf.tensor4d(job.x, job.shape);
    const y = tf.tensor4d(job.y, [job.shape[0], job.shape[1], job.shape[2], 1]);
    const { grads } = tf.variableGrads(
      () => tf.mean(tf.metrics.binaryCrossentropy(y, m.apply(x, { training: true }) as tf.Tensor)),
      vars,
    );
    const flat = new Float32Array(vars.reduce((n, v) => n + v.size, 0));
    let at = 0;
    for (const v of vars) {
      const g = grads[v.name].dataSync() as Float32Array;
      flat.set(g, at);
      at += g.length;
    }
    return flat;
  });
}

self_.onmessage = async (e: MessageEvent) => {
  const msg = e.data as { setUp?: { width: number; seed: number } } & Partial<Job>;
  if (msg.setUp) {
    await setUp(msg.setUp.width, msg.setUp.seed);
    self_.postMessage({ ready: true });
    return;
  }
  const g = gradients(msg as Job);
  self_.postMessage({ grads: g }, [g.buffer as ArrayBuffer]);
};

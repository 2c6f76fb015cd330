// usage: deno run -A _steps.ts <backend> <width> <batch> <steps> [threads]
import os from "node:os";
const [backend, widthS, batchS, stepsS, threadsS] = Deno.args;
const threads = Number(threadsS ?? 0);
if (threads > 1) {
  const real = os.cpus;
  (os as any).cpus = () => Array.from({ length: 2 * threads }, () => real()[0]);
}
import { tf } from "./pipeline/backend/tfjs.ts";
import { buildBcduNet } from "./plugins/core/_bcdunet.ts";
import { registerWasmTrainingKernels } from "./pipeline/backend/wasm_training_kernels.ts";
import { liftReverseRankLimit } from "./pipeline/backend/reverse_kernel.ts";
if (backend === "wasm") {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  if (threads > 1) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    const orig = URL.createObjectURL;
    URL.createObjectURL = (
      b: Blob,
    ) => (b.type === "application/javascript" ? "/tmp/cap/worker.cjs" : orig(b));
    wasm.setThreadsCount(threads);
  }
  if (!(await tf.setBackend("wasm"))) throw new Error("no wasm");
  await tf.ready();
  if (threads > 1) console.log("threads", wasm.getThreadsCount());
  if (Deno.env.get("STOCK") !== "1") registerWasmTrainingKernels();
} else if (backend === "webgpu") {
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) throw new Error("no webgpu");
  await tf.ready();
  liftReverseRankLimit("webgpu");
} else {
  await tf.setBackend("cpu");
  await tf.ready();
}
const width = Number(widthS), B = Number(batchS), steps = Number(stepsS);
const model = buildBcduNet(tf, { width, dense: 1, dropout: 0.5, seed: 1 }, 48, 1);
model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: "binaryCrossentropy" });
const x = tf.randomUniform([B, 48, 48, 1]);
const y = tf.randomUniform([B, 48, 48, 1]).greater(0.5).cast("float32");
const times: number[] = [];
for (let i = 0; i <= steps; i++) {
  const t0 = performance.now();
  const loss = await model.trainOnBatch(x, y);
  const dt = (performance.now() - t0) / 1000;
  if (i > 0) times.push(dt);
  console.log(
    backend,
    `w${width} b${B}`,
    i === 0 ? "warmup" : `step ${i}`,
    dt.toFixed(2),
    "s loss",
    loss,
  );
}
const mean = times.reduce((a, b) => a + b, 0) / times.length;
console.log(
  `RESULT ${backend}${threads > 1 ? `x${threads}` : ""} width ${width} batch ${B}: mean ${
    mean.toFixed(2)
  } s, min ${Math.min(...times).toFixed(2)} s over ${times.length} steps`,
);
Deno.exit(0);

/**
 * `deno task bench`: times training steps of the core network on each
 * backend that can train, and sliding-window inference of one full DRIVE
 * image, on random data shaped like DRIVE patches. Writes `BENCHMARKS.md`.
 *
 * ```sh
 * deno task bench [--backends wasm,webgpu,cpu] [--width 8] [--patch 48] [--batch 16] [--steps 3]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpus, totalmem } from "node:os";
import { chooseBackend, loadBackend, tf, VERSION, writeFileAtomic } from "../mod.ts";
import type { BackendName } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { slidingWindowPredict } from "../plugins/core/patches/sliding_window.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backends: { type: "string", default: "wasm,webgpu" },
    width: { type: "string", default: "8" },
    patch: { type: "string", default: "48" },
    batch: { type: "string", default: "16" },
    steps: { type: "string", default: "3" },
    window: { type: "string", default: "96" },
    output: { type: "string", default: "BENCHMARKS.md" },
  },
});
const width = Number(values.width), patch = Number(values.patch), batch = Number(values.batch);
const steps = Number(values.steps), window = Number(values.window);

interface Row {
  backend: string;
  detail: string;
  trainSeconds?: number;
  inferenceSeconds?: number;
  note?: string;
}
const rows: Row[] = [];
for (const name of values.backends!.split(",").map((s) => s.trim()) as BackendName[]) {
  let info;
  try {
    info = name === "auto"
      ? (await chooseBackend("auto", "train")).info
      : await loadBackend(name as Exclude<BackendName, "auto">);
  } catch (error) {
    rows.push({ backend: name, detail: "", note: (error as Error).message.split(";")[0] });
    continue;
  }
  await tf.setBackend(info.tfName);
  const config = { width, dense: 1 as const, dropout: 0.5, seed: 1 };
  let trainSeconds: number | undefined;
  if (info.canTrain) {
    const model = buildBcduNet(tf, config, patch, 1);
    model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: "binaryCrossentropy" });
    const x = tf.randomUniform([batch, patch, patch, 1]);
    const y = tf.cast(tf.greater(tf.randomUniform([batch, patch, patch, 1]), 0.88), "float32");
    await model.trainOnBatch(x, y); // warm-up: shader compilation, allocation
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
    trainSeconds = (performance.now() - t0) / 1000 / steps;
    tf.dispose([x, y]);
    model.dispose();
  }
  const model = buildBcduNet(tf, config, window, 1);
  const image = {
    width: 565,
    height: 584,
    channels: 1,
    data: new Float32Array(565 * 584).map(Math.random),
  };
  const predict = async (data: Float32Array, n: number) => {
    const x = tf.tensor4d(data, [n, window, window, 1]);
    const y = model.predict(x) as tf.Tensor;
    const out = await y.data() as Float32Array;
    tf.dispose([x, y]);
    return out;
  };
  await predict(new Float32Array(window * window), 1);
  const t0 = performance.now();
  await slidingWindowPredict(image, window, window / 2, predict, 16);
  const inferenceSeconds = (performance.now() - t0) / 1000;
  model.dispose();
  rows.push({
    backend: name,
    detail: info.detail,
    trainSeconds,
    inferenceSeconds,
    note: info.canTrain ? undefined : "cannot train",
  });
  console.log(rows.at(-1));
}

const reference = rows.find((r) =>
  r.trainSeconds !== undefined || r.inferenceSeconds !== undefined
);
const cell = (v?: number) => (v === undefined ? "—" : v.toFixed(2));
const ratio = (v?: number, ref?: number) => (v === undefined || !ref ? "—" : (v / ref).toFixed(1));
const cpu = cpus()[0]?.model ?? "unknown CPU";
const report = `# Benchmarks

Measured by \`deno task bench ${Deno.args.join(" ")}\` on ${new Date().toISOString().slice(0, 10)}:
${cpus().length} × ${cpu}, ${
  (totalmem() / 2 ** 30).toFixed(0)
} GiB, Deno ${Deno.version.deno}, Capillary ${VERSION}.

BCDU-Net width ${width}, dense 1. Training: mean of ${steps} steps (after one warm-up step) of
batch ${batch}, ${patch}×${patch} patches, SGD with momentum, binary cross-entropy. Inference: one
565×584 image by sliding ${window}×${window} windows at stride ${window / 2}, batches of 16.

The reference is the first backend measured (${reference?.backend ?? "none"}); a ratio above 1
means slower than it.

| backend | device | s / training step | × reference | s / image (inference) | × reference | note |
|---|---|---:|---:|---:|---:|---|
${
  rows.map((r) =>
    `| ${r.backend} | ${r.detail} | ${cell(r.trainSeconds)} | ${
      ratio(r.trainSeconds, reference?.trainSeconds)
    } | ${cell(r.inferenceSeconds)} | ${ratio(r.inferenceSeconds, reference?.inferenceSeconds)} | ${
      r.note ?? ""
    } |`
  ).join("\n")
}
`;
await writeFileAtomic(values.output!, report);
console.log(report);

/**
 * `deno task bench`: times training steps of the core network on real DRIVE
 * patches for each TensorFlow.js backend and width, against the same network
 * in PyTorch (`bench/bcdunet_torch.py`) measured in the same run on the same
 * cores, plus sliding-window inference of one DRIVE test image. Writes
 * `BENCHMARKS.md`.
 *
 * ```sh
 * deno task bench [--backends wasm] [--widths 8,16] [--patch 48] [--batch 16] [--steps 3]
 *                 [--window 96] [--torch | --no-torch] [--python /usr/bin/python3]
 *                 [--threads 2] [--output BENCHMARKS.md] [--replace]
 * ```
 *
 * Patches come from the core stages (`drive`, `retina_preprocess`,
 * `samplePatches`): one fresh batch per step. tfjs's forward time is
 * `model.predict` on the batch (inference mode); its backward + update time
 * is derived as `trainOnBatch` time − forward time. PyTorch's three parts
 * are timed directly. FLOP are counted analytically (`plugins/core/bcdunet_flops.ts`:
 * 2 per multiply-add, training = 3 × forward). `--window 0` skips inference.
 * Each run adds its section to the output (the other bench scripts' sections, pasted
 * there from their output, stay); `--replace` starts the file anew. `--append`, the
 * default, is still accepted.
 * `--torch-device cuda` runs the PyTorch reference on the GPU (its row and the
 * machine line then name the card); `bench/gpu.sh` runs the whole bench on an
 * NVIDIA GPU through WebGPU.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpus, totalmem } from "node:os";
import {
  chooseBackend,
  loadBackend,
  Random,
  type StageContext,
  tf,
  VERSION,
  writeFileAtomic,
} from "../mod.ts";
import type { BackendName } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { drive, driveOptions } from "../plugins/core/stages/drive.ts";
import {
  preprocessRetina,
  retinaPreprocessOptions,
} from "../plugins/core/stages/retina_preprocess.ts";
import { samplePatches } from "../plugins/core/patches/sample_patches.ts";
import { slidingWindowPredict } from "../plugins/core/patches/sliding_window.ts";
import { bcduNetForwardFlops } from "../plugins/core/bcdunet_flops.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backends: { type: "string", default: "wasm" },
    widths: { type: "string", default: "8,16" },
    patch: { type: "string", default: "48" },
    batch: { type: "string", default: "16" },
    steps: { type: "string", default: "3" },
    window: { type: "string", default: "96" },
    torch: { type: "boolean", default: true },
    "no-torch": { type: "boolean", default: false },
    python: { type: "string", default: "/usr/bin/python3" },
    "torch-device": { type: "string", default: "cpu" },
    threads: { type: "string", default: "2" },
    output: { type: "string", default: "BENCHMARKS.md" },
    append: { type: "boolean", default: true },
    replace: { type: "boolean", default: false },
  },
});
const widths = values.widths!.split(",").map(Number);
const patch = Number(values.patch), batch = Number(values.batch);
const steps = Number(values.steps), window = Number(values.window);
const threads = Number(values.threads);
// The wasm backend reads this when it loads: tfjs and PyTorch get the same cores.
Deno.env.set("CAPILLARY_THREADS", String(threads));
const useTorch = values.torch && !values["no-torch"];
const python = values.python!;
const torchDevice = values["torch-device"]!;
if (torchDevice !== "cpu" && torchDevice !== "cuda") {
  throw new Error(`--torch-device must be cpu or cuda, not "${torchDevice}"`);
}
/** The GPUs this run used, for the machine line: CUDA cards (PyTorch), hardware WebGPU adapters. */
const gpus = new Set<string>();
const TORCH_SCRIPT = new URL("./bcdunet_torch.py", import.meta.url).pathname;
const TORCH_HINT =
  "install PyTorch with `apt-get install -y python3-torch` (Debian) and rerun; it runs with /usr/bin/python3, or pass --python";

// ---- Real DRIVE patches through the core stages ---------------------------------------------
const quietContext = {
  stageId: "bench/drive",
  tf,
  useBackend: () => Promise.resolve(tf.getBackend()),
  random: new Random(1),
  run: undefined,
  progress: {
    info: (message: string) => console.log(message),
    task: () => ({ update() {}, done() {} }),
  },
  recipeDir: Deno.cwd(),
} as unknown as StageContext;
console.log("loading DRIVE (core/drive + core/retina_preprocess) …");
const data = preprocessRetina(
  await drive.run(driveOptions.parse({ testLimit: 1 }), undefined, quietContext),
  retinaPreprocessOptions.parse({}),
);
const batches = steps + 1; // one warm-up batch, then a fresh batch per timed step
const patches = samplePatches(data.train, { size: patch, count: batch * batches }, new Random(1));
const perBatch = batch * patch * patch;
// Shuffle whole patches so each batch mixes images (samplePatches returns them in image order).
{
  const order = new Random(2).shuffle([...Array(patches.count).keys()]);
  const images = new Float32Array(patches.images.length), masks = new Float32Array(images.length);
  const n = patch * patch;
  order.forEach((from, to) => {
    images.set(patches.images.subarray(from * n, from * n + n), to * n);
    masks.set(patches.masks.subarray(from * n, from * n + n), to * n);
  });
  patches.images.set(images);
  patches.masks.set(masks);
}
const vesselShare = patches.masks.reduce((s, v) => s + v, 0) / patches.masks.length;
console.log(
  `${patches.count} DRIVE patches ${patch}×${patch} from ${data.train.length} training images, ${
    (100 * vesselShare).toFixed(1)
  } % vessel pixels`,
);

// ---- PyTorch reference -----------------------------------------------------------------------
interface TorchResult {
  torch: string;
  threads: number;
  device?: string;
  device_name?: string;
  params: number;
  trainable: number;
  forward_s: number;
  backward_s: number;
  update_s: number;
  step_s: number;
  peak_rss_bytes: number;
}
let torchVersion: string | undefined;
let torchNote: string | undefined = useTorch ? undefined : "not measured (--no-torch)";
if (useTorch) {
  try {
    const probe = await new Deno.Command(python, {
      args: ["-c", "import torch; print(torch.__version__)"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (probe.success) torchVersion = new TextDecoder().decode(probe.stdout).trim();
    else torchNote = `not measured: ${python} has no torch; ${TORCH_HINT}`;
  } catch {
    torchNote = `not measured: ${python} not found; ${TORCH_HINT}`;
  }
  if (torchNote) console.warn(torchNote);
}
const patchFile = torchVersion ? await Deno.makeTempFile({ suffix: ".f32" }) : undefined;
if (patchFile) {
  const all = new Float32Array(patches.images.length * 2);
  all.set(patches.images);
  all.set(patches.masks, patches.images.length);
  await Deno.writeFile(patchFile, new Uint8Array(all.buffer));
}

async function runTorch(width: number): Promise<TorchResult | string> {
  const args = [
    TORCH_SCRIPT,
    ...["--width", `${width}`, "--patch", `${patch}`, "--batch", `${batch}`],
    ...["--steps", `${steps}`, "--threads", `${threads}`, "--data", patchFile!],
    ...["--device", torchDevice],
  ];
  const out = await new Deno.Command(python, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    return `failed: ${err}`;
  }
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

// ---- Measurements ----------------------------------------------------------------------------
interface Row {
  engine: string;
  detail: string;
  width: number;
  params?: number;
  forward?: number;
  backwardUpdate?: number;
  update?: number;
  step?: number;
  derived?: boolean;
  peakRss?: number;
  peakTensorBytes?: number;
  inference?: number;
  note?: string;
}
const rows: Row[] = [];
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
let maxRss = 0;
const sampleRss = () => (maxRss = Math.max(maxRss, Deno.memoryUsage().rss));

const testImage = data.test[0].image;
const backendNames = values.backends!.split(",").map((s) => s.trim()) as BackendName[];

for (const width of widths) {
  const torchRow: Row = { engine: "PyTorch", detail: "", width };
  if (torchVersion) {
    console.log(`PyTorch width ${width} …`);
    const r = await runTorch(width);
    if (typeof r === "string") torchRow.note = r;
    else {
      if (r.device === "cuda" && r.device_name) gpus.add(r.device_name);
      Object.assign(torchRow, {
        detail: r.device === "cuda"
          ? `torch ${r.torch}, ${r.device_name} (CUDA)`
          : `torch ${r.torch}, ${r.threads} threads`,
        params: r.params,
        forward: r.forward_s,
        backwardUpdate: r.backward_s + r.update_s,
        update: r.update_s,
        step: r.step_s,
        peakRss: r.peak_rss_bytes,
      });
    }
  } else torchRow.note = torchNote;
  rows.push(torchRow);
  console.log(torchRow);

  for (const name of backendNames) {
    let info;
    try {
      info = name === "auto"
        ? (await chooseBackend("auto", "train")).info
        : await loadBackend(name as Exclude<BackendName, "auto">);
    } catch (error) {
      rows.push({
        engine: `tfjs ${name}`,
        detail: "",
        width,
        note: (error as Error).message.split(";")[0],
      });
      continue;
    }
    await tf.setBackend(info.tfName);
    const row: Row = { engine: `tfjs ${name}`, detail: info.detail, width, derived: true };
    if (info.accelerated) gpus.add(info.detail);
    const config = { width, dense: 1 as const, dropout: 0.5, seed: 1 };
    maxRss = 0;
    sampleRss();
    if (info.canTrain) {
      console.log(`tfjs ${name} width ${width} …`);
      const model = buildBcduNet(tf, config, patch, 1);
      row.params = model.countParams();
      model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: "binaryCrossentropy" });
      const forward: number[] = [], step: number[] = [];
      const batchAt = (i: number) => {
        const from = (i % batches) * perBatch;
        return [
          tf.tensor4d(patches.images.subarray(from, from + perBatch), [batch, patch, patch, 1]),
          tf.tensor4d(patches.masks.subarray(from, from + perBatch), [batch, patch, patch, 1]),
        ];
      };
      for (let i = 0; i <= steps; i++) {
        const [x, y] = batchAt(i);
        const t0 = performance.now();
        const p = model.predict(x) as tf.Tensor;
        await p.data();
        const t1 = performance.now();
        p.dispose();
        sampleRss();
        await model.trainOnBatch(x, y);
        const t2 = performance.now();
        sampleRss();
        tf.dispose([x, y]);
        if (i > 0) { // step 0 warms up: kernel compilation, allocation
          forward.push((t1 - t0) / 1000);
          step.push((t2 - t1) / 1000);
        }
      }
      // One more step, untimed, under tf.profile for the peak of live tensor bytes.
      const [x, y] = batchAt(0);
      const profile = await tf.profile(async () => {
        await model.trainOnBatch(x, y);
      });
      sampleRss();
      row.peakTensorBytes = profile.peakBytes;
      tf.dispose([x, y]);
      model.dispose();
      row.forward = mean(forward);
      row.step = mean(step);
      row.backwardUpdate = row.step - row.forward;
    } else row.note = "cannot train";
    if (window > 0) {
      const model = buildBcduNet(tf, config, window, 1);
      const predict = async (input: Float32Array, n: number) => {
        const x = tf.tensor4d(input, [n, window, window, 1]);
        const y = model.predict(x) as tf.Tensor;
        const out = await y.data() as Float32Array;
        tf.dispose([x, y]);
        sampleRss();
        return out;
      };
      await predict(new Float32Array(window * window), 1);
      const t0 = performance.now();
      await slidingWindowPredict(testImage, window, window / 2, predict, 16);
      row.inference = (performance.now() - t0) / 1000;
      model.dispose();
    }
    row.peakRss = maxRss;
    rows.push(row);
    console.log(row);
  }
}
if (patchFile) await Deno.remove(patchFile);

// ---- Report ----------------------------------------------------------------------------------
const flops = (width: number) => 3 * bcduNetForwardFlops({ width, size: patch, batch });
const s = (v?: number) => (v === undefined ? "—" : v.toFixed(v < 0.1 ? 3 : 2));
const mib = (v?: number) => (v === undefined ? "—" : (v / 2 ** 20).toFixed(0));
const lines = rows.map((r) => {
  const torch = rows.find((t) => t.engine === "PyTorch" && t.width === r.width);
  const ratio = r.engine === "PyTorch" || !r.step || !torch?.step
    ? "—"
    : (r.step / torch.step).toFixed(1);
  const gflops = r.step ? (flops(r.width) / r.step / 1e9).toFixed(1) : "—";
  const same = r.engine !== "PyTorch" && r.params !== undefined && torch?.params !== undefined
    ? (r.params === torch.params ? " (= PyTorch)" : ` (PyTorch ${torch.params})`)
    : "";
  const d = r.derived ? "†" : "";
  return `| ${r.engine} | ${r.detail} | ${r.width} | ${r.params ?? "—"}${same} | ${
    s(r.forward)
  } | ${s(r.backwardUpdate)}${r.backwardUpdate === undefined ? "" : d} | ${
    r.derived ? "—" : s(r.update)
  } | ${s(r.step)} | ${(flops(r.width) / 1e9).toFixed(2)} | ${gflops} | ${ratio} | ${
    mib(r.peakRss)
  } | ${mib(r.peakTensorBytes)} | ${s(r.inference)} | ${r.note ?? ""} |`;
});
const cpu = cpus()[0]?.model ?? "unknown CPU";
const date = new Date().toISOString().slice(0, 16).replace("T", " ");
const command = `deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}`;
const section = `## ${date} UTC: \`${command}\`

Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${
  gpus.size ? `GPU: ${[...gpus].join(", ")}` : "no GPU used"
}; Deno ${Deno.version.deno}, TensorFlow.js ${tf.version.tfjs}, Capillary ${VERSION}; PyTorch ${
  torchVersion
    ? `${torchVersion} (${torchDevice === "cuda" ? "CUDA" : `${threads} threads`})`
    : "not measured"
}.

BCDU-Net (\`plugins/core/_bcdunet.ts\`; PyTorch: \`bench/bcdunet_torch.py\`), dense 1, batch ${batch} of
${patch}×${patch} real DRIVE training patches (core/drive + core/retina_preprocess + samplePatches, ${
  (100 * vesselShare).toFixed(1)
} % vessel pixels), SGD momentum 0.9, binary cross-entropy. Times are means of ${steps} step${
  steps === 1 ? "" : "s"
} after one warm-up step, each on a fresh batch, in seconds. † tfjs's backward + update is derived:
\`trainOnBatch\` time − forward time, where forward is \`model.predict\` on the same batch (inference
mode); PyTorch's parts are timed directly. GFLOP per step are counted analytically (\`plugins/core/bcdunet_flops.ts\`:
2 FLOP per multiply-add of the convolutions, transposed convolutions and ConvLSTM gates, training =
3 × forward). "× PyTorch" is s / step over PyTorch's at the same width (above 1: slower). Peak RSS:
the process's largest resident set sampled after each step (tfjs) or ru_maxrss (PyTorch, its own
process); peak tensors: \`tf.profile\` peakBytes of one training step. Params: tfjs's countParams; PyTorch's
figure is its parameters plus BatchNorm's running mean and variance, which tfjs counts as weights.${
  window > 0
    ? ` Inference: DRIVE test image 01 (565×584) by sliding ${window}×${window} windows at stride ${
      window / 2
    }, batches of 16.`
    : ""
}

| engine | device | width | params | forward s | backward + update s | update s | s / step | GFLOP / step | GFLOP/s | × PyTorch | peak RSS MiB | peak tensors MiB | inference s / image | note |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
${lines.join("\n")}
`;
const header = `# Benchmarks

Each section below comes from one run of the command in its heading; every number in it was
measured by that run (\`deno task bench\` adds its sections itself; the other scripts' were
pasted from their output). WebGPU on a CPU-emulated adapter (Mesa lavapipe) measured about 7× slower
than wasm for training, so it is not in the default \`--backends\`.
`;
let previous = "";
if (!values.replace) {
  try {
    previous = await Deno.readTextFile(values.output!);
  } catch {
    previous = "";
  }
}
const report = previous.startsWith("# Benchmarks")
  ? `${previous.trimEnd()}\n\n${section}`
  : `${header}\n${section}`;
await writeFileAtomic(values.output!, report);
// Leave the file as `deno fmt` would (the repository's formatting check covers it).
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", values.output!] }).output()
  .catch(() => undefined);
console.log(section);

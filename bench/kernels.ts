/**
 * Micro-benchmarks of Capillary's wasm kernels, for the figures in the
 * README: convolutions on 1 and 2 threads (interleaved rounds, medians), the
 * fast leading-axis `Sum` against the stock one, a BCDU-Net training step
 * with the stock `Identity` (a copy) and `Tanh` (a scalar loop) against
 * Capillary's (shared memory; `2·σ(2x) − 1`), the same step with and without
 * Capillary's JavaScript kernels (ConvLSTM cell, batch norm, momentum), and
 * the two `Tanh` alone, a whole image predicted in 8 flips on 1 and 2
 * threads and on 2 prediction workers, and `Slice` through the stock kernel
 * (which copies its whole source first) against heap to heap, and the stock
 * `MaxPoolGrad` against Capillary's one pass, alone and (`slice`) together
 * in a training step, and the combined filters of a step's input gradients
 * made by a chain of stock kernels against one pass. Name sections to run
 * only those.
 *
 * ```sh
 * deno run -A bench/kernels.ts [identity] [host] [tanh] [convolutions] [prediction] [sum] [slice] [maxpool] [phasefilter]
 * ```
 *
 * @module
 */
import { loadBackend, PredictionWorkers, tf } from "../mod.ts";
import { BCDUNET_LAYER_MODULES, buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { widthEightBatch, widthEightNet } from "./width_eight.ts";
import { flipCombinations, predictWindows } from "../plugins/core/patches/predict_windows.ts";
import { BATCH_NORM_TRAINING } from "../plugins/core/layers/batch_norm.ts";
import { LSTM_CELL, LSTM_CELL_FIRST } from "../plugins/core/layers/lstm_cell.ts";
import { MOVING_AVERAGE } from "../plugins/core/layers/moving_average.ts";
import { fusedMomentum, MOMENTUM_STEP } from "../plugins/core/train/fused_momentum.ts";
import { useHeapSliceCopy } from "../pipeline/backend/wasm_training_kernels.ts";
import { kernelMemory } from "../pipeline/backend/kernel_memory.ts";
import { phasePlan, writePhaseFilter } from "../pipeline/backend/phase_filter.ts";
import {
  setSplitThreshold,
  startWasmThreads,
  stopWasmThreads,
} from "../pipeline/backend/wasm_threads.ts";

await import("@tensorflow/tfjs-backend-wasm");
const stockSum = tf.getKernel("Sum", "wasm")!;
const stockIdentity = tf.getKernel("Identity", "wasm")!;
const stockTanh = tf.getKernel("Tanh", "wasm")!;
const stockMaxPoolGrad = tf.getKernel("MaxPoolGrad", "wasm")!;
await loadBackend("wasm");
await tf.setBackend("wasm");
const fastSum = tf.getKernel("Sum", "wasm")!;
const sharedIdentity = tf.getKernel("Identity", "wasm")!;
const fastTanh = tf.getKernel("Tanh", "wasm")!;
const tiledMaxPoolGrad = tf.getKernel("MaxPoolGrad", "wasm")!;
/** Whether to run a section: every one when none is named. */
const section = (name: string) => Deno.args.length === 0 || Deno.args.includes(name);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const use = (k: tf.KernelConfig) => {
  tf.unregisterKernel(k.kernelName, "wasm");
  tf.registerKernel(k);
};

/**
 * Milliseconds per call of `run` after `setUp` (which picks a kernel) and one warm-up call: the
 * median of 6 rounds of 10 calls.
 */
function timeCalls(setUp: () => void, run: () => void): number {
  setUp();
  run();
  const rounds: number[] = [];
  for (let round = 0; round < 6; round++) {
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) run();
    rounds.push((performance.now() - t0) / 10);
  }
  return median(rounds);
}

/** Prints a table row: the case, the two times and how many times faster the second is. */
function printPair(name: string, before: number, after: number, digits = 2): void {
  console.log(
    `${name} | ${before.toFixed(digits)} | ${after.toFixed(digits)} | ${
      (before / after).toFixed(1)
    }`,
  );
}

/**
 * Times `net`'s training step on the patches under each variant (set up by its function), in 6
 * interleaved rounds of 5 steps after one warm-up, and prints each median and its speedup over
 * the first.
 */
async function timeStepVariants(
  net: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  variants: [string, () => void][],
): Promise<void> {
  const ms = variants.map(() => [] as number[]);
  for (let round = 0; round < 6; round++) {
    for (const [v, [, setUp]] of variants.entries()) {
      setUp();
      await net.trainOnBatch(x, y);
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) await net.trainOnBatch(x, y);
      ms[v].push((performance.now() - t0) / 5);
    }
  }
  const base = median(ms[0]);
  for (const [v, [name]] of variants.entries()) {
    console.log(`| ${name} | ${median(ms[v]).toFixed(1)} | ${(base / median(ms[v])).toFixed(2)}×`);
  }
}

await stopWasmThreads();
const [patches, vessels] = widthEightBatch();

// First, on a fresh heap: after the large convolutions below the copies cost more.
// One thread, as each process of core/train's data-parallel step runs.
if (section("identity")) {
  console.log(
    "\nBCDU-Net width 8 training step, 8 patches of 48×48, 1 thread | kernels | ms (median)",
  );
  const net = widthEightNet(tf.train.momentum(0.01, 0.9, true));
  await timeStepVariants(net, patches, vessels, [
    ["stock Identity and Tanh", () => [stockIdentity, stockTanh].forEach(use)],
    ["shared Identity, stock Tanh", () => [sharedIdentity, stockTanh].forEach(use)],
    ["shared Identity, fast Tanh", () => [sharedIdentity, fastTanh].forEach(use)],
  ]);
  net.dispose();
}

if (section("host")) {
  // Capillary's JavaScript kernels (one pass over the backend's memory where tfjs runs a chain of
  // small kernels), switched off by unregistering them: each layer and the optimizer then take
  // tfjs's own path, in the same process and on the same batches.
  console.log(
    "\nBCDU-Net width 8 training step, 8 patches of 48×48, 1 thread | JavaScript kernels | ms (median)",
  );
  const hostKernels = [
    LSTM_CELL,
    LSTM_CELL_FIRST,
    BATCH_NORM_TRAINING,
    MOMENTUM_STEP,
    MOVING_AVERAGE,
  ];
  const fusedNet = widthEightNet(fusedMomentum(tf, 0.01, 0.9, true));
  const hostConfigs = new Map(hostKernels.map((name) => [name, tf.getKernel(name, "wasm")!]));
  const withHost = (names: string[]) => {
    for (const [name, config] of hostConfigs) {
      if (tf.getKernel(name, "wasm")) tf.unregisterKernel(name, "wasm");
      if (names.includes(name)) tf.registerKernel(config);
    }
  };
  await timeStepVariants(fusedNet, patches, vessels, [
    ["none (tfjs's ops)", () => withHost([])],
    ["ConvLSTM cell", () => withHost([LSTM_CELL, LSTM_CELL_FIRST])],
    [
      "ConvLSTM cell, batch norm",
      () => withHost([LSTM_CELL, LSTM_CELL_FIRST, BATCH_NORM_TRAINING]),
    ],
    [
      "ConvLSTM cell, batch norm, momentum",
      () => withHost([LSTM_CELL, LSTM_CELL_FIRST, BATCH_NORM_TRAINING, MOMENTUM_STEP]),
    ],
    ["ConvLSTM cell, batch norm, momentum, moving averages", () => withHost(hostKernels)],
  ]);
  fusedNet.dispose();
}

if (section("tanh")) {
  console.log("\nTanh on a ConvLSTM's gate-sized maps, 1 thread | stock ms | fast ms | speedup");
  for (const shape of [[8, 2, 48, 48, 4], [8, 48, 48, 8], [8, 24, 24, 16]]) {
    const x = tf.randomNormal(shape);
    const run = () => tf.tanh(x).dispose();
    printPair(
      JSON.stringify(shape),
      timeCalls(() => use(stockTanh), run),
      timeCalls(() => use(fastTanh), run),
    );
    x.dispose();
  }
}

if (section("convolutions")) {
  console.log(
    "\nconvolution (x, filter), same padding | MFLOP | 1 thread ms | 2 threads ms | speedup",
  );
  setSplitThreshold(0);
  const shapes: [[number, number, number, number], [number, number, number, number]][] = [
    [[16, 6, 6, 512], [3, 3, 512, 512]],
    [[16, 24, 24, 128], [3, 3, 128, 128]],
    [[16, 48, 48, 32], [3, 3, 32, 32]],
    [[16, 48, 48, 8], [3, 3, 8, 32]],
    [[16, 48, 48, 8], [3, 3, 8, 8]],
    [[16, 24, 24, 16], [3, 3, 16, 8]],
    // One whole 584×584 image (whole-image prediction): split by output rows.
    [[1, 584, 584, 8], [3, 3, 8, 8]],
    [[1, 146, 146, 32], [3, 3, 32, 32]],
  ];
  for (const [xs, fs] of shapes) {
    const x = tf.randomUniform(xs) as tf.Tensor4D, f = tf.randomUniform(fs) as tf.Tensor4D;
    const flop = 2 * xs[0] * xs[1] * xs[2] * fs[0] * fs[1] * fs[2] * fs[3];
    const reps = Math.max(2, Math.min(50, Math.round(3e8 / flop)));
    const t: Record<number, number[]> = { 1: [], 2: [] };
    for (let round = 0; round < 6; round++) {
      for (const n of [1, 2]) {
        await startWasmThreads(n);
        tf.conv2d(x, f, 1, "same").dispose();
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) tf.conv2d(x, f, 1, "same").dispose();
        t[n].push((performance.now() - t0) / reps);
      }
    }
    console.log(
      `${JSON.stringify(xs)} ${JSON.stringify(fs)} | ${(flop / 1e6).toFixed(0)} | ${
        median(t[1]).toFixed(2)
      } | ${median(t[2]).toFixed(2)} | ${(median(t[1]) / median(t[2])).toFixed(2)}`,
    );
    tf.dispose([x, f]);
  }
  setSplitThreshold();
}

if (section("prediction")) {
  // Whole-image prediction, as core/segmentation_metrics's `window: image` runs it, of a whole
  // image in 8 flips: on this thread with 1 and 2 wasm threads (one image a batch, so only the
  // row split of its convolutions spreads it), and on 2 prediction workers (`evaluate.workers: 2`).
  console.log(
    "\nBCDU-Net width 8, a 565×584 image in 8 flips | 1 thread ms | 2 threads ms | 2 workers ms " +
      "| speedups over 1 thread",
  );
  {
    const wholeNet = buildBcduNet(
      tf,
      { width: 8, dense: 1, dropout: 0.5, seed: 1, batchNorm: true },
      584,
      1,
    );
    const data = tf.randomUniform([565 * 584], 0, 1, "float32", 3).dataSync() as Float32Array;
    const image = { width: 565, height: 584, channels: 1, data };
    const flips = flipCombinations(["horizontal", "vertical", "transpose"]);
    const how = { window: 584, stride: 584, batchSize: 16, flips };
    const workers = await PredictionWorkers.start(2, wholeNet, BCDUNET_LAYER_MODULES);
    const onWorkers = {
      ...how,
      workers: workers.batchPredictors(584, 1),
    };
    const t: Record<string, number[]> = { one: [], two: [], workers: [] };
    for (let round = 0; round < 3; round++) {
      for (const mode of ["one", "two", "workers"]) {
        if (mode !== "workers") await startWasmThreads(mode === "one" ? 1 : 2);
        else await stopWasmThreads();
        const t0 = performance.now();
        await predictWindows(tf, wholeNet, image, mode === "workers" ? onWorkers : how);
        t[mode].push(performance.now() - t0);
      }
    }
    await workers.close();
    const [one, two, onTwo] = [median(t.one), median(t.two), median(t.workers)];
    console.log(
      `| ${one.toFixed(0)} | ${two.toFixed(0)} | ${onTwo.toFixed(0)} | ${
        (one / two).toFixed(2)
      }×, ${(one / onTwo).toFixed(2)}×`,
    );
    wholeNet.dispose();
  }
}

if (section("sum")) {
  // Each sum gets a tensor it has not seen, as in training, where every gradient is new: summing
  // one tensor over and over would hide per-tensor costs (wasm's BatchMatMul packs and caches its
  // right operand per tensor id, which made an earlier fast Sum look 20× faster than it was).
  console.log("\nSum over axes [0, 1, 2], fresh tensors | stock ms | fast ms | speedup");
  for (
    const shape of [[8, 48, 48, 8], [16, 48, 48, 16], [16, 48, 48, 64], [32, 24, 24, 64], [
      16,
      12,
      12,
      256,
    ]]
  ) {
    const x = tf.randomUniform(shape);
    const time = () => {
      const fresh = Array.from({ length: 21 }, () => tf.add(x, 0));
      tf.sum(fresh[20], [0, 1, 2]).dispose();
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) tf.sum(fresh[i], [0, 1, 2]).dispose();
      const ms = (performance.now() - t0) / 20;
      tf.dispose(fresh);
      return ms;
    };
    use(stockSum);
    const stock = time();
    use(fastSum);
    const fast = time();
    console.log(
      `${JSON.stringify(shape)} | ${stock.toFixed(2)} | ${fast.toFixed(2)} | ${
        (stock / fast).toFixed(1)
      }`,
    );
    x.dispose();
  }
}

// Slice after merging axes: through the stock kernel, which copies its whole source into a new
// array before it copies the box (Capillary's before 2026-12-07), or heap to heap. Slices of a
// filter, as every input gradient's Reverse takes them, and of a ConvLSTM's two-step sequence
// (merged to rank 3, as the kernel merges it).
if (section("slice")) {
  // The step first: the large tensors below grow the heap, which slows what follows (run this
  // section alone).
  console.log(
    "\nBCDU-Net width 8 training step, 8 patches of 48×48, 1 thread | Slice, MaxPoolGrad | ms (median)",
  );
  const sliceNet = widthEightNet(fusedMomentum(tf, 0.01, 0.9, true));
  await timeStepVariants(sliceNet, patches, vessels, [
    ["stock copy, stock MaxPoolGrad (before 2026-12-07)", () => {
      useHeapSliceCopy(false);
      use(stockMaxPoolGrad);
    }],
    ["heap to heap, stock MaxPoolGrad", () => useHeapSliceCopy(true)],
    ["heap to heap, one-pass MaxPoolGrad", () => use(tiledMaxPoolGrad)],
  ]);
  sliceNet.dispose();
  console.log("\nSlice, 1 thread | stock copy ms | heap to heap ms | speedup");
  const cases: [string, () => void][] = [];
  for (const shape of [[3, 3, 8, 16], [3, 3, 32, 32], [3, 3, 64, 64]]) {
    const f = tf.randomUniform(shape);
    cases.push([`Reverse ${JSON.stringify(shape)} [0, 1]`, () => tf.reverse(f, [0, 1]).dispose()]);
  }
  for (const shape of [[8, 2, 48 * 48 * 32], [16, 2, 48 * 48 * 64]]) {
    const s = tf.randomUniform(shape);
    cases.push([
      `split ${JSON.stringify(shape)} in 2 on axis 1`,
      () => tf.dispose(tf.split(s, 2, 1)),
    ]);
  }
  for (const [name, run] of cases) {
    printPair(
      name,
      timeCalls(() => useHeapSliceCopy(false), run),
      timeCalls(() => useHeapSliceCopy(true), run),
      3,
    );
  }
}

// MaxPoolGrad of the network's 2×2 pools: the stock kernel searches a window again for each of
// its inputs; Capillary's passes each window's gradient in one pass.
if (section("maxpool")) {
  console.log("\nMaxPoolGrad 2×2, 1 thread | stock ms | one pass ms | speedup");
  for (
    const shape of [[8, 48, 48, 8], [8, 24, 24, 16], [8, 12, 12, 32], [16, 48, 48, 64]] as [
      number,
      number,
      number,
      number,
    ][]
  ) {
    const input = tf.relu(tf.randomNormal(shape)) as tf.Tensor4D;
    const output = tf.maxPool(input, 2, 2, "valid");
    const dy = tf.randomNormal(output.shape);
    const run = () =>
      (tf.engine().runKernel("MaxPoolGrad", { dy, input, output }, {
        filterSize: 2,
        strides: 2,
        pad: "valid",
      }) as tf.Tensor).dispose();
    printPair(
      JSON.stringify(shape),
      timeCalls(() => use(stockMaxPoolGrad), run),
      timeCalls(() => use(tiledMaxPoolGrad), run),
      3,
    );
    tf.dispose([input, output, dy]);
  }
}
// The combined sub-pixel filter of each input gradient in a width-8 step: before 2026-12-07 a
// chain of stock kernels a phase (strided slice, reverse, transpose, pad; then a concat), now one
// pass (`phase_filter.ts`). Its calls are recorded from one training step.
if (section("phasefilter")) {
  await timeInputGradientBefore();
  console.log(
    "\nPhase filters of a width-8 step's input gradients, 1 thread | chain ms | one pass ms | speedup",
  );
  const calls = await recordInputGradientCalls();
  const memory = kernelMemory("wasm", tf.backend());
  const cases = calls.map(({ filterShape, strides, inputShape, pad }) => {
    const info = tf.backend_util.computeConv2DInfo(
      inputShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      strides,
      1,
      pad,
    );
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const rows = phasePlan(info.filterHeight, sh, info.padInfo.top);
    const cols = phasePlan(info.filterWidth, sw, info.padInfo.left);
    const filter = tf.randomNormal(filterShape);
    const combinedShape = [rows.size, cols.size, filterShape[3], sh * sw * filterShape[2]];
    const chain = () => tf.tidy(() => phaseFilterChain(filter, rows, cols, [sh, sw]));
    const pass = () => {
      const out = memory.output(combinedShape);
      writePhaseFilter(memory.view(filter), filterShape, rows, cols, [sh, sw], memory.view(out));
      return tf.engine().makeTensorFromTensorInfo(out);
    };
    const [a, b] = [chain(), pass()];
    if (a.sub(b).abs().max().dataSync()[0] !== 0) throw new Error("phase filters differ");
    tf.dispose([a, b]);
    return { name: `${JSON.stringify(filterShape)} stride ${sh}`, filter, chain, pass };
  });
  // Both compiled, as in training, where each runs 25 times a step.
  for (let i = 0; i < 100; i++) {
    for (const { chain, pass } of cases) tf.dispose([chain(), pass()]);
  }
  let chainTotal = 0, passTotal = 0;
  for (const { name, filter, chain, pass } of cases) {
    const before = timeCalls(() => {}, () => chain().dispose());
    const after = timeCalls(() => {}, () => pass().dispose());
    chainTotal += before;
    passTotal += after;
    printPair(name, before, after, 3);
    filter.dispose();
  }
  printPair(`all ${calls.length} of a step`, chainTotal, passTotal, 2);
}
tf.dispose([patches, vessels]);

Deno.exit(0);

/**
 * A width-8 training step with the input gradient as at commit dcf934a (its phase filter made by
 * a chain of stock kernels) against today's, in one process: that commit's kernel module is read
 * from git into a temporary file beside today's (so its imports resolve) and registered, then
 * only its `Conv2DBackpropInput` is swapped in and out. Skipped where git or the commit is absent.
 */
async function timeInputGradientBefore(): Promise<void> {
  const path = new URL("../pipeline/backend/.kernels_dcf934a.ts", import.meta.url);
  const show = await new Deno.Command("git", {
    args: ["show", "dcf934a:pipeline/backend/wasm_training_kernels.ts"],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  if (!show?.success) {
    console.log("\n(git show dcf934a failed: the step with the earlier input gradient is skipped)");
    return;
  }
  const today = tf.getKernel("Conv2DBackpropInput", "wasm")!;
  await Deno.writeFile(path, show.stdout);
  try {
    const before = await import(path.href);
    before.registerWasmTrainingKernels();
  } finally {
    await Deno.remove(path);
  }
  const earlier = tf.getKernel("Conv2DBackpropInput", "wasm")!;
  console.log(
    "\nBCDU-Net width 8 training step, 8 patches of 48×48, 1 thread | input gradient | ms (median)",
  );
  const net = widthEightNet(fusedMomentum(tf, 0.01, 0.9, true));
  await timeStepVariants(net, patches, vessels, [
    ["phase filter by stock kernels (dcf934a)", () => use(earlier)],
    ["phase filter in one pass", () => use(today)],
  ]);
  net.dispose();
  use(today);
}

/** The filter shape, strides, input shape and padding of each input gradient in one width-8 step. */
async function recordInputGradientCalls() {
  const calls: {
    filterShape: number[];
    strides: [number, number];
    inputShape: number[];
    pad: "same" | "valid";
  }[] = [];
  const real = tf.getKernel("Conv2DBackpropInput", "wasm")!;
  tf.unregisterKernel("Conv2DBackpropInput", "wasm");
  tf.registerKernel({
    ...real,
    kernelFunc: (args) => {
      const attrs = args.attrs as { strides: [number, number]; inputShape: number[]; pad: "same" };
      calls.push({ filterShape: args.inputs.filter!.shape, ...attrs });
      return real.kernelFunc(args);
    },
  });
  const net = widthEightNet(fusedMomentum(tf, 0.01, 0.9, true));
  await net.trainOnBatch(patches, vessels);
  net.dispose();
  use(real);
  return calls;
}

/** The combined phase filter as the stock kernels made it before 2026-12-07. */
function phaseFilterChain(
  filter: tf.Tensor,
  rows: ReturnType<typeof phasePlan>,
  cols: ReturnType<typeof phasePlan>,
  [sh, sw]: [number, number],
): tf.Tensor {
  const [, , inChannels, outChannels] = filter.shape;
  const phases: tf.Tensor[] = [];
  for (const row of rows.phases) {
    for (const col of cols.phases) {
      if (row.count === 0 || col.count === 0) {
        phases.push(tf.zeros([rows.size, cols.size, outChannels, inChannels]));
        continue;
      }
      const taps = tf.stridedSlice(
        filter,
        [row.first, col.first, 0, 0],
        [
          row.first + (row.count - 1) * sh + 1,
          col.first + (col.count - 1) * sw + 1,
          inChannels,
          outChannels,
        ],
        [sh, sw, 1, 1],
      );
      const swapped = tf.transpose(tf.reverse(taps, [0, 1]), [0, 1, 3, 2]);
      phases.push(tf.pad(swapped, [
        [row.offset, rows.size - row.offset - row.count],
        [col.offset, cols.size - col.offset - col.count],
        [0, 0],
        [0, 0],
      ]));
    }
  }
  return phases.length === 1 ? phases[0] : tf.concat(phases, 3);
}

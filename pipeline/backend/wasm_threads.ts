/**
 * Runs the wasm backend's large convolutions on several CPU cores.
 *
 * tfjs-backend-wasm's multithreaded build needs Emscripten pthreads, which
 * do not start under Deno, so its convolutions run on one core: XNNPACK's
 * wasm SIMD reaches 11–22 GFLOP/s on one core here (`bench/kernels.ts`; the VM
 * varies), where PyTorch uses every core. `startWasmThreads(n)` starts `n - 1` worker threads
 * (`wasm_worker.ts`), each with its own single-threaded wasm backend, and
 * wraps the `Conv2D` and `FusedConv2D` kernels: a convolution large enough to
 * pay for the copies is split along its batch axis (a single image, as in
 * whole-image prediction, along its output rows), the workers take their
 * slices through shared memory while the main thread computes its own, and
 * the slices are joined in the output. The training kernels of
 * `wasm_training_kernels.ts` are built from `Conv2D`, so the gradients split
 * too.
 *
 * Each output element is computed by the same XNNPACK code with the same
 * reduction order whichever thread computes it, so results are bit-identical
 * to one thread (tested).
 *
 * Worker threads are unreferenced: they never keep the process alive.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { tf } from "./tfjs.ts";
import {
  CONTROL_BYTES,
  type JobInput,
  readError,
  Slot,
  spinWhile,
  State,
  type WasmHeapBackend,
  writeJob,
} from "./wasm_thread_protocol.ts";

type KernelArgs = Parameters<tf.KernelFunc>[0];
type TensorInfo = tf.TensorInfo;

/** Convolutions below this many FLOP run on the main thread alone (see `setSplitThreshold`). */
const DEFAULT_SPLIT_FLOP = 1e8;
let splitFlop = DEFAULT_SPLIT_FLOP;

/** The data buffer's ceiling: 1 GiB of address space, committed only as used. */
const MAX_DATA_BYTES = 1 << 30;

class WasmThread {
  readonly control = new SharedArrayBuffer(CONTROL_BYTES);
  // deno-lint-ignore no-explicit-any
  readonly data = new (SharedArrayBuffer as any)(1 << 20, {
    maxByteLength: MAX_DATA_BYTES,
  }) as SharedArrayBuffer & { grow(bytes: number): void; growable: boolean };
  readonly slots = new Int32Array(this.control);
  readonly worker: Worker;

  constructor() {
    this.worker = new Worker(new URL("./wasm_worker.ts", import.meta.url), {
      workerData: { control: this.control, data: this.data },
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.worker.once("message", () => resolve());
      this.worker.once("error", reject);
      this.worker.once("exit", (code) => reject(new Error(`exited with code ${code}`)));
    });
  }

  /** A view of the data buffer with room for `floats` elements. */
  floats(floats: number): Float32Array {
    const bytes = floats * 4;
    if (bytes > this.data.byteLength) {
      if (bytes > MAX_DATA_BYTES) {
        throw new RangeError(`a wasm thread job of ${bytes} bytes exceeds ${MAX_DATA_BYTES}`);
      }
      this.data.grow(Math.min(MAX_DATA_BYTES, Math.max(bytes, 2 * this.data.byteLength)));
    }
    return new Float32Array(this.data);
  }

  post(): void {
    Atomics.store(this.slots, Slot.State, State.Posted);
    Atomics.notify(this.slots, Slot.State);
  }

  /** Blocks until the posted job is done; throws when it failed. */
  wait(): void {
    spinWhile(this.slots, State.Posted);
    Atomics.wait(this.slots, Slot.State, State.Posted);
    const state = Atomics.load(this.slots, Slot.State);
    Atomics.store(this.slots, Slot.State, State.Idle);
    if (state === State.Failed) {
      throw new Error(`a wasm worker thread failed: ${readError(this.control)}`);
    }
  }

  stop(): Promise<number> {
    Atomics.store(this.slots, Slot.State, State.Exit);
    Atomics.notify(this.slots, Slot.State);
    return this.worker.terminate();
  }
}

let threads: WasmThread[] = [];
const wrapped = new Set<string>();
let splitCount = 0;

/** How many convolutions have been split across threads since the process started. */
export function splitConvolutionCount(): number {
  return splitCount;
}

/** How many threads (the main thread included) wasm convolutions use now. */
export function wasmThreadCount(): number {
  return threads.length + 1;
}

/**
 * Sets the smallest convolution, in FLOP (2 per multiply-add), that is split
 * across threads; smaller ones are not worth the copies. Tests set 0 to
 * split everything. `undefined` restores the default (10⁸: measured here, splits below
 * about 5·10⁷ FLOP lose more to the copies and the hand-over than they gain).
 *
 * @returns The previous setting.
 */
export function setSplitThreshold(flop?: number): number {
  const previous = splitFlop;
  splitFlop = flop ?? DEFAULT_SPLIT_FLOP;
  return previous;
}

/**
 * The number of threads to use when none is asked for: the
 * `CAPILLARY_THREADS` environment variable when set, else every core.
 */
export function defaultThreadCount(): number {
  const fromEnv = Deno.env.get("CAPILLARY_THREADS");
  if (fromEnv !== undefined && fromEnv !== "") {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`CAPILLARY_THREADS must be an integer >= 1, not "${fromEnv}"`);
    }
    return n;
  }
  return Math.max(1, navigator.hardwareConcurrency ?? 1);
}

/**
 * Starts worker threads so wasm convolutions use `count` threads in all (the
 * main thread is one), stopping any started before. Call after the wasm
 * backend is registered. A worker that fails to start is reported in the
 * result and left out; convolutions then use the threads that did start.
 *
 * @param count Threads in all, at least 1 (1 stops the workers).
 * @returns The thread count now in use and, if some failed, why.
 */
export async function startWasmThreads(
  count: number,
): Promise<{ threads: number; problem?: string }> {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot use ${count} threads: need an integer >= 1`);
  }
  await stopWasmThreads();
  wrapConvolutions();
  const started = Array.from({ length: count - 1 }, () => new WasmThread());
  const outcomes = await Promise.allSettled(started.map((t) => t.ready()));
  const problems: string[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === "fulfilled") {
      started[i].worker.unref();
      threads.push(started[i]);
    } else {
      problems.push(String((outcome.reason as Error)?.message ?? outcome.reason));
      started[i].worker.terminate();
    }
  });
  return {
    threads: wasmThreadCount(),
    ...(problems.length ? { problem: `worker threads failed to start: ${problems[0]}` } : {}),
  };
}

/** Stops the worker threads; convolutions go back to the main thread alone. */
export async function stopWasmThreads(): Promise<void> {
  const stopping = threads;
  threads = [];
  await Promise.all(stopping.map((t) => t.stop()));
}

function wrapConvolutions(): void {
  for (const name of ["Conv2D", "FusedConv2D"]) {
    if (wrapped.has(name)) continue;
    const stock = tf.getKernel(name, "wasm");
    if (!stock) throw new Error(`the wasm backend has no ${name} kernel`);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      // The stock kernel binds its wasm function in setupFunc at backend start.
      setupFunc: stock.setupFunc,
      kernelFunc: (args: KernelArgs) => splitConvolution(name, stock.kernelFunc, args),
    });
    wrapped.add(name);
  }
}

/**
 * Splits `rows` (the images of a batch, or output rows) into `parts`
 * near-equal runs: [start, end) each.
 */
export function splitRows(rows: number, parts: number): [number, number][] {
  const runs: [number, number][] = [];
  for (let p = 0; p < parts; p++) {
    runs.push([Math.floor((p * rows) / parts), Math.floor(((p + 1) * rows) / parts)]);
  }
  return runs;
}

/**
 * One thread's part of a split convolution: which contiguous run of the
 * input's values it reads (as a tensor of `shape`), the attributes it runs
 * with, and where its output goes in the whole output, in floats.
 */
interface ConvolutionPart {
  readonly from: number;
  readonly to: number;
  readonly shape: number[];
  readonly attrs: tf.NamedAttrMap;
  readonly outFrom: number;
  readonly outTo: number;
}

/**
 * A batch split, image runs to each part; a single image is split by output
 * rows instead, each part reading the input rows its output rows see and
 * padding explicitly only where the whole image is padded. Both read and
 * write contiguous runs (NHWC).
 */
function convolutionParts(
  x: TensorInfo,
  attrs: tf.NamedAttrMap,
  info: tf.backend_util.Conv2DInfo,
  parts: number,
): ConvolutionPart[] {
  const [batch, height, width, channels] = x.shape;
  const perImageIn = height * width * channels;
  const outRow = info.outWidth * info.outChannels;
  const perImageOut = info.outHeight * outRow;
  if (batch > 1) {
    return splitRows(batch, parts).map(([start, end]) => ({
      from: start * perImageIn,
      to: end * perImageIn,
      shape: [end - start, height, width, channels],
      attrs,
      outFrom: start * perImageOut,
      outTo: end * perImageOut,
    }));
  }
  const { top, left, right } = info.padInfo;
  const reach = (info.filterHeight - 1) * info.dilationHeight + 1;
  const inRow = width * channels;
  return splitRows(info.outHeight, parts).map(([r0, r1]) => {
    // Input rows [first, last) feed output rows [r0, r1); those outside the image are padding.
    const first = r0 * info.strideHeight - top;
    const last = (r1 - 1) * info.strideHeight + reach - top;
    const lo = Math.max(0, first), hi = Math.min(height, last);
    return {
      from: lo * inRow,
      to: hi * inRow,
      shape: [1, hi - lo, width, channels],
      attrs: {
        ...attrs,
        pad: [[0, 0], [lo - first, last - hi], [left, right], [0, 0]],
        dimRoundingMode: undefined,
      } as unknown as tf.NamedAttrMap,
      outFrom: r0 * outRow,
      outTo: r1 * outRow,
    };
  });
}

function splitConvolution(kernel: string, stock: tf.KernelFunc, args: KernelArgs): TensorInfo {
  const inputs = args.inputs as Record<string, TensorInfo | undefined>;
  const x = inputs.x!, filter = inputs.filter!;
  const attrs = args.attrs as Record<string, unknown>;
  // Extra inputs (bias, PReLU weights) are copied whole: only when small and batch-free.
  const extras = Object.entries(inputs).filter(([name, t]) =>
    name !== "x" && name !== "filter" && t !== undefined
  ) as [string, TensorInfo][];
  if (
    threads.length === 0 || x.shape.length !== 4 || x.dtype !== "float32" ||
    (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") ||
    extras.some(([, t]) => t.shape.length > 1 || t.dtype !== "float32")
  ) {
    return stock(args) as TensorInfo;
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides as number | [number, number],
    attrs.dilations as number | [number, number],
    attrs.pad as "same",
    attrs.dimRoundingMode as "floor" | undefined,
  );
  const outShape = info.outShape;
  const batch = x.shape[0];
  const flop = 2 * batch * outShape[1] * outShape[2] * outShape[3] * info.filterHeight *
    info.filterWidth * info.inChannels;
  const parts = Math.min(
    threads.length + 1,
    batch > 1 ? batch : info.outHeight,
    Math.max(1, Math.floor(flop / splitFlop)),
  );
  if (parts < 2) return stock(args) as TensorInfo;
  splitCount++;

  const backend = args.backend as unknown as WasmHeapBackend;
  const [mine, ...theirs] = convolutionParts(x, args.attrs!, info, parts);
  const helpers = threads.slice(0, parts - 1);
  // Post the workers' parts first, so they compute while this thread does its own.
  const outOffsets = helpers.map((thread, i) => {
    const part = theirs[i];
    const jobInputs: JobInput[] = [{ name: "x", shape: part.shape, offset: 0 }];
    let offset = part.to - part.from;
    const sources: [JobInput, Float32Array][] = [];
    for (const [name, t] of [["filter", filter], ...extras] as [string, TensorInfo][]) {
      const input = { name, shape: t.shape, offset };
      jobInputs.push(input);
      sources.push([input, backend.typedArrayFromHeap(t)]);
      offset += tf.util.sizeFromShape(t.shape);
    }
    const floats = thread.floats(offset + part.outTo - part.outFrom);
    floats.set(backend.typedArrayFromHeap(x).subarray(part.from, part.to), 0);
    for (const [input, values] of sources) floats.set(values, input.offset);
    writeJob(thread.control, { kernel, inputs: jobInputs, attrs: part.attrs, outOffset: offset });
    thread.post();
    return offset;
  });

  let mainX: TensorInfo | undefined;
  let mainY: TensorInfo | undefined;
  let out: TensorInfo | undefined;
  try {
    mainX = backend.makeOutput(mine.shape, "float32");
    backend.typedArrayFromHeap(mainX).set(
      backend.typedArrayFromHeap(x).subarray(mine.from, mine.to),
    );
    mainY = stock({
      ...args,
      inputs: { ...args.inputs, x: mainX },
      attrs: mine.attrs,
    }) as TensorInfo;
    out = backend.makeOutput(outShape, "float32");
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(mainY), mine.outFrom);
  } finally {
    if (mainX) backend.disposeData(mainX.dataId);
    if (mainY) backend.disposeData(mainY.dataId);
    // Always collect the workers, so none is left mid-job.
    let failure: unknown;
    helpers.forEach((thread, i) => {
      try {
        thread.wait();
        if (!out) return;
        const { outFrom, outTo } = theirs[i];
        const job = new Float32Array(thread.data);
        backend.typedArrayFromHeap(out).set(
          job.subarray(outOffsets[i], outOffsets[i] + outTo - outFrom),
          outFrom,
        );
      } catch (error) {
        failure ??= error;
      }
    });
    if (failure) {
      if (out) backend.disposeData(out.dataId);
      // deno-lint-ignore no-unsafe-finally
      throw failure;
    }
  }
  return out!;
}

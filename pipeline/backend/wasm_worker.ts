/**
 * The worker side of `wasm_threads.ts`: a thread with its own single-threaded
 * tfjs-backend-wasm instance that runs the stock convolution kernels on the
 * slices of the batch the main thread hands it.
 *
 * Jobs arrive through shared memory, not messages: the main thread's kernels
 * are synchronous, so it posts a job and blocks on `Atomics.wait` until this
 * thread marks it done. The protocol (slots of `control`, offsets in floats
 * into `data`) is defined in `wasm_thread_protocol.ts`.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { tf } from "./tfjs.ts";
import {
  type Job,
  readJob,
  Slot,
  spinWhile,
  State,
  type WasmHeapBackend,
  writeError,
} from "./wasm_thread_protocol.ts";

const { control, data } = workerData as { control: SharedArrayBuffer; data: SharedArrayBuffer };
const slots = new Int32Array(control);

await import("@tensorflow/tfjs-backend-wasm");
if (!(await tf.setBackend("wasm"))) throw new Error('tf.setBackend("wasm") failed in a worker');
await tf.ready();
const backend = tf.backend() as unknown as WasmHeapBackend;

function run(job: Job): void {
  // `data` is growable: a fresh view sees its current length.
  const floats = new Float32Array(data);
  const kernel = tf.getKernel(job.kernel, "wasm");
  if (!kernel) throw new Error(`the wasm backend has no kernel ${job.kernel}`);
  const inputs: Record<string, tf.TensorInfo> = {};
  try {
    for (const input of job.inputs) {
      const info = backend.makeOutput(input.shape, "float32");
      backend.typedArrayFromHeap(info).set(
        floats.subarray(input.offset, input.offset + tf.util.sizeFromShape(input.shape)),
      );
      inputs[input.name] = info;
    }
    const out = kernel.kernelFunc({
      inputs,
      backend: backend as unknown as tf.KernelBackend,
      attrs: job.attrs,
    }) as tf.TensorInfo;
    floats.set(backend.typedArrayFromHeap(out), job.outOffset);
    backend.disposeData(out.dataId);
  } finally {
    for (const info of Object.values(inputs)) backend.disposeData(info.dataId);
  }
}

function serve(): void {
  while (true) {
    spinWhile(slots, State.Idle);
    Atomics.wait(slots, Slot.State, State.Idle);
    const state = Atomics.load(slots, Slot.State);
    if (state === State.Exit) return;
    if (state !== State.Posted) continue;
    try {
      run(readJob(control));
      Atomics.store(slots, Slot.State, State.Done);
    } catch (error) {
      writeError(control, (error as Error).message ?? String(error));
      Atomics.store(slots, Slot.State, State.Failed);
    }
    Atomics.notify(slots, Slot.State);
  }
}

parentPort!.postMessage("ready");
// Serve after this turn of the event loop, so the ready message goes out first.
setTimeout(serve, 0);

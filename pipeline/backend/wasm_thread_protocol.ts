/**
 * The shared-memory protocol between `wasm_threads.ts` (main thread) and
 * `wasm_worker.ts` (each worker): a small control buffer of state slots and a
 * JSON job description, and a growable data buffer of float32 inputs and
 * outputs.
 *
 * @module
 */
import type { tf } from "./tfjs.ts";

/** Int32 slots at the start of the control buffer. */
export const Slot = {
  /** A `State`; waited on and notified. */
  State: 0,
  /** Byte length of the job's JSON (or of the error message). */
  Bytes: 1,
} as const;

/** What a worker is doing. */
export const State = { Idle: 0, Posted: 1, Done: 2, Failed: 3, Exit: 4 } as const;

/** Size of the control buffer: slots, then the JSON text from `TEXT_OFFSET`. */
export const CONTROL_BYTES = 1 << 16;
const TEXT_OFFSET = 64;

/** One input of a job: where its floats lie in the data buffer. */
export interface JobInput {
  readonly name: string;
  readonly shape: number[];
  /** Offset in float32 elements. */
  readonly offset: number;
}

/** A kernel call for a worker: the stock wasm kernel `kernel` on `inputs`. */
export interface Job {
  readonly kernel: string;
  readonly inputs: JobInput[];
  readonly attrs: tf.NamedAttrMap;
  /** Where the worker writes the output, in float32 elements. */
  readonly outOffset: number;
}

/** The parts of tfjs-backend-wasm's `BackendWasm` that move data in and out of its heap. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

function writeText(control: SharedArrayBuffer, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > CONTROL_BYTES - TEXT_OFFSET) {
    throw new RangeError(`a wasm thread message of ${bytes.length} bytes is too long`);
  }
  new Uint8Array(control, TEXT_OFFSET).set(bytes);
  new Int32Array(control)[Slot.Bytes] = bytes.length;
}

function readText(control: SharedArrayBuffer): string {
  const length = new Int32Array(control)[Slot.Bytes];
  // TextDecoder refuses views of shared memory: copy out first.
  return new TextDecoder().decode(new Uint8Array(control, TEXT_OFFSET, length).slice());
}

/** Writes a job description into the control buffer (before posting it). */
export function writeJob(control: SharedArrayBuffer, job: Job): void {
  writeText(control, JSON.stringify(job));
}

/** Reads the posted job description. */
export function readJob(control: SharedArrayBuffer): Job {
  return JSON.parse(readText(control)) as Job;
}

/** Writes why a job failed (before setting `State.Failed`). */
export function writeError(control: SharedArrayBuffer, message: string): void {
  writeText(control, message.slice(0, 4096));
}

/** Reads why a job failed. */
export function readError(control: SharedArrayBuffer): string {
  return readText(control);
}

/**
 * Polls `slots[Slot.State]` while it equals `value`, for up to `microseconds`.
 * Waking a thread that sleeps in `Atomics.wait` costs the operating system's
 * wake-up latency (tenths of a millisecond on a virtual machine), which the
 * gaps between a training step's convolutions are too short to hide.
 *
 * @returns Whether the state changed while polling.
 */
export function spinWhile(slots: Int32Array, value: number, microseconds = 200): boolean {
  const end = performance.now() + microseconds / 1000;
  while (Atomics.load(slots, Slot.State) === value) {
    if (performance.now() > end) return false;
  }
  return true;
}

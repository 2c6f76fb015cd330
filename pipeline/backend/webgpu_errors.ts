/**
 * Turns work that the WebGPU device refused into an error at the next read.
 * tfjs-backend-webgpu never listens for the device's uncaptured errors, so a
 * shader the device refuses leaves its output as zeros and the run goes on
 * with them, saying nothing: on Mesa's lavapipe, which binds at most 128 MiB
 * of a buffer to a shader, `tf.mul` of a tensor of 34 M values read back as
 * zeros (2026-12-07). At the paper's width a batch of 64 has gate tensors of
 * 151 MB, and a whole DRIVE image (584 × 584) 349 MB, so this is where a GPU with a low
 * limit would fail. {@link guardWebGpuReads} records what the device reports
 * and fails the first read after it with {@link explainDeviceErrors}' message.
 *
 * @module
 */
import { BackendError } from "../errors.ts";

/** What is kept of one error the device reported. */
export interface DeviceErrorRecord {
  /** `GPUValidationError`, `GPUOutOfMemoryError`, `GPUInternalError` or `device lost`. */
  readonly kind: string;
  /** The driver's or WebGPU's own message. */
  readonly message: string;
}

const MIB = 1024 * 1024;
// wgpu's words for a buffer bound past the limit (Deno 2.9): "Buffer binding 0 range
// 160000000 exceeds `max_*_buffer_binding_size` limit 134217728".
const BINDING_PAST_LIMIT = /range (\d+) exceeds .*?limit (\d+)/;
const SMALLER_WORK = "predict in windows (`evaluate.window: 96`), train a smaller batch " +
  "(`train.batchSize`), or use `backend: wasm` and `inferenceBackend: wasm`";

function mebibytes(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MiB`;
}

/**
 * What went wrong on the device and what to do, from the errors it reported
 * (the first explains; the rest are counted, since one refused buffer makes
 * every later use of it an error too).
 *
 * @param errors What the device reported, in order (at least one).
 * @param adapter The adapter's description, as the backend choice prints it.
 * @returns The message for a {@link BackendError}.
 *
 * @example A tensor bound past the adapter's limit
 * ```ts
 * import { assertEquals } from "../../tests/assert.ts";
 * import { explainDeviceErrors } from "./webgpu_errors.ts";
 *
 * const message = explainDeviceErrors([{
 *   kind: "GPUValidationError",
 *   message: "Buffer binding 0 range 160000000 exceeds `max_*_buffer_binding_size` limit 134217728",
 * }], "llvmpipe");
 * assertEquals(message.startsWith(
 *   "WebGPU (llvmpipe) refused a tensor of 153 MiB: this adapter binds at most 128 MiB",
 * ), true);
 * ```
 */
export function explainDeviceErrors(
  errors: readonly DeviceErrorRecord[],
  adapter: string,
): string {
  const first = errors[0];
  if (!first) throw new RangeError("explainDeviceErrors needs at least one error");
  const more = errors.length > 1
    ? ` (${errors.length - 1} more error${errors.length > 2 ? "s" : ""} followed)`
    : "";
  const raw = `${first.kind}: ${first.message}${more}`;
  const outOfMemory = errors.find((e) => e.kind === "GPUOutOfMemoryError");
  if (outOfMemory) {
    return `WebGPU (${adapter}) ran out of GPU memory, so results from then on would be ` +
      `wrong; the run stops here. To go on: ${SMALLER_WORK}. (${outOfMemory.kind}: ` +
      `${outOfMemory.message})`;
  }
  const lost = errors.find((e) => e.kind === "device lost");
  if (lost) {
    return `The WebGPU device (${adapter}) was lost: the driver reset or stopped it ` +
      `(${lost.message || "no reason given"}). Run again (resume continues from the last ` +
      "checkpoint), or use `backend: wasm` and `inferenceBackend: wasm`.";
  }
  const past = BINDING_PAST_LIMIT.exec(first.message);
  if (past) {
    const [needed, limit] = [Number(past[1]), Number(past[2])];
    return `WebGPU (${adapter}) refused a tensor of ${mebibytes(needed)}: this adapter binds ` +
      `at most ${mebibytes(limit)} of a buffer to a shader (its maxStorageBufferBindingSize), ` +
      `so the results would have been zeros; the run stops here. To go on: ${SMALLER_WORK}. ` +
      `(${raw})`;
  }
  return `WebGPU (${adapter}) refused work, so its results would be wrong; the run stops ` +
    `here. A limit of this adapter or a fault in a kernel: to go on, use \`backend: wasm\` ` +
    `and \`inferenceBackend: wasm\`, and please report it with this message. (${raw})`;
}

/** The parts of tfjs-backend-webgpu's backend that the guard wraps. */
export interface GuardedWebGpuBackend {
  /** The WebGPU device the backend runs on. */
  readonly device: GPUDevice;
  /** Reads a tensor's values (what `tensor.data()` calls). */
  read(dataId: object): Promise<unknown>;
  /** Reads a tensor's values synchronously (what `tensor.dataSync()` calls). */
  readSync(dataId: object): unknown;
}

const GUARDED = Symbol("capillary.webgpuErrorGuard");

/**
 * Listens for the device's uncaptured errors and its loss, and makes the
 * backend's next read throw a {@link BackendError} saying what went wrong and
 * what to do; the errors are cleared once thrown. Errors from work submitted
 * before a read reach the listener before that read's values do (lavapipe,
 * Deno 2.9), so refused work fails the read of its own output. Guarding the
 * same backend twice changes nothing.
 *
 * @param backend tfjs-backend-webgpu's backend (`tf.findBackend("webgpu")`).
 * @param adapter The adapter's description, for the message.
 */
export function guardWebGpuReads(backend: GuardedWebGpuBackend, adapter: string): void {
  const marked = backend as GuardedWebGpuBackend & { [GUARDED]?: true };
  if (marked[GUARDED]) return;
  marked[GUARDED] = true;
  const errors: DeviceErrorRecord[] = [];
  backend.device.addEventListener("uncapturederror", (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    errors.push({ kind: error.constructor.name, message: error.message });
  });
  backend.device.lost.then((info) => {
    // destroy() at exit is not a failure.
    if (info.reason !== "destroyed") errors.push({ kind: "device lost", message: info.message });
  });
  const failIfRefused = () => {
    if (errors.length === 0) return;
    const message = explainDeviceErrors(errors, adapter);
    errors.length = 0;
    throw new BackendError(message);
  };
  const read = backend.read.bind(backend);
  const readSync = backend.readSync.bind(backend);
  backend.read = async (dataId) => {
    const values = await read(dataId);
    failIfRefused();
    return values;
  };
  backend.readSync = (dataId) => {
    const values = readSync(dataId);
    failIfRefused();
    return values;
  };
}

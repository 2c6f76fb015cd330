/**
 * Telling an error that means "out of memory" from others. No backend says
 * so plainly: tfjs-backend-wasm, whose WebAssembly memory stops at 4 GiB,
 * fails a 4096 × 4096 prediction at width 8 with `RangeError: Invalid typed
 * array length: 67108864` on this thread and `RuntimeError: memory access out
 * of bounds` in a worker, and a training step too large for it with `Aborted()`
 * (2026-12-07). A caller that knows what it asked for
 * (an image predicted whole, a batch) can then say what to make smaller.
 *
 * @module
 */

// The words each runtime uses; measured where a date is given, the rest Emscripten's and V8's own.
const OUT_OF_MEMORY = [
  /memory access out of bounds/i, // wasm kernels writing through a failed allocation (2026-12-07)
  /Invalid typed array length/i, // a view past the end of wasm's memory (2026-12-07)
  /Array buffer allocation failed/i, // V8, an ArrayBuffer too large for the heap
  /Cannot enlarge memory/i, // Emscripten, memory growth refused
  /Maximum memory size exceeded/i, // WebAssembly.Memory.grow past its maximum
  /\bout of (GPU )?memory\b/i, // Emscripten's abort("OOM"), WebGPU's out-of-memory errors
  /\bOOM\b/,
  // tfjs-backend-wasm's abort with no reason: drive-full.yaml's first step on wasm at batch 64
  // (width 64) ended so, where batch 16 trained (2026-12-07).
  /^Aborted\(\)/,
];

/**
 * Whether `error`, or an error in its `cause` chain, says that memory ran out.
 *
 * @param error What was thrown.
 * @returns True when a message matches what the runtimes say when memory runs out.
 *
 * @example Usage
 * ```ts
 * import { isOutOfMemory } from "./out_of_memory.ts";
 * const worker = new Error("A prediction worker failed: RuntimeError: memory access out of bounds");
 * console.assert(isOutOfMemory(worker));
 * console.assert(isOutOfMemory(new Error("stage failed", { cause: new RangeError("Invalid typed array length: 67108864") })));
 * console.assert(!isOutOfMemory(new Error("Cannot read DRIVE: file not found")));
 * ```
 */
export function isOutOfMemory(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (OUT_OF_MEMORY.some((pattern) => pattern.test(e.message))) return true;
  }
  return false;
}

/**
 * What bounds a backend's memory, for messages.
 *
 * @param backend The tfjs backend's name (`tf.getBackend()`).
 * @returns A phrase, e.g. "WebAssembly gives a process at most 4 GiB".
 */
export function memoryBound(backend: string): string {
  if (backend === "wasm") return "WebAssembly gives a process at most 4 GiB";
  if (backend === "webgpu") return "the GPU's memory, and the adapter's buffer limits";
  if (backend === "tensorflow") return "the device's memory";
  return "JavaScript's heap";
}

/**
 * Cleanup that never hides the error it follows. After WebAssembly's memory
 * ran out, tfjs-backend-wasm's heap can be unusable: disposing the network
 * in a `finally` then threw `memory access out of bounds` and replaced the
 * error that said what to do (2026-12-07, a 2048 × 2048 window at width 8).
 *
 * @module
 */

/**
 * Runs `work`, then `cleanup`. When `work` fails, `cleanup` still runs, but
 * an error of its own is dropped and `work`'s is thrown; when `work`
 * succeeds, an error in `cleanup` is thrown.
 *
 * @param work What to do.
 * @param cleanup What to release afterwards, whatever happened.
 * @returns What `work` returned.
 *
 * @example Usage
 * ```ts
 * import { assertRejects } from "../tests/assert.ts";
 * import { withCleanup } from "./cleanup.ts";
 * let released = false;
 * await assertRejects(
 *   () =>
 *     withCleanup(() => Promise.reject(new RangeError("out of memory")), () => {
 *       released = true;
 *       throw new Error("the heap is gone");
 *     }),
 *   RangeError,
 *   "out of memory",
 * );
 * console.assert(released);
 * ```
 */
export async function withCleanup<T>(
  work: () => Promise<T>,
  cleanup: () => Promise<void> | void,
): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    try {
      await cleanup();
    } catch {
      // The first error is the one that says what went wrong.
    }
    throw error;
  }
  await cleanup();
  return result;
}

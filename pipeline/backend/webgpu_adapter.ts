/**
 * Deno's WebGPU adapter, requested after the environment Deno reads when it
 * starts WebGPU is set up. Every WebGPU user in Capillary (backend choice,
 * tests) asks here, so the first request in a process sees the same settings.
 *
 * @module
 */

/** The parts of Deno's `GPUAdapter` that Capillary reads. */
export interface WebGpuAdapter {
  /** What the adapter says it is (`description` is llvmpipe's "llvmpipe (LLVM …)"). */
  readonly info?: { vendor?: string; device?: string; description?: string };
}

/** Where the variables are read and written: `Deno.env`, or a stand-in in tests. */
export interface Environment {
  /** The variable's value, or undefined when unset. */
  get(name: string): string | undefined;
  /** Sets a variable. */
  set(name: string, value: string): void;
}

/**
 * Sets, where the user has not, what Deno's WebGPU reads on its first adapter
 * request, and returns what it set:
 * - `XDG_RUNTIME_DIR` (the temp folder): Mesa's Vulkan loader prints "error:
 *   XDG_RUNTIME_DIR is invalid" without it (CI, containers).
 * - `DENO_WEBGPU_BACKEND=vulkan` on Linux: by default Deno starts OpenGL (EGL)
 *   beside Vulkan. On a machine whose only adapter is Mesa's lavapipe that
 *   loads a second LLVM-based software driver that offers no adapter, and 4 of
 *   107 test processes then aborted at exit with "corrupted size vs. prev_size
 *   in fastbins", none of 80 with Vulkan only (lavapipe, 2026-12-07). Linux
 *   GPUs WebGPU can use have Vulkan drivers; `DENO_WEBGPU_BACKEND=gl` still
 *   chooses OpenGL.
 *
 * @param env The environment to read and set.
 * @param os The operating system (`Deno.build.os`).
 * @returns The variables it set, by name.
 *
 * @example Linux with neither variable set
 * ```ts
 * import { assertEquals } from "../../tests/assert.ts";
 * import { prepareWebGpuEnvironment } from "./webgpu_adapter.ts";
 *
 * const vars = new Map<string, string>([["TMPDIR", "/scratch"]]);
 * const env = { get: (n: string) => vars.get(n), set: (n: string, v: string) => vars.set(n, v) };
 * assertEquals(prepareWebGpuEnvironment(env, "linux"), {
 *   XDG_RUNTIME_DIR: "/scratch",
 *   DENO_WEBGPU_BACKEND: "vulkan",
 * });
 * assertEquals(vars.get("DENO_WEBGPU_BACKEND"), "vulkan");
 * ```
 */
export function prepareWebGpuEnvironment(
  env: Environment,
  os: typeof Deno.build.os,
): Record<string, string> {
  const wanted: Record<string, string> = {
    XDG_RUNTIME_DIR: env.get("TMPDIR") || "/tmp",
    ...(os === "linux" ? { DENO_WEBGPU_BACKEND: "vulkan" } : {}),
  };
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(wanted)) {
    if (env.get(name)) continue;
    env.set(name, value);
    set[name] = value;
  }
  return set;
}

/**
 * Requests the WebGPU adapter, after {@link prepareWebGpuEnvironment} on this process.
 *
 * @returns The adapter, or null where this Deno has no WebGPU or no adapter.
 */
export async function requestWebGpuAdapter(): Promise<WebGpuAdapter | null> {
  prepareWebGpuEnvironment(Deno.env, Deno.build.os);
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<WebGpuAdapter | null> } }).gpu;
  if (!gpu) return null;
  return await gpu.requestAdapter().catch(() => null);
}

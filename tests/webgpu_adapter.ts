/**
 * Whether WebGPU tests can run here: Deno needs an adapter (on a CPU, Mesa's
 * lavapipe from `mesa-vulkan-drivers`), asked for as the backend choice asks
 * (`requestWebGpuAdapter`). Where there is one, tfjs-backend-webgpu is
 * imported, so tests can set it.
 *
 * @module
 */
import { requestWebGpuAdapter } from "../pipeline/backend/webgpu_adapter.ts";

const adapter = await requestWebGpuAdapter();

/** True where there is no WebGPU adapter: the value for `Deno.test`'s `ignore`. */
export const noWebgpu: boolean = adapter === null;

if (!noWebgpu) await import("@tensorflow/tfjs-backend-webgpu");

/** A test's name, saying why it is skipped where there is no adapter. */
export function webgpuTestName(name: string): string {
  return noWebgpu
    ? `${name} (skipped: no WebGPU adapter; install a Vulkan driver, e.g. mesa-vulkan-drivers)`
    : name;
}

/**
 * Replaces a backend's kernel with one built from the backend's own kernel
 * and its `Reshape`: the way `reverse_kernel.ts` and `pad_kernel.ts` lift
 * tfjs-backend-webgpu's rank limits, by running the stock kernel on
 * lower-rank views of a tensor.
 *
 * @module
 */
import { tf } from "./tfjs.ts";

/** What a kernel function is called with. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The backend's own kernels, for the replacement to call. */
export interface OwnKernels {
  /** Runs the replaced kernel as the backend registered it. */
  readonly own: (args: KernelArgs) => tf.TensorInfo;
  /** Reshapes `x` to `shape` on the backend (a view: no copy where the backend can). */
  readonly reshape: (x: tf.TensorInfo, shape: number[], backend: unknown) => tf.TensorInfo;
}

const patched = new Set<string>();

/**
 * Registers `make(own kernels)` as `kernelName` on `backendName` in place of
 * the backend's kernel. Idempotent per kernel and backend.
 *
 * @param kernelName The kernel to replace, e.g. `Reverse`.
 * @param backendName A registered backend, e.g. `webgpu`.
 * @param make Builds the replacement from the backend's own kernel and reshape.
 * @returns Whether it is replaced (false if the backend has no such kernel or no `Reshape`).
 */
export function replaceKernelWithViews(
  kernelName: string,
  backendName: string,
  make: (kernels: OwnKernels) => tf.KernelFunc,
): boolean {
  const key = `${kernelName}\u0000${backendName}`;
  if (patched.has(key)) return true;
  const original = tf.getKernel(kernelName, backendName);
  const reshapeKernel = tf.getKernel("Reshape", backendName);
  if (!original || !reshapeKernel) return false;
  const kernels: OwnKernels = {
    own: (args) => original.kernelFunc(args) as tf.TensorInfo,
    reshape: (x, shape, backend) =>
      reshapeKernel.kernelFunc({
        inputs: { x },
        backend,
        attrs: { shape },
      } as unknown as KernelArgs) as tf.TensorInfo,
  };
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc: make(kernels) });
  patched.add(key);
  return true;
}

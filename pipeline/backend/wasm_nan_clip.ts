/**
 * Makes tfjs-backend-wasm's `ClipByValue` keep NaN, as the cpu and webgpu
 * backends do. XNNPACK's clamp turns NaN into the lower bound, and
 * binary cross-entropy clips its predictions, so on stock wasm a network
 * whose weights went NaN reports a finite loss (−log 1e-7 ≈ 16.1) and
 * training goes on silently. The replacement selects x where x is NaN and
 * the stock clip elsewhere, all in wasm kernels.
 *
 * @module
 */
import { tf } from "./tfjs.ts";

type KernelArgs = Parameters<tf.KernelFunc>[0];

let done = false;

/**
 * Replaces `ClipByValue` on the wasm backend (idempotent). Call after
 * importing `@tensorflow/tfjs-backend-wasm`, before or after it initialises.
 *
 * @returns Whether the kernel was replaced now.
 */
export function keepNanInWasmClip(): boolean {
  const stock = tf.getKernel("ClipByValue", "wasm");
  const isNan = tf.getKernel("IsNan", "wasm");
  const select = tf.getKernel("Select", "wasm");
  if (done || !stock || !isNan || !select) return false;
  const run = (kernel: tf.KernelConfig, args: KernelArgs) =>
    kernel.kernelFunc(args) as tf.TensorInfo;
  tf.unregisterKernel("ClipByValue", "wasm");
  tf.registerKernel({
    kernelName: "ClipByValue",
    backendName: "wasm",
    // The stock kernel binds its wasm function in setupFunc at backend start.
    setupFunc: stock.setupFunc,
    kernelFunc: (args: KernelArgs) => {
      const { inputs, backend } = args;
      const x = inputs.x as tf.TensorInfo;
      const clipped = run(stock, args);
      const nan = run(isNan, { inputs: { x }, backend, attrs: {} });
      const out = run(select, { inputs: { condition: nan, t: x, e: clipped }, backend, attrs: {} });
      (backend as tf.KernelBackend).disposeData(clipped.dataId);
      (backend as tf.KernelBackend).disposeData(nan.dataId);
      return out;
    },
  });
  done = true;
  return true;
}

/**
 * Lifts a backend's rank limit on `Reverse`. tfjs-backend-webgpu 4.22 (and
 * webgl) only reverse tensors of rank <= 4, yet a ConvLSTM with
 * `goBackwards` reverses a rank-5 sequence. Reversing one axis of any tensor
 * equals reversing the middle axis of a rank-3 view `[before, axis, after]`,
 * so the patched kernel reshapes, reverses one axis at a time, and reshapes back.
 *
 * @module
 */
import { tf } from "./tfjs.ts";
import { type KernelArgs, replaceKernelWithViews } from "./view_kernel.ts";

/**
 * Replaces `Reverse` on `backendName` with a wrapper that handles any rank by
 * delegating to the backend's own rank-3 kernel. Idempotent.
 *
 * @param backendName A registered backend, e.g. `webgpu`.
 * @returns Whether the kernel was replaced (false if the backend has no `Reverse` or `Reshape`).
 */
export function liftReverseRankLimit(backendName: string): boolean {
  return replaceKernelWithViews(
    "Reverse",
    backendName,
    ({ own, reshape }) => (args: KernelArgs) => {
      const { inputs, backend, attrs } = args;
      const x = inputs.x as tf.TensorInfo;
      if (x.shape.length <= 4) return own(args);
      const dims = (attrs as { dims: number | number[] }).dims;
      const axes = [...new Set(tf.util.parseAxisParam(dims, x.shape))];
      const temporaries: tf.TensorInfo[] = [];
      let current = x;
      for (const axis of axes) {
        const before = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
        const after = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const view = reshape(current, [before, x.shape[axis], after], backend);
        current = own(
          { inputs: { x: view }, backend, attrs: { dims: [1] } } as unknown as KernelArgs,
        );
        temporaries.push(view, current);
      }
      const out = reshape(current, [...x.shape], backend);
      for (const t of temporaries) (backend as tf.KernelBackend).disposeData(t.dataId);
      return out;
    },
  );
}

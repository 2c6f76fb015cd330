/**
 * Lifts a backend's rank limit on `PadV2`. tfjs-backend-webgpu 4.22 pads
 * tensors of rank 5 wrongly (2026-12-04, lavapipe: a rank-5 pad's values are
 * not the `cpu` backend's), and the gradient of a rank-5 `slice` is such a
 * pad: the ConvLSTM's per-step slices of its sequence got gradients of the
 * wrong values, and a batch-normalised ConvLSTM network's loss was NaN by
 * its second step. Padding one axis of any tensor equals padding the middle axis
 * of a rank-3 view `[before, axis, after]`, which the backend does right, so
 * the patched kernel pads one axis at a time through such views.
 *
 * @module
 */
import type { tf } from "./tfjs.ts";
import { type KernelArgs, replaceKernelWithViews } from "./view_kernel.ts";

/**
 * Replaces `PadV2` on `backendName` with a wrapper that handles ranks above 4
 * by delegating to the backend's own kernel on rank-3 views, one padded axis
 * at a time. Idempotent.
 *
 * @param backendName A registered backend, e.g. `webgpu`.
 * @returns Whether the kernel was replaced (false if the backend has no `PadV2` or `Reshape`).
 */
export function liftPadRankLimit(backendName: string): boolean {
  return replaceKernelWithViews("PadV2", backendName, ({ own, reshape }) => (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as tf.TensorInfo;
    if (x.shape.length <= 4) return own(args);
    const { paddings, constantValue } = attrs as unknown as {
      paddings: [number, number][];
      constantValue: number;
    };
    const shape = [...x.shape];
    const temporaries: tf.TensorInfo[] = [];
    let current = x;
    paddings.forEach(([low, high], axis) => {
      if (low === 0 && high === 0) return;
      const before = shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const after = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const view = reshape(current, [before, shape[axis], after], backend);
      current = own({
        inputs: { x: view },
        backend,
        attrs: { paddings: [[0, 0], [low, high], [0, 0]], constantValue },
      } as unknown as KernelArgs);
      temporaries.push(view, current);
      shape[axis] += low + high;
    });
    const out = reshape(current, shape, backend);
    for (const t of temporaries) (backend as tf.KernelBackend).disposeData(t.dataId);
    return out;
  });
}

/**
 * A network's prediction of a whole image through sliding windows, as the
 * evaluation and `deno task predict` both do it.
 *
 * @module
 */
import type { Raster, Tf } from "../../../mod.ts";
import { slidingWindowPredict, windowOrigins } from "./sliding_window.ts";

/**
 * The window and stride of whole-image prediction: unset, the window is the
 * training patch side and the stride half the window.
 *
 * @param window The window side asked for, or null/undefined.
 * @param stride The stride asked for, or null/undefined.
 * @param patchSize The training patch side.
 * @returns The window and stride to use.
 *
 * @example Usage
 * ```ts
 * import { windowGeometry } from "./predict_windows.ts";
 * const { window, stride } = windowGeometry(null, undefined, 48);
 * console.assert(window === 48 && stride === 24);
 * ```
 */
export function windowGeometry(
  window: number | null | undefined,
  stride: number | null | undefined,
  patchSize: number,
): { window: number; stride: number } {
  const side = window ?? patchSize;
  return { window: side, stride: stride ?? Math.max(1, Math.floor(side / 2)) };
}

/** How many windows of `window` at `stride` cover an image of `size`. */
export function windowCount(
  size: { readonly width: number; readonly height: number },
  window: number,
  stride: number,
): number {
  return windowOrigins(size.width, window, stride).length *
    windowOrigins(size.height, window, stride).length;
}

/**
 * Predicts `image` with `model` (input `window × window × image.channels`),
 * overlaps averaged (see {@link slidingWindowPredict}).
 *
 * @param tf The TensorFlow.js runtime.
 * @param model The network, built for `window`.
 * @param image The image.
 * @param window The model's input side.
 * @param stride The step between windows.
 * @param batchSize The most windows per prediction.
 * @param onWindows Called with how many windows each batch predicted (progress).
 * @returns The probability map, one channel.
 *
 * @example Usage
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { predictWindows } from "./predict_windows.ts";
 * const input = tf.input({ shape: [4, 4, 1] });
 * const model = tf.model({ inputs: input, outputs: tf.layers.activation({ activation: "linear" }).apply(input) as tf.SymbolicTensor });
 * const image = { width: 6, height: 5, channels: 1, data: new Float32Array(30).map((_, i) => i) };
 * const out = await predictWindows(tf, model, image, 4, 2, 8);
 * console.assert(out.data.every((v, i) => v === i));
 * ```
 */
export function predictWindows(
  tf: Tf,
  model: import("@tensorflow/tfjs").LayersModel,
  image: Raster,
  window: number,
  stride: number,
  batchSize: number,
  onWindows: (n: number) => void = () => {},
): Promise<Raster> {
  return slidingWindowPredict(image, window, stride, async (batch, n) => {
    const x = tf.tensor4d(batch, [n, window, window, image.channels]);
    const y = model.predict(x) as import("@tensorflow/tfjs").Tensor;
    const values = await y.data() as Float32Array;
    tf.dispose([x, y]);
    onWindows(n);
    return values;
  }, batchSize);
}

/**
 * A network's prediction of a whole image through sliding windows, as the
 * evaluation and `deno task predict` both do it.
 *
 * @module
 */
import { CapillaryError, isOutOfMemory, memoryBound, type Raster, type Tf } from "../../../mod.ts";
import { type Mirror, mirrorRaster, transposeRaster } from "../image/mirror.ts";
import { type PredictBatch, slidingWindowPredictAll, windowOrigins } from "./sliding_window.ts";

/** The window option of whole-image prediction: a side, `"image"`, or unset (the training patch). */
export type WindowOption = number | "image" | null | undefined;

/**
 * The window and stride of whole-image prediction: unset, the window is the
 * training patch side and the stride half the window; `"image"`, one window
 * per image, the largest image side rounded up to a multiple of 8 (the
 * network pools three times), the rest of it padded with zeros.
 *
 * @param window The window side asked for, `"image"`, or null/undefined.
 * @param stride The stride asked for, or null/undefined.
 * @param patchSize The training patch side.
 * @param images The images to predict; needed for `"image"`.
 * @returns The window and stride to use.
 * @throws {RangeError} For `"image"` without images.
 *
 * @example Usage
 * ```ts
 * import { windowGeometry } from "./predict_windows.ts";
 * const { window, stride } = windowGeometry(null, undefined, 48);
 * console.assert(window === 48 && stride === 24);
 * // DRIVE's 565 × 584 images whole: one 584 × 584 window each
 * console.assert(windowGeometry("image", null, 48, [{ width: 565, height: 584 }]).window === 584);
 * ```
 */
export function windowGeometry(
  window: WindowOption,
  stride: number | null | undefined,
  patchSize: number,
  images: readonly { readonly width: number; readonly height: number }[] = [],
): { window: number; stride: number } {
  if (window === "image") {
    if (!images.length) throw new RangeError('window "image" needs the images to predict');
    const side = Math.max(...images.map((i) => Math.max(i.width, i.height)));
    const whole = Math.ceil(side / 8) * 8;
    return { window: whole, stride: whole };
  }
  const side = window ?? patchSize;
  return { window: side, stride: stride ?? Math.max(1, Math.floor(side / 2)) };
}

/** The test-time flip axes an evaluation may name (`transpose`: the mirror along the diagonal). */
export type FlipAxis = "horizontal" | "vertical" | "transpose";

/** A test-time flip: a mirror, then (when `transpose`) a transposition. */
export interface Flip extends Mirror {
  /** Transpose after mirroring. */
  readonly transpose?: boolean;
}

/**
 * Every combination of the named flips, the unflipped one first: what
 * test-time flips predict and average (`2^axes` predictions per image; all
 * three axes give the square's 8 symmetries).
 *
 * @param axes Axes to flip along; repeats count once.
 * @returns 1, 2, 4 or 8 flips.
 *
 * @example Usage
 * ```ts
 * import { flipCombinations } from "./predict_windows.ts";
 * console.assert(flipCombinations([]).length === 1);
 * console.assert(flipCombinations(["horizontal", "vertical"]).length === 4);
 * console.assert(flipCombinations(["horizontal", "vertical", "transpose"]).length === 8);
 * ```
 */
export function flipCombinations(axes: readonly FlipAxis[]): Flip[] {
  const flips: Flip[] = [{ horizontal: false, vertical: false }];
  if (axes.includes("horizontal")) flips.push({ horizontal: true, vertical: false });
  if (axes.includes("vertical")) {
    for (const m of [...flips]) flips.push({ horizontal: m.horizontal, vertical: true });
  }
  if (axes.includes("transpose")) {
    for (const m of [...flips]) flips.push({ ...m, transpose: true });
  }
  return flips;
}

/** How {@link predictWindows} predicts an image. */
export interface WindowPrediction {
  /** The model's input side. */
  readonly window: number;
  /** The step between windows, 1..window. */
  readonly stride: number;
  /** The most windows per prediction. */
  readonly batchSize: number;
  /**
   * The image is predicted once per flip (see {@link flipCombinations}),
   * each prediction flipped back, and the predictions averaged. Default:
   * the image as it is, once.
   */
  readonly flips?: readonly Flip[];
  /**
   * The same network elsewhere (on worker threads), to predict instead of
   * `model`: batches (a whole image and each of its flips one each) go to
   * whichever is free, this thread only handing them out. Default: none,
   * `model` on this thread.
   */
  readonly workers?: readonly PredictBatch[];
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
 * How many windows {@link predictWindows} predicts for an image of `size`:
 * its windows, once per flip (what progress counts).
 *
 * @param size The image's width and height.
 * @param how Window, stride and flips.
 * @returns The number of window predictions.
 *
 * @example Usage
 * ```ts
 * import { flipCombinations, predictedWindows } from "./predict_windows.ts";
 * const whole = { window: 592, stride: 592, batchSize: 1, flips: flipCombinations(["horizontal"]) };
 * console.assert(predictedWindows({ width: 565, height: 584 }, whole) === 2);
 * ```
 */
export function predictedWindows(
  size: { readonly width: number; readonly height: number },
  how: WindowPrediction,
): number {
  return windowCount(size, how.window, how.stride) * Math.max(1, how.flips?.length ?? 0);
}

/**
 * Predicts `image` with `model` (input `window × window × image.channels`),
 * overlaps averaged (see {@link slidingWindowPredictAll}), and with test-time
 * flips the mirrored predictions averaged too, in flip order.
 *
 * @param tf The TensorFlow.js runtime.
 * @param model The network, built for `how.window`.
 * @param image The image.
 * @param how Window, stride, batch size and flips.
 * @param onWindows Called with how many windows each batch predicted (progress).
 * @returns The probability map, one channel.
 *
 * @example Usage
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { flipCombinations, predictWindows } from "./predict_windows.ts";
 * const input = tf.input({ shape: [4, 4, 1] });
 * const model = tf.model({ inputs: input, outputs: tf.layers.activation({ activation: "linear" }).apply(input) as tf.SymbolicTensor });
 * const image = { width: 6, height: 5, channels: 1, data: new Float32Array(30).map((_, i) => i) };
 * const out = await predictWindows(tf, model, image, { window: 4, stride: 2, batchSize: 8 });
 * console.assert(out.data.every((v, i) => v === i));
 * // an identity model is unchanged by flips: each is undone before averaging
 * const flipped = await predictWindows(tf, model, image, {
 *   window: 4, stride: 2, batchSize: 8, flips: flipCombinations(["horizontal", "vertical", "transpose"]),
 * });
 * console.assert(flipped.data.every((v, i) => v === i));
 * ```
 */
export async function predictWindows(
  tf: Tf,
  model: import("@tensorflow/tfjs").LayersModel,
  image: Raster,
  how: WindowPrediction,
  onWindows: (n: number) => void = () => {},
): Promise<Raster> {
  const { window, stride, batchSize } = how;
  const flips = how.flips?.length ? how.flips : [{ horizontal: false, vertical: false }];
  const here = async (batch: Float32Array, n: number) => {
    const x = tf.tensor4d(batch, [n, window, window, image.channels]);
    const y = model.predict(x) as import("@tensorflow/tfjs").Tensor;
    const values = await y.data() as Float32Array;
    tf.dispose([x, y]);
    return values;
  };
  const counted = (predict: PredictBatch) => async (batch: Float32Array, n: number) => {
    const values = await predict(batch, n);
    onWindows(n);
    return values;
  };
  const models = how.workers?.length ? how.workers : [here];
  const mirror = (r: Raster, flip: Flip) =>
    flip.horizontal || flip.vertical ? mirrorRaster(r, flip) : r;
  const transpose = (r: Raster, flip: Flip) => flip.transpose ? transposeRaster(r) : r;
  // Mirror, then transpose; back: transpose, then mirror (each is its own inverse).
  let predicted: Raster[];
  try {
    predicted = await slidingWindowPredictAll(
      flips.map((flip) => transpose(mirror(image, flip), flip)),
      window,
      stride,
      models.map(counted),
      batchSize,
    );
  } catch (error) {
    if (!isOutOfMemory(error)) throw error;
    throw outOfMemory(error as Error, image, how, tf.getBackend());
  }
  const mean = new Float32Array(image.width * image.height);
  flips.forEach((flip, k) => {
    const back = mirror(transpose(predicted[k], flip), flip);
    for (let i = 0; i < mean.length; i++) mean[i] += back.data[i] / flips.length;
  });
  return { width: image.width, height: image.height, channels: 1, data: mean };
}

/**
 * The error for a prediction that ran out of memory: what was asked (the
 * image whole, or windows so many at a time), on which backend, and what
 * to make smaller: fewer windows at a time where there were several, else
 * windows of half the side, one at a time (a quarter of the pixels).
 */
function outOfMemory(
  error: Error,
  image: { readonly width: number; readonly height: number },
  { window, batchSize }: WindowPrediction,
  backend: string,
): CapillaryError {
  const whole = window >= Math.max(image.width, image.height);
  const several = !whole && batchSize > 1;
  const asked = whole
    ? `whole, in one ${window} × ${window} window`
    : `in ${window} × ${window} windows, ${batchSize} at a time`;
  // Half the side, a multiple of 8, at most 512: at width 8 wasm's heap reached 278 MiB for one
  // 512 × 512 window and 1,003 MiB for 1024 × 1024 (about 1 KB a pixel; 2026-12-07).
  const half = Math.min(512, Math.max(8, Math.floor(window / 16) * 8));
  const fewer = Math.max(1, Math.floor(batchSize / 4));
  const advice = several
    ? `Predict fewer windows at a time: evaluate.batchSize: ${fewer} in the recipe, or ` +
      `--batch-size ${fewer} with deno task predict`
    : `Predict in smaller windows, one at a time: evaluate.window: ${half} and ` +
      `evaluate.batchSize: 1 in the recipe, or --window ${half} --batch-size 1 with deno task predict`;
  return new CapillaryError(
    `Predicting a ${image.width} × ${image.height} image ${asked}, ran out of memory on ` +
      `${backend} (${error.message.split("\n")[0]}; ${memoryBound(backend)}). ${advice}`,
    "E_OUT_OF_MEMORY",
    { cause: error },
  );
}

/**
 * Whole-image prediction with a patch model: overlapping square windows,
 * predicted in batches, with the overlapping probabilities averaged per pixel.
 *
 * @module
 */

import { DataError } from "../../../pipeline/errors.ts";
import type { Raster } from "../../../pipeline/data.ts";

function checkPositiveInteger(value: number, name: string, where: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new DataError(`${where}: ${name} must be a positive integer, got ${value}`);
  }
}

/**
 * The origins of windows that cover `[0, length)`: `0, stride, 2·stride, …`
 * while the window stays inside, then one window flush with the end (unless
 * the previous one already is). When `length <= window` it is the single
 * origin 0, and the caller pads the rest of the window.
 *
 * @param length The extent to cover (image width or height).
 * @param window The window side.
 * @param stride The step between windows, at most `window` (a larger one would skip pixels).
 * @returns Ascending origins; every position in `[0, length)` lies in at least one window.
 * @throws {DataError} When an argument is not a positive integer or stride > window.
 *
 * @example Usage
 * ```ts
 * import { windowOrigins } from "./sliding_window.ts";
 * // length 10: 0, 3, then the flush window 10 - 4 = 6 is already on the grid; length 11 adds 11 - 4 = 7
 * console.assert(windowOrigins(10, 4, 3).join() === "0,3,6");
 * console.assert(windowOrigins(11, 4, 3).join() === "0,3,6,7");
 * ```
 */
export function windowOrigins(length: number, window: number, stride: number): number[] {
  const where = "windowOrigins()";
  checkPositiveInteger(length, "length", where);
  checkPositiveInteger(window, "window", where);
  checkPositiveInteger(stride, "stride", where);
  if (stride > window) {
    throw new DataError(
      `${where}: stride ${stride} is larger than the window ${window}, which would leave ` +
        `pixels between windows unpredicted; use a stride <= the window`,
    );
  }
  if (length <= window) return [0];
  const origins: number[] = [];
  for (let o = 0; o + window < length; o += stride) origins.push(o);
  origins.push(length - window);
  return origins;
}

/**
 * A model that maps a batch of windows to probabilities: `batch` holds `n`
 * windows NHWC (`n × window × window × channels`), and the result must hold
 * `n × window × window` values (one channel).
 */
export type PredictBatch = (batch: Float32Array, n: number) => Promise<Float32Array>;

/**
 * Predicts a whole image with a model of fixed input size.
 *
 * Windows start at {@link windowOrigins} along each axis (rows outer, columns
 * inner); where the image is smaller than the window the window is padded
 * with zeros. Windows go to `predictBatch` in batches of up to `batchSize`,
 * one call at a time. Each pixel's output is the mean of the predictions of
 * every window that covers it (sums kept in double precision); predictions
 * for padding are dropped.
 *
 * @param image The image to predict (not modified), any number of channels.
 * @param window The model's input side.
 * @param stride The step between windows, 1..window.
 * @param predictBatch The model.
 * @param batchSize The most windows per call.
 * @returns A one-channel probability map of the image's size.
 * @throws {DataError} On invalid sizes or a model output of the wrong length.
 *
 * @example Usage
 * ```ts
 * import { slidingWindowPredict } from "./sliding_window.ts";
 * const image = { width: 5, height: 3, channels: 1, data: new Float32Array(15).map((_, i) => i) };
 * // an identity model gives the image back
 * const out = await slidingWindowPredict(image, 4, 2, (batch) => Promise.resolve(batch.slice()), 2);
 * console.assert(out.data.every((v, i) => v === i));
 * ```
 */
export async function slidingWindowPredict(
  image: Raster,
  window: number,
  stride: number,
  predictBatch: PredictBatch,
  batchSize: number,
): Promise<Raster> {
  checkPositiveInteger(batchSize, "batchSize", "slidingWindowPredict()");
  const { width, height, channels, data } = image;
  const xs = windowOrigins(width, window, stride);
  const ys = windowOrigins(height, window, stride);
  const total = xs.length * ys.length;
  const windowValues = window * window * channels;
  const sums = new Float64Array(width * height);
  const counts = new Uint32Array(width * height);
  // Columns and rows of a window that fall inside the image.
  const cols = Math.min(window, width);
  const rows = Math.min(window, height);

  for (let first = 0; first < total; first += batchSize) {
    const n = Math.min(batchSize, total - first);
    const batch = new Float32Array(n * windowValues); // zeros: the padding
    for (let b = 0; b < n; b++) {
      const x0 = xs[(first + b) % xs.length], y0 = ys[Math.floor((first + b) / xs.length)];
      for (let y = 0; y < rows; y++) {
        const from = ((y0 + y) * width + x0) * channels;
        batch.set(
          data.subarray(from, from + cols * channels),
          b * windowValues + y * window * channels,
        );
      }
    }
    const predicted = await predictBatch(batch, n);
    if (predicted.length !== n * window * window) {
      throw new DataError(
        `slidingWindowPredict(): the model returned ${predicted.length} values for ${n} ` +
          `windows of ${window}×${window}; expected ${n * window * window} (one channel)`,
      );
    }
    for (let b = 0; b < n; b++) {
      const x0 = xs[(first + b) % xs.length], y0 = ys[Math.floor((first + b) / xs.length)];
      for (let y = 0; y < rows; y++) {
        const out = (y0 + y) * width + x0, from = (b * window + y) * window;
        for (let x = 0; x < cols; x++) {
          sums[out + x] += predicted[from + x];
          counts[out + x]++;
        }
      }
    }
  }
  const result = new Float32Array(width * height);
  for (let i = 0; i < result.length; i++) result[i] = sums[i] / counts[i];
  return { width, height, channels: 1, data: result };
}

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
  return (await slidingWindowPredictAll([image], window, stride, [predictBatch], batchSize))[0];
}

/** One batch of windows of one image: which image, and each window's origin. */
interface WindowBatch {
  readonly image: number;
  readonly origins: readonly { readonly x0: number; readonly y0: number }[];
}

/**
 * {@link slidingWindowPredict} for several images, on several models at
 * once. Each image's windows are batched as {@link slidingWindowPredict}
 * batches them (a batch never mixes images, so a whole image and each of its
 * test-time flips is a batch of its own), and the batches, image after
 * image, go to whichever of `models` is free (the same network on several
 * worker threads), each model one batch at a time. The predictions are
 * summed in window order whichever model computed them, so the result does
 * not depend on the number of models when they compute alike.
 *
 * A model that computes synchronously on this thread blocks the others'
 * answers until it is done: with several models, all should be elsewhere.
 *
 * @param images The images to predict (not modified), one channel count; sizes may differ.
 * @param window The models' input side.
 * @param stride The step between windows, 1..window.
 * @param models The models, at least one.
 * @param batchSize The most windows per call.
 * @returns One one-channel probability map per image, in order.
 * @throws {DataError} On invalid sizes, mixed channel counts, no model, or a model output of the
 * wrong length.
 *
 * @example Usage
 * ```ts
 * import { slidingWindowPredictAll } from "./sliding_window.ts";
 * const a = { width: 4, height: 4, channels: 1, data: new Float32Array(16).fill(1) };
 * const b = { width: 4, height: 4, channels: 1, data: new Float32Array(16).fill(2) };
 * const seen: string[] = [];
 * const model = (name: string) => (batch: Float32Array) => {
 *   seen.push(name);
 *   return Promise.resolve(batch.slice());
 * };
 * // one window each: a batch each, one per model
 * const [pa, pb] = await slidingWindowPredictAll([a, b], 4, 4, [model("one"), model("two")], 8);
 * console.assert(seen.join() === "one,two");
 * console.assert(pa.data[0] === 1 && pb.data[0] === 2);
 * ```
 */
export async function slidingWindowPredictAll(
  images: readonly Raster[],
  window: number,
  stride: number,
  models: readonly PredictBatch[],
  batchSize: number,
): Promise<Raster[]> {
  const where = "slidingWindowPredict()";
  checkPositiveInteger(batchSize, "batchSize", where);
  if (!models.length) throw new DataError(`${where}: no model to predict with`);
  const channels = images[0]?.channels ?? 1;
  if (images.some((image) => image.channels !== channels)) {
    throw new DataError(
      `${where}: images predicted together need one channel count, got ` +
        images.map((image) => image.channels).join(", "),
    );
  }
  const windowValues = window * window * channels;
  const batches: WindowBatch[] = [];
  images.forEach(({ width, height }, image) => {
    const xs = windowOrigins(width, window, stride);
    const origins = windowOrigins(height, window, stride).flatMap((y0) =>
      xs.map((x0) => ({ x0, y0 }))
    );
    for (let first = 0; first < origins.length; first += batchSize) {
      batches.push({ image, origins: origins.slice(first, first + batchSize) });
    }
  });
  // Columns and rows of a window that fall inside its image.
  const inside = (image: Raster) => [Math.min(window, image.width), Math.min(window, image.height)];
  const gather = ({ image, origins }: WindowBatch) => {
    const { width, data } = images[image];
    const [cols, rows] = inside(images[image]);
    const batch = new Float32Array(origins.length * windowValues); // zeros: the padding
    origins.forEach(({ x0, y0 }, b) => {
      for (let y = 0; y < rows; y++) {
        const from = ((y0 + y) * width + x0) * channels;
        batch.set(
          data.subarray(from, from + cols * channels),
          b * windowValues + y * window * channels,
        );
      }
    });
    return batch;
  };

  // Every model takes the next batch as soon as it is free.
  const predictions = batches.map(() => Promise.withResolvers<Float32Array>());
  for (const { promise } of predictions) promise.catch(() => {}); // reported below, when awaited
  let next = 0;
  const work = async (predict: PredictBatch) => {
    while (next < batches.length) {
      const i = next++;
      try {
        predictions[i].resolve(await predict(gather(batches[i]), batches[i].origins.length));
      } catch (error) {
        // The first failure stops this model; it is reported where its batch is awaited.
        predictions[i].reject(error);
        return;
      }
    }
  };
  for (const model of models) work(model);

  const sums = images.map(({ width, height }) => new Float64Array(width * height));
  const counts = images.map(({ width, height }) => new Uint32Array(width * height));
  try {
    for (const [i, { image, origins }] of batches.entries()) {
      const n = origins.length;
      const predicted = await predictions[i].promise;
      if (predicted.length !== n * window * window) {
        throw new DataError(
          `${where}: the model returned ${predicted.length} values for ${n} ` +
            `windows of ${window}×${window}; expected ${n * window * window} (one channel)`,
        );
      }
      const { width } = images[image];
      const [cols, rows] = inside(images[image]);
      const sum = sums[image], count = counts[image];
      origins.forEach(({ x0, y0 }, b) => {
        for (let y = 0; y < rows; y++) {
          const out = (y0 + y) * width + x0, from = (b * window + y) * window;
          for (let x = 0; x < cols; x++) {
            sum[out + x] += predicted[from + x];
            count[out + x]++;
          }
        }
      });
    }
  } finally {
    next = batches.length; // a failure stops the models that are still working
  }
  return images.map(({ width, height }, image) => {
    const result = new Float32Array(width * height);
    for (let i = 0; i < result.length; i++) result[i] = sums[image][i] / counts[image][i];
    return { width, height, channels: 1, data: result };
  });
}

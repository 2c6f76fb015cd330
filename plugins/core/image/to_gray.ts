/**
 * Converts an RGB raster to grey.
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";

/**
 * Converts a raster to one channel with the ITU-R BT.601 luma weights,
 * `0.299 R + 0.587 G + 0.114 B` (computed in float64, stored as float32).
 * A one-channel raster is returned as a copy.
 *
 * @param raster A raster with 1 or 3 channels.
 * @returns A new one-channel raster of the same size.
 * @throws {DataError} When the raster has neither 1 nor 3 channels, or a size
 *   that does not match its data.
 *
 * @example Usage
 * ```ts
 * import { toGray } from "./to_gray.ts";
 * import { assertAlmostEquals } from "../../../tests/assert.ts";
 * const rgb = { width: 1, height: 1, channels: 3, data: new Float32Array([100, 200, 50]) };
 * const grey = toGray(rgb);
 * assertAlmostEquals(grey.data[0], 0.299 * 100 + 0.587 * 200 + 0.114 * 50, 1e-4);
 * ```
 */
export function toGray(raster: Raster): Raster {
  const { width, height, channels, data } = raster;
  const n = width * height;
  if (data.length !== n * channels) {
    throw new DataError(
      `Cannot convert to grey: raster is ${width}x${height}x${channels} but holds ${data.length} values`,
    );
  }
  if (channels === 1) return { width, height, channels: 1, data: data.slice() };
  if (channels !== 3) {
    throw new DataError(
      `Cannot convert to grey: raster has ${channels} channels, expected 1 or 3`,
    );
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = 0.299 * data[i * 3] + 0.587 * data[i * 3 + 1] + 0.114 * data[i * 3 + 2];
  }
  return { width, height, channels: 1, data: out };
}

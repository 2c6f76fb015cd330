/**
 * Intensity normalisation: pooled statistics, z-scores and min-max scaling.
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";

/** A pooled mean and population standard deviation. */
export interface MeanStd {
  /** The mean of all counted values. */
  readonly mean: number;
  /** The population standard deviation (divides by N, not N - 1). */
  readonly std: number;
}

/**
 * Computes one mean and one population standard deviation over every value
 * of every raster in a set (all pixels and channels pooled), accumulating in
 * float64. With `masks`, only pixels whose mask value is above 0 count; mask
 * `i` goes with raster `i` and must be one channel of the same size.
 *
 * @param rasters The rasters to pool.
 * @param masks Optional one-channel masks, one per raster.
 * @returns The pooled mean and standard deviation.
 * @throws {DataError} When nothing is counted (no rasters, or empty masks),
 *   a mask does not match its raster, or a counted value is not finite.
 *
 * @example Usage
 * ```ts
 * import { meanStd } from "./normalize.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const a = { width: 2, height: 1, channels: 1, data: new Float32Array([1, 3]) };
 * const b = { width: 2, height: 1, channels: 1, data: new Float32Array([5, 7]) };
 * assertEquals(meanStd([a, b]), { mean: 4, std: Math.sqrt(5) });
 * ```
 */
export function meanStd(rasters: readonly Raster[], masks?: readonly Raster[]): MeanStd {
  if (masks !== undefined && masks.length !== rasters.length) {
    throw new DataError(
      `Cannot compute mean and std: ${rasters.length} rasters but ${masks.length} masks`,
    );
  }
  // Two passes (mean, then squared deviations) for accuracy.
  let count = 0;
  let sum = 0;
  rasters.forEach((raster, r) => {
    const { channels, data } = raster;
    const n = raster.width * raster.height;
    const mask = masks?.[r];
    if (
      mask && (mask.channels !== 1 || mask.width !== raster.width || mask.height !== raster.height)
    ) {
      throw new DataError(
        `Cannot compute mean and std: mask ${r} is ${mask.width}x${mask.height}x${mask.channels}, expected ${raster.width}x${raster.height}x1`,
      );
    }
    for (let p = 0; p < n; p++) {
      if (mask && !(mask.data[p] > 0)) continue;
      for (let c = 0; c < channels; c++) {
        const v = data[p * channels + c];
        if (!Number.isFinite(v)) {
          throw new DataError(
            `Cannot compute mean and std: value "${v}" in raster ${r} at index ${
              p * channels + c
            } is not finite`,
          );
        }
        sum += v;
      }
      count += channels;
    }
  });
  if (count === 0) {
    throw new DataError(
      `Cannot compute mean and std: no values to pool (${rasters.length} rasters${
        masks ? ", masks select no pixel" : ""
      })`,
    );
  }
  const mean = sum / count;
  let squares = 0;
  rasters.forEach((raster, r) => {
    const { channels, data } = raster;
    const n = raster.width * raster.height;
    const mask = masks?.[r];
    for (let p = 0; p < n; p++) {
      if (mask && !(mask.data[p] > 0)) continue;
      for (let c = 0; c < channels; c++) {
        const d = data[p * channels + c] - mean;
        squares += d * d;
      }
    }
  });
  return { mean, std: Math.sqrt(squares / count) };
}

/**
 * Standardises every value: `(v - mean) / std`.
 *
 * @param raster The raster to standardise.
 * @param mean The mean to subtract, e.g. from {@linkcode meanStd} on the training set.
 * @param std The standard deviation to divide by; finite and above 0.
 * @returns A new raster of the same shape.
 * @throws {RangeError} When `mean` is not finite or `std` is not a finite positive number.
 *
 * @example Usage
 * ```ts
 * import { zScore } from "./normalize.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const raster = { width: 2, height: 1, channels: 1, data: new Float32Array([2, 6]) };
 * assertEquals(Array.from(zScore(raster, 4, 2).data), [-1, 1]);
 * ```
 */
export function zScore(raster: Raster, mean: number, std: number): Raster {
  if (!Number.isFinite(mean)) {
    throw new RangeError(`Cannot standardise: mean "${mean}" is not finite`);
  }
  if (!Number.isFinite(std) || std <= 0) {
    throw new RangeError(
      `Cannot standardise: std "${std}" is not a finite number above 0; the statistics come from a constant or empty set`,
    );
  }
  const { data } = raster;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - mean) / std;
  return { width: raster.width, height: raster.height, channels: raster.channels, data: out };
}

/**
 * Rescales one image linearly so that its minimum becomes `lo` and its
 * maximum `hi` (all channels together). A constant image becomes all `lo`.
 *
 * @param raster The raster to rescale.
 * @param lo The value the minimum maps to.
 * @param hi The value the maximum maps to.
 * @returns A new raster of the same shape, values in [lo, hi].
 * @throws {RangeError} When `lo` or `hi` is not finite.
 * @throws {DataError} When the raster holds a value that is not finite.
 *
 * @example Usage
 * ```ts
 * import { minMaxScale } from "./normalize.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const raster = { width: 3, height: 1, channels: 1, data: new Float32Array([-1, 0, 3]) };
 * assertEquals(Array.from(minMaxScale(raster, 0, 255).data), [0, 63.75, 255]);
 * ```
 */
export function minMaxScale(raster: Raster, lo: number, hi: number): Raster {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new RangeError(`Cannot rescale: range ["${lo}", "${hi}"] is not finite`);
  }
  const { data } = raster;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      throw new DataError(`Cannot rescale: value "${v}" at index ${i} is not finite`);
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Float32Array(data.length);
  const span = max - min;
  if (span > 0) {
    const scale = (hi - lo) / span;
    for (let i = 0; i < data.length; i++) out[i] = lo + (data[i] - min) * scale;
    // Pin the ends exactly despite rounding.
    for (let i = 0; i < data.length; i++) {
      if (data[i] === min) out[i] = lo;
      else if (data[i] === max) out[i] = hi;
    }
  } else {
    out.fill(lo);
  }
  return { width: raster.width, height: raster.height, channels: raster.channels, data: out };
}

/**
 * Gamma correction of 8-bit-range values.
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";

/**
 * Applies `v ← 255 · (v / 255)^(1 / gamma)` to every value, as the
 * reference retina pipelines do after CLAHE: `gamma > 1` brightens,
 * `gamma < 1` darkens, 0 and 255 stay put. The result is not rounded.
 *
 * @param raster A raster (any channels) with values in [0, 255].
 * @param gamma The gamma; a finite number greater than 0.
 * @returns A new raster of the same shape, values in [0, 255].
 * @throws {RangeError} When `gamma` is not a finite positive number.
 * @throws {DataError} When a value is outside [0, 255] or not a number.
 *
 * @example Usage
 * ```ts
 * import { gammaCorrect } from "./gamma.ts";
 * import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
 * const raster = { width: 3, height: 1, channels: 1, data: new Float32Array([0, 64, 255]) };
 * const out = gammaCorrect(raster, 1.2);
 * assertAlmostEquals(out.data[1], 255 * (64 / 255) ** (1 / 1.2), 1e-3);
 * assertEquals([out.data[0], out.data[2]], [0, 255]);
 * ```
 */
export function gammaCorrect(raster: Raster, gamma: number): Raster {
  if (!Number.isFinite(gamma) || gamma <= 0) {
    throw new RangeError(`Cannot apply gamma: gamma "${gamma}" is not a finite number above 0`);
  }
  const inv = 1 / gamma;
  const { data } = raster;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 255)) {
      throw new DataError(
        `Cannot apply gamma: value "${v}" at index ${i} is outside [0, 255]; scale the image to 0..255 first`,
      );
    }
    out[i] = 255 * Math.pow(v / 255, inv);
  }
  return { width: raster.width, height: raster.height, channels: raster.channels, data: out };
}

/**
 * Mirroring a raster left-right and/or upside down, and transposing it, as
 * test-time flips need them (each is its own inverse, so the same calls flip
 * a prediction back, in the reverse order).
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";

/** Which axes {@link mirrorRaster} mirrors. */
export interface Mirror {
  /** Mirror left-right (reverse each row). */
  readonly horizontal: boolean;
  /** Mirror upside down (reverse the order of rows). */
  readonly vertical: boolean;
}

/**
 * The raster mirrored along the axes named; every channel of a pixel moves
 * together. Mirroring twice gives the raster back.
 *
 * @param raster Any raster (not modified).
 * @param mirror The axes to mirror; with neither, a copy.
 * @returns A new raster of the same shape.
 *
 * @example Usage
 * ```ts
 * import { mirrorRaster } from "./mirror.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * // 3 × 2:  1 2 3      3 2 1 (left-right)      4 5 6 (upside down)
 * //         4 5 6  →   6 5 4                    1 2 3
 * const raster = { width: 3, height: 2, channels: 1, data: new Float32Array([1, 2, 3, 4, 5, 6]) };
 * assertEquals([...mirrorRaster(raster, { horizontal: true, vertical: false }).data], [3, 2, 1, 6, 5, 4]);
 * assertEquals([...mirrorRaster(raster, { horizontal: false, vertical: true }).data], [4, 5, 6, 1, 2, 3]);
 * ```
 */
export function mirrorRaster(raster: Raster, mirror: Mirror): Raster {
  const { width, height, channels, data } = raster;
  const out = new Float32Array(data.length);
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    const from = (mirror.vertical ? height - 1 - y : y) * row;
    const to = y * row;
    if (!mirror.horizontal) {
      out.set(data.subarray(from, from + row), to);
      continue;
    }
    for (let x = 0; x < width; x++) {
      const source = from + (width - 1 - x) * channels;
      for (let c = 0; c < channels; c++) out[to + x * channels + c] = data[source + c];
    }
  }
  return { width, height, channels, data: out };
}

/**
 * The raster transposed: rows become columns (the mirror along the main
 * diagonal); every channel of a pixel moves together. Transposing twice
 * gives the raster back.
 *
 * @param raster Any raster (not modified).
 * @returns A new raster `height` wide and `width` high.
 *
 * @example Usage
 * ```ts
 * import { transposeRaster } from "./mirror.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * // 3 × 2:  1 2 3   →   1 4
 * //         4 5 6       2 5
 * //                     3 6
 * const raster = { width: 3, height: 2, channels: 1, data: new Float32Array([1, 2, 3, 4, 5, 6]) };
 * const t = transposeRaster(raster);
 * assertEquals([t.width, t.height, ...t.data], [2, 3, 1, 4, 2, 5, 3, 6]);
 * ```
 */
export function transposeRaster(raster: Raster): Raster {
  const { width, height, channels, data } = raster;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * channels, to = (x * height + y) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = data[from + c];
    }
  }
  return { width: height, height: width, channels, data: out };
}

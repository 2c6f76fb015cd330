/**
 * Thresholds a one-channel raster to 0/1.
 *
 * @module
 */
import type { Raster } from "../../../mod.ts";

/**
 * 1 where the value is above `threshold`, else 0.
 *
 * @param raster A one-channel raster.
 * @param threshold Values above it become 1.
 * @returns A new 0/1 raster of the same size.
 *
 * @example Usage
 * ```ts
 * import { binarize } from "./binarize.ts";
 * const out = binarize({ width: 3, height: 1, channels: 1, data: new Float32Array([0, 128, 255]) }, 127);
 * console.assert(out.data.join() === "0,1,1");
 * ```
 */
export function binarize(raster: Raster, threshold: number): Raster {
  const data = new Float32Array(raster.data.length);
  for (let i = 0; i < data.length; i++) data[i] = raster.data[i] > threshold ? 1 : 0;
  // Not `...raster`: a 0/1 raster no longer has its file's `maxValue`.
  return { width: raster.width, height: raster.height, channels: raster.channels, data };
}

/**
 * Exact geometric transforms of square NHWC patches: flips and 90° turns.
 * They move pixels without interpolation, so masks stay binary.
 *
 * @module
 */

/** The eight symmetries of a square, as (flip left-right, quarter turns). */
export interface SquareSymmetry {
  /** Mirror left-right first. */
  readonly flip: boolean;
  /** Then turn clockwise this many quarter turns (0-3). */
  readonly turns: number;
}

/**
 * Applies a symmetry to patch `index` of an NHWC array, in place into `out`.
 *
 * @param source `count * size * size * channels` values.
 * @param out Same size as `source`; patch `index` is overwritten.
 * @param index Which patch.
 * @param size Patch side.
 * @param channels Values per pixel.
 * @param symmetry What to apply.
 *
 * @example Usage
 * ```ts
 * import { transformSquare } from "./square_transforms.ts";
 * // 2×2 patch [a b; c d] turned clockwise once is [c a; d b].
 * const out = new Float32Array(4);
 * transformSquare(new Float32Array([1, 2, 3, 4]), out, 0, 2, 1, { flip: false, turns: 1 });
 * console.assert(out.join() === "3,1,4,2");
 * ```
 */
export function transformSquare(
  source: Float32Array,
  out: Float32Array,
  index: number,
  size: number,
  channels: number,
  symmetry: SquareSymmetry,
): void {
  const base = index * size * size * channels;
  const n = size - 1;
  const turns = ((symmetry.turns % 4) + 4) % 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Output (x, y) reads the source pixel that lands there.
      let sx = x, sy = y;
      for (let t = 0; t < turns; t++) [sx, sy] = [sy, n - sx];
      if (symmetry.flip) sx = n - sx;
      const from = base + (sy * size + sx) * channels;
      const to = base + (y * size + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = source[from + c];
    }
  }
}

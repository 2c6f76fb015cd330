/**
 * Contrast-limited adaptive histogram equalisation (CLAHE), as OpenCV does it.
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";

/** Options of {@linkcode clahe}. */
export interface ClaheOptions {
  /**
   * Contrast limit, relative to a flat histogram (default 2.0). Each tile's
   * histogram bins are clipped at `max(1, floor(clipLimit * tilePixels / 256))`;
   * 0 turns clipping off (plain tile-wise histogram equalisation).
   */
  readonly clipLimit?: number;
  /** Tiles per side: the image is split into `tiles x tiles` tiles (default 8). */
  readonly tiles?: number;
}

const BINS = 256;
const f32 = Math.fround;

/** OpenCV's borderInterpolate for BORDER_REFLECT_101 (`gfedcb|abcdefgh|gfedcba`). */
function reflect101(p: number, length: number): number {
  if (length === 1) return 0;
  while (p < 0 || p >= length) p = p < 0 ? -p : 2 * length - 2 - p;
  return p;
}

/** cvRound: round half to even, as `lrint` does under the default rounding mode. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Contrast-limited adaptive histogram equalisation of a one-channel image
 * with values 0..255, reproducing OpenCV's `createCLAHE(clipLimit, (tiles,
 * tiles)).apply()` on 8-bit images bit for bit:
 *
 * - values are rounded to integers first;
 * - unless both sides are multiples of `tiles`, the image is extended on the
 *   right by `tiles - width % tiles` columns and at the bottom by
 *   `tiles - height % tiles` rows (BORDER_REFLECT_101; note that a side that
 *   already is a multiple still gets a full `tiles` more, as in OpenCV);
 * - each tile gets a 256-bin histogram, clipped at
 *   `max(1, floor(clipLimit * tilePixels / 256))`; the clipped excess is
 *   spread evenly (`floor(excess / 256)` to every bin, then one more to every
 *   `max(floor(256 / residual), 1)`-th bin from bin 0 until the residual is
 *   used up);
 * - its look-up table is `saturate(round(cdf * (255 / tilePixels)))` in float32;
 * - each pixel's output interpolates bilinearly (in float32) between the
 *   tables of the four tiles whose centres surround it, and is rounded.
 *
 * @param raster A one-channel raster with values in [0, 255].
 * @param options `clipLimit` (default 2.0) and `tiles` per side (default 8).
 * @returns A new one-channel raster of the same size with integer values 0..255.
 * @throws {DataError} When the raster has more than one channel, or a value
 *   that does not round into 0..255.
 * @throws {RangeError} When `clipLimit` is negative or not finite, or `tiles`
 *   is not a positive integer.
 *
 * @example Usage
 * ```ts
 * import { clahe } from "./clahe.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * // One tile without clipping is global histogram equalisation:
 * // cdf(10) = 2, cdf(20) = 3, cdf(30) = 4 of 4 pixels, times 255 / 4, rounded.
 * const raster = { width: 4, height: 1, channels: 1, data: new Float32Array([10, 10, 20, 30]) };
 * const out = clahe(raster, { clipLimit: 0, tiles: 1 });
 * assertEquals(Array.from(out.data), [128, 128, 191, 255]);
 * ```
 */
export function clahe(raster: Raster, options: ClaheOptions = {}): Raster {
  const { clipLimit = 2.0, tiles = 8 } = options;
  if (!Number.isFinite(clipLimit) || clipLimit < 0) {
    throw new RangeError(
      `Cannot apply CLAHE: clipLimit "${clipLimit}" is not a finite number of at least 0`,
    );
  }
  if (!Number.isInteger(tiles) || tiles < 1) {
    throw new RangeError(`Cannot apply CLAHE: tiles "${tiles}" is not a positive integer`);
  }
  const { width, height, channels, data } = raster;
  if (channels !== 1) {
    throw new DataError(
      `Cannot apply CLAHE: raster has ${channels} channels, expected 1; convert it to grey first`,
    );
  }
  if (data.length !== width * height || width < 1 || height < 1) {
    throw new DataError(
      `Cannot apply CLAHE: raster is ${width}x${height} but holds ${data.length} values`,
    );
  }

  // 8-bit source.
  const src = new Uint8Array(width * height);
  for (let i = 0; i < src.length; i++) {
    const v = Math.round(data[i]);
    if (!(v >= 0 && v <= 255)) {
      throw new DataError(
        `Cannot apply CLAHE: value "${
          data[i]
        }" at index ${i} is outside [0, 255]; scale the image to 0..255 first`,
      );
    }
    src[i] = v;
  }

  // Extended image dimensions, as OpenCV's CLAHE_Impl::apply.
  const padded = width % tiles !== 0 || height % tiles !== 0;
  const extWidth = padded ? width + tiles - (width % tiles) : width;
  const extHeight = padded ? height + tiles - (height % tiles) : height;
  const tileW = extWidth / tiles;
  const tileH = extHeight / tiles;
  const tilePixels = tileW * tileH;
  const clip = clipLimit > 0 ? Math.max(1, Math.trunc((clipLimit * tilePixels) / BINS)) : 0;
  const lutScale = f32((BINS - 1) / tilePixels);

  // Maps of extended coordinates to source coordinates.
  const colOf = new Int32Array(extWidth);
  for (let x = 0; x < extWidth; x++) colOf[x] = reflect101(x, width);
  const rowOf = new Int32Array(extHeight);
  for (let y = 0; y < extHeight; y++) rowOf[y] = reflect101(y, height);

  // Per-tile look-up tables (CLAHE_CalcLut_Body).
  const luts = new Uint8Array(tiles * tiles * BINS);
  const hist = new Int32Array(BINS);
  for (let ty = 0; ty < tiles; ty++) {
    for (let tx = 0; tx < tiles; tx++) {
      hist.fill(0);
      for (let y = ty * tileH; y < (ty + 1) * tileH; y++) {
        const row = rowOf[y] * width;
        for (let x = tx * tileW; x < (tx + 1) * tileW; x++) hist[src[row + colOf[x]]]++;
      }
      if (clip > 0) {
        let clipped = 0;
        for (let i = 0; i < BINS; i++) {
          if (hist[i] > clip) {
            clipped += hist[i] - clip;
            hist[i] = clip;
          }
        }
        const batch = Math.trunc(clipped / BINS);
        let residual = clipped - batch * BINS;
        for (let i = 0; i < BINS; i++) hist[i] += batch;
        if (residual !== 0) {
          const step = Math.max(Math.trunc(BINS / residual), 1);
          for (let i = 0; i < BINS && residual > 0; i += step, residual--) hist[i]++;
        }
      }
      const lut = (ty * tiles + tx) * BINS;
      let sum = 0;
      for (let i = 0; i < BINS; i++) {
        sum += hist[i];
        luts[lut + i] = Math.min(255, roundHalfEven(f32(sum * lutScale)));
      }
    }
  }

  // Bilinear interpolation between tile tables (CLAHE_Interpolation_Body),
  // in float32 like OpenCV.
  const invTw = f32(1 / tileW);
  const invTh = f32(1 / tileH);
  const ind1 = new Int32Array(width);
  const ind2 = new Int32Array(width);
  const xa = new Float32Array(width);
  const xa1 = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const txf = f32(f32(x * invTw) - 0.5);
    const tx1 = Math.floor(txf);
    xa[x] = f32(txf - tx1);
    xa1[x] = f32(1 - xa[x]);
    ind1[x] = Math.max(tx1, 0) * BINS;
    ind2[x] = Math.min(tx1 + 1, tiles - 1) * BINS;
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const tyf = f32(f32(y * invTh) - 0.5);
    const ty1 = Math.floor(tyf);
    const ya = f32(tyf - ty1);
    const ya1 = f32(1 - ya);
    const plane1 = Math.max(ty1, 0) * tiles * BINS;
    const plane2 = Math.min(ty1 + 1, tiles - 1) * tiles * BINS;
    for (let x = 0; x < width; x++) {
      const v = src[y * width + x];
      const a = f32(
        f32(luts[plane1 + ind1[x] + v] * xa1[x]) + f32(luts[plane1 + ind2[x] + v] * xa[x]),
      );
      const b = f32(
        f32(luts[plane2 + ind1[x] + v] * xa1[x]) + f32(luts[plane2 + ind2[x] + v] * xa[x]),
      );
      const res = f32(f32(a * ya1) + f32(b * ya));
      out[y * width + x] = Math.min(255, Math.max(0, roundHalfEven(res)));
    }
  }
  return { width, height, channels: 1, data: out };
}

/**
 * What the decoders share: a decoded image with its alpha channel, the
 * scaling of a file's integer samples to the pipeline's 0..255 scale, and
 * the words of their errors.
 *
 * @module
 */
import type { Raster } from "../../../pipeline/data.ts";
import type { PixelSamples } from "./png16.ts";

/** What to do about a damaged file, appended to messages. */
export const RECOPY = "copy or download the file again";

/** A thrown value's message. */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A decoded image and, when its file has transparency, its alpha channel:
 * what `decodeImageWithAlpha` (`read_image.ts`) returns. Masks need the alpha
 * (a transparent background must not read as foreground); images do not.
 */
export interface DecodedImage {
  /** The colour or grey channels, as `decodeImage` returns them. */
  readonly raster: Raster;
  /**
   * Each pixel's opacity on the raster's 0..255 scale (0 transparent, 255
   * opaque), `width * height` values. Absent when the file has no alpha
   * channel or transparency key, or every pixel is fully opaque.
   */
  readonly alpha?: Float32Array;
  /**
   * A palette PNG's (colour type 3) raw indices, as masks are read: present
   * for palette PNGs only; `raster` still holds the palette's colours.
   */
  readonly indices?: PaletteIndices;
}

/** A palette image's indices: what a mask of one is read by. */
export interface PaletteIndices {
  /** Each pixel's palette index, `width * height` values, row by row. */
  readonly data: Uint8Array;
  /** The largest index the file's bit depth allows: 2^bitDepth − 1 (1, 3, 15 or 255). */
  readonly maxValue: number;
}

/**
 * Scales a file's integer samples to 0..255 (`v · 255 / maxValue` as a
 * float, no rounding: 8-bit values stay as they are, 16-bit ones keep every
 * level). One channel if every pixel has R = G = B, else 3; alpha apart.
 */
export function fromSamples(samples: PixelSamples): DecodedImage {
  const { width, height, samplesPerPixel: spp, data: src, maxValue } = samples;
  const n = width * height;
  let channels = spp >= 3 ? 3 : 1;
  if (channels === 3) {
    let grey = true;
    for (let p = 0; p < n * spp; p += spp) {
      if (src[p] !== src[p + 1] || src[p] !== src[p + 2]) {
        grey = false;
        break;
      }
    }
    if (grey) channels = 1;
  }
  const data = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) data[i * channels + c] = (src[i * spp + c] * 255) / maxValue;
  }
  const raster: Raster = { width, height, channels, data, maxValue };
  if (spp !== 2 && spp !== 4) return { raster };
  let opaque = true;
  for (let i = spp - 1; i < n * spp; i += spp) {
    if (src[i] < maxValue) {
      opaque = false;
      break;
    }
  }
  if (opaque) return { raster };
  const alpha = new Float32Array(n);
  for (let i = 0; i < n; i++) alpha[i] = (src[i * spp + spp - 1] * 255) / maxValue;
  return { raster, alpha };
}

/** 8-bit RGBA (what imagescript and UTIF's `toRGBA8` give) as a {@linkcode DecodedImage}. */
export function fromRgba(rgba: ArrayLike<number>, width: number, height: number): DecodedImage {
  return fromSamples({ width, height, samplesPerPixel: 4, data: rgba, maxValue: 255 });
}

/**
 * Decodes 16-bit PNGs (grey, grey + alpha, RGB and RGBA, interlaced or not)
 * at full precision. imagescript, which decodes the other PNGs, keeps only
 * the high byte of each 16-bit sample, so 12-bit data would keep 16 grey
 * levels and 0..255 data stored in 16 bits would read as black.
 *
 * @module
 */
import { DataError } from "../../../pipeline/errors.ts";
import { RECOPY } from "./decoded_image.ts";
import { pngSamples, readPngChunks } from "./png_chunks.ts";

export { pngBitDepth } from "./png_chunks.ts";

/** Interleaved integer samples as a file stores them, before scaling to 0..255. */
export interface PixelSamples {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  readonly samplesPerPixel: 1 | 2 | 3 | 4;
  /** `width * height * samplesPerPixel` samples, row by row, pixel by pixel. */
  readonly data: ArrayLike<number>;
  /** The largest value a sample can take (255 for 8 bits, 65535 for 16). */
  readonly maxValue: number;
}

/** Samples per pixel of each PNG colour type a 16-bit PNG may have. */
const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * Decodes a 16-bit PNG: its chunks (CRC-checked), its zlib stream, the five
 * row filters and Adam7 interlacing. A `tRNS` colour key becomes an alpha
 * channel (0 where a pixel has the key's colour, 65535 elsewhere).
 *
 * @param bytes The whole file; its header must declare bit depth 16.
 * @param name The file's name or path, for error messages.
 * @returns The file's samples, 0..65535, big-endian pairs read as numbers.
 * @throws {DataError} On a truncated or corrupt file, a colour type 16-bit PNGs cannot have,
 *   or pixel data of the wrong length.
 *
 * @example Usage
 * ```ts
 * import { decodePng16 } from "./png16.ts";
 * import { assertThrows } from "../../../tests/assert.ts";
 * assertThrows(() => decodePng16(new Uint8Array(8), "x.png"), Error, "truncated");
 * ```
 */
export function decodePng16(bytes: Uint8Array, name: string): PixelSamples {
  const fail = (what: string): never => {
    throw new DataError(`Cannot read image "${name}": 16-bit PNG ${what}; ${RECOPY}`);
  };
  const png = readPngChunks(bytes, fail);
  const { width, height, bitDepth: depth, colourType } = png;
  const spp = CHANNELS[colourType];
  if (depth !== 16 || spp === undefined) {
    fail(`declares bit depth ${depth} with colour type ${colourType}, which PNG does not allow`);
  }
  const data = pngSamples(png, spp, fail);
  const key = png.transparency;
  if (key && (spp === 1 || spp === 3) && key.length >= 2 * spp) {
    // A colour key: pixels of exactly that colour are transparent.
    const keyed = new Uint16Array(width * height * (spp + 1));
    const k = Array.from({ length: spp }, (_, s) => (key![2 * s] << 8) | key![2 * s + 1]);
    for (let i = 0; i < width * height; i++) {
      let match = true;
      for (let s = 0; s < spp; s++) {
        keyed[i * (spp + 1) + s] = data[i * spp + s];
        if (data[i * spp + s] !== k[s]) match = false;
      }
      keyed[i * (spp + 1) + spp] = match ? 0 : 65535;
    }
    return {
      width,
      height,
      samplesPerPixel: (spp + 1) as 2 | 4,
      data: keyed,
      maxValue: 65535,
    };
  }
  return { width, height, samplesPerPixel: spp, data, maxValue: 65535 };
}

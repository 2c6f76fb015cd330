/**
 * Reads a palette PNG's (colour type 3) raw indices, as a mask's values:
 * PASCAL VOC and mmsegmentation save class maps so, each class an index
 * and its colour only for display. imagescript still decodes the colours.
 *
 * @module
 */
import { DataError } from "../../../pipeline/errors.ts";
import { type PaletteIndices, RECOPY } from "./decoded_image.ts";
import { pngSamples, readPngChunks } from "./png_chunks.ts";

/**
 * Decodes the palette indices of a palette PNG (bit depth 1, 2, 4 or 8,
 * interlaced or not).
 *
 * @param bytes The whole file; its header must declare colour type 3.
 * @param name The file's name or path, for error messages.
 * @returns Each pixel's index, row by row, and the largest index the bit depth allows.
 * @throws {DataError} On a truncated or corrupt file, or one that is not a palette PNG.
 *
 * @example Usage
 * ```ts
 * import { decodePngIndices } from "./png_palette.ts";
 * import { assertThrows } from "../../../tests/assert.ts";
 * assertThrows(() => decodePngIndices(new Uint8Array(8), "x.png"), Error, "truncated");
 * ```
 */
export function decodePngIndices(bytes: Uint8Array, name: string): PaletteIndices {
  const fail = (what: string): never => {
    throw new DataError(`Cannot read image "${name}": palette PNG ${what}; ${RECOPY}`);
  };
  const png = readPngChunks(bytes, fail);
  const { bitDepth: depth, colourType } = png;
  if (colourType !== 3 || ![1, 2, 4, 8].includes(depth)) {
    fail(`declares bit depth ${depth} with colour type ${colourType}, not a palette of 1–8 bits`);
  }
  return { data: Uint8Array.from(pngSamples(png, 1, fail)), maxValue: (1 << depth) - 1 };
}

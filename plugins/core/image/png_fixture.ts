/**
 * Builds PNG files byte by byte, for tests of the decoders: the caller
 * writes the scanlines (each with its filter byte) by hand, this adds the
 * signature, the chunks with their CRCs and the zlib stream.
 *
 * @module
 */
import { deflateSync } from "node:zlib";

/**
 * The CRC-32 of PNG chunks (and zlib's, the same polynomial).
 *
 * @param bytes The bytes to check.
 * @returns The unsigned 32-bit CRC.
 *
 * @example Usage
 * ```ts
 * import { crc32 } from "./png_fixture.ts";
 * console.assert(crc32(new TextEncoder().encode("IEND")) === 0xae426082);
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * One PNG chunk: length, type, body and CRC.
 *
 * @param type The four-letter chunk type.
 * @param body The chunk's data.
 * @returns The chunk's bytes.
 *
 * @example Usage
 * ```ts
 * import { pngChunk } from "./png_fixture.ts";
 * console.assert(pngChunk("IEND", []).length === 12);
 * ```
 */
export function pngChunk(type: string, body: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(Array.from(body), 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** What {@linkcode pngFile} builds. */
export interface PngFixture {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** 1, 2, 4, 8 or 16. */
  readonly bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  readonly colourType: number;
  /** 0 none (default), 1 Adam7. */
  readonly interlace?: number;
  /** The decompressed image data: every scanline with its filter byte first. */
  readonly scanlines: ArrayLike<number>;
  /** Chunks to put between IHDR and IDAT (`tRNS`, `PLTE`), from {@linkcode pngChunk}. */
  readonly chunks?: readonly Uint8Array[];
}

/**
 * A whole PNG file: signature, IHDR, `chunks`, one IDAT of the deflated
 * scanlines, IEND.
 *
 * @param png The header fields and the scanlines.
 * @returns The file's bytes.
 *
 * @example Usage
 * ```ts
 * import { pngFile } from "./png_fixture.ts";
 * // 1×1 16-bit grey, filter 0, value 0x0102.
 * const png = pngFile({ width: 1, height: 1, bitDepth: 16, colourType: 0, scanlines: [0, 1, 2] });
 * console.assert(png[24] === 16);
 * ```
 */
export function pngFile(png: PngFixture): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, png.width);
  view.setUint32(4, png.height);
  header.set([png.bitDepth, png.colourType, 0, 0, png.interlace ?? 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    ...(png.chunks ?? []),
    pngChunk("IDAT", deflateSync(Uint8Array.from(png.scanlines))),
    pngChunk("IEND", []),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * An 8-bit grey PNG of `rows` (one byte a pixel, filter 0 on every row), or
 * with `colourType` 3 and a `PLTE` chunk in `chunks`, a palette PNG of indices.
 *
 * @example Usage
 * ```ts
 * import { rowsPng8 } from "./png_fixture.ts";
 * console.assert(rowsPng8([[0, 255]])[0] === 0x89);
 * ```
 */
export function rowsPng8(
  rows: readonly (readonly number[])[],
  colourType: 0 | 3 = 0,
  chunks: readonly Uint8Array[] = [],
): Uint8Array {
  return pngFile({
    width: rows[0].length,
    height: rows.length,
    bitDepth: 8,
    colourType,
    scanlines: rows.flatMap((r) => [0, ...r]),
    chunks,
  });
}

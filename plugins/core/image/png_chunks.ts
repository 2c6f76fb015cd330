/**
 * What the PNG decoders here share: reading a PNG's chunks (CRC-checked),
 * inflating its zlib stream, undoing the five row filters and Adam7
 * interlacing, and unpacking samples of any bit depth (1, 2, 4, 8 or 16).
 * `png16.ts` decodes 16-bit PNGs with it, `png_palette.ts` palette indices.
 *
 * @module
 */
import { inflateSync } from "node:zlib";

/** Throws a `DataError` saying what is wrong with the file. */
export type PngFail = (what: string) => never;

/** A PNG's header fields and the chunks the decoders use. */
export interface PngChunks {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** 1, 2, 4, 8 or 16. */
  readonly bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  readonly colourType: number;
  /** 0 none, 1 Adam7. */
  readonly interlace: number;
  /** The `PLTE` chunk's body, when there is one. */
  readonly palette?: Uint8Array;
  /** The `tRNS` chunk's body, when there is one. */
  readonly transparency?: Uint8Array;
  /** The `IDAT` chunks' bodies, in order. */
  readonly idat: readonly Uint8Array[];
}

/** The seven Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The bit depth a PNG's header declares, or undefined when the bytes do not
 * start with a PNG signature and an IHDR chunk.
 *
 * @param bytes The file.
 * @returns 1, 2, 4, 8 or 16 (or whatever the header holds).
 *
 * @example Usage
 * ```ts
 * import { pngBitDepth } from "./png_chunks.ts";
 * console.assert(pngBitDepth(new Uint8Array(4)) === undefined);
 * ```
 */
export function pngBitDepth(bytes: Uint8Array): number | undefined {
  const ihdr = [0x49, 0x48, 0x44, 0x52];
  if (bytes.length < 26 || !ihdr.every((b, i) => bytes[12 + i] === b)) return undefined;
  return bytes[24];
}

/**
 * The colour type a PNG's header declares, or undefined when the bytes do
 * not start with a PNG signature and an IHDR chunk.
 *
 * @param bytes The file.
 * @returns 0, 2, 3, 4 or 6 (or whatever the header holds).
 *
 * @example Usage
 * ```ts
 * import { pngColourType } from "./png_chunks.ts";
 * console.assert(pngColourType(new Uint8Array(4)) === undefined);
 * ```
 */
export function pngColourType(bytes: Uint8Array): number | undefined {
  return pngBitDepth(bytes) === undefined ? undefined : bytes[25];
}

/** Undoes one row's PNG filter in place; `prior` is the row above (zeros for the first). */
function unfilter(
  type: number,
  row: Uint8Array,
  prior: Uint8Array,
  bpp: number,
  fail: PngFail,
): void {
  const n = row.length;
  switch (type) {
    case 0:
      return;
    case 1: // Sub
      for (let i = bpp; i < n; i++) row[i] = (row[i] + row[i - bpp]) & 0xff;
      return;
    case 2: // Up
      for (let i = 0; i < n; i++) row[i] = (row[i] + prior[i]) & 0xff;
      return;
    case 3: // Average
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? row[i - bpp] : 0;
        row[i] = (row[i] + ((left + prior[i]) >> 1)) & 0xff;
      }
      return;
    case 4: // Paeth
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0, b = prior[i], c = i >= bpp ? prior[i - bpp] : 0;
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        row[i] = (row[i] + predictor) & 0xff;
      }
      return;
    default:
      fail(`row filter ${type} is not one of PNG's five (0–4)`);
  }
}

/**
 * Reads a PNG's chunks up to `IEND`, checking each one's CRC, and its
 * header: a size that is not empty, a known interlace method, some pixel
 * data. The bit depth and colour type are the caller's to check.
 *
 * @param bytes The whole file.
 * @param fail Throws with what is wrong.
 * @returns The header fields, `PLTE`, `tRNS` and the `IDAT` bodies.
 *
 * @example Usage
 * ```ts
 * import { readPngChunks } from "./png_chunks.ts";
 * import { assertThrows } from "../../../tests/assert.ts";
 * const fail = (what: string): never => { throw new Error(what); };
 * assertThrows(() => readPngChunks(new Uint8Array(8), fail), Error, "truncated");
 * ```
 */
export function readPngChunks(bytes: Uint8Array, fail: PngFail): PngChunks {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let header: Uint8Array | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (!ended) {
    if (at + 12 > bytes.length) fail("data is truncated (a chunk is cut short)");
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > bytes.length) fail("data is truncated (a chunk is cut short)");
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) {
      fail(`data is corrupt (chunk ${JSON.stringify(type)} fails its checksum)`);
    }
    if (type === "IHDR") header = body;
    else if (type === "PLTE") palette = body;
    else if (type === "tRNS") transparency = body;
    else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") ended = true;
    at = end;
  }
  if (!header || header.length !== 13) fail("has no valid IHDR header");
  const head = new DataView(header!.buffer, header!.byteOffset, 13);
  const width = head.getUint32(0), height = head.getUint32(4);
  const [bitDepth, colourType, , , interlace] = header!.subarray(8);
  return {
    width,
    height,
    bitDepth,
    colourType,
    interlace,
    ...(palette ? { palette } : {}),
    ...(transparency ? { transparency } : {}),
    idat,
  };
}

/**
 * Inflates, unfilters and de-interlaces a PNG's pixel data, and unpacks its
 * samples at the header's bit depth (1, 2, 4 and 8 bits: one byte's value
 * each; 16 bits: big-endian pairs). Checks the size, interlace method and
 * pixel data the bit depth and colour type leave to it.
 *
 * @param png The chunks, from {@linkcode readPngChunks}.
 * @param samplesPerPixel 1 grey or palette index, 2 grey + alpha, 3 RGB, 4 RGBA.
 * @param fail Throws with what is wrong.
 * @returns `width * height * samplesPerPixel` samples, row by row, pixel by pixel.
 *
 * @example Usage
 * ```ts
 * import { pngSamples } from "./png_chunks.ts";
 * import { deflateSync } from "node:zlib";
 * const fail = (what: string): never => { throw new Error(what); };
 * // 3×1 at 2 bits: filter 0, then indices 3, 0, 2 packed into one byte.
 * const idat = [new Uint8Array(deflateSync(Uint8Array.from([0, 0b11_00_10_00])))];
 * const png = { width: 3, height: 1, bitDepth: 2, colourType: 3, interlace: 0, idat };
 * console.assert(Array.from(pngSamples(png, 1, fail)).join() === "3,0,2");
 * ```
 */
export function pngSamples(png: PngChunks, samplesPerPixel: number, fail: PngFail): Uint16Array {
  const { width, height, bitDepth: depth, interlace, idat } = png;
  const spp = samplesPerPixel;
  if (!(width > 0 && height > 0)) fail(`declares an empty size ${width}×${height}`);
  if (interlace > 1) fail(`declares an unknown interlace method ${interlace}`);
  if (!idat.length) fail("has no pixel data (IDAT)");
  const bitsPerPixel = spp * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3); // the filters' byte distance
  const passes = interlace === 1
    ? ADAM7.map(([x0, y0, dx, dy]) => ({
      x0,
      y0,
      dx,
      dy,
      w: Math.ceil((width - x0) / dx),
      h: Math.ceil((height - y0) / dy),
    })).filter((p) => p.w > 0 && p.h > 0)
    : [{ x0: 0, y0: 0, dx: 1, dy: 1, w: width, h: height }];
  const strideOf = (w: number) => Math.ceil((w * bitsPerPixel) / 8);
  const expected = passes.reduce((sum, p) => sum + p.h * (1 + strideOf(p.w)), 0);
  const compressed = new Uint8Array(idat.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of idat) {
    compressed.set(part, offset);
    offset += part.length;
  }
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(compressed, { maxOutputLength: expected + 1 }));
  } catch (error) {
    return fail(
      `pixel data is truncated or corrupt (${
        error instanceof Error ? error.message : String(error)
      })`,
    );
  }
  if (raw.length !== expected) {
    fail(`pixel data holds ${raw.length} bytes, expected ${expected} for ${width}×${height}`);
  }
  const data = new Uint16Array(width * height * spp);
  const mask = (1 << depth) - 1;
  const sample = (row: Uint8Array, k: number): number => {
    if (depth === 16) return (row[2 * k] << 8) | row[2 * k + 1];
    if (depth === 8) return row[k];
    const bit = k * depth;
    return (row[bit >> 3] >> (8 - depth - (bit & 7))) & mask;
  };
  let pos = 0;
  for (const { x0, y0, dx, dy, w, h } of passes) {
    const stride = strideOf(w);
    let prior: Uint8Array = new Uint8Array(stride);
    for (let y = 0; y < h; y++) {
      const type = raw[pos];
      const row = raw.subarray(pos + 1, pos + 1 + stride);
      unfilter(type, row, prior, bpp, fail);
      for (let x = 0; x < w; x++) {
        const to = ((y0 + y * dy) * width + x0 + x * dx) * spp;
        for (let s = 0; s < spp; s++) data[to + s] = sample(row, x * spp + s);
      }
      prior = row;
      pos += 1 + stride;
    }
  }
  return data;
}

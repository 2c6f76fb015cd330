/**
 * Decodes 16-bit PNGs (grey, grey + alpha, RGB and RGBA, interlaced or not)
 * at full precision. imagescript, which decodes the other PNGs, keeps only
 * the high byte of each 16-bit sample, so 12-bit data would keep 16 grey
 * levels and 0..255 data stored in 16 bits would read as black.
 *
 * @module
 */
import { inflateSync } from "node:zlib";
import { DataError } from "../../../pipeline/errors.ts";
import { RECOPY } from "./decoded_image.ts";

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
 * import { pngBitDepth } from "./png16.ts";
 * console.assert(pngBitDepth(new Uint8Array(4)) === undefined);
 * ```
 */
export function pngBitDepth(bytes: Uint8Array): number | undefined {
  const ihdr = [0x49, 0x48, 0x44, 0x52];
  if (bytes.length < 26 || !ihdr.every((b, i) => bytes[12 + i] === b)) return undefined;
  return bytes[24];
}

/** Undoes one row's PNG filter in place; `prior` is the row above (zeros for the first). */
function unfilter(
  type: number,
  row: Uint8Array,
  prior: Uint8Array,
  bpp: number,
  fail: (what: string) => never,
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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let header: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  const parts: Uint8Array[] = [];
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
    else if (type === "tRNS") key = body;
    else if (type === "IDAT") parts.push(body);
    else if (type === "IEND") ended = true;
    at = end;
  }
  if (!header || header.length !== 13) fail("has no valid IHDR header");
  const head = new DataView(header!.buffer, header!.byteOffset, 13);
  const width = head.getUint32(0), height = head.getUint32(4);
  const [depth, colourType, , , interlace] = header!.subarray(8);
  const spp = CHANNELS[colourType];
  if (depth !== 16 || spp === undefined) {
    fail(`declares bit depth ${depth} with colour type ${colourType}, which PNG does not allow`);
  }
  if (!(width > 0 && height > 0)) fail(`declares an empty size ${width}×${height}`);
  if (interlace > 1) fail(`declares an unknown interlace method ${interlace}`);
  if (!parts.length) fail("has no pixel data (IDAT)");
  const bpp = spp * 2;
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
  const expected = passes.reduce((sum, p) => sum + p.h * (1 + p.w * bpp), 0);
  const compressed = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
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
  let pos = 0;
  for (const { x0, y0, dx, dy, w, h } of passes) {
    const stride = w * bpp;
    let prior: Uint8Array = new Uint8Array(stride);
    for (let y = 0; y < h; y++) {
      const type = raw[pos];
      const row = raw.subarray(pos + 1, pos + 1 + stride);
      unfilter(type, row, prior, bpp, fail);
      for (let x = 0; x < w; x++) {
        const to = ((y0 + y * dy) * width + x0 + x * dx) * spp;
        for (let s = 0; s < spp; s++) {
          data[to + s] = (row[x * bpp + 2 * s] << 8) | row[x * bpp + 2 * s + 1];
        }
      }
      prior = row;
      pos += 1 + stride;
    }
  }
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

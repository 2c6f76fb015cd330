/**
 * The independent scorer's own image decoders: the first frame of a GIF (LZW) and 8-bit PNGs
 * (inflated with `node:zlib`), each to one grey byte per pixel.
 *
 * Written apart from the repository's readers on purpose, and importing nothing from its
 * `pipeline/` or `plugins/`: a decoding bug shared by the run and its check would pass unseen.
 * `check_decoders.ts` compares both with imagescript; `decode_test.ts` checks them on DRIVE's
 * files against figures stated independently.
 *
 * @module
 */
import { inflateSync } from "node:zlib";

/** A one-channel 8-bit image, row-major. */
export interface GreyImage {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** `width × height` bytes, row after row. */
  readonly data: Uint8Array;
}

/** A decoded PNG, with what its header said (for reporting a map that is not 8-bit grey). */
export interface DecodedPng extends GreyImage {
  /** The PNG colour type: 0 grey, 2 RGB, 4 grey and alpha, 6 RGBA. */
  readonly colorType: number;
}

/** The largest code an LZW stream in a GIF can use (12-bit codes). */
const LZW_TABLE_SIZE = 4096;

/**
 * Decodes a GIF's first image to grey: each pixel is the largest of its palette colour's red,
 * green and blue (DRIVE's masks and manual annotations are grey, so that is their value).
 *
 * @param bytes The GIF file.
 * @returns The image at the GIF's logical screen size (a frame smaller than it is placed at
 *   its offset; the rest stays 0).
 * @throws {Error} When the bytes are not a GIF, hold no image, or their LZW data is corrupt.
 */
export function decodeGif(bytes: Uint8Array): GreyImage {
  const signature = String.fromCharCode(...bytes.subarray(0, 6));
  if (signature !== "GIF87a" && signature !== "GIF89a") {
    throw new Error(`not a GIF (signature ${JSON.stringify(signature)})`);
  }
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  const width = u16(6), height = u16(8);
  let at = 13;
  let globalPalette: Uint8Array | undefined;
  if (bytes[10] & 0x80) {
    const size = 3 * (1 << ((bytes[10] & 7) + 1));
    globalPalette = bytes.subarray(at, at + size);
    at += size;
  }
  while (at < bytes.length) {
    const block = bytes[at++];
    if (block === 0x21) {
      // An extension (graphic control, comment, ...): its label, then sub-blocks to skip.
      at++;
      while (bytes[at] !== 0) at += bytes[at] + 1;
      at++;
    } else if (block === 0x2c) {
      const left = u16(at), top = u16(at + 2), frameWidth = u16(at + 4), frameHeight = u16(at + 6);
      const packed = bytes[at + 8];
      at += 9;
      let palette = globalPalette;
      if (packed & 0x80) {
        const size = 3 * (1 << ((packed & 7) + 1));
        palette = bytes.subarray(at, at + size);
        at += size;
      }
      if (!palette) throw new Error("GIF image without a palette");
      const minimumCodeSize = bytes[at++];
      const chunks: Uint8Array[] = [];
      while (bytes[at] !== 0) {
        chunks.push(bytes.subarray(at + 1, at + 1 + bytes[at]));
        at += bytes[at] + 1;
      }
      const indices = lzwDecode(concatenate(chunks), minimumCodeSize, frameWidth * frameHeight);
      const rows = (packed & 0x40) ? interlacedRows(frameHeight) : [...Array(frameHeight).keys()];
      const data = new Uint8Array(width * height);
      for (let k = 0; k < frameHeight; k++) {
        const y = rows[k] + top;
        for (let x = 0; x < frameWidth; x++) {
          const index = 3 * indices[k * frameWidth + x];
          data[y * width + x + left] = Math.max(
            palette[index],
            palette[index + 1],
            palette[index + 2],
          );
        }
      }
      return { width, height, data };
    } else if (block === 0x3b) {
      break;
    } else {
      throw new Error(`bad GIF block 0x${block.toString(16)} at byte ${at - 1}`);
    }
  }
  throw new Error("GIF without an image");
}

/** The order in which an interlaced GIF stores its rows: every 8th from 0, from 4, then 4th from 2, then 2nd from 1. */
function interlacedRows(height: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) {
    for (let row = start; row < height; row += step) rows.push(row);
  }
  return rows;
}

/**
 * GIF's variable-width LZW (codes least-significant bit first, the width growing when the
 * table fills its current range, no growth past 12 bits) to `count` palette indices.
 */
function lzwDecode(data: Uint8Array, minimumCodeSize: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  const clear = 1 << minimumCodeSize, end = clear + 1;
  // Each table entry is its prefix entry plus one last byte; -1 ends a chain.
  const prefix = new Int32Array(LZW_TABLE_SIZE), suffix = new Uint8Array(LZW_TABLE_SIZE);
  for (let code = 0; code < clear; code++) {
    prefix[code] = -1;
    suffix[code] = code;
  }
  const stack = new Uint8Array(LZW_TABLE_SIZE + 1);
  let codeSize = minimumCodeSize + 1, next = end + 1, previous = -1, written = 0, bit = 0;
  const bits = data.length * 8;
  while (bit + codeSize <= bits && written < count) {
    let code = 0;
    for (let i = 0; i < codeSize; i++, bit++) {
      if (data[bit >> 3] & (1 << (bit & 7))) code |= 1 << i;
    }
    if (code === clear) {
      codeSize = minimumCodeSize + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    // A code not yet in the table (only `next` is legal) means previous string + its first byte.
    const unseen = previous !== -1 && code >= next;
    if (unseen && code !== next) throw new Error(`corrupt LZW data: code ${code}, table ${next}`);
    let depth = 0;
    for (let c = unseen ? previous : code; c >= 0; c = prefix[c]) stack[depth++] = suffix[c];
    const first = stack[depth - 1];
    while (depth > 0 && written < count) out[written++] = stack[--depth];
    if (unseen && written < count) out[written++] = first;
    if (previous !== -1 && next < LZW_TABLE_SIZE) {
      prefix[next] = previous;
      suffix[next] = first;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    previous = code;
  }
  if (written < count) throw new Error(`LZW data ends after ${written} of ${count} pixels`);
  return out;
}

/** The PNG channels per pixel, by colour type (palette images, type 3, are not supported). */
const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * Decodes an 8-bit, non-interlaced PNG (grey, grey and alpha, RGB or RGBA) to its first
 * channel: the grey value, or red. The chunks' CRCs are not checked.
 *
 * @param bytes The PNG file.
 * @returns The first channel, with the header's colour type.
 * @throws {Error} When the bytes are not a PNG, or it is of another depth, interlaced, a
 *   palette image, or uses an unknown row filter.
 */
export function decodePng(bytes: Uint8Array): DecodedPng {
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (signature.some((b, i) => bytes[i] !== b)) throw new Error("not a PNG (bad signature)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8, width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
  const compressed: Uint8Array[] = [];
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      bitDepth = body[8];
      colorType = body[9];
      interlace = body[12];
    } else if (type === "IDAT") {
      compressed.push(body);
    } else if (type === "IEND") {
      break;
    }
    at += 12 + length;
  }
  const channels = PNG_CHANNELS[colorType];
  if (bitDepth !== 8 || interlace !== 0 || !channels) {
    throw new Error(
      `unsupported PNG: bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace} (8-bit, non-interlaced, no palette only)`,
    );
  }
  const raw = new Uint8Array(inflateSync(concatenate(compressed)));
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) {
    throw new Error(`PNG data holds ${raw.length} bytes, ${(stride + 1) * height} expected`);
  }
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const source = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      // a: the same channel one pixel left; b: above; c: above-left (0 off the image).
      const a = x >= channels ? pixels[row + x - channels] : 0;
      const b = y > 0 ? pixels[row - stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[row - stride + x - channels] : 0;
      let predicted: number;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = a;
          break;
        case 2:
          predicted = b;
          break;
        case 3:
          predicted = (a + b) >> 1;
          break;
        case 4: {
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`PNG row ${y} has unknown filter ${filter}`);
      }
      pixels[row + x] = (source[x] + predicted) & 255;
    }
  }
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = pixels[i * channels];
  return { width, height, data, colorType };
}

/** The chunks one after another in one array. */
function concatenate(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

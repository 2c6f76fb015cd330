/**
 * Encodes a one-channel raster as an 8-bit greyscale PNG, and a three-channel
 * one as an 8-bit RGB PNG.
 *
 * @module
 */

import { deflateSync } from "node:zlib";
import type { Raster } from "../data.ts";
import { DataError } from "../errors.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC over type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes a one-channel raster whose values are in [0, 1] as an 8-bit
 * greyscale PNG (colour type 0): each value is scaled by 255, rounded and
 * clamped to 0..255. Rows are stored unfiltered and deflated with zlib.
 *
 * @param raster A one-channel raster, values in [0, 1].
 * @returns The PNG file's bytes.
 * @throws {DataError} When the raster has more than one channel, a size that
 *   does not match its data, or a value that is not finite.
 *
 * @example Usage
 * ```ts
 * import { encodeGrayPng } from "./write_png.ts";
 * import { assertEquals } from "../../tests/assert.ts";
 * const png = encodeGrayPng({ width: 2, height: 1, channels: 1, data: new Float32Array([0, 1]) });
 * assertEquals(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]); // "PNG"
 * assertEquals([png[24], png[25]], [8, 0]); // bit depth 8, colour type 0 (grey)
 * ```
 */
export function encodeGrayPng(raster: Raster): Uint8Array {
  return encodePng(raster, 1, "convert it to grey first");
}

/**
 * Encodes a three-channel raster whose values are in [0, 1] as an 8-bit RGB
 * PNG (colour type 2), the channels in the raster's order (red, green, blue):
 * each value is scaled by 255, rounded and clamped to 0..255, as
 * {@link encodeGrayPng} does. Rows are stored unfiltered and deflated with zlib.
 *
 * @param raster A three-channel raster, values in [0, 1].
 * @returns The PNG file's bytes.
 * @throws {DataError} When the raster does not have three channels, has a size
 *   that does not match its data, or holds a value that is not finite.
 *
 * @example Usage
 * ```ts
 * import { encodeRgbPng } from "./write_png.ts";
 * import { assertEquals } from "../../tests/assert.ts";
 * // one red pixel, one white
 * const data = new Float32Array([1, 0, 0, 1, 1, 1]);
 * const png = encodeRgbPng({ width: 2, height: 1, channels: 3, data });
 * assertEquals(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]); // "PNG"
 * assertEquals([png[24], png[25]], [8, 2]); // bit depth 8, colour type 2 (RGB)
 * ```
 */
export function encodeRgbPng(raster: Raster): Uint8Array {
  return encodePng(raster, 3, "give it three channels (red, green, blue)");
}

/** The PNG of a raster of `expected` channels (1: grey, colour type 0; 3: RGB, colour type 2). */
function encodePng(raster: Raster, expected: 1 | 3, hint: string): Uint8Array {
  const { width, height, channels, data } = raster;
  if (channels !== expected) {
    throw new DataError(
      `Cannot encode PNG: raster has ${channels} channels, expected ${expected}; ${hint}`,
    );
  }
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 ||
    data.length !== width * height * channels
  ) {
    throw new DataError(
      `Cannot encode PNG: raster is ${width}x${height}` +
        (channels === 1 ? "" : `x${channels}`) + ` but holds ${data.length} values`,
    );
  }
  const row = width * channels;
  const stride = row + 1;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    // raw[y * stride] stays 0: filter type "None".
    for (let i = 0; i < row; i++) {
      const v = data[y * row + i];
      if (!Number.isFinite(v)) {
        const x = Math.floor(i / channels);
        throw new DataError(
          `Cannot encode PNG: value "${v}" at pixel (${x}, ${y})` +
            (channels === 1 ? "" : ` channel ${i % channels}`) + " is not finite",
        );
      }
      raw[y * stride + 1 + i] = Math.min(255, Math.max(0, Math.round(v * 255)));
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = channels === 1 ? 0 : 2; // colour type: greyscale or truecolour (RGB)
  header[10] = 0; // compression: deflate
  header[11] = 0; // filter method
  header[12] = 0; // no interlace
  const parts = [
    new Uint8Array(SIGNATURE),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Encodes a one-channel raster as an 8-bit greyscale PNG.
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
  const { width, height, channels, data } = raster;
  if (channels !== 1) {
    throw new DataError(
      `Cannot encode PNG: raster has ${channels} channels, expected 1; convert it to grey first`,
    );
  }
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 ||
    data.length !== width * height
  ) {
    throw new DataError(
      `Cannot encode PNG: raster is ${width}x${height} but holds ${data.length} values`,
    );
  }
  const stride = width + 1;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    // raw[y * stride] stays 0: filter type "None".
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x];
      if (!Number.isFinite(v)) {
        throw new DataError(
          `Cannot encode PNG: value "${v}" at pixel (${x}, ${y}) is not finite`,
        );
      }
      raw[y * stride + 1 + x] = Math.min(255, Math.max(0, Math.round(v * 255)));
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: greyscale
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

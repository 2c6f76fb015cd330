/**
 * Decodes Netpbm greymaps and pixmaps (PGM `P2`/`P5`, PPM `P3`/`P6`; STARE
 * ships its images as PPM) into {@linkcode Raster}s with values scaled to
 * 0..255 like the other decoders.
 *
 * @module
 */
import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";

/** Whether `bytes` start like a Netpbm file this module decodes. */
export function isNetpbm(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x50 && [0x32, 0x33, 0x35, 0x36].includes(bytes[1]) &&
    /\s/.test(String.fromCharCode(bytes[2]));
}

/**
 * Decodes a PGM or PPM file.
 *
 * @param bytes The file.
 * @param name The file's name, for errors.
 * @returns A raster scaled to 0..255 whose `maxValue` is the file's maxval.
 * @throws {DataError} On a malformed header, a maxval outside 1..65535, or missing pixels.
 *
 * @example Usage
 * ```ts
 * import { decodeNetpbm } from "./netpbm.ts";
 * const pgm = new TextEncoder().encode("P2\n2 1\n# a comment\n4\n0 4\n");
 * const raster = decodeNetpbm(pgm, "tiny.pgm");
 * console.assert(raster.channels === 1 && raster.data[1] === 255);
 * ```
 */
export function decodeNetpbm(bytes: Uint8Array, name: string): Raster {
  const kind = String.fromCharCode(bytes[1]);
  const channels = kind === "3" || kind === "6" ? 3 : 1;
  const ascii = kind === "2" || kind === "3";
  let at = 2;
  const fail = (what: string): never => {
    throw new DataError(`Cannot read image "${name}": ${what}; copy or convert the file again`);
  };
  const token = (): number => {
    for (;;) {
      while (at < bytes.length && /\s/.test(String.fromCharCode(bytes[at]))) at++;
      if (bytes[at] !== 0x23) break; // '#': a comment to the end of the line
      while (at < bytes.length && bytes[at] !== 0x0a) at++;
    }
    const start = at;
    while (at < bytes.length && bytes[at] >= 0x30 && bytes[at] <= 0x39) at++;
    if (at === start) fail(`the P${kind} header or pixel data is truncated or malformed`);
    return Number(new TextDecoder().decode(bytes.subarray(start, at)));
  };
  const width = token(), height = token(), maxval = token();
  if (width < 1 || height < 1) fail(`the size ${width}×${height} is empty`);
  if (maxval < 1 || maxval > 65535) fail(`maxval ${maxval} is outside 1..65535`);
  const count = width * height * channels;
  const data = new Float32Array(count);
  const scale = 255 / maxval;
  if (ascii) {
    for (let i = 0; i < count; i++) data[i] = Math.min(maxval, token()) * scale;
    return { width, height, channels, data, maxValue: maxval };
  }
  at++; // the single whitespace before binary pixels
  const wide = maxval > 255;
  if (bytes.length - at < count * (wide ? 2 : 1)) {
    fail(`P${kind} pixel data is truncated (${bytes.length - at} bytes for ${count} samples)`);
  }
  for (let i = 0; i < count; i++) {
    const v = wide ? (bytes[at + 2 * i] << 8) | bytes[at + 2 * i + 1] : bytes[at + i];
    data[i] = Math.min(maxval, v) * scale;
  }
  return { width, height, channels, data, maxValue: maxval };
}

/**
 * Decodes TIFF, PNG, JPEG, GIF and PGM/PPM files into {@linkcode Raster}s.
 *
 * @module
 */

import UTIF from "utif2";
import type { Raster } from "../../../pipeline/data.ts";
import { CapillaryError, DataError } from "../../../pipeline/errors.ts";
import { decodeNetpbm, isNetpbm } from "./netpbm.ts";

/** The formats {@linkcode decodeImage} understands, for error messages. */
const SUPPORTED = "TIFF, PNG, JPEG, GIF and PGM/PPM";

/** What to do about a damaged file, appended to messages. */
const RECOPY = "copy or download the file again";

type Format = "tiff" | "png" | "jpeg" | "gif" | "netpbm";

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  if (bytes.length < magic.length) return false;
  return magic.every((b, i) => bytes[i] === b);
}

function sniff(bytes: Uint8Array): Format | undefined {
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return "tiff";
  }
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39)) {
    return "gif";
  }
  if (isNetpbm(bytes)) return "netpbm";
  return undefined;
}

function hexHead(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns 8-bit RGBA into a Raster: 1 channel if every pixel has R = G = B, else 3; alpha dropped. */
function fromRgba(rgba: ArrayLike<number>, width: number, height: number): Raster {
  const n = width * height;
  let grey = true;
  for (let p = 0; p < n * 4; p += 4) {
    if (rgba[p] !== rgba[p + 1] || rgba[p] !== rgba[p + 2]) {
      grey = false;
      break;
    }
  }
  if (grey) {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rgba[i * 4];
    return { width, height, channels: 1, data };
  }
  const data = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[i * 3] = rgba[i * 4];
    data[i * 3 + 1] = rgba[i * 4 + 1];
    data[i * 3 + 2] = rgba[i * 4 + 2];
  }
  return { width, height, channels: 3, data };
}

function tagNumbers(value: unknown): number[] {
  if (Array.isArray(value)) return value.map(Number);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  return [];
}

/** Bytes per value of each TIFF field type. */
const TIFF_TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

/**
 * Checks that the first image directory and every value it points to lie
 * inside the file. UTIF reads past the end of a short file without complaint
 * (missing bytes read as zeros), so a truncated file would decode silently.
 */
function checkTiffLayout(bytes: Uint8Array, name: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = bytes[0] === 0x49;
  const truncated = (needed: number) =>
    new DataError(
      `Cannot read image "${name}": TIFF is truncated (needs at least ${needed} bytes, the file has ${bytes.length}); ${RECOPY}`,
    );
  if (bytes.length < 8) throw truncated(8);
  const ifd = view.getUint32(4, le);
  if (ifd < 8) {
    throw new DataError(
      `Cannot read image "${name}": TIFF header points to directory offset ${ifd}, which is corrupt; ${RECOPY}`,
    );
  }
  if (ifd + 2 > bytes.length) throw truncated(ifd + 2);
  const entries = view.getUint16(ifd, le);
  const end = ifd + 2 + 12 * entries + 4;
  if (end > bytes.length) throw truncated(end);
  for (let i = 0; i < entries; i++) {
    const at = ifd + 2 + 12 * i;
    const size = (TIFF_TYPE_SIZE[view.getUint16(at + 2, le)] ?? 1) * view.getUint32(at + 4, le);
    if (size > 4) {
      const valueEnd = view.getUint32(at + 8, le) + size;
      if (valueEnd > bytes.length) throw truncated(valueEnd);
    }
  }
}

function decodeTiff(bytes: Uint8Array, name: string): Raster {
  checkTiffLayout(bytes, name);
  // UTIF wants an ArrayBuffer that holds exactly the file.
  const buffer = bytes.slice().buffer;
  let ifds: UTIF.IFD[];
  try {
    ifds = UTIF.decode(buffer);
  } catch (error) {
    throw new DataError(
      `Cannot read image "${name}": TIFF header or directory is truncated or corrupt (${
        reason(error)
      }); ${RECOPY}`,
      { cause: error },
    );
  }
  const ifd = ifds.find((d) => Number(tagNumbers(d["t256"])[0]) > 0);
  if (!ifd) {
    throw new DataError(
      `Cannot read image "${name}": TIFF has no readable image directory (the file is truncated or corrupt); ${RECOPY}`,
    );
  }
  // UTIF reads past the end of a truncated file without complaint (the
  // missing bytes become zeros), so check that every strip or tile is there.
  const offsets = tagNumbers(ifd["t273"] ?? ifd["t324"]);
  const counts = tagNumbers(ifd["t279"] ?? ifd["t325"]);
  if (offsets.length === 0 || offsets.length !== counts.length) {
    throw new DataError(
      `Cannot read image "${name}": TIFF has no valid strip or tile table; ${RECOPY}`,
    );
  }
  for (let i = 0; i < offsets.length; i++) {
    if (offsets[i] + counts[i] > bytes.length) {
      throw new DataError(
        `Cannot read image "${name}": TIFF is truncated (needs ${
          offsets[i] + counts[i]
        } bytes, file has ${bytes.length}); ${RECOPY}`,
      );
    }
  }
  let rgba: Uint8Array;
  try {
    UTIF.decodeImage(buffer, ifd);
    rgba = UTIF.toRGBA8(ifd);
  } catch (error) {
    throw new DataError(
      `Cannot read image "${name}": TIFF pixel data is corrupt or uses an unsupported encoding (${
        reason(error)
      }); ${RECOPY}, or convert it to PNG`,
      { cause: error },
    );
  }
  const { width, height } = ifd;
  if (!(width > 0 && height > 0) || rgba.length !== width * height * 4) {
    throw new DataError(
      `Cannot read image "${name}": TIFF decoded to ${rgba.length} bytes, expected ${
        width * height * 4
      } for ${width}x${height}; ${RECOPY}, or convert it to PNG`,
    );
  }
  return fromRgba(rgba, width, height);
}

async function decodeWithImagescript(
  bytes: Uint8Array,
  name: string,
  format: Format,
): Promise<Raster> {
  // Loaded on first use: imagescript loads a native codec at import time,
  // which needs --allow-ffi; TIFF reading works without it.
  let imagescript: typeof import("imagescript");
  try {
    imagescript = await import("imagescript");
  } catch (error) {
    throw new CapillaryError(
      `Cannot read image "${name}": the ${format.toUpperCase()} decoder (imagescript) failed to load (${
        reason(error)
      }); run Deno with --allow-ffi or -A`,
      "E_DECODER",
      { cause: error },
    );
  }
  const { GIF, Image } = imagescript;
  let image: {
    readonly width: number;
    readonly height: number;
    readonly bitmap: Uint8ClampedArray;
  };
  try {
    if (format === "gif") {
      const gif = await GIF.decode(bytes, true);
      if (gif.length === 0) throw new Error("no frames");
      image = gif[0];
    } else {
      image = await Image.decode(bytes);
    }
  } catch (error) {
    throw new DataError(
      `Cannot read image "${name}": ${format.toUpperCase()} data is truncated or corrupt (${
        reason(error)
      }); ${RECOPY}`,
      { cause: error },
    );
  }
  const { width, height, bitmap } = image;
  if (!(width > 0 && height > 0) || bitmap.length !== width * height * 4) {
    throw new DataError(
      `Cannot read image "${name}": ${format.toUpperCase()} decoded to ${bitmap.length} bytes, expected ${
        width * height * 4
      } for ${width}x${height}; ${RECOPY}`,
    );
  }
  return fromRgba(bitmap, width, height);
}

/**
 * Decodes an image file's bytes into a {@linkcode Raster} with values
 * 0..255. The format is found from the magic bytes, not the name: TIFF
 * (through `utif2`, which handles LZW), PNG, JPEG and GIF (first frame;
 * through `imagescript`, loaded on first use; it needs `--allow-ffi`). The result has 1 channel when every pixel has
 * R = G = B (grey masks), else 3; alpha is dropped.
 *
 * @param bytes The whole file.
 * @param name The file's name or path, for error messages.
 * @returns A new raster, values 0..255.
 * @throws {DataError} When the bytes are empty, truncated, corrupt or of an unsupported format.
 * @throws {CapillaryError} (code `E_DECODER`) When the PNG/JPEG/GIF decoder cannot load,
 *   e.g. without `--allow-ffi`.
 *
 * @example Usage
 * ```ts
 * import { decodeImage } from "./read_image.ts";
 * import { encodeGrayPng } from "../../../mod.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const png = encodeGrayPng({ width: 2, height: 1, channels: 1, data: new Float32Array([0, 1]) });
 * const raster = await decodeImage(png, "tiny.png");
 * assertEquals([raster.width, raster.height, raster.channels], [2, 1, 1]);
 * assertEquals(Array.from(raster.data), [0, 255]);
 * ```
 */
export async function decodeImage(bytes: Uint8Array, name: string): Promise<Raster> {
  if (bytes.length === 0) {
    throw new DataError(`Cannot read image "${name}": file is empty; ${RECOPY}`);
  }
  const format = sniff(bytes);
  if (format === undefined) {
    throw new DataError(
      `Cannot read image "${name}": unsupported format (first bytes ${
        hexHead(bytes)
      }); supported formats are ${SUPPORTED}, so convert it to one of them`,
    );
  }
  if (format === "tiff") return decodeTiff(bytes, name);
  if (format === "netpbm") return decodeNetpbm(bytes, name);
  return await decodeWithImagescript(bytes, name, format);
}

/**
 * Reads and decodes an image file; see {@linkcode decodeImage} for the
 * formats and the channel rule.
 *
 * @param path The file to read.
 * @returns A new raster, values 0..255.
 * @throws {DataError} When the file is missing or unreadable, or cannot be decoded.
 *
 * @example Usage
 * ```ts
 * import { readImage } from "./read_image.ts";
 * import { DataError } from "../../../pipeline/errors.ts";
 * import { assertRejects } from "../../../tests/assert.ts";
 * await assertRejects(() => readImage("no/such/file.tif"), DataError, "file not found");
 * ```
 */
export async function readImage(path: string): Promise<Raster> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new DataError(
        `Cannot read image "${path}": file not found; check the path and the data folder`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new DataError(
        `Cannot read image "${path}": permission denied; fix the file's permissions`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.NotCapable) {
      throw new DataError(
        `Cannot read image "${path}": Deno may not read it; run with --allow-read`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new DataError(
        `Cannot read image "${path}": it is a directory; name an image file`,
        { cause: error },
      );
    }
    throw new DataError(`Cannot read image "${path}": ${reason(error)}`, { cause: error });
  }
  return await decodeImage(bytes, path);
}

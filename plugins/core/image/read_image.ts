/**
 * Decodes TIFF, PNG, JPEG, GIF and PGM/PPM files into {@linkcode Raster}s.
 *
 * @module
 */

import UTIF from "utif2";
import type { Raster } from "../../../pipeline/data.ts";
import { CapillaryError, DataError } from "../../../pipeline/errors.ts";
import { decodeNetpbm, isNetpbm } from "./netpbm.ts";
import { decodePng16, type PixelSamples, pngBitDepth } from "./png16.ts";

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

/**
 * A decoded image and, when its file has transparency, its alpha channel:
 * what {@linkcode decodeImageWithAlpha} returns. Masks need the alpha
 * (a transparent background must not read as foreground); images do not.
 */
export interface DecodedImage {
  /** The colour or grey channels, as {@linkcode decodeImage} returns them. */
  readonly raster: Raster;
  /**
   * Each pixel's opacity on the raster's 0..255 scale (0 transparent, 255
   * opaque), `width * height` values. Absent when the file has no alpha
   * channel or transparency key, or every pixel is fully opaque.
   */
  readonly alpha?: Float32Array;
}

/**
 * Scales a file's integer samples to 0..255 (`v · 255 / maxValue` as a
 * float, no rounding: 8-bit values stay as they are, 16-bit ones keep every
 * level). One channel if every pixel has R = G = B, else 3; alpha apart.
 */
function fromSamples(samples: PixelSamples): DecodedImage {
  const { width, height, samplesPerPixel: spp, data: src, maxValue } = samples;
  const n = width * height;
  let channels = spp >= 3 ? 3 : 1;
  if (channels === 3) {
    let grey = true;
    for (let p = 0; p < n * spp; p += spp) {
      if (src[p] !== src[p + 1] || src[p] !== src[p + 2]) {
        grey = false;
        break;
      }
    }
    if (grey) channels = 1;
  }
  const data = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) data[i * channels + c] = (src[i * spp + c] * 255) / maxValue;
  }
  const raster: Raster = { width, height, channels, data, maxValue };
  if (spp !== 2 && spp !== 4) return { raster };
  let opaque = true;
  for (let i = spp - 1; i < n * spp; i += spp) {
    if (src[i] < maxValue) {
      opaque = false;
      break;
    }
  }
  if (opaque) return { raster };
  const alpha = new Float32Array(n);
  for (let i = 0; i < n; i++) alpha[i] = (src[i * spp + spp - 1] * 255) / maxValue;
  return { raster, alpha };
}

/** 8-bit RGBA (what imagescript and UTIF's `toRGBA8` give) as a {@linkcode DecodedImage}. */
function fromRgba(rgba: ArrayLike<number>, width: number, height: number): DecodedImage {
  return fromSamples({ width, height, samplesPerPixel: 4, data: rgba, maxValue: 255 });
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

function decodeTiff(bytes: Uint8Array, name: string): DecodedImage {
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
  try {
    UTIF.decodeImage(buffer, ifd);
  } catch (error) {
    throw new DataError(
      `Cannot read image "${name}": TIFF pixel data is corrupt or uses an unsupported encoding (${
        reason(error)
      }); ${RECOPY}, or convert it to PNG`,
      { cause: error },
    );
  }
  const { width, height } = ifd;
  const bits = tagNumbers(ifd["t258"]);
  if (bits.length > 0 && bits.every((b) => b === 16)) {
    return fromSamples(tiff16Samples(ifd, width, height, name));
  }
  let rgba: Uint8Array;
  try {
    rgba = UTIF.toRGBA8(ifd);
  } catch (error) {
    throw new DataError(
      `Cannot read image "${name}": TIFF pixel data is corrupt or uses an unsupported encoding (${
        reason(error)
      }); ${RECOPY}, or convert it to PNG`,
      { cause: error },
    );
  }
  if (!(width > 0 && height > 0) || rgba.length !== width * height * 4) {
    throw new DataError(
      `Cannot read image "${name}": TIFF decoded to ${rgba.length} bytes, expected ${
        width * height * 4
      } for ${width}x${height}; ${RECOPY}, or convert it to PNG`,
    );
  }
  return fromRgba(rgba, width, height);
}

/**
 * A 16-bit TIFF's samples at full precision. UTIF's `toRGBA8` keeps only the
 * high byte, so this reads the decoded strips (`ifd.data`, which UTIF has
 * decompressed, turned little-endian and un-predicted) itself. Grey
 * (BlackIsZero, or WhiteIsZero inverted) and RGB, with an alpha channel when
 * the extra sample is one (or unlabelled), one plane per pixel.
 */
function tiff16Samples(ifd: UTIF.IFD, width: number, height: number, name: string): PixelSamples {
  const unsupported = (what: string): never => {
    throw new DataError(
      `Cannot read image "${name}": 16-bit TIFF with ${what} is not supported; convert it to a ` +
        "16-bit grey or RGB PNG",
    );
  };
  const first = (tag: string, fallback: number) => tagNumbers(ifd[tag])[0] ?? fallback;
  const spp = first("t277", 1);
  const photometric = first("t262", spp >= 3 ? 2 : 1);
  const format = first("t339", 1);
  if (format !== 1) {
    unsupported(format === 3 ? "floating-point samples" : `sample format ${format} (signed?)`);
  }
  if (first("t284", 1) !== 1) unsupported("separate colour planes (PlanarConfiguration 2)");
  if (photometric > 2) unsupported(`photometric interpretation ${photometric} (palette, CMYK…)`);
  const colours = photometric === 2 && spp >= 3 ? 3 : 1;
  const extra = tagNumbers(ifd["t338"]);
  const alpha = spp > colours && (extra.length === 0 || extra[0] === 1 || extra[0] === 2);
  const out = colours + (alpha ? 1 : 0);
  const data = (ifd as { data?: Uint8Array }).data;
  if (!(width > 0 && height > 0) || !data || data.length < width * height * spp * 2) {
    throw new DataError(
      `Cannot read image "${name}": 16-bit TIFF decoded to ${data?.length ?? 0} bytes, expected ${
        width * height * spp * 2
      } for ${width}x${height}; ${RECOPY}, or convert it to PNG`,
    );
  }
  const samples = new Uint16Array(width * height * out);
  for (let i = 0; i < width * height; i++) {
    for (let s = 0; s < out; s++) {
      const from = 2 * (i * spp + (s < colours ? s : colours));
      const v = data[from] | (data[from + 1] << 8);
      samples[i * out + s] = photometric === 0 && s < colours ? 65535 - v : v;
    }
  }
  return { width, height, samplesPerPixel: out as 1 | 2 | 3 | 4, data: samples, maxValue: 65535 };
}

async function decodeWithImagescript(
  bytes: Uint8Array,
  name: string,
  format: Format,
): Promise<DecodedImage> {
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
 * Decodes an image file's bytes, keeping its alpha channel apart (see
 * {@linkcode DecodedImage}); {@linkcode decodeImage} describes the formats,
 * the scale and the channel rule. Alpha comes from RGBA and grey + alpha
 * PNGs and TIFFs, PNG transparency keys and GIF transparency; JPEG and
 * PGM/PPM have none.
 *
 * @param bytes The whole file.
 * @param name The file's name or path, for error messages.
 * @returns The raster, and the alpha channel when some pixel is not fully opaque.
 * @throws {DataError} As {@linkcode decodeImage}.
 * @throws {CapillaryError} As {@linkcode decodeImage}.
 *
 * @example Usage
 * ```ts
 * import { decodeImageWithAlpha } from "./read_image.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const pgm = new TextEncoder().encode("P2\n2 1\n255\n0 255\n");
 * const { raster, alpha } = await decodeImageWithAlpha(pgm, "tiny.pgm");
 * assertEquals([Array.from(raster.data), alpha], [[0, 255], undefined]);
 * ```
 */
export async function decodeImageWithAlpha(
  bytes: Uint8Array,
  name: string,
): Promise<DecodedImage> {
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
  if (format === "netpbm") return { raster: decodeNetpbm(bytes, name) };
  // imagescript keeps only the high byte of 16-bit PNG samples.
  if (format === "png" && pngBitDepth(bytes) === 16) return fromSamples(decodePng16(bytes, name));
  return await decodeWithImagescript(bytes, name, format);
}

/**
 * Decodes an image file's bytes into a {@linkcode Raster} with values on a
 * 0..255 scale. The format is found from the magic bytes, not the name: TIFF
 * (through `utif2`, which handles LZW), PNG, JPEG and GIF (first frame;
 * through `imagescript`, loaded on first use; it needs `--allow-ffi`), and
 * PGM/PPM. 16-bit PNGs (decoded here, `png16.ts`), 16-bit TIFFs and 16-bit
 * PGM/PPM keep their full precision: a sample `v` of a file whose largest
 * value is `maxValue` (255, 65535, a PGM's maxval) becomes the float
 * `v · 255 / maxValue`, not rounded, and the raster's `maxValue` field says
 * which, so `value · maxValue / 255` gives back the file's own integers. The
 * result has 1 channel when every pixel has R = G = B (grey masks), else 3;
 * alpha is dropped ({@linkcode decodeImageWithAlpha} keeps it).
 *
 * @param bytes The whole file.
 * @param name The file's name or path, for error messages.
 * @returns A new raster, values 0..255, with `maxValue` set.
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
 * assertEquals([raster.width, raster.height, raster.channels, raster.maxValue], [2, 1, 1, 255]);
 * assertEquals(Array.from(raster.data), [0, 255]);
 * ```
 */
export async function decodeImage(bytes: Uint8Array, name: string): Promise<Raster> {
  return (await decodeImageWithAlpha(bytes, name)).raster;
}

async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
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
}

/**
 * Reads and decodes an image file; see {@linkcode decodeImage} for the
 * formats, the scale and the channel rule.
 *
 * @param path The file to read.
 * @returns A new raster, values 0..255, with `maxValue` set.
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
  return await decodeImage(await readFileBytes(path), path);
}

/**
 * Reads and decodes an image file keeping its alpha channel apart; see
 * {@linkcode decodeImageWithAlpha}. Masks are read this way.
 *
 * @param path The file to read.
 * @returns The raster, and the alpha channel when some pixel is not fully opaque.
 * @throws {DataError} When the file is missing or unreadable, or cannot be decoded.
 *
 * @example Usage
 * ```ts
 * import { readImageWithAlpha } from "./read_image.ts";
 * import { DataError } from "../../../pipeline/errors.ts";
 * import { assertRejects } from "../../../tests/assert.ts";
 * await assertRejects(() => readImageWithAlpha("no/such/mask.png"), DataError, "file not found");
 * ```
 */
export async function readImageWithAlpha(path: string): Promise<DecodedImage> {
  return await decodeImageWithAlpha(await readFileBytes(path), path);
}

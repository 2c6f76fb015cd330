/**
 * Decodes TIFF, PNG, JPEG, GIF and PGM/PPM files into {@linkcode Raster}s.
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";
import { CapillaryError, DataError } from "../../../pipeline/errors.ts";
import { type DecodedImage, fromRgba, fromSamples, reason, RECOPY } from "./decoded_image.ts";
import { type ImageFormat, knownImageFormat } from "./image_format.ts";
import { decodeNetpbm } from "./netpbm.ts";
import { decodePng16 } from "./png16.ts";
import { pngBitDepth, pngColourType } from "./png_chunks.ts";
import { decodePngIndices } from "./png_palette.ts";
import { decodeTiff } from "./tiff.ts";

async function decodeWithImagescript(
  bytes: Uint8Array,
  name: string,
  format: ImageFormat,
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
 * PNGs and TIFFs, PNG transparency and GIF transparency; JPEG and
 * PGM/PPM have none. A palette PNG (colour type 3, 1 to 8 bits) also gives
 * its raw indices (`indices`), which masks are read by; its raster holds
 * the palette's colours, as imagescript decodes them.
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
export function decodeImageWithAlpha(bytes: Uint8Array, name: string): Promise<DecodedImage> {
  return decodeFile(bytes, name, true);
}

/** Decodes a file; a palette PNG's indices only `withIndices` (masks read them, images not). */
async function decodeFile(
  bytes: Uint8Array,
  name: string,
  withIndices: boolean,
): Promise<DecodedImage> {
  const format = knownImageFormat(bytes, name);
  if (format === "tiff") return decodeTiff(bytes, name);
  if (format === "netpbm") return { raster: decodeNetpbm(bytes, name) };
  // imagescript keeps only the high byte of 16-bit PNG samples.
  if (format === "png" && pngBitDepth(bytes) === 16) return fromSamples(decodePng16(bytes, name));
  const decoded = await decodeWithImagescript(bytes, name, format);
  // Masks of palette PNGs are read by their indices (png_palette.ts), not their colours.
  if (withIndices && format === "png" && pngColourType(bytes) === 3) {
    return { ...decoded, indices: decodePngIndices(bytes, name) };
  }
  return decoded;
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
  return (await decodeFile(bytes, name, false)).raster;
}

/**
 * An image file's bytes, undecoded; a missing, unreadable or forbidden file
 * is a {@linkcode DataError} that names it and what to do.
 *
 * @param path The file to read.
 * @returns The whole file.
 * @throws {DataError} When the file is missing, a directory, or may not be read.
 */
export async function readImageBytes(path: string): Promise<Uint8Array> {
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
  return await decodeImage(await readImageBytes(path), path);
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
  return await decodeImageWithAlpha(await readImageBytes(path), path);
}

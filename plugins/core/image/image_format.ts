/**
 * Which image format a file is, from its first bytes (not its name), and the
 * words errors use for the formats Capillary reads.
 *
 * @module
 */
import { DataError } from "../../../pipeline/errors.ts";
import { RECOPY } from "./decoded_image.ts";
import { isNetpbm } from "./netpbm.ts";

/** The formats Capillary reads, for error messages. */
export const SUPPORTED_FORMATS = "TIFF, PNG, JPEG, GIF and PGM/PPM";

/** An image format Capillary reads. */
export type ImageFormat = "tiff" | "png" | "jpeg" | "gif" | "netpbm";

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  if (bytes.length < magic.length) return false;
  return magic.every((b, i) => bytes[i] === b);
}

/**
 * The format of a file from its magic bytes.
 *
 * @param bytes The file, or at least its first 8 bytes.
 * @returns The format, or `undefined` for one Capillary does not read.
 *
 * @example Usage
 * ```ts
 * import { sniffImageFormat } from "./image_format.ts";
 * console.assert(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])) === "jpeg");
 * console.assert(sniffImageFormat(new TextEncoder().encode("P5 2 1 255\n")) === "netpbm");
 * console.assert(sniffImageFormat(new Uint8Array([1, 2, 3])) === undefined);
 * ```
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
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

/**
 * The first 8 bytes in hex, as an unsupported file's error shows them.
 *
 * @example Usage
 * ```ts
 * import { hexHead } from "./image_format.ts";
 * console.assert(hexHead(new Uint8Array([1, 2, 255])) === "01 02 ff");
 * ```
 */
export function hexHead(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * The format of a file Capillary must read, refusing an empty file and one
 * of a format it does not read, naming it.
 *
 * @param bytes The file, or at least its first 8 bytes.
 * @param name The file's name or path, for the error.
 * @returns The format.
 * @throws {DataError} For an empty file or an unsupported format (its first bytes shown).
 *
 * @example Usage
 * ```ts
 * import { knownImageFormat } from "./image_format.ts";
 * console.assert(knownImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xdb]), "a.jpg") === "jpeg");
 * ```
 */
export function knownImageFormat(bytes: Uint8Array, name: string): ImageFormat {
  if (bytes.length === 0) {
    throw new DataError(`Cannot read image "${name}": file is empty; ${RECOPY}`);
  }
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw new DataError(
      `Cannot read image "${name}": unsupported format (first bytes ${
        hexHead(bytes)
      }); supported formats are ${SUPPORTED_FORMATS}, so convert it to one of them`,
    );
  }
  return format;
}

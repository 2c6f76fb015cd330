/**
 * TIFF files into {@linkcode DecodedImage}s: 16-bit unsigned grey or RGB
 * (with or without alpha) from UTIF's decoded samples at full precision, and
 * 8-bit grey or RGB with an alpha (extra) sample the same way, as UTIF's
 * `toRGBA8` drops a grey image's alpha; other 8-bit ones through `toRGBA8`.
 * The file's layout is checked first, as UTIF reads past the end of a short
 * file without complaint.
 *
 * @module
 */
import UTIF from "utif2";
import { DataError } from "../../../pipeline/errors.ts";
import { type DecodedImage, fromRgba, fromSamples, reason, RECOPY } from "./decoded_image.ts";
import type { PixelSamples } from "./png16.ts";

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

/** The refusal of a TIFF whose pixel data UTIF cannot decode. */
function corruptPixels(name: string, error: unknown): DataError {
  return new DataError(
    `Cannot read image "${name}": TIFF pixel data is corrupt or uses an unsupported encoding (${
      reason(error)
    }); ${RECOPY}, or convert it to PNG`,
    { cause: error },
  );
}

export function decodeTiff(bytes: Uint8Array, name: string): DecodedImage {
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
    throw corruptPixels(name, error);
  }
  const { width, height } = ifd;
  const bits = tagNumbers(ifd["t258"]);
  if (bits.length > 0 && bits.every((b) => b === 16)) {
    return fromSamples(tiffSamples(ifd, 16, width, height, name));
  }
  if (bits.length > 0 && bits.every((b) => b === 8) && hasPlainExtraSample(ifd, width, height)) {
    return fromSamples(tiffSamples(ifd, 8, width, height, name));
  }
  let rgba: Uint8Array;
  try {
    rgba = UTIF.toRGBA8(ifd);
  } catch (error) {
    throw corruptPixels(name, error);
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

/** How a TIFF stores its pixels: what {@linkcode tiffSamples} needs of its tags. */
interface TiffLayout {
  /** Samples per pixel. */
  readonly spp: number;
  /** 0 WhiteIsZero, 1 BlackIsZero, 2 RGB, 3 palette, … */
  readonly photometric: number;
  /** 1 unsigned integers, 2 signed, 3 floating point. */
  readonly format: number;
  /** 1 one plane per pixel (chunky), 2 separate planes. */
  readonly planar: number;
  /** Colour samples per pixel: 3 for RGB, else 1. */
  readonly colours: number;
  /** Whether the first extra sample is alpha (associated, unassociated or unlabelled). */
  readonly alpha: boolean;
}

function tiffLayout(ifd: UTIF.IFD): TiffLayout {
  const first = (tag: string, fallback: number) => tagNumbers(ifd[tag])[0] ?? fallback;
  const spp = first("t277", 1);
  const photometric = first("t262", spp >= 3 ? 2 : 1);
  const colours = photometric === 2 && spp >= 3 ? 3 : 1;
  const extra = tagNumbers(ifd["t338"]);
  return {
    spp,
    photometric,
    format: first("t339", 1),
    planar: first("t284", 1),
    colours,
    alpha: spp > colours && (extra.length === 0 || extra[0] === 1 || extra[0] === 2),
  };
}

/**
 * Whether an 8-bit TIFF has an alpha sample {@linkcode tiffSamples} reads
 * where `toRGBA8` would not: unsigned grey or RGB, one plane per pixel, not
 * JPEG-compressed (UTIF changes those samples), its decoded strips all there.
 * `toRGBA8` drops a grey image's alpha (and reads a WhiteIsZero one's
 * samples out of step), and takes an RGB image's fourth sample for alpha even
 * where the file says it is not.
 */
function hasPlainExtraSample(ifd: UTIF.IFD, width: number, height: number): boolean {
  const { spp, photometric, format, planar, colours } = tiffLayout(ifd);
  const compression = tagNumbers(ifd["t259"])[0] ?? 1;
  const data = (ifd as { data?: Uint8Array }).data;
  return spp > colours && photometric <= 2 && format === 1 && planar === 1 &&
    compression !== 6 && compression !== 7 && width > 0 && height > 0 &&
    data !== undefined && data.length >= width * height * spp;
}

/**
 * A TIFF's samples as the file holds them: 16-bit ones at full precision
 * (UTIF's `toRGBA8` keeps only the high byte) and 8-bit ones with an alpha
 * sample (`toRGBA8` drops a grey image's). This reads the decoded strips
 * (`ifd.data`, which UTIF has decompressed, turned little-endian and
 * un-predicted) itself. Grey (BlackIsZero, or WhiteIsZero inverted) and RGB,
 * with an alpha channel when the extra sample is one (or unlabelled), one
 * plane per pixel.
 */
function tiffSamples(
  ifd: UTIF.IFD,
  bits: 8 | 16,
  width: number,
  height: number,
  name: string,
): PixelSamples {
  const unsupported = (what: string): never => {
    throw new DataError(
      `Cannot read image "${name}": ${bits}-bit TIFF with ${what} is not supported; convert it ` +
        `to a ${bits}-bit grey or RGB PNG`,
    );
  };
  const { spp, photometric, format, planar, colours, alpha } = tiffLayout(ifd);
  if (format !== 1) {
    unsupported(format === 3 ? "floating-point samples" : `sample format ${format} (signed?)`);
  }
  if (planar !== 1) unsupported("separate colour planes (PlanarConfiguration 2)");
  if (photometric > 2) unsupported(`photometric interpretation ${photometric} (palette, CMYK…)`);
  const out = colours + (alpha ? 1 : 0);
  const bytes = bits / 8;
  const data = (ifd as { data?: Uint8Array }).data;
  if (!(width > 0 && height > 0) || !data || data.length < width * height * spp * bytes) {
    throw new DataError(
      `Cannot read image "${name}": ${bits}-bit TIFF decoded to ${
        data?.length ?? 0
      } bytes, expected ${width * height * spp * bytes} for ${width}x${height}; ${RECOPY}, or ` +
        "convert it to PNG",
    );
  }
  const maxValue = bits === 16 ? 65535 : 255;
  const samples = bits === 16
    ? new Uint16Array(width * height * out)
    : new Uint8Array(width * height * out);
  for (let i = 0; i < width * height; i++) {
    for (let s = 0; s < out; s++) {
      const from = bytes * (i * spp + (s < colours ? s : colours));
      const v = bits === 16 ? data[from] | (data[from + 1] << 8) : data[from];
      samples[i * out + s] = photometric === 0 && s < colours ? maxValue - v : v;
    }
  }
  return { width, height, samplesPerPixel: out as 1 | 2 | 3 | 4, data: samples, maxValue };
}

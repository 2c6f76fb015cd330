/**
 * Which values of a mask file are foreground: the `maskForeground` option
 * and its rules (the brightest channel above half the file's scale, a 0/1
 * mask's 1, transparent pixels never), and the check that refuses label maps
 * under `"auto"` rather than binarise them wrongly. Pure functions of a
 * decoded file; `paired_sample.ts` reads the files.
 *
 * @module
 */
import { z } from "zod";
import { DataError, type Raster } from "../../../mod.ts";
import type { DecodedImage } from "../image/decoded_image.ts";

/**
 * The `maskForeground` option of a load stage: which values of a mask file
 * are foreground. Values are the file's own integers (0–255 for 8-bit
 * files, 0–65535 for 16-bit ones; a colour mask's brightest channel), so a
 * 0/1 or label map saved in 16 bits reads like one saved in 8.
 *
 * @example Usage
 * ```ts
 * import { maskForegroundOption } from "./mask_values.ts";
 * console.assert(maskForegroundOption.parse(undefined) === "auto");
 * console.assert(maskForegroundOption.parse(1) === 1);
 * ```
 */
export const maskForegroundOption = z.union([
  z.literal("auto").describe(
    "Above half the file's scale (above 127 of 255, 32639 of 65535), or 1 when the largest " +
      "value is 1 (a 0/1 mask). A label map (many values below half, in flat regions) is refused, " +
      "and a mask with many values below half otherwise (antialiased? JPEG?) warned about.",
  ),
  z.literal("nonzero").describe(
    "Every value above 0: label maps (instance ids 1..N, class maps; PASCAL VOC's 255 void " +
      "border counts too). A near-black background (e.g. 4) counts as well.",
  ),
  z.number().positive().describe(
    "Values at or above this one, on the file's own scale: e.g. 1 for a label map, 128 for an " +
      "antialiased 8-bit mask.",
  ),
]).default("auto").describe(
  'Which values of a mask file are foreground: "auto", "nonzero" or a number (values at or ' +
    "above it, on the file's own scale: 0–255 for 8-bit files, 0–65535 for 16-bit ones; a " +
    "colour mask's brightest channel). Applies to every mask file (truth, FOV, extra). A " +
    "transparent pixel (alpha below half) is background; a mask whose colour is black " +
    "everywhere is read by its alpha channel.",
);

/** A value of {@linkcode maskForegroundOption}: `"auto"`, `"nonzero"` or a threshold. */
export type MaskForeground = z.output<typeof maskForegroundOption>;

/** What {@linkcode binaryMask} makes of a decoded mask file. */
export interface BinaryMask {
  /** One channel, 1 foreground and 0 background, of the file's size. */
  readonly mask: Raster;
  /** What counts as foreground, in words, for messages ("a pixel is foreground where …"). */
  readonly rule: string;
  /** A warning to print, when the rule may have misread the file. */
  readonly warning?: string;
}

/** Share of a mask's low pixels that must lie in flat regions for it to be a label map… */
const FLAT_SHARE = 0.1;
/** …and share of all its pixels above the background value. */
const FLAT_OF_ALL = 0.01;
/** Share of low (at most half-scale) pixels from which a mask that is not a label map is warned about. */
const LOW_SHARE = 0.25;

function percent(part: number, whole: number): string {
  const p = (100 * part) / whole;
  return p >= 10 ? p.toFixed(0) : p.toFixed(1);
}

/**
 * Binarises a decoded mask file. Each pixel's value is its brightest
 * channel as the file's own integer (`data · maxValue / 255`, see
 * `Raster.maxValue`). Where the file has an alpha channel that is not opaque
 * everywhere, a pixel less than half opaque (alpha below 128 of 255) is
 * background; and where every colour value is 0, the alpha values are the
 * mask (an alpha-only mask). Then `foreground` decides:
 *
 * - a number `t`: values `>= t`;
 * - `"nonzero"`: values `> 0`;
 * - `"auto"`: 1 when the largest value is 1 (a 0/1 label map), else values
 *   above half the scale (`> 127` of 255, `> 32639.5` of 65535, i.e. the
 *   brightest channel above 127 on the raster's 0..255 scale, as DRIVE's
 *   GIFs and colour masks drawn on black).
 *
 * Under `"auto"` a mask that keeps low values (above its lowest, background
 * value and at most half the scale) is checked, as those would silently
 * become background. Antialiasing, blurring, resizing and JPEG put such
 * values on edges, one or two pixels across, where a pixel seldom has 3 of
 * its 4 neighbours at exactly its value ("flat"); label maps fill objects
 * with them (instance ids 1..N, PASCAL VOC's 1 inside a 255 border).
 * Measured on DRIVE's 20 training vessel masks (thin vessels, so the hard
 * case): resized bilinearly (×0.5 to ×2), blurred (σ 0.7, 1.5) or saved as
 * JPEG (quality 50 to 90), 14–79 % of their nonzero pixels are low, but at
 * most 1.1 % of those are flat (0.6 % of all nonzero pixels); the same masks
 * as instance maps (connected components) have 71–80 % of their low pixels
 * flat, as VOC-style maps 21–75 % (2.3–26 % of all nonzero pixels). So a
 * mask whose low pixels are at least 10 % flat, and at least 1 % of its
 * nonzero pixels, cannot reasonably be an antialiased binary mask: it is
 * refused with a {@linkcode DataError} asking for `maskForeground` (an error,
 * not a warning: training on a third of the objects wastes a whole run). One
 * with 25 % or more low pixels that are not flat (antialiased, blurred or
 * JPEG, or a label map of 1–2 px objects) is read by the rule, with a
 * warning, as the rule is right for the first kind. A mask whose values are
 * not whole numbers (interpolated) is never a label map. DRIVE's 100 mask
 * GIFs are binary and read exactly as before, with no warning.
 *
 * @param decoded The decoded file (`readImageWithAlpha`).
 * @param foreground Which values are foreground.
 * @param name The file's name or path, for messages.
 * @returns The 0/1 mask, the rule in words, and a warning when one is due.
 * @throws {DataError} Under `"auto"`, when the mask looks like a label map.
 *
 * @example Usage
 * ```ts
 * import { binaryMask } from "./mask_values.ts";
 * const raster = { width: 3, height: 1, channels: 1, data: new Float32Array([0, 100, 200]), maxValue: 255 };
 * console.assert(binaryMask({ raster }, "auto", "m.png").mask.data.join() === "0,0,1");
 * console.assert(binaryMask({ raster }, "nonzero", "m.png").mask.data.join() === "0,1,1");
 * console.assert(binaryMask({ raster }, 100, "m.png").mask.data.join() === "0,1,1");
 * ```
 */
export function binaryMask(
  decoded: DecodedImage,
  foreground: MaskForeground,
  name: string,
): BinaryMask {
  const { raster, alpha } = decoded;
  const { width, height, channels, data } = raster;
  const n = width * height;
  const maxValue = raster.maxValue ?? 255;
  const toFile = maxValue / 255;
  // Each pixel's brightest channel on the file's own scale, rounded to the
  // integer it was when that is within float error (it always is for a file).
  let whole = true;
  const fileValue = (v: number) => {
    const exact = v * toFile, r = Math.round(exact);
    if (Math.abs(exact - r) < 0.05) return r;
    whole = false;
    return exact;
  };
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = data[i * channels];
    for (let c = 1; c < channels; c++) m = Math.max(m, data[i * channels + c]);
    values[i] = fileValue(m);
  }
  let subject = "its brightest channel is";
  if (alpha) {
    if (values.every((v) => v === 0)) {
      for (let i = 0; i < n; i++) values[i] = fileValue(alpha[i]);
      subject = "its alpha (its colour being black everywhere) is";
    } else {
      for (let i = 0; i < n; i++) if (alpha[i] < 127.5) values[i] = 0;
      subject =
        "it is at least half opaque (alpha 128 of 255 or more) and its brightest channel is";
    }
  }
  let min = Infinity, max = -Infinity;
  for (const v of values) {
    min = v < min ? v : min;
    max = v > max ? v : max;
  }
  const half = (127 * maxValue) / 255; // 127 of 255, 32639.5 of 65535
  let isForeground: (v: number) => boolean;
  let predicate: string;
  let warning: string | undefined;
  if (typeof foreground === "number") {
    isForeground = (v) => v >= foreground;
    predicate = `${foreground} or more (of ${maxValue})`;
  } else if (foreground === "nonzero") {
    isForeground = (v) => v > 0;
    predicate = "above 0";
  } else if (max === 1) {
    isForeground = (v) => v >= 1;
    predicate = "1 (a 0/1 mask)";
  } else {
    isForeground = (v) => v > half;
    predicate = `above ${Math.floor(half)} (of ${maxValue}; its largest value is ${max}, not 1 ` +
      "as in a 0/1 mask)";
    if (whole) warning = checkLabelMap(values, width, height, { min, half, maxValue, name });
  }
  const rule = `a pixel is foreground where ${subject} ${predicate}`;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = isForeground(values[i]) ? 1 : 0;
  return { mask: { width, height, channels: 1, data: out }, rule, ...(warning ? { warning } : {}) };
}

/**
 * Under `"auto"`: throws when a mask's low values (above its background,
 * at most half the scale) fill flat regions, as a label map's do; returns a
 * warning when they are many but on edges. See {@linkcode binaryMask}.
 */
function checkLabelMap(
  values: Float64Array,
  width: number,
  height: number,
  { min, half, maxValue, name }: { min: number; half: number; maxValue: number; name: string },
): string | undefined {
  let candidates = 0, low = 0, flat = 0;
  const distinct = new Set<number>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x, v = values[i];
      if (distinct.size <= 4096) distinct.add(v);
      if (v <= min) continue;
      candidates++;
      if (v > half) continue;
      low++;
      // Neighbours outside the image count as different.
      const same = (x > 0 && values[i - 1] === v ? 1 : 0) +
        (x < width - 1 && values[i + 1] === v ? 1 : 0) +
        (y > 0 && values[i - width] === v ? 1 : 0) +
        (y < height - 1 && values[i + width] === v ? 1 : 0);
      if (same >= 3) flat++;
    }
  }
  if (low === 0) return undefined;
  const sorted = [...distinct].sort((a, b) => a - b);
  const list = sorted.slice(0, 8).join(", ") +
    (sorted.length > 8 ? `, … (${distinct.size > 4096 ? "over 4096" : sorted.length} values)` : "");
  const lowest = Math.floor(half) + 1; // the smallest value "auto" keeps: 128 of 255
  const which = min === 0 ? "nonzero pixels" : `pixels above its background value ${min}`;
  const share = `${percent(low, candidates)} % of its ${which} have values from ${min + 1} to ${
    Math.floor(half)
  } (of ${maxValue})`;
  if (flat >= FLAT_SHARE * low && flat >= FLAT_OF_ALL * candidates) {
    throw new DataError(
      `Cannot use mask "${name}": it looks like a label map, not a binary mask: its values are ` +
        `${list}, and ${share}, in flat regions as labels are (not on edges, as antialiasing ` +
        `would put them). maskForeground "auto" would make those background (it keeps values ` +
        `above ${Math.floor(half)}, or 1 when the largest is 1). Set maskForeground: "nonzero" ` +
        "if every nonzero value marks the object (instance ids 1..N; a PASCAL VOC 255 void " +
        `border then counts too), or to the lowest value that is foreground (e.g. 1, or ` +
        `${lowest} to read it as "auto" does)`,
    );
  }
  if (low < LOW_SHARE * candidates) return undefined;
  return `mask "${name}": ${share} and count as background under maskForeground "auto" ` +
    `(its values: ${list}). That is right for an antialiased, blurred, resized or JPEG-saved ` +
    `binary mask (set maskForeground: ${lowest} to say so and silence this warning); if it is a ` +
    `label map (instance ids, classes), set maskForeground: "nonzero" or the lowest value that ` +
    "is foreground";
}

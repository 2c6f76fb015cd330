/**
 * Which values of a mask file are foreground: the `maskForeground` option
 * and its rules (the brightest channel above half the file's own largest
 * value, never at or below 1/8 of 255; a 0/1 mask's 1; transparent pixels
 * never), and the check that refuses label maps under `"auto"` rather than
 * binarise them wrongly. Pure functions of a decoded file;
 * `paired_sample.ts` reads the files.
 *
 * @module
 */
import { z } from "zod";
import { DataError, type Raster } from "../../../mod.ts";
import type { DecodedImage } from "../image/decoded_image.ts";

/**
 * The `maskForeground` option of a load stage: which values of a mask file
 * are foreground. Values are the file's own integers (0–255 for 8-bit
 * files, 0–65535 for 16-bit ones; a colour mask's brightest channel; a
 * palette PNG's index, 0..2^bitDepth − 1), so a 0/1 or label map saved in
 * 16 bits reads like one saved in 8.
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
    "Above half the file's own largest value (above 127.5 when it is 255, 64 when it is 128), " +
      "but never 32 or less (1/8 of 255, in 16-bit files too), so that faint noise is not " +
      "foreground; 1 when the largest value is 1 (a 0/1 mask). A label map (many values at or " +
      "below that threshold, in flat regions) is refused, and a mask with many such values " +
      "otherwise (antialiased? JPEG?) warned about.",
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
    "colour mask's brightest channel; a palette PNG's index, not its colour). Applies to the truth masks and extra annotation masks; " +
    'FOV masks are always read with "auto". A transparent pixel (alpha below half) is ' +
    "background; a mask whose colour is black everywhere is read by its alpha channel.",
);

/**
 * The `maskIgnore` option of a load stage: values of a truth mask file (on
 * its own scale, or a palette PNG's indices) whose pixels are neither
 * trained on nor scored, as mmsegmentation's `ignore_index` (commonly 255,
 * PASCAL VOC's void border): they leave the sample's region of interest.
 *
 * @example Usage
 * ```ts
 * import { maskIgnoreOption } from "./mask_values.ts";
 * console.assert(maskIgnoreOption.parse(undefined).length === 0);
 * console.assert(maskIgnoreOption.parse([255])[0] === 255);
 * ```
 */
export const maskIgnoreOption = z.array(z.number().int().nonnegative()).default([]).describe(
  "Values of a truth mask file (on its own scale: 0–255 for 8-bit files, 0–65535 for 16-bit " +
    "ones, a palette PNG's indices) whose pixels are ignored: taken out of the sample's region " +
    "of interest, so neither trained on nor scored, as mmsegmentation's ignore_index (e.g. " +
    '[255] for PASCAL VOC\'s void border). maskForeground "auto" disregards them when it ' +
    "checks for label maps. Extra and FOV masks are read without it.",
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
  /**
   * One channel, 1 where the pixel's value is one of `options.ignore` (those
   * are background in `mask`); absent when nothing is to be ignored.
   */
  readonly ignored?: Raster;
}

/** Share of a mask's low pixels that must lie in flat regions for it to be a label map… */
const FLAT_SHARE = 0.1;
/** …and share of all its pixels above the background value. */
const FLAT_OF_ALL = 0.01;
/** Share of low pixels (at or below the threshold) from which a mask that is not a label map is warned about. */
const LOW_SHARE = 0.25;

/**
 * The least threshold `"auto"` uses on a file's integer scale (values at or
 * below it are never foreground): 32, 1/8 of 255, for 8-bit and 16-bit
 * files alike (a PGM of fewer levels: 1/8 of its scale). Half the largest
 * value alone would turn a nearly empty mask's faint noise (JPEG ringing,
 * at most 32 around the audit's quality-85 and -90 JPEG masks) into
 * foreground, and silently binarise one-class maps (`{0,2}`: class 2, or
 * class 1 in the next file) that the label-map check should see. It is 32
 * and not 1/8 of 65535 for 16-bit files, which are lossless and often hold
 * 8-bit data (`{0,255}`, as ImageJ's conversion writes) or a few thousand
 * levels: 8192 would read those as empty.
 */
export function autoFloor(maxValue: number): number {
  return Math.round(Math.min(maxValue, 255) / 8);
}

/**
 * The threshold of `"auto"` for a mask file whose largest value (brightest
 * channel, the file's own integers) is `largest`: foreground is above
 * `max(largest / 2, autoFloor(maxValue))`, or at or above 1 where `largest`
 * is 1 (returned as 0.5).
 *
 * @example Usage
 * ```ts
 * import { autoThreshold } from "./mask_values.ts";
 * console.assert(autoThreshold(255, 255) === 127.5);
 * console.assert(autoThreshold(128, 255) === 64);
 * console.assert(autoThreshold(255, 65535) === 127.5);
 * console.assert(autoThreshold(6, 255) === 32);
 * console.assert(autoThreshold(1, 65535) === 0.5);
 * ```
 */
export function autoThreshold(largest: number, maxValue: number): number {
  return largest === 1 ? 0.5 : Math.max(largest / 2, autoFloor(maxValue));
}

/** What a FOV mask's refusals and warnings ask for, as `maskForeground` does not apply to it. */
const FOV_REMEDY = 'FOV masks are always read with maskForeground "auto" (the option applies to ' +
  "truth and extra masks only): save it with the field of view white (or 1) on black";

/** A threshold or value in words: whole, or to two decimals. */
function num(v: number): string {
  return String(Number(v.toFixed(2)));
}

function percent(part: number, whole: number): string {
  const p = (100 * part) / whole;
  return p >= 10 ? p.toFixed(0) : p.toFixed(1);
}

/**
 * Binarises a decoded mask file. Each pixel's value is its brightest
 * channel as the file's own integer (`data · maxValue / 255`, see
 * `Raster.maxValue`), or for a palette PNG its palette index (`indices`,
 * on the scale 0..2^bitDepth − 1), not its colour. Where the file has an alpha channel that is not opaque
 * everywhere, a pixel less than half opaque (alpha below 128 of 255) is
 * background; and where every colour value is 0, the alpha values are the
 * mask (an alpha-only mask). Then `foreground` decides:
 *
 * - a number `t`: values `>= t`;
 * - `"nonzero"`: values `> 0`;
 * - `"auto"`: 1 when the largest value is 1 (a 0/1 label map), else values
 *   above half the file's own largest value, but never at or below
 *   {@linkcode autoFloor} (32 for 8- and 16-bit files): see
 *   {@linkcode autoThreshold}. A 0/255 mask keeps 128 and up, as DRIVE's
 *   GIFs and colour masks drawn on black (pure red, 255) always did; a grey
 *   {0,128} mask, or dark red (128,0,0), keeps 65 and up, so the JPEG noise
 *   that puts half its object at 120–127 no longer loses it; {0,127} and
 *   8-bit data in a 16-bit file ({0,255} of 65535) read as binary masks.
 *
 * Under `"auto"` a mask that keeps low values (above its lowest, background
 * value and at or below the threshold) is checked, as those would silently
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
 * warning that says what it did and how to change it. A mask whose only
 * value above its background is at or below the threshold (`{0,2}`, say:
 * below the floor) is refused whatever its layout, as every pixel would be
 * background. A mask whose values are not whole numbers (interpolated) is
 * never a label map. DRIVE's 100 mask GIFs are binary and read exactly as
 * before, with no warning.
 *
 * @param decoded The decoded file (`readImageWithAlpha`).
 * @param foreground Which values are foreground.
 * @param name The file's name or path, for messages.
 * Values in `options.ignore` (`maskIgnore`) are background, marked in
 * `ignored`, and disregarded by `"auto"`: its largest value and the
 * label-map check see only the others, so a VOC map {0,1,255} with 255
 * ignored reads as a 0/1 mask.
 *
 * @param options `fov: true` for a FOV mask, which is always read with
 *   `"auto"`: its refusals and warnings then ask for another file rather
 *   than another `maskForeground`. `ignore`: values to ignore (default none).
 * @returns The 0/1 mask, the rule in words, a warning when one is due, and
 *   the ignored pixels when some values are to be ignored.
 * @throws {DataError} Under `"auto"`, when the mask looks like a label map.
 *
 * @example Usage
 * ```ts
 * import { binaryMask } from "./mask_values.ts";
 * const raster = { width: 3, height: 1, channels: 1, data: new Float32Array([0, 90, 200]), maxValue: 255 };
 * console.assert(binaryMask({ raster }, "auto", "m.png").mask.data.join() === "0,0,1");
 * console.assert(binaryMask({ raster }, "nonzero", "m.png").mask.data.join() === "0,1,1");
 * console.assert(binaryMask({ raster }, 50, "m.png").mask.data.join() === "0,1,1");
 * ```
 */
export function binaryMask(
  decoded: DecodedImage,
  foreground: MaskForeground,
  name: string,
  options: { readonly fov?: boolean; readonly ignore?: readonly number[] } = {},
): BinaryMask {
  const { raster, alpha, indices } = decoded;
  const { width, height, channels, data } = raster;
  const n = width * height;
  let maxValue = indices ? indices.maxValue : raster.maxValue ?? 255;
  let toFile = maxValue / 255;
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
  if (indices) {
    values.set(indices.data);
  } else {
    for (let i = 0; i < n; i++) {
      let m = data[i * channels];
      for (let c = 1; c < channels; c++) m = Math.max(m, data[i * channels + c]);
      values[i] = fileValue(m);
    }
  }
  let subject = indices ? "its palette index is" : "its brightest channel is";
  if (alpha) {
    if (values.every((v) => v === 0)) {
      // Alpha is on the 0..255 scale of an 8-bit (or palette) file.
      if (indices) maxValue = 255, toFile = 1;
      for (let i = 0; i < n; i++) values[i] = fileValue(alpha[i]);
      subject = "its alpha (its colour being black everywhere) is";
    } else {
      for (let i = 0; i < n; i++) if (alpha[i] < 127.5) values[i] = 0;
      subject = "it is at least half opaque (alpha 128 of 255 or more) and " +
        (indices ? "its palette index is" : "its brightest channel is");
    }
  }
  const ignore = new Set(options.ignore ?? []);
  let ignored: Uint8Array | undefined;
  if (ignore.size) {
    ignored = new Uint8Array(n);
    for (let i = 0; i < n; i++) ignored[i] = ignore.has(values[i]) ? 1 : 0;
  }
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (ignored?.[i]) continue;
    const v = values[i];
    min = v < min ? v : min;
    max = v > max ? v : max;
  }
  if (max < min) min = max = 0; // every pixel ignored
  const ignoring = ignore.size
    ? `; values ${[...ignore].sort((a, b) => a - b).join(", ")} are ignored (outside the ` +
      "region of interest)"
    : "";
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
    const threshold = autoThreshold(max, maxValue);
    const why = thresholdReason(max, maxValue);
    isForeground = (v) => v > threshold;
    predicate = `above ${num(threshold)} (of ${maxValue}; ${why})`;
    if (whole) {
      warning = checkLabelMap(values, width, height, ignored, {
        min,
        max,
        threshold,
        why,
        maxValue,
        name,
        fov: options.fov ?? false,
      });
    }
  }
  const rule = `a pixel is foreground where ${subject} ${predicate}${ignoring}`;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = !ignored?.[i] && isForeground(values[i]) ? 1 : 0;
  return {
    mask: { width, height, channels: 1, data: out },
    rule,
    ...(warning ? { warning } : {}),
    ...(ignored
      ? { ignored: { width, height, channels: 1, data: Float32Array.from(ignored) } }
      : {}),
  };
}

/** Why `"auto"` uses its threshold, in words: half the largest value, or the floor. */
function thresholdReason(max: number, maxValue: number): string {
  const floor = autoFloor(maxValue);
  if (max === 0) return "every value is 0";
  return max / 2 >= floor
    ? `half its largest value, ${num(max)}`
    : `its largest value, ${num(max)}, is so low that "auto" uses its floor, 1/8 of ${
      Math.min(maxValue, 255)
    }, so that faint noise stays background`;
}

/**
 * Under `"auto"`: throws when a mask's low values (above its background,
 * at or below the threshold) fill flat regions, as a label map's do, or are
 * its only values above the background; returns a warning when they are
 * many but on edges. See {@linkcode binaryMask}.
 */
function checkLabelMap(
  values: Float64Array,
  width: number,
  height: number,
  ignored: Uint8Array | undefined,
  { min, max, threshold, why, maxValue, name, fov }: {
    min: number;
    max: number;
    threshold: number;
    why: string;
    maxValue: number;
    name: string;
    fov: boolean;
  },
): string | undefined {
  let candidates = 0, low = 0, flat = 0;
  const distinct = new Set<number>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x, v = values[i];
      if (ignored?.[i]) continue;
      if (distinct.size <= 4096) distinct.add(v);
      if (v <= min) continue;
      candidates++;
      if (v > threshold) continue;
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
  const top = Math.floor(threshold); // the largest value "auto" makes background
  const lowest = top + 1; // the smallest value "auto" keeps
  if (distinct.size === 2) {
    throw new DataError(
      `Cannot use ${fov ? "FOV mask" : "mask"} "${name}": its only values are ${min} and ${max} ` +
        `(of ${maxValue}), and maskForeground "auto" would read every pixel as background: it ` +
        `keeps values above ${num(threshold)} (${why}). ` +
        (fov ? FOV_REMEDY : `If ${max} marks the object (a class or instance id, say), set ` +
          `maskForeground to the lowest value that is foreground in your masks (${max} here; 1, ` +
          'or "nonzero", for instance ids 1..N)'),
    );
  }
  const sorted = [...distinct].sort((a, b) => a - b);
  const list = sorted.slice(0, 8).join(", ") +
    (sorted.length > 8 ? `, … (${distinct.size > 4096 ? "over 4096" : sorted.length} values)` : "");
  const which = min === 0 ? "nonzero pixels" : `pixels above its background value ${min}`;
  const share = `${percent(low, candidates)} % of its ${which} have values from ${
    min + 1
  } to ${top} (of ${maxValue})`;
  if (flat >= FLAT_SHARE * low && flat >= FLAT_OF_ALL * candidates) {
    throw new DataError(
      `Cannot use ${fov ? "FOV mask" : "mask"} "${name}": it looks like a label map, not a ` +
        `binary mask: its values are ${list}, and ${share}, in flat regions as labels are (not ` +
        `on edges, as antialiasing would put them). maskForeground "auto" would make those ` +
        `background (it keeps values above ${num(threshold)}: ${why}). ` +
        (fov ? FOV_REMEDY : 'Set maskForeground: "nonzero" if every nonzero value marks the ' +
          "object (instance ids 1..N; a PASCAL VOC 255 void border then counts too), or to the " +
          `lowest value that is foreground (e.g. 1, or ${lowest} to read it as "auto" does)`),
    );
  }
  if (low < LOW_SHARE * candidates) return undefined;
  const reading = `${fov ? "FOV mask" : "mask"} "${name}": ${share} and count as background ` +
    `under maskForeground "auto", which keeps values above ${num(threshold)} (${why}; its ` +
    `values: ${list}). Antialiasing, blurring, resizing and JPEG put such values along a binary ` +
    "mask's edges, and this reading splits those edges; but if these pixels are part of the " +
    "object (its value varying, as in a grey mask saved as JPEG) or a label map's ids or " +
    "classes, ";
  return reading +
    (fov
      ? `this reading is wrong. ${FOV_REMEDY}`
      : 'set maskForeground to the lowest value that is foreground, or "nonzero". To keep this ' +
        `reading and silence this warning, set maskForeground: ${lowest}`);
}

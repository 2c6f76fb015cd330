/**
 * Reads one sample of a segmentation data set from its files: the image and
 * its binary masks by role (`mask` the truth, `roi` the field of view, any
 * other role an extra annotation), checking that every mask has the image's
 * size and that the truth has both foreground and background. Which values
 * of the truth and extra masks are foreground is the `maskForeground` option
 * (`mask_values.ts`): by default the brightest channel above half the
 * file's own largest value (never at or below 32), a 0/1 mask's 1,
 * transparent pixels never; label maps are refused unless it is set. FOV
 * masks are always read by that default. A palette PNG mask is read by its
 * indices. Truth-mask values in `maskIgnore` leave the region of interest.
 * Every fault names the file.
 *
 * @module
 */
import { DataError, type DataPlan, type Raster, type Sample } from "../../../mod.ts";
import { readImage, readImageWithAlpha } from "../image/read_image.ts";
import { type ImageSize, readImageSize } from "../image/image_size.ts";
import { type BinaryMask, binaryMask, type MaskForeground } from "./mask_values.ts";

/** The files of one sample. */
export interface SampleFiles {
  /** The sample's id. */
  readonly id: string;
  /** The image file. */
  readonly image: string;
  /** Mask files by role: `mask` (required), `roi` (optional: the whole image), others extra. */
  readonly masks: Readonly<Record<string, string>>;
}

/** How {@linkcode readBinaryMask} and the sample readers read masks. */
export interface MaskReadOptions {
  /**
   * Which values are foreground (default `"auto"`); see `maskForegroundOption`
   * (`mask_values.ts`). The sample readers apply it to the truth (`mask`) and
   * extra masks only, and read FOV (`roi`) masks with `"auto"`.
   */
  readonly maskForeground?: MaskForeground;
  /**
   * Values of the truth (`mask`) file whose pixels {@linkcode readPairedSample}
   * takes out of the sample's region of interest (default none); see
   * `maskIgnoreOption` (`mask_values.ts`). Other masks, and
   * {@linkcode readBinaryMask}, are read without it.
   */
  readonly maskIgnore?: readonly number[];
  /**
   * Where a warning about a mask goes (one line, without a `warning: `
   * prefix); by default `console.warn("warning: " + line)`. A load stage
   * passes `(line) => context.progress.info("warning: " + line)`.
   */
  readonly onWarning?: (line: string) => void;
}

const defaultWarning = (line: string) => console.warn(`warning: ${line}`);

/**
 * Reads a mask file as 0/1 by {@linkcode binaryMask}'s rule: by default
 * (`"auto"`) a pixel is inside where its brightest channel is above half
 * the file's own largest value, but never at or below 32 (1/8 of 255), on
 * the file's own integer scale: white on black, as DRIVE's GIFs (palette
 * GIFs decode as RGB), any colour drawn on black too (red 255 has a
 * luminance of only 76), and a grey {0,128} or {0,127} mask or 8-bit data
 * in a 16-bit file ({0,255} of 65535); a mask whose largest value is 1, as
 * 0/1 label maps are saved (in 8 or 16 bits), has 1 inside; transparent
 * pixels are background, and an alpha-only mask is read by its alpha.
 *
 * @param path The mask file.
 * @param options Which values are foreground (default `"auto"`), and where warnings go.
 * @returns A one-channel 0/1 raster of the file's size.
 * @throws {DataError} When the file cannot be read, or under `"auto"` looks like a label map.
 *
 * @example Usage
 * ```ts
 * import { readBinaryMask } from "./paired_sample.ts";
 * import { DataError } from "../../../mod.ts";
 * import { assertRejects } from "../../../tests/assert.ts";
 * await assertRejects(() => readBinaryMask("no/such/mask.png", { maskForeground: 1 }), DataError);
 * ```
 */
export async function readBinaryMask(path: string, options: MaskReadOptions = {}): Promise<Raster> {
  return (await readMask(path, options)).mask;
}

async function readMask(
  path: string,
  options: MaskReadOptions,
  role?: string,
): Promise<BinaryMask> {
  const fov = role === "roi";
  const foreground = fov ? "auto" : options.maskForeground ?? "auto";
  const ignore = role === "mask" ? options.maskIgnore ?? [] : [];
  const read = binaryMask(await readImageWithAlpha(path), foreground, path, { fov, ignore });
  if (read.warning) (options.onWarning ?? defaultWarning)(read.warning);
  return read;
}

/**
 * Reads and checks one sample: the image, and each mask by
 * {@linkcode readBinaryMask} with `options`, except that the FOV mask
 * (`roi`) is always read with `maskForeground: "auto"`: a threshold chosen
 * for the truth masks (e.g. 500 for 16-bit {0,1000} ones) must not empty an
 * 8-bit 0/255 FOV mask. The truth mask's pixels whose values are in
 * `options.maskIgnore` are taken out of the `roi` (a FOV mask's, or the
 * whole image's).
 *
 * @param files The sample's files.
 * @param options Which mask values are foreground (default `"auto"`), and where warnings go.
 * @returns The sample; its `roi` is the whole image when it has no FOV mask, less the
 *   ignored pixels.
 * @throws {DataError} On a missing, corrupt or unsupported file, a mask of another size than its
 *   image, a mask that looks like a label map under `"auto"`, a truth mask without a single
 *   foreground pixel (alone, a negative case is a split of negatives only; see
 *   {@linkcode readPairedSamples}) or without a single background pixel inside its field of
 *   view, or a FOV mask without a single pixel inside.
 *
 * @example Usage
 * ```ts
 * import { readPairedSample } from "./paired_sample.ts";
 * import { DataError } from "../../../mod.ts";
 * import { assertRejects } from "../../../tests/assert.ts";
 * const files = { id: "a", image: "no/such/a.png", masks: { mask: "no/such/a_mask.png" } };
 * await assertRejects(() => readPairedSample(files, { maskForeground: "nonzero" }), DataError);
 * ```
 */
export async function readPairedSample(
  files: SampleFiles,
  options: MaskReadOptions = {},
): Promise<Sample> {
  const { sample, empty } = await readSample(files, options);
  if (empty) throw emptyMaskError(files, empty);
  return sample;
}

/** The refusal of a truth mask without foreground, `why` saying by which rule. */
function emptyMaskError(files: SampleFiles, why: string): DataError {
  return new DataError(
    `Cannot use mask "${files.masks.mask}": it has no foreground pixel (${why}); check that it ` +
      "is the right file, or set maskForeground to the lowest value that is foreground",
  );
}

/**
 * {@linkcode readPairedSample} without refusing a truth mask that has no
 * foreground pixel (a negative case): `empty` then says by which rule.
 */
async function readSample(
  files: SampleFiles,
  options: MaskReadOptions,
): Promise<{ sample: Sample; empty?: string }> {
  const image = await readImage(files.image);
  const rasters: Record<string, Raster> = {};
  const rules: Record<string, string> = {};
  let ignored: Raster | undefined;
  for (const [role, path] of Object.entries(files.masks)) {
    const read = await readMask(path, options, role);
    const { mask: raster, rule } = read;
    if (role === "mask") ignored = read.ignored;
    if (raster.width !== image.width || raster.height !== image.height) {
      throw sizeMismatch(path, raster, files.image, image);
    }
    rasters[role] = raster;
    rules[role] = rule;
  }
  const { mask, roi: fovMask, ...extra } = rasters;
  if (!mask) throw new DataError(`Cannot read sample "${files.id}": it has no mask file`);
  // The truth's ignored pixels (maskIgnore) leave the region of interest.
  let roi = fovMask;
  if (ignored) {
    roi = {
      width: image.width,
      height: image.height,
      channels: 1,
      data: Float32Array.from(
        ignored.data,
        (v, i) => (v === 0 && (!fovMask || fovMask.data[i] === 1) ? 1 : 0),
      ),
    };
  }
  const setting = JSON.stringify(options.maskForeground ?? "auto");
  const empty = mask.data.some((v) => v > 0)
    ? undefined
    : `under maskForeground ${setting}, ${rules.mask}`;
  if (fovMask && !fovMask.data.some((v) => v > 0)) {
    throw new DataError(
      `Cannot use FOV mask "${files.masks.roi}": no pixel is inside its field of view (FOV ` +
        `masks are read with maskForeground "auto" whatever it is set to: ${rules.roi}); it ` +
        "must be white (or any bright colour) inside the field of view, on black; check that it " +
        "is the right file",
    );
  }
  let inside = 0, marked = 0;
  for (let i = 0; i < mask.data.length; i++) {
    if (roi && roi.data[i] !== 1) continue;
    inside++;
    marked += mask.data[i];
  }
  if (inside > 0 && marked === inside) {
    throw new DataError(
      `Cannot use mask "${files.masks.mask}": every pixel is foreground` +
        (fovMask ? ` inside its field of view ("${files.masks.roi}")` : "") +
        (ignored ? " outside its ignored pixels" : "") +
        ` (under maskForeground ${setting}, ${rules.mask}), so no pixel is background to learn ` +
        "from or score against. It may be inverted (the object must be the bright part), or have " +
        "a background the rule reads as foreground (a transparent or grey one, say); check that " +
        "it is the right file",
    );
  }
  const wholeImage = {
    width: image.width,
    height: image.height,
    channels: 1,
    data: new Float32Array(image.width * image.height).fill(1),
  };
  const sample = {
    id: files.id,
    image,
    mask,
    roi: roi ?? wholeImage,
    ...(Object.keys(extra).length ? { extra } : {}),
    source: files.image,
  };
  return empty ? { sample, empty } : { sample };
}

/** Every file the samples read, in order: what a load stage's `fingerprint` returns. */
export function sampleFilePaths(samples: readonly SampleFiles[]): string[] {
  return samples.flatMap((f) => [f.image, ...Object.values(f.masks)]);
}

/** Mask warnings {@linkcode readPairedSamples} passes on in full; the rest are counted. */
const WARNINGS_SHOWN = 3;

/** How many faulty samples one error lists before "… and N more". */
const FAULTS_SHOWN = 5;

/** How many negative cases a warning or error names before "…". */
const NEGATIVES_SHOWN = 3;

/** Throws the fault, or one error listing the first few of several; nothing when none. */
function throwFaults(faults: readonly DataError[], samples: number): void {
  if (faults.length === 1) throw faults[0];
  if (faults.length > 1) {
    const shown = faults.slice(0, FAULTS_SHOWN).map((f) => `- ${f.message}`);
    throw new DataError(
      `Cannot use ${faults.length} of ${samples} samples:\n${shown.join("\n")}` +
        (faults.length > FAULTS_SHOWN ? `\n- … and ${faults.length - FAULTS_SHOWN} more` : ""),
      { cause: faults[0] },
    );
  }
}

/** The refusal of a mask whose size is not its image's. */
function sizeMismatch(path: string, mask: ImageSize, image: string, size: ImageSize): DataError {
  return new DataError(
    `Cannot pair "${path}" (${mask.width}×${mask.height}) with "${image}" ` +
      `(${size.width}×${size.height}): sizes differ`,
  );
}

/**
 * Reads the samples one after another (see {@linkcode readPairedSample}).
 * Mask warnings go to `options.onWarning` once all are read: the first
 * three in full, then one line counting the others.
 *
 * Truth masks without a foreground pixel (negative cases, as screening data
 * has: an image without a lesion) are kept, with one warning naming them,
 * since the same mask is also what a wrong `maskForeground` or a wrong file
 * gives. A set of negative cases only is refused: there is nothing to learn
 * or score foreground by.
 *
 * @param samples The samples' files.
 * @param options Which mask values are foreground (default `"auto"`), and where warnings go.
 * @returns The samples, in order.
 * @throws {DataError} As {@linkcode readPairedSample} when one sample is at fault; when
 *   several are, one error listing the first few faults (every sample is read first); when no
 *   truth mask has a foreground pixel.
 *
 * @example Usage
 * ```ts
 * import { readPairedSamples } from "./paired_sample.ts";
 * console.assert((await readPairedSamples([])).length === 0);
 * ```
 */
export async function readPairedSamples(
  samples: readonly SampleFiles[],
  options: MaskReadOptions = {},
): Promise<Sample[]> {
  const warnings: string[] = [];
  const collect = { ...options, onWarning: (line: string) => warnings.push(line) };
  const out: Sample[] = [];
  // Every sample is read, so that a folder with several bad files says them all at once.
  const faults: DataError[] = [];
  const negatives: { files: SampleFiles; why: string }[] = [];
  for (const files of samples) {
    try {
      const { sample, empty } = await readSample(files, collect);
      out.push(sample);
      if (empty) negatives.push({ files, why: empty });
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      faults.push(error);
    }
  }
  throwFaults(faults, samples.length);
  if (negatives.length === 1 && out.length === 1) {
    throw emptyMaskError(negatives[0].files, negatives[0].why);
  }
  const named = negatives.slice(0, NEGATIVES_SHOWN).map((n) => `"${n.files.masks.mask}"`)
    .join(", ") + (negatives.length > NEGATIVES_SHOWN ? ", …" : "");
  if (negatives.length && negatives.length === out.length) {
    throw new DataError(
      `Cannot use these ${out.length} samples: none of their truth masks has a foreground ` +
        `pixel (${negatives[0].why}: ${named}), so there is nothing to learn or score the ` +
        "foreground by; check that they are the right files, or set maskForeground to the " +
        "lowest value that is foreground",
    );
  }
  const warn = options.onWarning ?? defaultWarning;
  if (negatives.length) {
    const one = negatives.length === 1;
    const [it, its, they] = one ? ["it is", "its", "it"] : ["they are", "their", "they"];
    warn(
      `${negatives.length} of ${out.length} truth masks ${one ? "has" : "have"} no foreground ` +
        `pixel (${named}): ${it} kept as ${one ? "a negative case" : "negative cases"}, ${its} ` +
        `background trained on and scored; ${its} per-image sensitivity (and Dice, IoU and ` +
        "precision where nothing is predicted either) is undefined and left blank. If " +
        `${they} should show the object, check ${one ? "it" : "them"} and maskForeground ` +
        `(${JSON.stringify(options.maskForeground ?? "auto")})`,
    );
  }
  for (const line of warnings.slice(0, WARNINGS_SHOWN)) warn(line);
  if (warnings.length > WARNINGS_SHOWN) {
    const more = warnings.length - WARNINGS_SHOWN;
    warn(`… and ${more} more mask${more === 1 ? "" : "s"} like these`);
  }
  return out;
}

/**
 * A load stage's plan from its file lists: the counts, every file's size
 * from its header (no pixel is decoded), and the channels of the first
 * training image (the only one decoded: channels depend on the pixels, as a
 * colour file whose pixels are all grey reads as grey). A missing file, an
 * unsupported or cut-off header, or a mask of another size than its image
 * is refused as the run's load stage refuses it, every sample checked first;
 * what only decoding finds (pixel data cut short, masks without foreground)
 * the run says.
 *
 * @param train The training samples' files.
 * @param test The test samples' files.
 * @returns The plan (`height` and `width` `null` and `smallest` set where sizes vary), and the
 *   images' shape in words: `565×584×3`, or the range of sizes.
 * @throws {DataError} Naming the faulty files.
 */
export async function pairedDataPlan(
  train: readonly SampleFiles[],
  test: readonly SampleFiles[],
): Promise<{ plan: DataPlan; shape: string }> {
  const faults: DataError[] = [];
  const sizes: ImageSize[] = [];
  for (const files of [...train, ...test]) {
    try {
      const size = await readImageSize(files.image);
      for (const path of Object.values(files.masks)) {
        const mask = await readImageSize(path);
        if (mask.width !== size.width || mask.height !== size.height) {
          throw sizeMismatch(path, mask, files.image, size);
        }
      }
      sizes.push(size);
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      faults.push(error);
    }
  }
  throwFaults(faults, train.length + test.length);
  const { channels } = await readImage(train[0].image);
  const [first] = sizes;
  const same = sizes.every((s) => s.width === first.width && s.height === first.height);
  const counts = { train: train.length, test: test.length, channels };
  if (same) {
    return {
      plan: { ...counts, height: first.height, width: first.width },
      shape: `${first.width}×${first.height}×${channels}`,
    };
  }
  const smallest = {
    width: Math.min(...sizes.map((s) => s.width)),
    height: Math.min(...sizes.map((s) => s.height)),
  };
  const area = (s: ImageSize) => s.width * s.height;
  const least = sizes.reduce((a, b) => (area(b) < area(a) ? b : a));
  const most = sizes.reduce((a, b) => (area(b) > area(a) ? b : a));
  return {
    plan: { ...counts, height: null, width: null, smallest },
    shape: `of ${new Set(sizes.map((s) => `${s.width}×${s.height}`)).size} sizes, ` +
      `${least.width}×${least.height} to ${most.width}×${most.height}, ×${channels}`,
  };
}

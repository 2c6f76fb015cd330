/**
 * Reads one sample of a segmentation data set from its files: the image and
 * its binary masks by role (`mask` the truth, `roi` the field of view, any
 * other role an extra annotation), checking that every mask has the image's
 * size and that the truth is not empty. Every fault names the file.
 *
 * @module
 */
import { DataError, type DataPlan, type Raster, type Sample } from "../../../mod.ts";
import { binarize } from "../image/binarize.ts";
import { readImage } from "../image/read_image.ts";

/** The files of one sample. */
export interface SampleFiles {
  /** The sample's id. */
  readonly id: string;
  /** The image file. */
  readonly image: string;
  /** Mask files by role: `mask` (required), `roi` (optional: the whole image), others extra. */
  readonly masks: Readonly<Record<string, string>>;
}

/**
 * Reads a mask file as 0/1. A pixel is inside where its brightest channel is
 * above 127: white on black, as DRIVE's GIFs (palette GIFs decode as RGB), and
 * any colour drawn on black too (red 255 has a luminance of only 76). A mask
 * whose values are only 0 and 1, as label maps are saved, has 1 inside.
 *
 * @param path The mask file.
 * @returns A one-channel 0/1 raster of the file's size.
 */
export async function readBinaryMask(path: string): Promise<Raster> {
  const raster = await readImage(path);
  const brightest = raster.channels === 1 ? raster : maxChannel(raster);
  let max = 0;
  for (const v of brightest.data) max = v > max ? v : max;
  return binarize(brightest, max === 1 ? 0.5 : 127);
}

/** Each pixel's largest channel value, one channel. */
function maxChannel(raster: Raster): Raster {
  const { width, height, channels, data } = raster;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    let m = data[i * channels];
    for (let c = 1; c < channels; c++) m = Math.max(m, data[i * channels + c]);
    out[i] = m;
  }
  return { width, height, channels: 1, data: out };
}

/**
 * Reads and checks one sample.
 *
 * @throws {DataError} On a missing, corrupt or unsupported file, a mask of another size than its
 *   image, or a truth mask without a single foreground pixel.
 */
export async function readPairedSample(files: SampleFiles): Promise<Sample> {
  const image = await readImage(files.image);
  const rasters: Record<string, Raster> = {};
  for (const [role, path] of Object.entries(files.masks)) {
    const raster = await readBinaryMask(path);
    if (raster.width !== image.width || raster.height !== image.height) {
      throw new DataError(
        `Cannot pair "${path}" (${raster.width}×${raster.height}) with "${files.image}" (${image.width}×${image.height}): sizes differ`,
      );
    }
    rasters[role] = raster;
  }
  const { mask, roi, ...extra } = rasters;
  if (!mask) throw new DataError(`Cannot read sample "${files.id}": it has no mask file`);
  if (!mask.data.some((v) => v > 0)) {
    throw new DataError(
      `Cannot use mask "${files.masks.mask}": it has no foreground pixel (every channel of every pixel is below 128, and it is not a 0/1 label map); check that it is the right file`,
    );
  }
  const wholeImage = {
    width: image.width,
    height: image.height,
    channels: 1,
    data: new Float32Array(image.width * image.height).fill(1),
  };
  return {
    id: files.id,
    image,
    mask,
    roi: roi ?? wholeImage,
    ...(Object.keys(extra).length ? { extra } : {}),
    source: files.image,
  };
}

/** Every file the samples read, in order: what a load stage's `fingerprint` returns. */
export function sampleFilePaths(samples: readonly SampleFiles[]): string[] {
  return samples.flatMap((f) => [f.image, ...Object.values(f.masks)]);
}

/** Reads the samples one after another (see {@link readPairedSample}). */
export async function readPairedSamples(samples: readonly SampleFiles[]): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const files of samples) out.push(await readPairedSample(files));
  return out;
}

/**
 * A load stage's plan from its file lists: the counts, and the size and
 * channels of the first training image (the only one read).
 *
 * @param train The training samples' files.
 * @param test The test samples' files.
 * @returns The plan, and the first image's `width×height×channels`.
 */
export async function pairedDataPlan(
  train: readonly SampleFiles[],
  test: readonly SampleFiles[],
): Promise<{ plan: DataPlan; shape: string }> {
  const { width, height, channels } = await readImage(train[0].image);
  return {
    plan: { train: train.length, test: test.length, height, width, channels },
    shape: `${width}×${height}×${channels}`,
  };
}

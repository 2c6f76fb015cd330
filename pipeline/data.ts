/**
 * The data contracts that flow between stages. They describe generic 2-D
 * segmentation data and nothing domain specific: an image, its binary target
 * mask and the region of it that counts.
 *
 * @module
 */

/**
 * A dense 2-D image: row-major, channels interleaved, one float per sample.
 *
 * @example Usage
 * ```ts
 * import type { Raster } from "./data.ts";
 * const raster: Raster = { width: 2, height: 1, channels: 1, data: new Float32Array([0, 1]) };
 * console.assert(raster.data.length === raster.width * raster.height * raster.channels);
 * ```
 */
export interface Raster {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Samples per pixel (1 for grey, 3 for RGB). */
  readonly channels: number;
  /** `width * height * channels` values; pixel (x, y) channel c sits at `(y * width + x) * channels + c`. */
  readonly data: Float32Array;
  /**
   * Optional: the largest sample value the file this raster was decoded from
   * can hold (255 for 8-bit files, 65535 for 16-bit ones, a PGM/PPM's
   * maxval). The image decoders set it; they scale every file to 0..255
   * (`v · 255 / maxValue`, unrounded), so `data[i] * maxValue / 255` gives
   * back the file's own integer samples, e.g. to read a 16-bit 0/1 label map
   * as 0/1. It describes the file: rasters computed from others leave it out,
   * and only a raster straight from a decoder should be read by it.
   */
  readonly maxValue?: number;
}

/** One labelled image of a segmentation data set. */
export interface Sample {
  /** A short unique name, e.g. the file stem (`21_training`). */
  readonly id: string;
  /** The input image. */
  readonly image: Raster;
  /** The binary target (1 = foreground), one channel, same size as the image. */
  readonly mask: Raster;
  /** The region that counts (1 = inside), one channel, same size as the image. */
  readonly roi: Raster;
  /** Extra binary annotations keyed by name (e.g. a second observer), same size as the image. */
  readonly extra?: Readonly<Record<string, Raster>>;
  /** Where the image came from, for error messages. */
  readonly source?: string;
}

/** A segmentation data set split into training and test samples. */
export interface SegmentationData {
  /** The data set's name, for reports. */
  readonly name: string;
  /** Samples to learn from (a validation split is taken from these). */
  readonly train: readonly Sample[];
  /** Held-out samples that only the evaluation sees. */
  readonly test: readonly Sample[];
}

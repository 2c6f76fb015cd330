/**
 * `deno task augment-preview`: runs a recipe's load and preprocess stages,
 * cuts a few patches from the training images, passes them through the
 * recipe's augment stages several times with different draws, and lays the
 * results out as one greyscale PNG: per row, the original image and mask,
 * then each augmented image and mask. What a user sees is exactly what
 * training would get (same stages, same options, the same checks of what
 * each returns).
 *
 * @module
 */
import type { Raster, SegmentationData } from "../data.ts";
import { CapillaryError } from "../errors.ts";
import { encodeGrayPng } from "../image/write_png.ts";
import { Random, stageRandomOf } from "../random.ts";
import { componentCreator } from "../registry.ts";
import { recipeBaseDir } from "../recipe/render.ts";
import type { ResolvedRecipe, ResolvedStage } from "../recipe/validate.ts";
import type { Augmentation, PatchBatch, StageContext } from "../stage.ts";
import { tf } from "../backend/tfjs.ts";
import { consoleProgress, type Progress } from "./progress.ts";
import { RunFolder } from "./run_folder.ts";
import { checkpointStore } from "./checkpoint.ts";
import { checkedAugmentation } from "./checked_augmentation.ts";
import { checkSegmentationData } from "./checks.ts";
import { stageFailure } from "./failure.ts";

/** Options of {@link augmentPreview}. */
export interface AugmentPreviewOptions {
  /** Patches, one per row (default 6). */
  readonly rows?: number;
  /** Augmented draws per patch (default 4). */
  readonly columns?: number;
  /** Patch side (default 64). */
  readonly size?: number;
  /** Where stages print (default the console). */
  readonly progress?: Progress;
}

/** The preview: a PNG and its layout. */
export interface AugmentPreview {
  readonly png: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** The grid as a raster (values in [0, 1]), for tests and other encoders. */
  readonly raster: Raster;
}

const GAP = 2;

/**
 * Cuts `rows` patches of `size` from the training samples, each centred on a
 * pixel inside the sample's region of interest where one can be found.
 */
export function cutPatches(
  data: SegmentationData,
  rows: number,
  size: number,
  random: Random,
): PatchBatch {
  const channels = data.train[0].image.channels;
  const images = new Float32Array(rows * size * size * channels);
  const masks = new Float32Array(rows * size * size);
  const rois = new Float32Array(rows * size * size);
  for (let r = 0; r < rows; r++) {
    const sample = data.train[r % data.train.length];
    const { width, height } = sample.image;
    if (width < size || height < size) {
      throw new CapillaryError(
        `Cannot cut ${size}×${size} patches from ${sample.id} (${width}×${height}): pass a smaller --size`,
        "E_PREVIEW",
      );
    }
    let x0 = 0, y0 = 0;
    for (let attempt = 0; attempt < 50; attempt++) {
      x0 = random.int(width - size + 1);
      y0 = random.int(height - size + 1);
      const centre = (y0 + (size >> 1)) * width + x0 + (size >> 1);
      if (sample.roi.data[centre] > 0) break;
    }
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const from = (y0 + y) * width + x0 + x, to = (r * size + y) * size + x;
        masks[to] = sample.mask.data[from];
        rois[to] = sample.roi.data[from];
        for (let c = 0; c < channels; c++) {
          images[to * channels + c] = sample.image.data[from * channels + c];
        }
      }
    }
  }
  return { images, masks, rois, count: rows, size, channels };
}

/** Grey level of mask-tile pixels outside the ROI (vessels are 1, background 0). */
export const OUTSIDE_ROI = 0.35;

/**
 * Lays out originals and augmented draws as one grey raster: per patch its
 * image, then its mask with the pixels outside the ROI in {@link OUTSIDE_ROI} grey.
 */
export function previewGrid(original: PatchBatch, draws: readonly PatchBatch[]): Raster {
  const { size, count, channels } = original;
  const tiles = 2 * (1 + draws.length);
  const width = tiles * size + (tiles - 1) * GAP;
  const height = count * size + (count - 1) * GAP;
  const data = new Float32Array(width * height).fill(0.5);
  const put = (values: Float32Array, valueChannels: number, row: number, tile: number) => {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let v = 0;
        const at = ((row * size + y) * size + x) * valueChannels;
        for (let c = 0; c < valueChannels; c++) v += values[at + c];
        data[(row * (size + GAP) + y) * width + tile * (size + GAP) + x] = v / valueChannels;
      }
    }
  };
  for (let row = 0; row < count; row++) {
    [original, ...draws].forEach((batch, k) => {
      put(batch.images, channels, row, 2 * k);
      const rois = batch.rois;
      put(
        rois ? batch.masks.map((m, i) => rois[i] > 0.5 ? m : OUTSIDE_ROI) : batch.masks,
        1,
        row,
        2 * k + 1,
      );
    });
  }
  return { width, height, channels: 1, data };
}

/**
 * Builds the preview of `recipe`'s augmentations.
 *
 * @throws {CapillaryError} When the recipe has no augment stage, or a stage fails.
 */
export async function augmentPreview(
  recipe: ResolvedRecipe,
  options: AugmentPreviewOptions = {},
): Promise<AugmentPreview> {
  const rows = options.rows ?? 6, columns = options.columns ?? 4, size = options.size ?? 64;
  const augments = recipe.stages.get("augment") ?? [];
  if (!augments.length) {
    throw new CapillaryError(
      `Cannot preview augmentations: ${recipe.file} has no augment stage`,
      "E_PREVIEW",
    );
  }
  const progress = options.progress ?? consoleProgress();
  const scratch = await Deno.makeTempDir({ prefix: "capillary-preview-" });
  try {
    const context = (stage: ResolvedStage): StageContext => ({
      stageId: stage.id,
      tf,
      useBackend: () => Promise.resolve(tf.getBackend()),
      random: stageRandomOf(recipe, stage),
      run: new RunFolder(scratch),
      progress,
      recipeDir: recipeBaseDir(recipe),
      createComponent: componentCreator(recipe.components),
      checkpoints: checkpointStore(scratch, false),
    });
    // Each stage's output checked as the run checks it, and a failure blamed on its stage.
    const run = async <T>(stage: ResolvedStage, input: unknown, check: (out: T) => void) => {
      try {
        const output = await stage.registered.stage.run(
          stage.options as never,
          input as never,
          context(stage),
        ) as T;
        check(output);
        return output;
      } catch (error) {
        throw stageFailure(stage.id, error);
      }
    };
    const preprocess = recipe.stages.get("preprocess") ?? [];
    let data = await run<SegmentationData>(
      recipe.stages.get("load")![0],
      undefined,
      (d) => checkSegmentationData(d, false, preprocess.length === 0),
    );
    for (const [i, stage] of preprocess.entries()) {
      data = await run<SegmentationData>(
        stage,
        data,
        (d) => checkSegmentationData(d, true, i === preprocess.length - 1),
      );
    }
    // The very wrapper training calls: a faulty augmentation is refused in the run's words.
    const chain: Augmentation[] = [];
    for (const stage of augments) {
      let checked: Augmentation | undefined;
      await run<unknown>(stage, undefined, (a) => {
        checked = checkedAugmentation(a, stage.id);
      });
      chain.push(checked!);
    }
    const original = cutPatches(data, rows, size, new Random(recipe.seed));
    const draws = Array.from({ length: columns }, (_, k) => {
      const random = new Random(recipe.seed + 1 + k);
      return chain.reduce((batch, step) => step(batch, random), original);
    });
    const raster = previewGrid(original, draws);
    return { png: encodeGrayPng(raster), width: raster.width, height: raster.height, raster };
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

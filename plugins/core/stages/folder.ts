/**
 * `core/folder`: a segmentation data set from any folder, by file patterns
 * with one `{id}` placeholder, in the file name (`train/{id}.png`) or in one
 * folder name (`cases/{id}/image.png`): the image pattern lists the samples
 * and the ids pair each image with its mask and field-of-view mask. Reads
 * TIFF, PNG, JPEG, GIF and PGM/PPM. Every data fault (a missing pair, sizes
 * that differ, a corrupt or unsupported file, a split whose masks are all
 * empty) names the file; empty masks among others are negative cases, kept
 * with a warning.
 * Masks may lie beside the images: a file is a mask, not an image, when its
 * image is there (`datasets/folder_listing.ts`). Files no pattern takes and truth lying
 * outside the field of view are warned about, naming the files.
 *
 * ```yaml
 * load:
 *   use: core/folder
 *   with:
 *     root: ../data/my-retinas
 *     train: { images: "train/{id}.png", masks: "train/{id}_vessels.png", fov: "train/{id}_fov.png" }
 *     test: { images: "test/{id}.png", masks: "test/{id}_vessels.png" }
 * ```
 *
 * One folder per case works too, e.g. `cases/case_07/image.png` with `cases/case_07/mask.png`:
 *
 * ```yaml
 *     train: { images: "cases/case_{id}/image.png", masks: "cases/case_{id}/mask.png" }
 * ```
 *
 * @module
 */
import { z } from "zod";
import { defineStage, inBothSplits } from "../../../mod.ts";
import { pairedDataPlan, readPairedSamples, sampleFilePaths } from "../datasets/paired_sample.ts";
import { estimateFov } from "../image/fov.ts";
import { fovCoverageWarning } from "../image/fov_coverage.ts";
import { maskForegroundOption, maskIgnoreOption } from "../datasets/mask_values.ts";
import { folderSplitFiles, listSplit, type SplitListing } from "../datasets/folder_listing.ts";
import { companionPattern, patternProblem } from "../datasets/folder_patterns.ts";
import { skippedFileLines } from "../datasets/skipped_files.ts";
import { isAbsolute, resolve } from "node:path";

const pattern = (what: string) =>
  z.string().superRefine((p, context) => {
    const problem = patternProblem(p, what);
    if (problem) context.addIssue({ code: "custom", message: problem });
  });

const splitOptions = z.object({
  images: pattern("image").describe(
    "Image files under root, with one {id} in the file name or in one folder name, e.g. `training/{id}_training.tif` or `cases/{id}/image.png`.",
  ),
  masks: pattern("mask").describe(
    "The truth mask of each image, e.g. `training/{id}_manual1.gif` or `cases/{id}/mask.png`.",
  ),
  fov: z.union([z.literal("estimate"), pattern("FOV")]).nullable().default(null)
    .describe(
      'The field-of-view mask of each image; "estimate": found from the image (image/fov.ts); null: the whole image counts.',
    ),
}).strict();

/** Options of `core/folder`. */
export const folderOptions = z.object({
  root: z.string().describe(
    "The data folder (relative paths resolve against the recipe's folder).",
  ),
  name: z.string().default("folder").describe("The data set's name, for reports."),
  train: splitOptions.describe("The training samples."),
  test: splitOptions.describe("The test samples."),
  trainLimit: z.number().int().min(1).nullable().default(null)
    .describe("Use only the first N training samples (by id; null: all)."),
  testLimit: z.number().int().min(1).nullable().default(null)
    .describe("Use only the first N test samples (by id; null: all)."),
  maskForeground: maskForegroundOption,
  maskIgnore: maskIgnoreOption,
}).strict();

/** The options after defaults. */
export type FolderOptions = z.output<typeof folderOptions>;

function rootOf(options: FolderOptions, recipeDir: string): string {
  return isAbsolute(options.root) ? options.root : resolve(recipeDir, options.root);
}

/** The `core/folder` load stage. */
export const folder = defineStage({
  name: "folder",
  kind: "load",
  description: "Loads images, masks and FOV masks from a folder by {id} file patterns.",
  options: folderOptions,
  async fingerprint(options, context) {
    const root = rootOf(options, context.recipeDir);
    return sampleFilePaths([
      ...await folderSplitFiles(root, options.train, options.trainLimit),
      ...await folderSplitFiles(root, options.test, options.testLimit),
    ]);
  },
  async plan(options, _input, context) {
    const root = rootOf(options, context.recipeDir);
    const train = await listSplit(root, options.train, options.trainLimit);
    const test = await listSplit(root, options.test, options.testLimit);
    // What the run refuses once the images are read, said from the file lists.
    const trainImages = new Set(train.files.map((f) => f.image));
    const both = test.files.find((f) => trainImages.has(f.image));
    if (both) throw inBothSplits(options.name, both.image);
    const { plan, shape } = await pairedDataPlan(train.files, test.files);
    return {
      output: plan,
      lines: [
        `${options.name} at ${root}: ${train.files.length} training and ${test.files.length} ` +
        "test samples",
        `→ images ${shape}; each mask the size of its image (every file's header read)`,
        ...skippedFileLines([
          { split: "training", listing: train },
          { split: "test", listing: test },
        ]).map((line) => `warning: ${line}`),
      ],
    };
  },
  async run(options, _input, context) {
    const root = rootOf(options, context.recipeDir);
    const trainListing = await listSplit(root, options.train, options.trainLimit);
    const testListing = await listSplit(root, options.test, options.testLimit);
    const warnings = skippedFileLines([
      { split: "training", listing: trainListing },
      { split: "test", listing: testListing },
    ]);
    const read = async (
      split: z.output<typeof splitOptions>,
      listing: SplitListing,
      name: "training" | "test",
    ) => {
      const loaded = await readPairedSamples(listing.files, {
        maskForeground: options.maskForeground,
        maskIgnore: options.maskIgnore,
        onWarning: (line) => warnings.push(line),
      });
      const samples = split.fov === "estimate"
        ? loaded.map((s) => ({ ...s, roi: estimateFov(s.image) }))
        : loaded;
      // With fov: null the whole image counts: nothing can lie outside it.
      if (split.fov !== null) {
        const warning = fovCoverageWarning(samples, {
          split: name,
          estimated: split.fov === "estimate",
          fovPattern: split.fov === "estimate" ? companionPattern(split.images, "fov") : split.fov,
        });
        if (warning) warnings.push(warning);
      }
      return samples;
    };
    const train = await read(options.train, trainListing, "training");
    const test = await read(options.test, testListing, "test");
    context.progress.info(
      `${options.name}: ${train.length} training and ${test.length} test samples from ${root}`,
    );
    for (const line of warnings) context.progress.info(`warning: ${line}`);
    return { name: options.name, train, test };
  },
});

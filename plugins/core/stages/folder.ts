/**
 * `core/folder`: a segmentation data set from any folder, by file-name
 * patterns with one `{id}` placeholder: the image pattern lists the samples
 * and the ids pair each image with its mask and field-of-view mask. Reads
 * TIFF, PNG, JPEG, GIF and PGM/PPM. Every data fault (a missing pair, sizes
 * that differ, a corrupt or unsupported file, an empty mask) names the file.
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
 * @module
 */
import { z } from "zod";
import { DataError, defineStage } from "../../../mod.ts";
import {
  pairedDataPlan,
  readPairedSamples,
  sampleFilePaths,
  type SampleFiles,
} from "../datasets/paired_sample.ts";
import { estimateFov } from "../image/fov.ts";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";

const ID = "{id}";

const pattern = (what: string) =>
  z.string().refine(
    (p) => p.split(ID).length === 2 && !dirname(p).includes(ID),
    `the ${what} pattern needs exactly one {id}, in the file name`,
  );

const splitOptions = z.object({
  images: pattern("image").describe("Image files under root, e.g. `training/{id}_training.tif`."),
  masks: pattern("mask").describe(
    "The truth mask of each image, e.g. `training/{id}_manual1.gif`.",
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
}).strict();

/** The options after defaults. */
export type FolderOptions = z.output<typeof folderOptions>;

function regexOf(fileName: string): RegExp {
  const [before, after] = fileName.split(ID).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${before}(.+)${after}$`);
}

/** Lists one split's samples and their files, checking that every pair exists. */
export async function folderSplitFiles(
  root: string,
  split: z.output<typeof splitOptions>,
  limit: number | null,
): Promise<SampleFiles[]> {
  const folder = join(root, dirname(split.images));
  const match = regexOf(basename(split.images));
  // Masks kept beside the images (`{id}.png`, `{id}_mask.png`) are not images.
  const others = [split.masks, split.fov]
    .filter((p): p is string =>
      p !== null && p !== "estimate" && dirname(p) === dirname(split.images)
    )
    .map((p) => regexOf(basename(p)));
  const ids: string[] = [];
  const names: string[] = []; // every file, to show what a pattern missed
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isFile) names.push(entry.name);
      const m = entry.isFile ? match.exec(entry.name) : null;
      if (m && !others.some((o) => o.test(entry.name))) ids.push(m[1]);
    }
  } catch {
    throw new DataError(
      `Cannot read folder "${folder}" (from the pattern "${split.images}"): it is missing`,
    );
  }
  if (!ids.length) {
    names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const shown = names.slice(0, 5).map((n) => `"${n}"`).join(", ");
    throw new DataError(
      `Cannot load data: no file in "${folder}" matches "${basename(split.images)}" (` +
        (names.length
          ? `it holds ${names.length} file${names.length === 1 ? "" : "s"}: ${shown}` +
            `${names.length > 5 ? ", …" : ""}; fix the pattern, where {id} stands for the part ` +
            "that varies"
          : "it holds no file") +
        ")",
    );
  }
  ids.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const files: SampleFiles[] = [];
  for (const id of ids.slice(0, limit ?? undefined)) {
    const image = join(root, split.images.replace(ID, id));
    const masks: Record<string, string> = { mask: join(root, split.masks.replace(ID, id)) };
    if (split.fov && split.fov !== "estimate") masks.roi = join(root, split.fov.replace(ID, id));
    for (const [role, path] of Object.entries(masks)) {
      try {
        await Deno.stat(path);
      } catch {
        // An id that is another id plus a suffix ("21_fov" beside "21"; not "10" beside "1") is
        // most often a mask file the image pattern also matches: say so, not just "missing".
        const base = ids.find((other) =>
          id.startsWith(other) && /^[^A-Za-z0-9]/.test(id.slice(other.length))
        );
        throw new DataError(
          `Cannot pair "${image}" with its ${
            role === "roi" ? "FOV mask" : "mask"
          }: "${path}" is missing` + (base === undefined ? "" : `. Its id "${id}" is the id ` +
            `"${base}" plus "${id.slice(base.length)}": if it is not an image but a mask of ` +
            `"${base}" (a FOV mask?), give those files their own pattern (e.g. fov: ` +
            `"${split.images.replace(ID, `{id}${id.slice(base.length)}`)}") or narrow the ` +
            `images pattern "${split.images}"`),
        );
      }
    }
    files.push({ id, image, masks });
  }
  return files;
}

function rootOf(options: FolderOptions, recipeDir: string): string {
  return isAbsolute(options.root) ? options.root : resolve(recipeDir, options.root);
}

/** The `core/folder` load stage. */
export const folder = defineStage({
  name: "folder",
  kind: "load",
  description: "Loads images, masks and FOV masks from a folder by {id} file-name patterns.",
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
    const train = await folderSplitFiles(root, options.train, options.trainLimit);
    const test = await folderSplitFiles(root, options.test, options.testLimit);
    const { plan, shape } = await pairedDataPlan(train, test);
    return {
      output: plan,
      lines: [
        `${options.name} at ${root}: ${train.length} training and ${test.length} test samples`,
        `→ images ${shape} (the first), masks and FOV masks`,
      ],
    };
  },
  async run(options, _input, context) {
    const root = rootOf(options, context.recipeDir);
    const read = async (split: z.output<typeof splitOptions>, limit: number | null) => {
      const samples = await readPairedSamples(await folderSplitFiles(root, split, limit));
      return split.fov === "estimate"
        ? samples.map((s) => ({ ...s, roi: estimateFov(s.image) }))
        : samples;
    };
    const train = await read(options.train, options.trainLimit);
    const test = await read(options.test, options.testLimit);
    context.progress.info(
      `${options.name}: ${train.length} training and ${test.length} test samples from ${root}`,
    );
    return { name: options.name, train, test };
  },
});

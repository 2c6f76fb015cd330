/**
 * `core/drive`: loads the DRIVE retinal vessel data set (Staal et al. 2004):
 * 20 training and 20 test fundus images with manual vessel masks
 * (`1st_manual`), field-of-view masks, and for the test images the second
 * observer's masks (`2nd_manual`, kept as the extra annotation "2nd_manual").
 *
 * Files are found by DRIVE's names without their extension, so a copy whose
 * images or masks were converted to another format the reader decodes (PNG,
 * as some mirrors of DRIVE ship it) loads the same way.
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
import { isFileEntry } from "../datasets/dir_entries.ts";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

/** Options of `core/drive`. */
export const driveOptions = z.object({
  root: z.string().nullable().default(null).describe(
    "The DRIVE folder (relative paths resolve against the recipe's folder). Default: $CAPILLARY_DRIVE, else ../shared/data/DRIVE from the working directory or from the Capillary checkout.",
  ),
  trainLimit: z.number().int().min(1).max(20).nullable().default(null)
    .describe("Use only the first N training images (null: all 20)."),
  testLimit: z.number().int().min(1).max(20).nullable().default(null)
    .describe("Use only the first N test images (null: all 20)."),
}).strict();

/** The options of `core/drive` after defaults. */
export type DriveOptions = z.output<typeof driveOptions>;

const LAYOUT = `expected layout:
  <root>/training/images/21_training.tif .. 40_training.tif
  <root>/training/1st_manual/21_manual1.gif ..
  <root>/training/mask/21_training_mask.gif ..
  <root>/test/images/01_test.tif .. 20_test.tif
  <root>/test/1st_manual/01_manual1.gif ..   <root>/test/2nd_manual/01_manual2.gif ..
  <root>/test/mask/01_test_mask.gif ..
(the same names with .png or another format the reader decodes serve too)`;

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Finds the DRIVE folder: the option, then `$CAPILLARY_DRIVE`, then
 * `../shared/data/DRIVE` from the working directory, then from the checkout.
 *
 * @throws {DataError} Naming every place looked at and the expected layout.
 */
export async function findDriveRoot(option: string | null, recipeDir: string): Promise<string> {
  const candidates: string[] = [];
  const env = Deno.env.get("CAPILLARY_DRIVE");
  if (option) candidates.push(isAbsolute(option) ? option : resolve(recipeDir, option));
  else if (env) candidates.push(resolve(env));
  else {
    candidates.push(resolve("../shared/data/DRIVE"));
    const checkout = resolve(dirname(fromFileUrl(import.meta.url)), "../../..");
    candidates.push(resolve(checkout, "../shared/data/DRIVE"));
  }
  for (const c of candidates) if (await exists(join(c, "training", "images"))) return c;
  const how = option ? "the recipe's root option" : env ? "$CAPILLARY_DRIVE" : "the default";
  throw new DataError(
    `Cannot find DRIVE: no training/images folder under ${
      [...new Set(candidates)].map((c) => `"${c}"`).join(" or ")
    } (from ${how}); set stages.load.with.root or CAPILLARY_DRIVE to the DRIVE folder\n${LAYOUT}`,
  );
}

/** Extensions a DRIVE file may have, the original's first: the reader decodes them all. */
const IMAGE_EXTENSIONS = [".tif", ".tiff", ".png", ".jpg", ".jpeg", ".ppm"] as const;
const MASK_EXTENSIONS = [".gif", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".pgm"] as const;

/** The files of a folder by name, or a DataError naming the layout when it cannot be read. */
async function fileNames(folder: string): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (await isFileEntry(folder, entry)) names.add(entry.name);
    }
  } catch {
    throw new DataError(`Cannot read DRIVE folder "${folder}": it is missing\n${LAYOUT}`);
  }
  return names;
}

/**
 * The image numbers of a split's `images` folder (files `<n>_<split>.<ext>`), sorted, each with
 * the name of its file.
 */
async function listImages(folder: string, split: string): Promise<Map<string, string>> {
  const names = await fileNames(folder);
  const found = new Map<string, string>();
  for (const extension of IMAGE_EXTENSIONS) {
    const suffix = `_${split}${extension}`;
    for (const name of names) {
      const n = name.slice(0, -suffix.length);
      if (name.endsWith(suffix) && /^\d+$/.test(n) && !found.has(n)) found.set(n, name);
    }
  }
  if (!found.size) {
    throw new DataError(
      `Cannot load DRIVE: no *_${split}.tif files (nor ${
        IMAGE_EXTENSIONS.slice(1).join(", ")
      }) in "${folder}"\n${LAYOUT}`,
    );
  }
  return new Map([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The path of the mask named `stem` in `folder`: the first extension present, else the
 * original's (so that a missing file is reported under DRIVE's own name).
 */
function maskPath(folder: string, names: Set<string>, stem: string): string {
  const extension = MASK_EXTENSIONS.find((e) => names.has(stem + e)) ?? MASK_EXTENSIONS[0];
  return join(folder, stem + extension);
}

/** The files of each sample of a split: the image and its masks by role. */
async function splitFiles(
  root: string,
  split: "training" | "test",
  limit: number | null,
): Promise<SampleFiles[]> {
  const dir = join(root, split);
  const images = [...await listImages(join(dir, "images"), split)].slice(0, limit ?? undefined);
  const folder = (name: string) => join(dir, name);
  const listing = async (name: string) =>
    await fileNames(folder(name)).catch(() => new Set<string>());
  const manual = await listing("1st_manual"), fov = await listing("mask");
  const second = split === "test" ? await listing("2nd_manual") : new Set<string>();
  return images.map(([n, image]) => ({
    id: `${n}_${split}`,
    image: join(dir, "images", image),
    masks: {
      mask: maskPath(folder("1st_manual"), manual, `${n}_manual1`),
      roi: maskPath(folder("mask"), fov, `${n}_${split}_mask`),
      ...(split === "test"
        ? { "2nd_manual": maskPath(folder("2nd_manual"), second, `${n}_manual2`) }
        : {}),
    },
  }));
}

/** The `core/drive` load stage. */
export const drive = defineStage({
  name: "drive",
  kind: "load",
  description: "Loads DRIVE: 20 training and 20 test fundus images, vessel masks and FOV masks.",
  options: driveOptions,
  async fingerprint(options, context) {
    const root = await findDriveRoot(options.root, context.recipeDir);
    return sampleFilePaths([
      ...await splitFiles(root, "training", options.trainLimit),
      ...await splitFiles(root, "test", options.testLimit),
    ]);
  },
  async plan(options, _input, context) {
    const root = await findDriveRoot(options.root, context.recipeDir);
    const train = await splitFiles(root, "training", options.trainLimit);
    const test = await splitFiles(root, "test", options.testLimit);
    const { plan, shape } = await pairedDataPlan(train, test);
    return {
      output: plan,
      lines: [
        `DRIVE at ${root}: ${train.length} training and ${test.length} test images`,
        `→ images ${shape}, vessel masks and FOV masks of the same size (every file's header ` +
        "read)",
      ],
    };
  },
  async run(options, _input, context) {
    const root = await findDriveRoot(options.root, context.recipeDir);
    context.progress.info(`DRIVE: ${root}`);
    const reading = { onWarning: (line: string) => context.progress.info(`warning: ${line}`) };
    const train = await readPairedSamples(
      await splitFiles(root, "training", options.trainLimit),
      reading,
    );
    const test = await readPairedSamples(
      await splitFiles(root, "test", options.testLimit),
      reading,
    );
    context.progress.info(`loaded ${train.length} training and ${test.length} test images`);
    return { name: "DRIVE", train, test };
  },
});

/**
 * `core/drive`: loads the DRIVE retinal vessel data set (Staal et al. 2004):
 * 20 training and 20 test fundus images with manual vessel masks
 * (`1st_manual`), field-of-view masks, and for the test images the second
 * observer's masks (`2nd_manual`, kept as the extra annotation "2nd_manual").
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
  <root>/test/mask/01_test_mask.gif ..`;

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

async function listIds(folder: string, suffix: string): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isFile && entry.name.endsWith(suffix)) {
        ids.push(entry.name.slice(0, -suffix.length));
      }
    }
  } catch {
    throw new DataError(`Cannot read DRIVE folder "${folder}": it is missing\n${LAYOUT}`);
  }
  if (!ids.length) {
    throw new DataError(`Cannot load DRIVE: no *${suffix} files in "${folder}"\n${LAYOUT}`);
  }
  return ids.sort();
}

/** The files of each sample of a split: the image and its masks by role. */
async function splitFiles(
  root: string,
  split: "training" | "test",
  limit: number | null,
): Promise<SampleFiles[]> {
  const dir = join(root, split);
  const numbers = (await listIds(join(dir, "images"), `_${split}.tif`)).slice(
    0,
    limit ?? undefined,
  );
  return numbers.map((n) => ({
    id: `${n}_${split}`,
    image: join(dir, "images", `${n}_${split}.tif`),
    masks: {
      mask: join(dir, "1st_manual", `${n}_manual1.gif`),
      roi: join(dir, "mask", `${n}_${split}_mask.gif`),
      ...(split === "test" ? { "2nd_manual": join(dir, "2nd_manual", `${n}_manual2.gif`) } : {}),
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
        `→ images ${shape}, vessel masks and FOV masks ${plan.width}×${plan.height}`,
      ],
    };
  },
  async run(options, _input, context) {
    const root = await findDriveRoot(options.root, context.recipeDir);
    context.progress.info(`DRIVE: ${root}`);
    const train = await readPairedSamples(await splitFiles(root, "training", options.trainLimit));
    const test = await readPairedSamples(await splitFiles(root, "test", options.testLimit));
    context.progress.info(`loaded ${train.length} training and ${test.length} test images`);
    return { name: "DRIVE", train, test };
  },
});

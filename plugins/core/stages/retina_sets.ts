/**
 * `core/stare` and `core/chase_db1`: the STARE (Hoover et al. 2000) and
 * CHASE_DB1 (Owen et al. 2009) retinal vessel data sets in their usual
 * layouts. Neither ships FOV masks, so each image's field of view is
 * estimated (`image/fov.ts`); neither has an official train/test split, so
 * the first `trainCount` images by name train and the rest test (the split
 * most papers use: STARE 10/10, CHASE_DB1 20/8).
 *
 * - STARE: `<root>/stare-images/im0001.ppm`, truth `<root>/labels-ah/im0001.ah.ppm`
 *   (the first observer), second observer `<root>/labels-vk/im0001.vk.ppm` when present.
 * - CHASE_DB1: `<root>/Image_01L.jpg`, truth `<root>/Image_01L_1stHO.png`,
 *   second observer `<root>/Image_01L_2ndHO.png`.
 *
 * @module
 */
import { z } from "zod";
import { defineStage, type Sample, type SegmentationData } from "../../../mod.ts";
import { readPairedSample, sampleFilePaths } from "../datasets/paired_sample.ts";
import { estimateFov } from "../image/fov.ts";
import { folderSplitFiles } from "../datasets/folder_listing.ts";
import { isAbsolute, join, resolve } from "node:path";

interface Layout {
  readonly name: string;
  readonly title: string;
  readonly images: string;
  readonly masks: string;
  readonly second: string;
  readonly trainCount: number;
}

const STARE: Layout = {
  name: "stare",
  title: "STARE",
  images: "stare-images/{id}.ppm",
  masks: "labels-ah/{id}.ah.ppm",
  second: "labels-vk/{id}.vk.ppm",
  trainCount: 10,
};

const CHASE: Layout = {
  name: "chase_db1",
  title: "CHASE_DB1",
  images: "{id}.jpg",
  masks: "{id}_1stHO.png",
  second: "{id}_2ndHO.png",
  trainCount: 20,
};

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

function layoutStage(layout: Layout) {
  const options = z.object({
    root: z.string().describe(`The ${layout.title} folder (relative to the recipe).`),
    trainCount: z.number().int().min(1).default(layout.trainCount)
      .describe("The first N images by name train; the rest test."),
  }).strict();
  const rootOf = (o: z.output<typeof options>, recipeDir: string) =>
    isAbsolute(o.root) ? o.root : resolve(recipeDir, o.root);
  const list = (root: string) =>
    folderSplitFiles(root, { images: layout.images, masks: layout.masks, fov: "estimate" }, null);
  return defineStage({
    name: layout.name,
    kind: "load",
    description:
      `Loads ${layout.title} (FOV estimated from each image; the first ${layout.trainCount} images train).`,
    options,
    async fingerprint(o, context) {
      return sampleFilePaths(await list(rootOf(o, context.recipeDir)));
    },
    async run(o, _input, context): Promise<SegmentationData> {
      const root = rootOf(o, context.recipeDir);
      const samples: Sample[] = [];
      for (const files of await list(root)) {
        const second = join(root, layout.second.replace("{id}", files.id));
        const withSecond = await exists(second)
          ? { ...files, masks: { ...files.masks, "2nd_manual": second } }
          : files;
        const sample = await readPairedSample(withSecond, {
          onWarning: (line) => context.progress.info(`warning: ${line}`),
        });
        samples.push({ ...sample, roi: estimateFov(sample.image) });
      }
      const train = samples.slice(0, o.trainCount), test = samples.slice(o.trainCount);
      context.progress.info(
        `${layout.title}: ${train.length} training and ${test.length} test images from ${root}`,
      );
      return { name: layout.title, train, test };
    },
  });
}

/** The `core/stare` load stage. */
export const stare = layoutStage(STARE);

/** The `core/chase_db1` load stage. */
export const chaseDb1 = layoutStage(CHASE);

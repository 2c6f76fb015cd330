/**
 * `synthetic/retinas`: a data set of procedurally generated fundus images
 * with exact vessel masks and circular FOVs (see `../render.ts`), for
 * trying Capillary without a download and for pretraining.
 *
 * @module
 */
import { z } from "zod";
import { defineStage, Random, type Sample, type SegmentationData } from "../../../mod.ts";
import { renderFundus } from "../render.ts";

/** Options of `synthetic/retinas`. */
export const retinasOptions = z.object({
  train: z.number().int().min(1).max(1000).default(20).describe("Training images to generate."),
  test: z.number().int().min(1).max(1000).default(10).describe("Test images to generate."),
  size: z.number().int().min(64).max(2048).default(565).describe(
    "Side of the square images in pixels. Vessel widths scale with it: at 565 they match " +
      "DRIVE's (trunks about 8 px wide, the thinnest 1 px).",
  ),
  seed: z.number().int().default(1).describe(
    "Seeds the images; apart from the recipe's seed, so the data stay put while training seeds vary.",
  ),
  noise: z.number().min(0).max(50).default(2.5)
    .describe("Standard deviation of the Gaussian noise, in 0–255 units."),
  blur: z.number().min(0).max(10).nullable().default(null)
    .describe("Sigma of the Gaussian blur in pixels; null: 0.6 px at size 565, scaled with size."),
}).strict();

/** The options of `synthetic/retinas` after defaults. */
export type RetinasOptions = z.output<typeof retinasOptions>;

/**
 * Generates the data set: image `k` (0-based, training images first) from a
 * generator seeded by `seed` and `k` alone, so a training image stays the same
 * whatever `test` is.
 *
 * @param options What to generate.
 * @returns RGB images in [0, 255], exact masks, FOVs as ROIs.
 *
 * @example Usage
 * ```ts
 * import { generateRetinas, retinasOptions } from "./retinas.ts";
 * const data = generateRetinas(retinasOptions.parse({ train: 2, test: 1, size: 64 }));
 * console.assert(data.train.length === 2 && data.test[0].image.channels === 3);
 * ```
 */
export function generateRetinas(options: RetinasOptions): SegmentationData {
  const sample = (k: number, id: string): Sample => {
    const { image, mask, fov } = renderFundus(
      {
        size: options.size,
        noise: options.noise,
        ...(options.blur === null ? {} : { blur: options.blur }),
      },
      new Random(options.seed * 1_000_003 + k * 7919 + 17),
    );
    return { id, image, mask, roi: fov, source: `synthetic/retinas seed ${options.seed} #${k}` };
  };
  const pad = (k: number) => String(k + 1).padStart(3, "0");
  return {
    name: `synthetic retinas (${options.size}×${options.size}, seed ${options.seed})`,
    train: Array.from({ length: options.train }, (_, k) => sample(k, `synthetic_${pad(k)}`)),
    test: Array.from(
      { length: options.test },
      (_, k) => sample(options.train + k, `synthetic_${pad(options.train + k)}`),
    ),
  };
}

/** The `synthetic/retinas` load stage. */
export const retinas = defineStage({
  name: "retinas",
  kind: "load",
  description:
    "Generated fundus images: branching, tapering, tortuous vessel trees with exact masks.",
  options: retinasOptions,
  plan: (options) => ({
    output: {
      train: options.train,
      test: options.test,
      height: options.size,
      width: options.size,
      channels: 3,
    },
    lines: [
      `${options.train} training and ${options.test} test images generated (seed ${options.seed})` +
      ` → images ${options.size}×${options.size}×3, exact vessel masks, circular FOVs`,
    ],
  }),
  run(options, _input, context) {
    const started = performance.now();
    const data = generateRetinas(options);
    context.progress.info(
      `  generated ${options.train + options.test} images of ${options.size}×${options.size} in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    return data;
  },
});

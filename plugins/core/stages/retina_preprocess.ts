/**
 * `core/retina_preprocess`: the preprocessing of the reference
 * implementations (orobix retina-unet lineage): grey from RGB, z-score with
 * the training set's statistics, per-image min-max to [0, 255], CLAHE, gamma,
 * then scaling to [0, 1].
 *
 * @module
 */
import { z } from "zod";
import { defineStage, type Sample, type SegmentationData } from "../../../mod.ts";
import { clahe } from "../image/clahe.ts";
import { gammaCorrect } from "../image/gamma.ts";
import { meanStd, minMaxScale, zScore } from "../image/normalize.ts";
import { toGray } from "../image/to_gray.ts";

/** Options of `core/retina_preprocess`. */
export const retinaPreprocessOptions = z.object({
  standardize: z.boolean().default(true)
    .describe(
      "Z-score with the training images' pooled mean and std, then min-max each image to [0, 255].",
    ),
  clahe: z.object({
    clipLimit: z.number().min(0).default(2).describe(
      "Contrast limit relative to a flat histogram.",
    ),
    tiles: z.number().int().min(1).max(64).default(8).describe("Tiles per side."),
  }).strict().nullable().default({ clipLimit: 2, tiles: 8 })
    .describe("Contrast-limited adaptive histogram equalisation; null turns it off."),
  gamma: z.number().positive().nullable().default(1.2)
    .describe("Gamma correction v ← 255·(v/255)^(1/gamma); null turns it off."),
}).strict();

/** The options of `core/retina_preprocess` after defaults. */
export type RetinaPreprocessOptions = z.output<typeof retinaPreprocessOptions>;

/**
 * Applies the pipeline to every sample. Statistics come from the training
 * images only, so nothing about the test set leaks into training.
 *
 * @param data A data set with 0..255 images (RGB or grey).
 * @param options The steps to apply.
 * @returns The data set with one-channel images in [0, 1].
 */
export function preprocessRetina(
  data: SegmentationData,
  options: RetinaPreprocessOptions,
): SegmentationData {
  const grayTrain = data.train.map((s) => toGray(s.image));
  const stats = options.standardize ? meanStd(grayTrain) : undefined;
  const apply = (sample: Sample, gray = toGray(sample.image)): Sample => {
    let image = gray;
    if (stats) image = minMaxScale(zScore(image, stats.mean, stats.std), 0, 255);
    if (options.clahe) image = clahe(image, options.clahe);
    if (options.gamma !== null) image = gammaCorrect(image, options.gamma);
    const data = new Float32Array(image.data.length);
    for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, image.data[i] / 255));
    return { ...sample, image: { ...image, data } };
  };
  return {
    ...data,
    train: data.train.map((s, i) => apply(s, grayTrain[i])),
    test: data.test.map((s) => apply(s)),
  };
}

/** The `core/retina_preprocess` stage. */
export const retinaPreprocess = defineStage({
  name: "retina_preprocess",
  kind: "preprocess",
  description: "Grey, z-score (training statistics), CLAHE, gamma, scale to [0, 1].",
  options: retinaPreprocessOptions,
  plan: (options, data) => ({
    output: { ...data, channels: 1 },
    lines: [
      [
        data.channels === 1 ? "grey" : "grey (0.299 R + 0.587 G + 0.114 B)",
        options.standardize ? "z-score with the training set's statistics" : null,
        options.clahe
          ? `CLAHE (clip ${options.clahe.clipLimit}, ${options.clahe.tiles}×${options.clahe.tiles} tiles)`
          : null,
        options.gamma ? `gamma ${options.gamma}` : null,
        "÷255",
      ].filter(Boolean).join(", "),
      data.width === null || data.height === null
        ? "→ grey images in [0, 1], each of its own size"
        : `→ images ${data.width}×${data.height}×1 in [0, 1]`,
    ],
  }),
  run: (options, data) => preprocessRetina(data, options),
});

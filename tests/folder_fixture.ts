/**
 * A tiny `core/folder` data set for tests that run whole recipes: 32×32
 * images of vertical stripes (each id shifted) with exact masks, in
 * `data/train` and `data/test`, and a recipe that trains on it in about a
 * second.
 *
 * @module
 */
import { Image } from "imagescript";
import { encodeGrayPng } from "../mod.ts";

/** One image of the set: its split, id, whether it is saved as colour, and whether it is striped. */
export interface FixtureImage {
  readonly split: "train" | "test";
  readonly id: string;
  readonly colour?: boolean;
  /** A negative case: a flat image and an empty mask, no stripe. */
  readonly negative?: boolean;
}

/** Writes `images` and their masks under `root/data/<split>/` as `<id>.png` and `<id>_mask.png`. */
export async function writeStripeData(root: string, images: readonly FixtureImage[]) {
  for (const { split, id, colour, negative } of images) {
    const folder = `${root}/data/${split}`;
    await Deno.mkdir(folder, { recursive: true });
    const on = (x: number) => !negative && (x + Number(id)) % 6 === 0;
    const grey = Float32Array.from({ length: 1024 }, (_, i) => (on(i % 32) ? 0.9 : 0.2));
    if (colour) {
      // Red and green apart, so the file is read as colour (not R = G = B).
      const image = new Image(32, 32);
      for (let i = 0; i < 1024; i++) {
        const v = Math.round(grey[i] * 255);
        image.setPixelAt(i % 32 + 1, Math.floor(i / 32) + 1, Image.rgbaToColor(v, v >> 1, v, 255));
      }
      await Deno.writeFile(`${folder}/${id}.png`, await image.encode());
    } else {
      await Deno.writeFile(
        `${folder}/${id}.png`,
        encodeGrayPng({ width: 32, height: 32, channels: 1, data: grey }),
      );
    }
    const mask = Float32Array.from({ length: 1024 }, (_, i) => (on(i % 32) ? 1 : 0));
    await Deno.writeFile(
      `${folder}/${id}_mask.png`,
      encodeGrayPng({ width: 32, height: 32, channels: 1, data: mask }),
    );
  }
}

/** A recipe named `name` over that data set (`root: data`), with `preprocess` lines if any. */
export function stripeRecipe(name: string, preprocess: readonly string[] = []): string {
  return [
    `name: ${name}`,
    "stages:",
    "  load:",
    "    use: core/folder",
    "    with:",
    "      root: data",
    "      train: { images: 'train/{id}.png', masks: 'train/{id}_mask.png' }",
    "      test: { images: 'test/{id}.png', masks: 'test/{id}_mask.png' }",
    ...preprocess,
    ...TINY_TRAINING_STAGES,
    "",
  ].join("\n");
}

/**
 * The model, train and evaluate stages of a recipe that trains on 32×32 images in about a
 * second (a width-2 network, one epoch of two batches), as recipe lines under `stages:`.
 */
export const TINY_TRAINING_STAGES: readonly string[] = [
  "  model: { use: core/bcdunet, with: { width: 2 } }",
  "  train:",
  "    use: core/train",
  "    with: { epochs: 1, batchSize: 2, patches: { size: 8, count: 4 }, validation: { images: 0 } }",
  "  evaluate: { use: core/segmentation_metrics, with: { window: 32, stride: 32, report: false } }",
];

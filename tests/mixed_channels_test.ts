/**
 * Grey and colour images in one data set: fine where a preprocessing stage
 * converts them all to grey before the network, refused where they would
 * reach it as they are.
 */
import { Image } from "imagescript";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { DataError, encodeGrayPng, loadRecipe, runRecipe, StageError } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent } from "./tiny_runs.ts";

/** Vertical stripes every 6 pixels, shifted by `offset`: the image bright there, the mask 1. */
const stripe = (offset: number) => (x: number) => (x + offset) % 6 === 0;

async function writeData(root: string): Promise<void> {
  for (const split of ["train", "test"]) {
    await Deno.mkdir(`${root}/data/${split}`, { recursive: true });
  }
  for (const [id, colour] of [["1", false], ["2", true], ["3", false], ["4", true]] as const) {
    const folder = `${root}/data/${id === "4" ? "test" : "train"}`;
    const on = stripe(Number(id));
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
    await Deno.writeFile(
      `${folder}/${id}_mask.png`,
      encodeGrayPng({
        width: 32,
        height: 32,
        channels: 1,
        data: Float32Array.from({ length: 1024 }, (_, i) => (on(i % 32) ? 1 : 0)),
      }),
    );
  }
  await Deno.writeTextFile(
    `${root}/recipe.yaml`,
    [
      "name: mixed",
      "stages:",
      "  load:",
      "    use: core/folder",
      "    with:",
      "      root: data",
      "      train: { images: 'train/{id}.png', masks: 'train/{id}_mask.png' }",
      "      test: { images: 'test/{id}.png', masks: 'test/{id}_mask.png' }",
      "  preprocess: { use: core/retina_preprocess }",
      "  model: { use: core/bcdunet, with: { width: 2 } }",
      "  train:",
      "    use: core/train",
      "    with: { epochs: 1, batchSize: 2, patches: { size: 8, count: 4 }, validation: { images: 0 } }",
      "  evaluate: { use: core/segmentation_metrics, with: { window: 32, stride: 32 } }",
      "",
    ].join("\n"),
  );
}

Deno.test({
  name:
    "grey and colour images mix where preprocessing makes them grey, not where they reach the network",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_mixed_" });
    try {
      await writeData(root);
      const load = (overrides: string[]) =>
        loadRecipe(`${root}/recipe.yaml`, { builtins: BUILTIN_PLUGINS, overrides });
      const { recipe } = await load([]);
      const run = await runRecipe(recipe, { outputRoot: `${root}/runs`, progress: silent });
      assert(run.evaluation.metrics.auc >= 0, JSON.stringify(run.evaluation.metrics));
      const { recipe: raw } = await load(["preprocess=null"]);
      const error = await assertRejects(
        () => runRecipe(raw, { outputRoot: `${root}/runs`, progress: silent }),
        StageError,
      );
      assert(error.cause instanceof DataError, String(error.cause));
      assert(
        error.message.includes("image has 3 channels (colour), earlier images 1 channel (grey)"),
        error.message,
      );
      assertEquals(error.stage, "core/folder");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

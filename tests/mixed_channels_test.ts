/**
 * Grey and colour images in one data set: fine where a preprocessing stage
 * converts them all to grey before the network, refused where they would
 * reach it as they are.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { DataError, loadRecipe, runRecipe, StageError } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent } from "./tiny_runs.ts";
import { stripeRecipe, writeStripeData } from "./folder_fixture.ts";

async function writeData(root: string): Promise<void> {
  await writeStripeData(root, [
    { split: "train", id: "1" },
    { split: "train", id: "2", colour: true },
    { split: "train", id: "3" },
    { split: "test", id: "4", colour: true },
  ]);
  await Deno.writeTextFile(
    `${root}/recipe.yaml`,
    stripeRecipe("mixed", ["  preprocess: { use: core/retina_preprocess }"]),
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

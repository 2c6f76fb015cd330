/**
 * A run keeps how it trains as it started (`recipe.training.json`), so a
 * `recipe.resolved.yaml` edited by hand cannot change what `--resume` trains:
 * more epochs or another seed would mix two trainings in one run.
 */
import { assertEquals, assertRejects } from "./assert.ts";
import { CapillaryError, loadRecipe, loadResumable, runRecipe } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent, SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";

Deno.test({
  name: "--resume refuses a run whose recipe.resolved.yaml was edited in how it trains",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_resume_edit_" });
    try {
      const { recipe } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: [...TINY_SYNTHETIC, "backend=cpu", "inferenceBackend=cpu", "seed=42"],
      });
      const { folder } = await runRecipe(recipe, { outputRoot: root, progress: silent });
      // As if it had been killed before its evaluation finished.
      await Deno.remove(`${folder}/metrics.json`);
      const file = `${folder}/recipe.resolved.yaml`;
      const original = await Deno.readTextFile(file);
      const options = { builtins: BUILTIN_PLUGINS };
      assertEquals((await loadResumable(folder, options)).recipe.seed, 42);

      const retrained = original.replace(/^seed: 42$/m, "seed: 7").replace(
        /epochs: 2\b/,
        "epochs: 6",
      );
      assertEquals(retrained.split("\n").length, original.split("\n").length);
      await Deno.writeTextFile(file, retrained);
      await assertRejects(
        () => loadResumable(folder, options),
        CapillaryError,
        `Cannot resume "${folder}": its recipe.resolved.yaml was edited since the run started ` +
          "(seed, stages.train.with.epochs differ from recipe.training.json)",
      );
      // An edit of how it is evaluated only is the --set a resume allows: not refused.
      const reevaluated = original.replace(/stride: 32\b/, "stride: 16");
      assertEquals(reevaluated === original, false);
      await Deno.writeTextFile(file, reevaluated);
      assertEquals((await loadResumable(folder, options)).recipe.seed, 42);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

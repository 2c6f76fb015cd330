/**
 * The warnings a load stage prints come back when a later run takes its data
 * from the preprocessing cache instead of running the stage.
 */
import { assert } from "./assert.ts";
import { loadRecipe, type Progress, runRecipe } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent } from "./tiny_runs.ts";
import { stripeRecipe, writeStripeData } from "./folder_fixture.ts";

Deno.test({
  name: "a run that takes its data from the cache repeats the load stage's warnings",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_cached_warnings_" });
    const cache = Deno.env.get("CAPILLARY_CACHE");
    Deno.env.set("CAPILLARY_CACHE", `${root}/cache`);
    try {
      await writeStripeData(root, [
        { split: "train", id: "1" },
        { split: "train", id: "2" },
        { split: "test", id: "3" },
      ]);
      // A file no pattern takes: the load stage warns of it.
      await Deno.writeTextFile(`${root}/data/train/notes.txt`, "scanner settings");
      await Deno.writeTextFile(`${root}/recipe.yaml`, stripeRecipe("cached"));
      const { recipe } = await loadRecipe(`${root}/recipe.yaml`, { builtins: BUILTIN_PLUGINS });
      const run = async () => {
        const lines: string[] = [];
        const progress: Progress = { info: (l) => lines.push(l), task: silent.task };
        await runRecipe(recipe, { outputRoot: `${root}/runs`, progress });
        return lines;
      };
      const warning = (lines: string[]) =>
        lines.filter((l) => l.startsWith("warning: 1 file") && l.includes('"notes.txt"'));
      const first = await run();
      assert(warning(first).length === 1, first.join("\n"));
      const second = await run();
      assert(second.some((l) => l.includes("load + preprocess: cached")), second.join("\n"));
      assert(warning(second).length === 1, second.join("\n"));
    } finally {
      if (cache === undefined) Deno.env.delete("CAPILLARY_CACHE");
      else Deno.env.set("CAPILLARY_CACHE", cache);
      await Deno.remove(root, { recursive: true });
    }
  },
});

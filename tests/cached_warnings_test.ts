/**
 * The warnings a load stage prints come back when a later run takes its data
 * from the preprocessing cache instead of running the stage.
 */
import { assert } from "./assert.ts";
import { encodeGrayPng, loadRecipe, type Progress, runRecipe } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent } from "./tiny_runs.ts";

Deno.test({
  name: "a run that takes its data from the cache repeats the load stage's warnings",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_cached_warnings_" });
    const cache = Deno.env.get("CAPILLARY_CACHE");
    Deno.env.set("CAPILLARY_CACHE", `${root}/cache`);
    try {
      const png = (path: string, value: (x: number) => number) =>
        Deno.writeFile(
          path,
          encodeGrayPng({
            width: 32,
            height: 32,
            channels: 1,
            data: Float32Array.from({ length: 1024 }, (_, i) => value(i % 32)),
          }),
        );
      for (const split of ["train", "test"]) {
        await Deno.mkdir(`${root}/data/${split}`, { recursive: true });
        for (const id of split === "train" ? ["1", "2"] : ["3"]) {
          const on = (x: number) => (x + Number(id)) % 6 === 0;
          await png(`${root}/data/${split}/${id}.png`, (x) => (on(x) ? 0.9 : 0.2));
          await png(`${root}/data/${split}/${id}_mask.png`, (x) => (on(x) ? 1 : 0));
        }
      }
      // A file no pattern takes: the load stage warns of it.
      await Deno.writeTextFile(`${root}/data/train/notes.txt`, "scanner settings");
      await Deno.writeTextFile(
        `${root}/recipe.yaml`,
        [
          "name: cached",
          "stages:",
          "  load:",
          "    use: core/folder",
          "    with:",
          "      root: data",
          "      train: { images: 'train/{id}.png', masks: 'train/{id}_mask.png' }",
          "      test: { images: 'test/{id}.png', masks: 'test/{id}_mask.png' }",
          "  model: { use: core/bcdunet, with: { width: 2 } }",
          "  train:",
          "    use: core/train",
          "    with: { epochs: 1, batchSize: 2, patches: { size: 8, count: 4 }, validation: { images: 0 } }",
          "  evaluate: { use: core/segmentation_metrics, with: { window: 32, stride: 32, report: false } }",
          "",
        ].join("\n"),
      );
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

/**
 * Negative cases (truth masks without foreground, as screening data has) run
 * through a whole recipe: loaded with a warning, trained on, and scored with
 * the per-image ratios that are 0 / 0 for them left blank.
 */
import { assert, assertEquals } from "./assert.ts";
import { loadRecipe, type Progress, runRecipe } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent } from "./tiny_runs.ts";
import { stripeRecipe, writeStripeData } from "./folder_fixture.ts";

Deno.test({
  name: "a data set with negative cases trains and scores them, their undefined ratios blank",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_negative_" });
    try {
      await writeStripeData(root, [
        { split: "train", id: "1" },
        { split: "train", id: "2", negative: true },
        { split: "train", id: "3" },
        { split: "test", id: "4" },
        { split: "test", id: "5", negative: true },
      ]);
      await Deno.writeTextFile(`${root}/recipe.yaml`, stripeRecipe("negatives"));
      const { recipe } = await loadRecipe(`${root}/recipe.yaml`, { builtins: BUILTIN_PLUGINS });
      const lines: string[] = [];
      const progress: Progress = { info: (l) => lines.push(l), task: silent.task };
      const run = await runRecipe(recipe, { outputRoot: `${root}/runs`, progress });
      for (const [split, count, id] of [["train", "1 of 3", "2"], ["test", "1 of 2", "5"]]) {
        assert(
          lines.some((l) =>
            l.startsWith(`warning: ${count} truth masks has no foreground pixel `) &&
            l.includes(`/data/${split}/${id}_mask.png"): it is kept as a negative case`)
          ),
          lines.join("\n"),
        );
      }
      const csv = (await Deno.readTextFile(`${run.folder}/per_image.csv`)).trim().split("\n");
      const header = csv[0].split(",");
      const row = (id: string) => {
        const cells = csv.find((line) => line.startsWith(`${id},`))!.split(",");
        return Object.fromEntries(header.map((name, i) => [name, cells[i]]));
      };
      // The negative case: no AUC or sensitivity (0 / 0); specificity and accuracy are defined.
      const negative = row("5");
      assertEquals([negative.auc, negative.sensitivity], ["", ""]);
      assert(Number(negative.specificity) >= 0 && negative.accuracy !== "", csv.join("\n"));
      // Its Dice is 0 where it got false positives, and blank (left out of the mean) otherwise.
      const perImage = run.evaluation.perImage!;
      const dices = perImage.flatMap((p) => (p.metrics.dice === undefined ? [] : [p.metrics.dice]));
      assertEquals(negative.dice === "", dices.length === 1);
      const mean = dices.reduce((a, b) => a + b, 0) / dices.length;
      assert(Math.abs(run.evaluation.metrics.dice - mean) < 1e-12, JSON.stringify(perImage));
      assert(row("4").sensitivity !== "", csv.join("\n"));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/**
 * `train.optimizer.decayExclude` through `runRecipe`, on generated retinas:
 * the patterns pick weights by `layer/weight` name before the first step, a
 * typo stops the run there with the weights listed, and the run says how
 * many weights the decay spares.
 */
import { CapillaryError, loadLayersModel, loadRecipe, runRecipe, tf } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { assert, assertRejects } from "./assert.ts";
import { sanitizers, silent, SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";

/** One epoch of 8 patches: the run only has to reach its first step. */
const TINY = [...TINY_SYNTHETIC, "train.epochs=1", "train.patches={size: 16, count: 8}"];
const SGD = "train.optimizer={type: sgd, learningRate: 0.05, weightDecay: 5.0e-4, decayExclude: ";

Deno.test({
  name: "decayExclude spares the weights its patterns name, and names a pattern that matches none",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_decay_" });
    try {
      const load = (patterns: string) =>
        loadRecipe(SYNTHETIC, {
          builtins: BUILTIN_PLUGINS,
          overrides: [...TINY, SGD + patterns + "}"],
        });
      const lines: string[] = [];
      const run = await runRecipe((await load("['*/bias', '*/gamma', '*/beta']")).recipe, {
        outputRoot: root,
        progress: { info: (l) => lines.push(l), task: silent.task },
      });
      // Count what the patterns should pick in the saved network: every bias, gamma and beta.
      const model = await loadLayersModel(`${run.folder}/model`);
      const all = model.trainableWeights.map((w) => w.originalName);
      const spared = all.filter((n) => /\/(bias|gamma|beta)$/.test(n)).length;
      model.dispose();
      assert(spared > 0 && spared < all.length);
      const line =
        `weight decay spares ${spared} of ${all.length} weights (*/bias, */gamma, */beta)`;
      assert(lines.includes(line), `${line}\n--- in ---\n${lines.join("\n")}`);

      const typo = (await load("['*/gama']")).recipe;
      const error = await assertRejects(
        () => runRecipe(typo, { outputRoot: root, progress: silent }),
        CapillaryError,
      );
      assert(error.message.includes('train.optimizer.decayExclude: "*/gama" matches no weight'));
      assert(error.message.includes("e.g. down1_conv1/kernel, down1_conv1/bias"), error.message);
      assert(
        error.message.includes('kinds after the "/": kernel, bias, gamma, beta'),
        error.message,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
      tf.disposeVariables();
    }
  },
});

/**
 * Pretrain, then fine-tune, through `runRecipe` on generated retinas (no
 * download): a tiny `recipes/synthetic.yaml` trains; a second run starts from
 * its weights (`stages.model.from`) with the encoder's first block frozen.
 * The frozen weights must come out bit for bit as pretrained, the rest moved.
 */
import {
  CapillaryError,
  formatPlan,
  loadLayersModel,
  loadRecipe,
  planRecipe,
  runRecipe,
  tf,
} from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { sanitizers, silent, SYNTHETIC, TINY_SYNTHETIC as TINY } from "./tiny_runs.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** The tiny synthetic recipe with `extra` overrides. */
const load = (extra: string[]) =>
  loadRecipe(SYNTHETIC, { builtins: BUILTIN_PLUGINS, overrides: [...TINY, ...extra] });

async function weightsByLayer(dir: string): Promise<Map<string, Float32Array[]>> {
  const model = await loadLayersModel(dir);
  const out = new Map(
    model.layers.filter((l) => l.weights.length).map((l) => [
      l.name,
      l.getWeights().map((w) => w.dataSync() as Float32Array),
    ]),
  );
  model.dispose();
  return out;
}

Deno.test({
  name: "a run starts from an earlier run's weights, its frozen layers unchanged",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_finetune_" });
    try {
      // With batch norm after every convolution: the frozen block's are held at their moving
      // statistics (frozenBatchNorm: inference, the default), which must stay as pretrained too.
      const pretrain = await runRecipe((await load(["model.batchNorm=true"])).recipe, {
        outputRoot: root,
        progress: silent,
      });
      const from = `${root}/synthetic`; // the folder of runs: the newest finished one is taken
      const { recipe } = await load([
        "model.batchNorm=true",
        `model.from=${from}`,
        'train.freeze=["down1_*"]',
        "train.optimizer.learningRate=0.05",
      ]);
      const lines: string[] = [];
      const fineTune = await runRecipe(recipe, {
        outputRoot: `${root}/second`,
        progress: { info: (l) => lines.push(l), task: silent.task },
      });
      assert(
        lines.some((l) => l.includes(`starting from ${pretrain.folder}/model`)),
        lines.join("\n"),
      );
      assert(
        lines.some((l) =>
          l.startsWith("frozen down1_conv1, down1_conv1_bn, down1_conv2, down1_conv2_bn;")
        ),
        lines.join("\n"),
      );
      assert(
        lines.includes(
          "frozen batch norm layers (2): normalise with their moving statistics, which stay as " +
            "they start (frozenBatchNorm: inference)",
        ),
        lines.join("\n"),
      );
      // The run's resolved recipe names the exact model it started from.
      const resolved = await Deno.readTextFile(`${fineTune.folder}/recipe.resolved.yaml`);
      assert(resolved.includes(`from: ${pretrain.folder}/model`), resolved);

      const before = await weightsByLayer(`${pretrain.folder}/model`);
      const after = await weightsByLayer(`${fineTune.folder}/model`);
      assertEquals([...after.keys()], [...before.keys()]);
      for (const [name, weights] of after) {
        const same = weights.every((w, i) =>
          w.length === before.get(name)![i].length &&
          w.every((v, j) => v === before.get(name)![i][j])
        );
        // Every trainable layer moves (batch norms at least in their moving statistics); the
        // frozen block, its batch norms' moving statistics included, must not.
        if (name.startsWith("down1_")) assert(same, `${name} changed though frozen`);
        else assert(!same, `${name} did not train`);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "a from that names no finished run fails before any stage, at its recipe position",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_finetune_" });
    try {
      const { recipe } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: [...TINY, `model.from=${root}/nothing-here`],
      });
      const error = await assertRejects(
        () => runRecipe(recipe, { outputRoot: root, progress: silent }),
        CapillaryError,
      );
      assertEquals(error.code, "E_MODEL_FROM");
      assert(error.message.startsWith("--set model.from="), error.message);
      assert(error.message.includes("does not exist"), error.message);
      // Nothing was written: the path is checked before the run folder is made.
      assertEquals([...Deno.readDirSync(root)], []);
      // And a network of another width: the mismatch is named before training.
      const pretrain = await runRecipe(
        (await loadRecipe(SYNTHETIC, { builtins: BUILTIN_PLUGINS, overrides: TINY })).recipe,
        { outputRoot: root, progress: silent },
      );
      const { recipe: wider } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: [...TINY, "model.width=6", `model.from=${pretrain.folder}`],
      });
      const runsBefore = [...Deno.readDirSync(`${root}/synthetic`)].length;
      const mismatch = await assertRejects(
        () => runRecipe(wider, { outputRoot: root, progress: silent }),
        CapillaryError,
      );
      // Refused by the plan before the run folder was made, so before any data loaded.
      assertEquals([...Deno.readDirSync(`${root}/synthetic`)].length, runsBefore);
      assert(mismatch.message.includes('layer "down1_conv1" has weight'), mismatch.message);
      assert(mismatch.message.includes("[3,3,1,6] here but [3,3,1,4] there"), mismatch.message);
      // The plan says the same from the saved model.json, before any data loads.
      await assertRejects(() => planRecipe(wider), CapillaryError, mismatch.message);
      const { recipe: concat } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: [...TINY, "model.skip=concat", `model.from=${pretrain.folder}`],
      });
      await assertRejects(
        () => planRecipe(concat),
        CapillaryError,
        'this network has no layer "up1_convlstm"',
      );
      // And passes the network it was trained as.
      const { recipe: same } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: [...TINY, `model.from=${pretrain.folder}`],
      });
      assert(
        formatPlan(same, await planRecipe(same)).includes(`weights from ${pretrain.folder}/model`),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
      tf.disposeVariables();
    }
  },
});

Deno.test({
  name: "a fine-tuning run resumes from its checkpoint after the run it started from is gone",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_finetune_" });
    try {
      const pretrain = await runRecipe((await load([])).recipe, {
        outputRoot: `${root}/pre`,
        progress: silent,
      });
      const fineTune = await runRecipe((await load([`model.from=${pretrain.folder}`])).recipe, {
        outputRoot: `${root}/ft`,
        progress: silent,
      });
      const trained = await Deno.readFile(`${fineTune.folder}/model/weights.bin`);
      // Killed after its last checkpoint, before its evaluation wrote metrics.json; and the
      // pretrained run has been moved away since.
      await Deno.remove(`${fineTune.folder}/metrics.json`);
      await Deno.remove(`${fineTune.folder}/model`, { recursive: true });
      await Deno.rename(`${root}/pre`, `${root}/pre-moved`);
      // A new process, as `deno task run --resume` is (tfjs names variables per process).
      const resume = async () => {
        const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", CLI, "run", "--resume", fineTune.folder],
          env: { NO_COLOR: "1", CAPILLARY_THREADS: "1" },
          stdin: "null",
        }).output();
        const text = new TextDecoder();
        return { code, log: text.decode(stdout) + text.decode(stderr) };
      };
      const resumed = await resume();
      assertEquals(resumed.code, 0, resumed.log);
      assert(resumed.log.includes("is gone; the run's checkpoint holds every weight"), resumed.log);
      assert(!resumed.log.includes("starting from"), resumed.log);
      assertEquals(await Deno.readFile(`${fineTune.folder}/model/weights.bin`), trained);

      // Without a checkpoint of its training state it would train from random weights: refused.
      for (const entry of Deno.readDirSync(fineTune.folder)) {
        if (entry.name.startsWith("checkpoint") && entry.name !== "checkpoint-best") {
          await Deno.remove(`${fineTune.folder}/${entry.name}`, { recursive: true });
        }
      }
      await Deno.remove(`${fineTune.folder}/metrics.json`);
      const refused = await resume();
      assertEquals(refused.code, 1, refused.log);
      assert(refused.log.includes("does not exist"), refused.log);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

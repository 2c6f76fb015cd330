/**
 * A third party's optimizer plugin, used by `core/train` from a recipe: a
 * module written to a temporary folder (a factory default export, as an npm
 * or URL plugin would be), listed under `plugins:` and named by
 * `train.optimizer: { use, with, learningRate }`. It trains as core's own SGD
 * with momentum does, bit for bit, with parameter groups and a schedule; a
 * run stopped and resumed ends as an unbroken one (its momentum is in the
 * checkpoint); recipes that misuse it are refused with positions, and a
 * factory that returns no optimizer is named.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import {
  isInterruption,
  loadRecipe,
  planRecipe,
  type Progress,
  RecipeValidationError,
  runRecipe,
  StageError,
} from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent, SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";

const dir = await Deno.makeTempDir({ prefix: "capillary-optimizer-plugin-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const PLUGIN = `${dir}/momentum_plugin.ts`;
// SGD with momentum from tfjs (PLUGINS.md's pattern), with faults to name.
await Deno.writeTextFile(
  PLUGIN,
  `// deno-lint-ignore-file no-explicit-any
export default (capillary: any) => {
  const { tf, z } = capillary;
  return capillary.definePlugin({
    name: "optim",
    version: "0.2.0",
    stages: [],
    components: [
      capillary.defineOptimizer({
        name: "momentum",
        description: "SGD with momentum, as TensorFlow.js has it.",
        options: z.object({
          momentum: z.number().min(0).max(1).default(0.9),
          fault: z.enum(["none", "object", "rateless"]).default("none"),
        }).strict(),
        create: ({ momentum, fault }: any) => (learningRate: number) => {
          if (fault === "object") return { applyGradients() {} };
          if (fault === "rateless") {
            return { applyGradients() {}, getWeights: async () => [], setWeights: async () => {} };
          }
          return momentum > 0
            ? tf.train.momentum(learningRate, momentum)
            : tf.train.sgd(learningRate);
        },
      }),
    ],
  });
};
`,
);

/** On cpu (bit for bit repeatable), a held-out image so that epochs validate. */
const SETTINGS = [
  `plugins=[${PLUGIN}]`,
  ...TINY_SYNTHETIC,
  "backend=cpu",
  "inferenceBackend=cpu",
  "load.train=3",
  "train.epochs=3",
  "train.validation={images: 1, patches: 4}",
  // Rates that change each epoch, and a group at a rate of its own.
  "train.schedule={use: core/step, with: {every: 1, factor: 0.5}}",
  "train.parameterGroups=[{layers: [head*], learningRate: 0.2}]",
];

/** The plugin's momentum optimizer, and core's with the same settings. */
const PLUGIN_SGD =
  "train.optimizer={use: optim/momentum, with: {momentum: 0.9}, learningRate: 0.05}";
const CORE_SGD = "train.optimizer={type: sgd, learningRate: 0.05, momentum: 0.9}";

function load(overrides: string[]) {
  return loadRecipe(SYNTHETIC, {
    builtins: BUILTIN_PLUGINS,
    overrides: [...SETTINGS, ...overrides],
  });
}

const historyLines = (folder: string) =>
  Deno.readTextFileSync(`${folder}/history.jsonl`).trim().split("\n")
    .map((line) => ({ ...JSON.parse(line), seconds: 0 }));

/** Runs it under `root`: its folder, or what it threw. */
async function run(root: string, overrides: string[]) {
  const { recipe } = await load(overrides);
  return await runRecipe(recipe, { outputRoot: root, cache: false, progress: silent });
}

Deno.test("a recipe names a plugin's optimizer: validated with its defaults, and planned", async () => {
  const { recipe } = await load([PLUGIN_SGD]);
  const train = recipe.stages.get("train")![0];
  assertEquals(train.options.optimizer, {
    use: "optim/momentum",
    with: { momentum: 0.9, fault: "none" },
    learningRate: 0.05,
  });
  const plan = await planRecipe(recipe);
  const line = plan.find((s) => s.stage.id === "core/train")!.lines
    .find((l) => l.startsWith("loss: "))!;
  assertEquals(
    line,
    'loss: binary cross-entropy; optimizer optim/momentum (momentum 0.9, fault "none"), ' +
      "learning rate 0.05, schedule core/step",
  );
});

Deno.test(
  "a plugin's optimizer trains as core's SGD with momentum, with parameter groups and a schedule",
  sanitizers,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "capillary-optimizer-run-" });
    try {
      const plugin = await run(`${root}/plugin`, [PLUGIN_SGD]);
      const core = await run(`${root}/core`, [CORE_SGD]);
      const history = historyLines(plugin.folder);
      // The schedule sets its rate: halved each epoch from the base rate.
      assertEquals(history.map((h) => h.learningRate), [0.05, 0.025, 0.0125]);
      assertEquals(history, historyLines(core.folder));
      assertEquals(
        await Deno.readFile(`${plugin.folder}/model/weights.bin`),
        await Deno.readFile(`${core.folder}/model/weights.bin`),
      );
      // Its own options count: without momentum it trains otherwise.
      const plain = await run(`${root}/plain`, [
        "train.optimizer={use: optim/momentum, with: {momentum: 0}, learningRate: 0.05}",
      ]);
      const without = historyLines(plain.folder);
      assertEquals(without[0].loss === history[0].loss, false, `${without[0].loss}`);
      // The resolved recipe names it, and its plugin's version is stamped.
      const resolved = await Deno.readTextFile(`${plugin.folder}/recipe.resolved.yaml`);
      assert(resolved.split("\n")[1].includes("optim 0.2.0"), resolved.split("\n")[1]);
      assert(resolved.includes("use: optim/momentum"), resolved);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

Deno.test(
  "a run with a plugin's optimizer stopped in an epoch resumes to the unbroken run's end",
  sanitizers,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "capillary-optimizer-resume-" });
    try {
      const { recipe } = await load([PLUGIN_SGD]);
      const whole = await runRecipe(recipe, {
        outputRoot: `${root}/whole`,
        cache: false,
        progress: silent,
      });
      // Stopped once epoch 3 has run a step: it resumes from epoch 2's checkpoint, whose
      // momentum must be the plugin optimizer's as it was, or the steps after differ.
      const stop = new AbortController();
      const progress: Progress = {
        info() {},
        task: (label) => ({
          update: (done) => {
            if (label.startsWith("epoch 3/") && done === 1) stop.abort();
          },
          done() {},
        }),
      };
      let folder = "";
      const error = await assertRejects(() =>
        runRecipe(recipe, {
          outputRoot: `${root}/stopped`,
          cache: false,
          progress,
          signal: stop.signal,
          onFolder: (path) => folder = path,
        })
      );
      assert(isInterruption(error), String(error));
      assertEquals(historyLines(folder).length, 2);
      const names = (await Array.fromAsync(Deno.readDir(`${folder}/checkpoint`))).map((e) =>
        e.name
      );
      assert(names.includes("optimizer.bin"), names.join());
      await runRecipe(recipe, { resume: folder, cache: false, progress: silent });
      assertEquals(historyLines(folder), historyLines(whole.folder));
      assertEquals(
        await Deno.readFile(`${folder}/model/weights.bin`),
        await Deno.readFile(`${whole.folder}/model/weights.bin`),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

/** The issues of a recipe that must be refused. */
async function refused(overrides: string[]) {
  const error = await load(overrides).catch((e) => e);
  assert(error instanceof RecipeValidationError, String(error));
  return error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

Deno.test("a recipe refuses bad options of a plugin's optimizer, and weight decay beside it", async () => {
  const at = "stages.train.with.optimizer";
  assertEquals(
    await refused([
      "train.optimizer={use: optim/momentum, with: {momentum: 2}, learningRate: 0.1}",
    ]),
    [{ path: `${at}.with.momentum`, message: "expected a value <= 1, got 2" }],
  );
  assertEquals(
    await refused(["train.optimizer={use: optim/momentom, learningRate: 0.1}"]),
    [{ path: `${at}.use`, message: 'unknown optimizer "optim/momentom"' }],
  );
  assertEquals(await refused(["train.optimizer={use: optim/momentum}"]), [
    {
      path: `${at}.learningRate`,
      message: "set optimizer.learningRate, the base rate of optim/momentum: a plugin's " +
        "optimizer has no default rate",
    },
  ]);
  const decay = [["weightDecay", "0.001", "0.001"], ["decayExclude", "['*/bias']", "a list"]];
  for (const [key, value, got] of decay) {
    assertEquals(
      await refused([
        `train.optimizer={use: optim/momentum, learningRate: 0.1, ${key}: ${value}}`,
      ]),
      [{
        path: `${at}.${key}`,
        message: `${key} belongs to the built-in sgd and adamw, not the plugin's optimizer ` +
          "optim/momentum: leave it out, and give the optimizer its decay in its own options " +
          `(under \`with\`), got ${got}`,
      }],
    );
  }
  // The built-in kinds keep their words.
  assertEquals(await refused(["train.optimizer={type: adamm}"]), [{
    path: `${at}.type`,
    message:
      'unknown type "adamm"; did you mean "adam" or "adamw"? (one of "sgd", "adam", "adamw")',
  }]);
});

Deno.test(
  "a plugin's optimizer factory that returns no optimizer is named",
  sanitizers,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "capillary-optimizer-fault-" });
    try {
      for (
        const [fault, what] of [
          ["object", "an object without getWeights, setWeights"],
          [
            "rateless",
            "an optimizer with neither setLearningRate(rate) nor a numeric learningRate",
          ],
        ]
      ) {
        const error = await run(root, [
          `train.optimizer={use: optim/momentum, with: {fault: ${fault}}, learningRate: 0.05}`,
        ]).catch((e) => e);
        assert(error instanceof StageError, String(error));
        assert(
          error.message.includes(
            `Optimizer "optim/momentum" returned ${what}`,
          ),
          error.message,
        );
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

Deno.test("a recipe file's bad optimizer options are placed at their line and column", async () => {
  const lines = [
    "seed: 1",
    "plugins: [./momentum_plugin.ts]",
    "stages:",
    "  load: { use: core/drive }",
    "  model: { use: core/bcdunet }",
    "  train:",
    "    use: core/train",
    "    with:",
    "      optimizer: { use: optim/momentum, with: { momentum: 2 }, learningRate: 0.1 }",
    "      epochs: 1",
    "  evaluate: { use: core/segmentation_metrics }",
    "",
  ];
  const place = async (text: string) => {
    const file = `${dir}/recipe.yaml`;
    await Deno.writeTextFile(file, text);
    const error = await loadRecipe(file, { builtins: BUILTIN_PLUGINS }).catch((e) => e);
    assert(error instanceof RecipeValidationError, String(error));
    return error.issues.map((i) => [i.path.join("."), i.position.line, i.position.column]);
  };
  assertEquals(await place(lines.join("\n")), [
    ["stages.train.with.optimizer.with.momentum", 9, lines[8].indexOf("2 }") + 1],
  ]);
  lines[9] = "      optimizer: { use: optim/momentum, learningRate: 0.1, weightDecay: 0.01 }";
  lines[8] = "      epochs: 1";
  assertEquals(await place(lines.join("\n")), [
    ["stages.train.with.optimizer.weightDecay", 10, lines[9].indexOf("0.01") + 1],
  ]);
});

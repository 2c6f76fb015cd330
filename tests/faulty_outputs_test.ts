/**
 * A plugin stage that returns something well-formed but wrong (a network of
 * two channels or logits, an augmentation that puts NaN in the images or
 * halves the masks), or something of the wrong shape (a data set without
 * test samples, a trained model without its network, an async augmentation),
 * is blamed by the engine on that stage, in words that say what to change,
 * rather than failing or training on silently in core/train, or in a
 * TypeError inside the engine's own checks.
 */
import { assertEquals } from "./assert.ts";
import { loadRecipe, type Progress, runRecipe, StageError } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { TINY_SYNTHETIC } from "./tiny_runs.ts";

const SYNTHETIC = new URL("../recipes/synthetic.yaml", import.meta.url).pathname;
const WRONG = new URL("./fixtures/faulty_outputs_plugin.ts", import.meta.url).href;
const silent: Progress = { info() {}, task: () => ({ update() {}, done() {} }) };

// A plugin, `shape`, whose stages return the wrong shape, written to a temporary folder so that
// the messages can name its file and lines.
const dir = await Deno.makeTempDir({ prefix: "capillary-shape-plugin-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const SHAPE = `${dir}/shape_plugin.ts`;
await Deno.writeTextFile(
  SHAPE,
  [
    `import { definePlugin, defineStage, z } from "${new URL("../mod.ts", import.meta.url).href}";`,
    "const none = z.object({}).strict();",
    "const stage = (name: string, kind: string, run: unknown) =>",
    '  defineStage({ name, kind, description: "wrong on purpose", options: none, run } as never);',
    "export default definePlugin({",
    '  name: "shape",',
    '  version: "0.0.1",',
    "  stages: [",
    '    stage("no_test", "load", () => ({ name: "n", train: [] })),',
    '    stage("no_network", "train", (_: unknown, input: { model: unknown }) =>',
    "      ({ spec: input.model, model: undefined, patchSize: 16, channels: 1 })),",
    '    stage("async_augment", "augment", () => async (batch: unknown) => batch),',
    "    // Trains nothing and writes no checkpoint: the network as built.",
    '    stage("no_checkpoint", "train", (_: unknown, input: { model: any }) =>',
    "      ({ spec: input.model, model: input.model.build(16, 1), patchSize: 16, channels: 1 })),",
    '    stage("broken", "evaluate", () => { throw new Error("evaluation broke"); }),',
    '    stage("unbuildable", "model", () => ({ name: "u", build: () => { throw new Error("no net"); } })),',
    "  ],",
    "});",
    "",
  ].join("\n"),
);

/** Runs the tiny synthetic recipe with `overrides`: what it returned, or what it threw. */
async function outcome(overrides: string[], progress = silent): Promise<unknown> {
  const output = await Deno.makeTempDir({ prefix: "capillary-wrong-" });
  try {
    const { recipe } = await loadRecipe(SYNTHETIC, {
      builtins: BUILTIN_PLUGINS,
      overrides: [
        `plugins=[${WRONG}, ${SHAPE}]`,
        ...TINY_SYNTHETIC.filter((s) => !s.startsWith("model.")),
        "backend=cpu",
        "inferenceBackend=cpu",
        ...overrides,
      ],
    });
    return await runRecipe(recipe, { outputRoot: output, progress }).catch((e) => e);
  } finally {
    await Deno.remove(output, { recursive: true });
  }
}

async function failure(overrides: string[]): Promise<StageError> {
  const error = await outcome(overrides);
  assertEquals(error instanceof StageError, true, String(error));
  return error as StageError;
}

Deno.test("a model plugin's right network with an unnamed layer trains and evaluates", async () => {
  const result = await outcome(["stages.model={use: wrong/net, with: {fault: none}}"]);
  assertEquals(result instanceof Error, false, String(result));
  const { summary } = result as { summary: { metrics: Record<string, number> } };
  assertEquals(Number.isFinite(summary.metrics.auc), true);
});

Deno.test("a model plugin's wrong network is blamed on its stage before training", async () => {
  const says = {
    twoChannels: "its build(16, 1) gave a network mapping [batch, 16, 16, 1] to " +
      "[batch, 16, 16, 2]; it must give [batch, 16, 16, 1]",
    logits: 'its build(16, 1) gave a network whose output layer "head" has activation ' +
      '"linear"; it must give probabilities: end with activation: "sigmoid"',
    valid: "to [batch, 14, 14, 1]",
  };
  for (const [fault, message] of Object.entries(says)) {
    const error = await failure([`stages.model={use: wrong/net, with: {fault: ${fault}}}`]);
    assertEquals(error.stage, "wrong/net");
    assertEquals(error.message.includes(message), true, error.message);
  }
});

Deno.test("an augmentation's NaN images or halved masks are blamed on its stage", async () => {
  const says = {
    nan: 'Stage "wrong/values" failed: its augmentation returned images holding NaN (patch 4 ' +
      "of 4); its images must stay finite",
    halfMasks: 'Stage "wrong/values" failed: its augmentation returned masks holding 0.5',
  };
  for (const [fault, message] of Object.entries(says)) {
    const error = await failure([`stages.augment=[{use: wrong/values, with: {fault: ${fault}}}]`]);
    assertEquals(error.stage, "wrong/values");
    assertEquals(error.message.startsWith(message), true, error.message);
  }
});

Deno.test("a stage's output of the wrong shape is refused in the contract's words, not a TypeError", async () => {
  const says = {
    "stages.load={use: shape/no_test}": 'Stage "shape/no_test" failed: data set "n" has no list ' +
      "`test` (it is undefined); a load or preprocess stage returns a data set { name, train, test }",
    "stages.train={use: shape/no_network}": 'Stage "shape/no_network" failed: returned a trained ' +
      "model whose model is undefined; a train stage returns a trained model { spec, model, " +
      "patchSize, channels }",
    "stages.augment=[{use: shape/async_augment}]": 'Stage "shape/async_augment" failed: its ' +
      "augmentation returned a Promise: augmentations are called synchronously, batch after " +
      "batch inside training, so an augmentation must be a plain (not async) function that " +
      "returns the batch itself",
  };
  for (const [override, message] of Object.entries(says)) {
    const error = await failure([override]);
    assertEquals(error.message.startsWith(message), true, error.message);
    assertEquals(error.message.includes("TypeError"), false, error.message);
  }
});

Deno.test("a failed evaluation after a train stage that writes no checkpoint says it trained", async () => {
  const lines: string[] = [];
  const error = await outcome(
    ["stages.train={use: shape/no_checkpoint}", "stages.evaluate={use: shape/broken}"],
    { ...silent, info: (line) => void lines.push(line) },
  );
  assertEquals(error instanceof StageError, true, String(error));
  assertEquals(
    (error as StageError).message,
    `Stage "shape/broken" failed: evaluation broke (at ${SHAPE}:16:47)`,
  );
  const advice = lines.find((l) => l.includes("The run stopped on the error below"))!;
  assertEquals(advice.includes("Nothing was trained"), false, advice);
  assertEquals(advice.includes("The network was trained (saved in "), true, advice);
});

Deno.test("a model spec whose build throws is blamed on the model stage, not the trainer", async () => {
  const error = await failure(["stages.model={use: shape/unbuildable}"]);
  assertEquals(error.stage, "shape/unbuildable");
  assertEquals(
    error.message,
    `Stage "shape/unbuildable" failed: its model spec's build(16, 1) threw: no net (at ${SHAPE}:17:76)`,
  );
});

/**
 * A plugin stage that returns something well-formed but wrong (a network of
 * two channels or logits, an augmentation that puts NaN in the images or
 * halves the masks) is blamed by the engine on that stage, in words that say
 * what to change, rather than failing or training on silently in core/train.
 */
import { assertEquals } from "./assert.ts";
import { loadRecipe, type Progress, runRecipe, StageError } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { TINY_SYNTHETIC } from "./tiny_runs.ts";

const SYNTHETIC = new URL("../recipes/synthetic.yaml", import.meta.url).pathname;
const WRONG = new URL("./fixtures/faulty_outputs_plugin.ts", import.meta.url).href;
const silent: Progress = { info() {}, task: () => ({ update() {}, done() {} }) };

/** Runs the tiny synthetic recipe with `overrides`: what it returned, or what it threw. */
async function outcome(overrides: string[]): Promise<unknown> {
  const output = await Deno.makeTempDir({ prefix: "capillary-wrong-" });
  try {
    const { recipe } = await loadRecipe(SYNTHETIC, {
      builtins: BUILTIN_PLUGINS,
      overrides: [
        `plugins=[${WRONG}]`,
        ...TINY_SYNTHETIC.filter((s) => !s.startsWith("model.")),
        "backend=cpu",
        "inferenceBackend=cpu",
        ...overrides,
      ],
    });
    return await runRecipe(recipe, { outputRoot: output, progress: silent }).catch((e) => e);
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

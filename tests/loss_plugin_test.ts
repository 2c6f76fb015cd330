/**
 * A third party's loss plugin, used by `core/train` from a recipe: a module
 * written to a temporary folder (a factory default export, as an npm or URL
 * plugin would be), listed under `plugins:` and named by `train.loss`. It
 * trains on one thread, and with `train.workers` 2 the worker thread builds
 * the same loss from the plugin's module; a loss that returns the wrong
 * thing is named as the loss's fault.
 */
import { assertEquals } from "./assert.ts";
import { loadRecipe, planRecipe, RecipeValidationError, runRecipe, StageError } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent, SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";

const dir = await Deno.makeTempDir({ prefix: "capillary-loss-plugin-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const PLUGIN = `${dir}/dice_loss.ts`;
// Soft Dice plus binary cross-entropy (PLUGINS.md's example), with two faults to order:
// `nanInWorker` makes it NaN only in a worker thread, `fault: int` returns integers.
await Deno.writeTextFile(
  PLUGIN,
  `// deno-lint-ignore-file no-explicit-any
export default (capillary: any) => {
  const { tf, z } = capillary;
  const inWorker = () =>
    typeof (globalThis as any).WorkerGlobalScope !== "undefined" &&
    globalThis instanceof (globalThis as any).WorkerGlobalScope;
  return capillary.definePlugin({
    name: "lossy",
    version: "0.1.0",
    stages: [],
    components: [
      capillary.defineLoss({
        name: "dice_bce",
        description: "Soft Dice plus binary cross-entropy, per patch.",
        options: z.object({
          bceWeight: z.number().min(0).default(1),
          smooth: z.number().positive().default(1),
          nanInWorker: z.boolean().default(false),
          fault: z.enum(["none", "int"]).default("none"),
        }).strict(),
        create: ({ bceWeight, smooth, nanInWorker, fault }: any) => (yTrue: any, yPred: any) =>
          tf.tidy(() => {
            const axes = [1, 2, 3];
            const p = tf.clipByValue(yPred, 1e-7, 1 - 1e-7);
            const bce = tf.neg(tf.add(
              tf.mul(yTrue, tf.log(p)),
              tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p))),
            ));
            const overlap = tf.sum(tf.mul(yTrue, yPred), axes);
            const total = tf.add(tf.sum(yTrue, axes), tf.sum(yPred, axes));
            const dice = tf.sub(1, tf.div(tf.add(tf.mul(2, overlap), smooth), tf.add(total, smooth)));
            const loss = tf.add(tf.mul(tf.mean(bce, axes), bceWeight), dice);
            if (fault === "int") return tf.cast(loss, "int32");
            return nanInWorker && inWorker() ? tf.mul(loss, NaN) : loss;
          }),
      }),
    ],
  });
};
`,
);

/** The tiny synthetic recipe with the plugin, on `backend`, with `overrides`. */
function load(backend: string, overrides: string[]) {
  return loadRecipe(SYNTHETIC, {
    builtins: BUILTIN_PLUGINS,
    overrides: [
      `plugins=[${PLUGIN}]`,
      ...TINY_SYNTHETIC,
      `backend=${backend}`,
      "inferenceBackend=cpu",
      ...overrides,
    ],
  });
}

/** Runs it: the per-epoch training losses, or what it threw. */
async function outcome(backend: string, overrides: string[]): Promise<number[] | Error> {
  const output = await Deno.makeTempDir({ prefix: "capillary-loss-run-" });
  try {
    const { recipe } = await load(backend, overrides);
    const result = await runRecipe(recipe, { outputRoot: output, progress: silent })
      .catch((e: Error) => e);
    if (result instanceof Error) return result;
    // Where the loss-only plugin ran, its version is stamped with the others'.
    const header =
      (await Deno.readTextFile(`${result.folder}/recipe.resolved.yaml`)).split("\n")[1];
    const used = overrides.some((o) => o.startsWith("train.loss="));
    assertEquals(header.includes("lossy 0.1.0"), used, header);
    const history = await Deno.readTextFile(`${result.folder}/history.jsonl`);
    return history.trim().split("\n").map((line) => JSON.parse(line).loss as number);
  } finally {
    await Deno.remove(output, { recursive: true });
  }
}

/** The losses of a run that must succeed. */
async function losses(backend: string, overrides: string[]): Promise<number[]> {
  const result = await outcome(backend, overrides);
  if (result instanceof Error) throw result;
  return result;
}

Deno.test(
  "a recipe trains with a plugin's loss: validated, planned and run on one thread",
  sanitizers,
  async () => {
    const loss = "train.loss={use: lossy/dice_bce, with: {bceWeight: 0.5}}";
    const { recipe } = await load("cpu", [loss]);
    const train = recipe.stages.get("train")![0];
    // The component's own defaults, filled in by validation.
    assertEquals(train.options.loss, {
      use: "lossy/dice_bce",
      with: { bceWeight: 0.5, smooth: 1, nanInWorker: false, fault: "none" },
    });
    const plan = await planRecipe(recipe);
    const line = plan.find((s) => s.stage.id === "core/train")!.lines
      .find((l) => l.startsWith("loss: "))!;
    assertEquals(
      line.split(";")[0],
      'loss: lossy/dice_bce (bceWeight 0.5, smooth 1, nanInWorker false, fault "none")',
    );
    // The loss trains: soft Dice + half the cross-entropy, not the cross-entropy alone.
    const [withPlugin, withCore] = [await losses("cpu", [loss]), await losses("cpu", [])];
    assertEquals(withPlugin.length, 2);
    assertEquals(withPlugin.every(Number.isFinite), true, String(withPlugin));
    assertEquals(withPlugin[0] === withCore[0], false, `${withPlugin} ${withCore}`);
    // On the main thread, not a worker: `nanInWorker` changes nothing.
    const inWorkerOnly =
      "train.loss={use: lossy/dice_bce, with: {bceWeight: 0.5, nanInWorker: true}}";
    assertEquals(await losses("cpu", [inWorkerOnly]), withPlugin);
  },
);

Deno.test(
  "with train.workers 2 the worker thread builds the plugin's loss from its module",
  sanitizers,
  async () => {
    const parallel = ["train.workers=2"];
    // The same loss everywhere trains.
    const fine = await losses("wasm", [...parallel, "train.loss={use: lossy/dice_bce}"]);
    assertEquals(fine.every(Number.isFinite), true, String(fine));
    // NaN only where a worker thread computes it: the run stops on the worker's loss.
    const error = await outcome("wasm", [
      ...parallel,
      "train.loss={use: lossy/dice_bce, with: {nanInWorker: true}}",
    ]);
    assertEquals(error instanceof StageError, true, String(error));
    const message = (error as Error).message;
    assertEquals(
      message.includes("Cannot train: the loss became NaN at epoch 1, step"),
      true,
      message,
    );
  },
);

Deno.test(
  "a plugin's loss that returns integers is named as the loss's fault",
  sanitizers,
  async () => {
    const error = await outcome("cpu", ["train.loss={use: lossy/dice_bce, with: {fault: int}}"]);
    assertEquals(error instanceof StageError, true, String(error));
    const message = (error as Error).message;
    assertEquals(
      message.includes(
        'Loss "lossy/dice_bce" returned a int32 tensor on a batch of shape [4, 16, 16, 1]; a loss ' +
          "must return a float32 tensor of losses",
      ),
      true,
      message,
    );
  },
);

Deno.test("a recipe refuses positiveWeight beside a plugin's loss, and an unknown loss", async () => {
  const error = await load("cpu", [
    "train.loss={use: lossy/dice_bce}",
    "train.positiveWeight=3",
  ]).catch((e) => e);
  assertEquals(error instanceof RecipeValidationError, true, String(error));
  const [issue] = (error as RecipeValidationError).issues;
  assertEquals(issue.path, ["stages", "train", "with", "positiveWeight"]);
  assertEquals(
    issue.message.startsWith("positiveWeight weights core's binary cross-entropy only"),
    true,
  );
  const unknown = await load("cpu", ["train.loss={use: lossy/dice}"]).catch((e) => e);
  assertEquals(unknown instanceof RecipeValidationError, true, String(unknown));
  const [missing] = (unknown as RecipeValidationError).issues;
  assertEquals(missing.path, ["stages", "train", "with", "loss", "use"]);
  assertEquals(missing.message, 'unknown loss "lossy/dice"');
  const badOption = await load("cpu", ["train.loss={use: lossy/dice_bce, with: {smooth: 0}}"])
    .catch((e) => e);
  assertEquals(badOption instanceof RecipeValidationError, true, String(badOption));
  assertEquals((badOption as RecipeValidationError).issues[0].path, [
    "stages",
    "train",
    "with",
    "loss",
    "with",
    "smooth",
  ]);
});

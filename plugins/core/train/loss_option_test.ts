/**
 * `core/train`'s `loss` option: a plugin's loss component in place of core's
 * binary cross-entropy, its checks, and where data-parallel workers cannot
 * build it. Whole recipes with a loss plugin are in tests/loss_plugin_test.ts.
 */
import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import { CapillaryError, componentOptions, defineLoss, loadBackend, tf, z } from "../../../mod.ts";
import { halfBrightData, tinySpec, trainContext } from "./train_fixture.ts";
import { trainOptions } from "./train_options.ts";
import { train } from "../stages/train.ts";

await loadBackend("wasm");

Deno.test("trainOptions: loss is null by default, and a component reference when set", () => {
  assertEquals(trainOptions.parse({}).loss, null);
  assertEquals(trainOptions.parse({ loss: null }).loss, null);
  assertEquals(trainOptions.parse({ loss: { use: "p/dice" } }).loss, { use: "p/dice", with: {} });
  // The engine finds the reference through .nullable().default(null), to validate its `with`.
  assertEquals(componentOptions(trainOptions).get("loss"), "loss");
  assertEquals(componentOptions(trainOptions).get("schedule"), "schedule");
});

Deno.test("trainOptions refuses positiveWeight beside a plugin's loss, which it would not weight", () => {
  const result = trainOptions.safeParse({ loss: { use: "p/dice" }, positiveWeight: 3 });
  assertEquals(result.success, false);
  assertEquals(result.error!.issues.map((i) => i.path), [["positiveWeight"]]);
  assertEquals(
    result.error!.issues[0].message,
    "positiveWeight weights core's binary cross-entropy only, not the loss p/dice: leave it " +
      "out, or give the loss its own weighting option",
  );
  // Weight 1 is the default: said or not, it changes nothing.
  assertEquals(
    trainOptions.safeParse({ loss: { use: "p/dice" }, positiveWeight: 1 }).success,
    true,
  );
});

const data = halfBrightData(16);

/** A squared-error loss that counts its calls, as a built-in plugin's component. */
function countingLoss(calls: { count: number }) {
  return defineLoss({
    name: "counted",
    description: "Squared error, counting its calls.",
    options: z.object({ scale: z.number().default(1) }).strict(),
    create: ({ scale }) => (yTrue, yPred) => {
      calls.count++;
      return tf.mul(tf.square(tf.sub(yPred, yTrue)), scale);
    },
  });
}

async function run(options: Record<string, unknown>, calls: { count: number }) {
  const folder = await Deno.makeTempDir({ prefix: "capillary-loss-" });
  const context = trainContext(folder, { "loss:test/counted": countingLoss(calls) });
  try {
    await train.run(
      trainOptions.parse({
        epochs: 1,
        batchSize: 8,
        patches: { size: 8, count: 32 },
        validation: { images: 0 },
        // Options as validation fills them in (a component's own defaults are its schema's).
        schedule: { use: "core/step", with: { every: 1, factor: 0.5 } },
        ...options,
      }),
      { data, model: tinySpec(), augment: (b) => b },
      context,
    );
    return (await Deno.readTextFile(`${folder}/history.jsonl`)).trim().split("\n")
      .map((line) => JSON.parse(line) as { loss: number });
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

Deno.test("train() trains with the loss component `loss` names, built from its options", async () => {
  const calls = { count: 0 };
  const [plain] = await run({ loss: { use: "test/counted", with: { scale: 1 } } }, calls);
  if (calls.count === 0) throw new Error("the loss component was never called");
  // Zero times the squared error: a loss of exactly 0, which binary cross-entropy never is.
  const [zero] = await run({ loss: { use: "test/counted", with: { scale: 0 } } }, calls);
  assertEquals(zero.loss, 0);
  assertEquals(plain.loss > 0 && plain.loss < 1, true, String(plain.loss));
});

Deno.test("train() with workers refuses a built-in plugin's loss, which a worker cannot rebuild", async () => {
  const calls = { count: 0 };
  const error = await assertRejects(
    () => run({ loss: { use: "test/counted" }, workers: 2 }, calls),
    CapillaryError,
  );
  assertEquals(error.code, "E_WORKERS");
  assertEquals(
    error.message,
    "Cannot train with train.workers 2 and the loss test/counted: it is a built-in plugin's, " +
      "registered in code rather than loaded from a module, so the data-parallel workers " +
      "cannot build it in their threads; set train.workers to 1, or load its plugin from a " +
      "module under `plugins:`",
  );
});

import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import {
  CapillaryError,
  type LearningRateSchedule,
  type ModelPlan,
  type PlanContext,
  Random,
  tf,
} from "../../../mod.ts";
import { trainOptions } from "./train_options.ts";
import { trainPlan } from "./train_plan.ts";
import { splitByImage } from "./validation.ts";

const data = { train: 3, test: 1, height: 64, width: 64, channels: 1 };
const context: PlanContext = {
  stageId: "core/train",
  tf,
  recipeDir: ".",
  // Every component a flat schedule: the plan builds only the schedule.
  createComponent:
    (() => ((_epoch: number, base: number) => base) as LearningRateSchedule) as PlanContext[
      "createComponent"
    ],
};

/** The arithmetic line of the plan for a network of `forward` FLOP per patch. */
function flopLine(forward: number, options: Record<string, unknown>): string {
  const model: ModelPlan = { name: "net", parameters: () => 10, forwardFlops: () => forward };
  const { lines } = trainPlan(trainOptions.parse(options), { data, model }, context);
  return lines.find((l) => l.startsWith("net: "))!;
}

Deno.test("trainPlan() gives each FLOP count in a unit that fits its size", () => {
  // 1 MFLOP a patch, 10 patches a step of 4 epochs of 40 patches: 30 MFLOP a step, 480 MFLOP.
  const small = { epochs: 4, batchSize: 10, patches: { size: 16, count: 40 } };
  assertEquals(
    flopLine(1e6, small),
    "net: 10 parameters; 1.0 MFLOP forward per patch, 30.00 MFLOP per training step, " +
      "480.00 MFLOP in all",
  );
  // 69.06 MFLOP a patch (BCDU-Net width 8 at 48²), batch 16, 5 epochs of 12,000 patches.
  const drive = { epochs: 5, batchSize: 16, patches: { size: 48, count: 12000 } };
  assertEquals(
    flopLine(69.06e6, drive),
    "net: 10 parameters; 69.1 MFLOP forward per patch, 3.31 GFLOP per training step, " +
      "12.43 TFLOP in all",
  );
  // Rounding up to 1 of the next unit shows that unit: 999.996 kFLOP is 1.0 MFLOP.
  assertEquals(flopLine(999_996, small).split("; ")[1].startsWith("1.0 MFLOP forward"), true);
  assertEquals(flopLine(400, small).split("; ")[1].startsWith("400 FLOP forward"), true);
});

Deno.test("trainPlan() refuses a hold-out that leaves no image to train on, in the run's words", () => {
  const model: ModelPlan = { name: "net", parameters: () => 10 };
  const plan = (train: number, images: number) =>
    trainPlan(
      trainOptions.parse({ patches: { size: 16, count: 40 }, validation: { images } }),
      { data: { ...data, train }, model },
      context,
    );
  // What the run says (train.ts holds the images out with splitByImage) is what the plan says.
  const run = assertThrows(
    () => splitByImage([{ id: "a" }], 1, new Random(1)),
    CapillaryError,
  );
  assertEquals(
    run.message,
    "Cannot hold out 1 validation images of 1: none would be left to train on; lower " +
      "train.validation.images",
  );
  const planned = assertThrows(() => plan(1, 1), CapillaryError);
  assertEquals(planned.message, run.message);
  assertThrows(() => plan(2, 3), CapillaryError, "Cannot hold out 3 validation images of 2");
  // One image left: it trains, and the plan says so (not "from 0 images").
  const line = plan(2, 1).lines.find((l) => l.startsWith("patches "))!;
  assertEquals(
    line.includes("40 to train from 1 image; 40 to validate from 1 held-out image"),
    true,
    line,
  );
});

Deno.test("trainPlan() checks patches against the smallest images where sizes vary", () => {
  const model: ModelPlan = { name: "net", parameters: () => 10 };
  const varied = { ...data, height: null, width: null, smallest: { width: 40, height: 36 } };
  const plan = (size: number) =>
    trainPlan(
      trainOptions.parse({ patches: { size, count: 8 } }),
      { data: varied, model },
      context,
    );
  assertEquals(plan(32).lines.length > 0, true);
  assertThrows(
    () => plan(40),
    CapillaryError,
    "Cannot cut patches of 40×40 from images as narrow as 40 or as low as 36 pixels: set " +
      "train.patches.size to at most 36 (a multiple of 8: 32)",
  );
});

Deno.test("trainPlan() names a plugin's loss and its options in place of binary cross-entropy", () => {
  const model: ModelPlan = { name: "net", parameters: () => 10 };
  const lossLine = (options: Record<string, unknown>) =>
    trainPlan(
      trainOptions.parse({ patches: { size: 16, count: 40 }, ...options }),
      { data, model },
      context,
    ).lines.find((l) => l.startsWith("loss: "))!.split(";")[0];
  assertEquals(lossLine({}), "loss: binary cross-entropy");
  assertEquals(
    lossLine({ positiveWeight: 3 }),
    "loss: binary cross-entropy with foreground pixels weighted 3",
  );
  assertEquals(
    lossLine({ loss: { use: "dice/soft", with: { smooth: 1, mode: "soft" } } }),
    'loss: dice/soft (smooth 1, mode "soft")',
  );
  assertEquals(lossLine({ loss: { use: "dice/soft" } }), "loss: dice/soft");
});

Deno.test("trainPlan() names a plugin's optimizer, its options and its base rate", () => {
  const model: ModelPlan = { name: "net", parameters: () => 10 };
  const optimizerText = (optimizer: Record<string, unknown>) =>
    trainPlan(
      trainOptions.parse({ patches: { size: 16, count: 40 }, optimizer }),
      { data, model },
      context,
    ).lines.find((l) => l.startsWith("loss: "))!.split("; ")[1];
  assertEquals(
    optimizerText({ learningRate: 0.05 }),
    "SGD, learning rate 0.05, momentum 0.9, schedule core/cosine",
  );
  assertEquals(
    optimizerText({ use: "extras/lion", with: { beta1: 0.9, mode: "sign" }, learningRate: 1e-4 }),
    'optimizer extras/lion (beta1 0.9, mode "sign"), learning rate 0.0001, schedule core/cosine',
  );
  assertEquals(
    optimizerText({ use: "extras/lion", learningRate: 0.001 }),
    "optimizer extras/lion, learning rate 0.001, schedule core/cosine",
  );
});

Deno.test("trainPlan() refuses, as the run does, a loss its data-parallel workers cannot build", () => {
  const model: ModelPlan = { name: "net", parameters: () => 10 };
  // The context builds components registered in code: none has a module to build it again from.
  const options = (workers: number) =>
    trainOptions.parse({
      patches: { size: 16, count: 40 },
      workers,
      loss: { use: "test/counted", with: {} },
    });
  assertEquals(trainPlan(options(1), { data, model }, context).lines.length > 0, true);
  assertThrows(
    () => trainPlan(options(2), { data, model }, context),
    CapillaryError,
    "Cannot train with train.workers 2 and the loss test/counted: it is a built-in plugin's",
  );
});

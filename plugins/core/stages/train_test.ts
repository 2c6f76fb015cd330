import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import {
  CapillaryError,
  loadBackend,
  type ModelSpec,
  type StageContext,
  tf,
} from "../../../mod.ts";
import { halfBrightData, tinySpec, trainContext } from "../train/train_fixture.ts";
import { train } from "./train.ts";
import { trainOptions } from "../train/train_options.ts";

await loadBackend("wasm");

async function context(): Promise<{ context: StageContext; folder: string }> {
  const folder = await Deno.makeTempDir({ prefix: "capillary-train-" });
  return { folder, context: trainContext(folder) };
}

const data = halfBrightData(32);

const options = trainOptions.parse({
  epochs: 2,
  batchSize: 8,
  patches: { size: 8, count: 64 },
  validation: { images: 1, patches: 16 },
  optimizer: { learningRate: 0.5 },
  schedule: { use: "core/step", with: { every: 1, factor: 0.5 } },
});

Deno.test("train() learns a separable task and logs each epoch's loss and learning rate", async () => {
  const { context: ctx, folder } = await context();
  try {
    const trained = await train.run(options, {
      data,
      model: tinySpec(),
      augment: (b) => b,
    }, ctx);
    assertEquals(trained.patchSize, 8);
    const history = (await Deno.readTextFile(`${folder}/history.jsonl`)).trim().split("\n")
      .map((line) => JSON.parse(line));
    assertEquals(history.map((h) => h.epoch), [1, 2]);
    // step schedule: 0.5 during epoch 1, 0.25 during epoch 2 (the last step's rate is logged)
    assertEquals(history.map((h) => h.learningRate), [0.5, 0.25]);
    if (!(history[1].loss < history[0].loss)) throw new Error("loss did not fall");
    // 64 training patches in batches of 8 = 8 steps per epoch; the 16 patches
    // of the held-out image give a loss and Dice too.
    if (typeof history[0].valLoss !== "number") throw new Error("no validation loss");
    if (typeof history[0].valDice !== "number") throw new Error("no validation Dice");
    assertEquals(trained.validationIds!.length, 1);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("train() with 2 workers shares each batch and learns the same task", async () => {
  const { context: ctx, folder } = await context();
  try {
    const parallel = trainOptions.parse({ ...options, workers: 2 });
    const trained = await train.run(parallel, { data, model: tinySpec(), augment: (b) => b }, ctx);
    const history = (await Deno.readTextFile(`${folder}/history.jsonl`)).trim().split("\n")
      .map((line) => JSON.parse(line));
    assertEquals(history.map((h) => h.epoch), [1, 2]);
    if (!(history[1].loss < history[0].loss)) throw new Error("loss did not fall");
    // Bright is foreground: the trained 1×1 convolution's weight is positive.
    assertEquals(trained.model.getWeights()[0].dataSync()[0] > 0, true);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("trainOptions asks for a batch at least as large as the workers", () => {
  const result = trainOptions.safeParse({ batchSize: 2, workers: 3 });
  assertEquals(result.success, false);
  assertEquals(result.error!.issues[0].path, ["workers"]);
  assertEquals(result.error!.issues[0].message, "3 workers need a batchSize of at least 3");
});

Deno.test("train() stops with a clear error when the loss is not finite", async () => {
  const { context: ctx, folder } = await context();
  try {
    const error = await assertRejects(
      async () => await train.run(options, { data, model: tinySpec(true), augment: (b) => b }, ctx),
      CapillaryError,
    );
    assertEquals(error.code, "E_NAN_LOSS");
    // 64 patches of the one training image (the other validates), 8 steps per
    // epoch: the weights are checked at the epoch's last step.
    if (!/weight ".+" became NaN by epoch 1, step 8/.test(error.message)) {
      throw new Error(error.message);
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

/** Two named 1×1 convolutions; `built` keeps each network built, to read its starting weights. */
function twoLayerSpec(built: import("@tensorflow/tfjs").LayersModel[]): ModelSpec {
  return {
    name: "two-layer",
    build(size, channels) {
      const input = tf.input({ shape: [size, size, channels] });
      const hidden = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: "enc", seed: 1 } as never)
        .apply(input) as import("@tensorflow/tfjs").SymbolicTensor;
      const output = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: "sigmoid" })
        .apply(hidden) as import("@tensorflow/tfjs").SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: output });
      built.push(model);
      return model;
    },
  };
}

Deno.test("train() keeps frozen layers fixed, then thaws them at the scheduled epoch", async () => {
  for (const [thawAt, workers] of [[undefined, 1], [2, 1], [undefined, 2], [2, 2]]) {
    const { context: ctx, folder } = await context();
    try {
      const built: import("@tensorflow/tfjs").LayersModel[] = [];
      const spec = twoLayerSpec(built);
      const fineTune = trainOptions.parse({
        ...options,
        freeze: ["enc"],
        unfreeze: thawAt ? [{ epoch: thawAt }] : [],
        workers,
      });
      let start: Float32Array | undefined;
      const wrapped: ModelSpec = {
        ...spec,
        build(size, channels) {
          const model = spec.build(size, channels);
          start = model.getLayer("enc").getWeights()[0].dataSync().slice() as Float32Array;
          return model;
        },
      };
      const trained = await train.run(fineTune, { data, model: wrapped, augment: (b) => b }, ctx);
      const end = trained.model.getLayer("enc").getWeights()[0].dataSync();
      const moved = end.some((v, i) => v !== start![i]);
      assertEquals(
        moved,
        thawAt !== undefined,
        `enc moved with unfreeze at ${thawAt}, ${workers} workers`,
      );
      const head = trained.model.layers.at(-1)!;
      assertEquals(head.trainable, true);
    } finally {
      await Deno.remove(folder, { recursive: true });
    }
  }
});

Deno.test("trainOptions rejects an unfreeze epoch after the last epoch", () => {
  const result = trainOptions.safeParse({ epochs: 2, unfreeze: [{ epoch: 3 }] });
  assertEquals(result.success, false);
  assertEquals(result.error!.issues[0].path, ["unfreeze", 0, "epoch"]);
  assertEquals(result.error!.issues[0].message, "epoch 3 is after the last epoch (2)");
});

Deno.test("train() stopped by a NaN names the last good checkpoint, which holds the epoch before", async () => {
  const { context: ctx, folder } = await context();
  try {
    let batches = 0;
    // 8 steps an epoch: from the 9th batch (epoch 2) on, the images are NaN.
    const poison = (batch: import("../../../mod.ts").PatchBatch) =>
      ++batches > 8 ? { ...batch, images: batch.images.map(() => NaN) } : batch;
    const error = await assertRejects(
      async () => await train.run(options, { data, model: tinySpec(), augment: poison }, ctx),
      CapillaryError,
    );
    assertEquals(error.code, "E_NAN_LOSS");
    // On wasm the loss may stay finite (XNNPACK clamps NaN): the weight check then catches it.
    if (!/epoch 2, step \d/.test(error.message)) throw new Error(error.message);
    if (!error.message.includes(`the checkpoint of epoch 1 is in ${folder}/checkpoint`)) {
      throw new Error(error.message);
    }
    const state = JSON.parse(await Deno.readTextFile(`${folder}/checkpoint/state.json`));
    assertEquals(state.epoch, 1);
    assertEquals(state.history.length, 1);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

/** Runs `budgeted` (120 steps an epoch: 960 patches in batches of 8); its history and log. */
async function budgetRun(maxMinutes: number) {
  const { context: quiet, folder } = await context();
  const lines: string[] = [];
  const ctx = {
    ...quiet,
    progress: { ...quiet.progress, info: (l: string) => void lines.push(l) },
  };
  const budgeted = trainOptions.parse({
    ...options,
    maxMinutes,
    patches: { size: 8, count: 960 },
    schedule: { use: "core/cosine", with: { minLearningRate: 0, warmupEpochs: 0 } },
  });
  try {
    const trained = await train.run(budgeted, { data, model: tinySpec(), augment: (b) => b }, ctx);
    trained.model.dispose();
    const history = (await Deno.readTextFile(`${folder}/history.jsonl`)).trim().split("\n")
      .map((line) => JSON.parse(line));
    const state = JSON.parse(await Deno.readTextFile(`${folder}/checkpoint/state.json`));
    return {
      history,
      state,
      budget: lines.filter((l) => l.startsWith("time budget")),
      caveats: trained.caveats,
    };
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

Deno.test("train() with maxMinutes keeps the planned epochs when they fit", async () => {
  const { history, state, budget, caveats } = await budgetRun(60);
  assertEquals(history.map((h) => h.steps), [120, 120]);
  assertEquals(caveats, undefined); // the scores are the recipe's full training
  assertEquals(state.stepsPerEpoch, 120); // fitted once: a resumed run keeps it
  assertEquals(budget.length, 1);
  if (
    !/^time budget: 50 steps took .* 120 steps an epoch fit train.maxMinutes 60$/.test(budget[0])
  ) {
    throw new Error(budget[0]);
  }
});

Deno.test("train() with maxMinutes shortens every epoch to fit an overrun budget", async () => {
  // A budget long overrun by step 100: the first epoch ends there, the second takes 1 step.
  const { history, state, budget, caveats } = await budgetRun(1e-6);
  assertEquals(history.map((h) => h.steps), [100, 1]);
  // The results carry it: 101 of the 240 planned steps, 808 of 1920 patches.
  assertEquals(caveats?.length, 1);
  if (
    !caveats![0].startsWith("train.maxMinutes 0.000001 shortened the epochs: 101 of 240 planned")
  ) {
    throw new Error(caveats![0]);
  }
  assertEquals(state.stepsPerEpoch, 1);
  if (!/each epoch now takes 1 step \(8 of its 960 patches\), this one 100,/.test(budget[0])) {
    throw new Error(budget[0]);
  }
  // Cosine from 0.5 over 2 epochs: epoch 1's last step ran before the fit, at 99/120 of it
  // (0.25 · (1 + cos(π · 0.825 / 2)) = 0.3179); epoch 2's one step is at its start (0.25).
  assertEquals(history.map((h) => Number(h.learningRate.toFixed(4))), [0.3179, 0.25]);
});

Deno.test("train() keeps the steps maxMinutes fitted in its checkpoint, for a resumed run", async () => {
  const { context: ctx, folder } = await context();
  const budgeted = trainOptions.parse({
    ...options,
    maxMinutes: 1e-6,
    patches: { size: 8, count: 960 },
  });
  try {
    // Fitted to 1 step an epoch during epoch 1 (100 steps); epoch 2's images are NaN, so the run
    // stops with the checkpoint of epoch 1, which a resumed run starts from (a new process: the
    // CLI's --resume) and whose steps per epoch it keeps.
    let batches = 0;
    const poison = (batch: import("../../../mod.ts").PatchBatch) =>
      ++batches > 100 ? { ...batch, images: batch.images.map(() => NaN) } : batch;
    await assertRejects(
      async () => await train.run(budgeted, { data, model: tinySpec(), augment: poison }, ctx),
      CapillaryError,
    );
    const state = JSON.parse(await Deno.readTextFile(`${folder}/checkpoint/state.json`));
    assertEquals([state.epoch, state.stepsPerEpoch], [1, 1]);
    assertEquals(state.history.map((h: { steps: number }) => h.steps), [100]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { CapillaryError, loadBackend, tf } from "../../../mod.ts";
import { groupedOptimizer } from "./grouped_optimizer.ts";
import { layerControl, selectLayerSettings } from "./layer_control.ts";
import { matchesPattern, selectLayers, selectWeights } from "./layer_patterns.ts";

await loadBackend("cpu");

Deno.test("matchesPattern() matches whole names with * and ?", () => {
  const cases: [string, string, boolean][] = [
    ["down*", "down1_conv1", true],
    ["down*", "up1_down", false],
    ["*_bn", "up2_bn", true],
    ["up?_bn", "up2_bn", true],
    ["up?_bn", "up12_bn", false],
    ["head.x", "head_x", false], // "." is literal
    ["*", "anything", true],
  ];
  for (const [pattern, name, expected] of cases) {
    assertEquals(matchesPattern(pattern, name), expected, `${pattern} vs ${name}`);
  }
});

Deno.test("selectLayers() names the pattern that matches nothing and lists the layers", () => {
  const names = ["down1_conv1", "down1_conv2", "head_sigmoid"];
  const error = assertThrows(
    () => selectLayers(["down1_*", "donw2*"], names, "train.freeze"),
    CapillaryError,
  );
  assertEquals(error.code, "E_LAYER_PATTERN");
  assert(error.message.includes(`train.freeze: "donw2*" matches no layer`), error.message);
  assert(error.message.includes("layers: down1_conv1, down1_conv2, head_sigmoid"));
});

/** Two named 1×1 convolutions and a batch norm, with fixed initial weights. */
function smallModel(): import("@tensorflow/tfjs").LayersModel {
  const input = tf.input({ shape: [4, 4, 1] });
  const ones = "ones" as const;
  let x = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: "enc_conv", kernelInitializer: ones })
    .apply(input) as import("@tensorflow/tfjs").SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "enc_bn" }).apply(x) as typeof x;
  x = tf.layers.conv2d({
    filters: 1,
    kernelSize: 1,
    name: "head",
    activation: "sigmoid",
    kernelInitializer: ones,
  }).apply(x) as typeof x;
  return tf.model({ inputs: input, outputs: x });
}

Deno.test("layerControl() freezes by pattern, thaws on schedule and groups variables", () => {
  const model = smallModel();
  const control = layerControl(model, {
    freeze: ["enc_*"],
    unfreeze: [{ epoch: 2, layers: ["enc_conv"] }],
    parameterGroups: [{ layers: ["head", "enc*"], learningRate: 0.001 }],
    frozenBatchNorm: "inference",
  });
  assertEquals(control.frozen(), ["enc_conv", "enc_bn"]);
  assertEquals(model.layers.filter((l) => l.weights.length && !l.trainable).length, 2);
  assertEquals(control.groups[0].layers, ["enc_conv", "enc_bn", "head"]);
  // Variable names are what gradients are keyed by: kernel and bias of each conv, 4 of the BN.
  assertEquals(control.groups[0].variables.size, 2 + 4 + 2);
  assertEquals(control.describe()[0], "frozen enc_conv, enc_bn; 3 of 15 parameters train");
  assertEquals(control.thaw(1), false);
  assertEquals(control.thaw(2), true);
  assertEquals(control.frozen(), ["enc_bn"]);
  assert(model.getLayer("enc_conv").trainable && !model.getLayer("enc_bn").trainable);
  assertEquals(control.describe(2)[0], "epoch 2: frozen enc_bn; 7 of 15 parameters train");
  model.dispose();
});

/** The moving mean and variance of `smallModel`'s batch norm. */
const movingStatistics = (model: import("@tensorflow/tfjs").LayersModel) =>
  model.getLayer("enc_bn").getWeights().slice(2).flatMap((w) => Array.from(w.dataSync()));

/** Trains `model` (compiled anew, as the run does after freezing) one step on a ramp. */
async function oneStep(model: import("@tensorflow/tfjs").LayersModel): Promise<void> {
  model.compile({ optimizer: tf.train.sgd(0.1), loss: "binaryCrossentropy" });
  const x = tf.tensor4d(Array.from({ length: 32 }, (_, i) => i / 8), [2, 4, 4, 1]);
  const y = tf.tensor4d(Array.from({ length: 32 }, (_, i) => i % 2), [2, 4, 4, 1]);
  await model.trainOnBatch(x, y);
  tf.dispose([x, y]);
}

Deno.test("a frozen batch norm keeps its moving statistics unless frozenBatchNorm is batch", async () => {
  const options = {
    freeze: ["enc_bn"],
    unfreeze: [{ epoch: 2, layers: ["*"] }],
    parameterGroups: [],
  };
  const held = smallModel();
  const control = layerControl(held, { ...options, frozenBatchNorm: "inference" });
  assert(
    control.describe().includes(
      "frozen batch norm layers (1): normalise with their moving statistics, which stay as " +
        "they start (frozenBatchNorm: inference)",
    ),
    control.describe().join("\n"),
  );
  await oneStep(held);
  assertEquals(movingStatistics(held), [0, 0, 1, 1]); // as initialised
  // Thawed, it trains with batch statistics and moves them.
  control.thaw(2);
  await oneStep(held);
  assert(movingStatistics(held).some((v, i) => v !== [0, 0, 1, 1][i]), `${movingStatistics(held)}`);

  const batch = smallModel();
  layerControl(batch, { ...options, frozenBatchNorm: "batch" });
  await oneStep(batch);
  assert(
    movingStatistics(batch).some((v, i) => v !== [0, 0, 1, 1][i]),
    `${movingStatistics(batch)}`,
  );
  // Its scale and offset stay, frozen either way.
  assertEquals(
    batch.getLayer("enc_bn").getWeights().slice(0, 2).flatMap((w) => Array.from(w.dataSync())),
    [1, 1, 0, 0],
  );
  held.dispose();
  batch.dispose();
});

Deno.test("selectLayerSettings() says which unfreeze and group settings change nothing", () => {
  const names = ["down1", "down2", "up1", "head"];
  const selection = selectLayerSettings({
    freeze: ["down*"],
    unfreeze: [{ epoch: 3, layers: ["*"] }, { epoch: 2, layers: ["down1", "up1"] }, {
      epoch: 4,
      layers: ["down*"],
    }],
    parameterGroups: [{ layers: ["*"], learningRate: 0.1 }, { layers: ["head"], learningRate: 1 }],
  }, names);
  assertEquals(selection.frozen, ["down1", "down2"]);
  // In epoch order: epoch 2 thaws down1 (up1 was never frozen), epoch 3 the rest, 4 nothing.
  assertEquals(selection.thaws.map((t) => t.layers), [["down2"], ["down1"], []]);
  assertEquals(selection.groups.map((g) => g.layers), [names, []]);
  assertEquals(selection.warnings, [
    "train.unfreeze[2] thaws nothing: none of its layers is frozen then",
    "train.parameterGroups[1] is empty: each of its layers joined an earlier group, the first " +
    "it matches",
  ]);
  const early = selectLayerSettings(
    { freeze: ["head"], unfreeze: [{ epoch: 1, layers: ["*"] }], parameterGroups: [] },
    names,
  );
  assertEquals(early.warnings, [
    "train.unfreeze[0] thaws at epoch 1, before any training, so their freeze does nothing",
  ]);
});

Deno.test("the run's layer lines carry the settings' warnings", () => {
  const model = smallModel();
  const control = layerControl(model, {
    freeze: ["enc_conv"],
    unfreeze: [{ epoch: 2, layers: ["head"] }],
    parameterGroups: [],
    frozenBatchNorm: "inference",
  });
  assert(
    control.describe().includes(
      "warning: train.unfreeze[0] thaws nothing: none of its layers is frozen then",
    ),
    control.describe().join("\n"),
  );
  model.dispose();
});

Deno.test("selectWeights() picks weights by layer/weight name, keyed by their variables", () => {
  // Two models in one process: tfjs suffixes the second one's variable names to keep them unique.
  const [first, second] = [smallModel(), smallModel()];
  const spared = selectWeights(["*/bias", "enc_bn/gamma", "enc_bn/beta"], second, "decayExclude");
  const variableOf = (w: import("@tensorflow/tfjs").LayerVariable) =>
    (w.read() as import("@tensorflow/tfjs").Variable).name;
  const byOriginal = new Map(second.weights.map((w) => [w.originalName, variableOf(w)]));
  assertEquals(
    [...spared].sort(),
    ["enc_conv/bias", "enc_bn/gamma", "enc_bn/beta", "head/bias"].map((n) => byOriginal.get(n)!)
      .sort(),
  );
  assert(!spared.has(byOriginal.get("enc_conv/kernel")!), "kernels stay decayed");
  const error = assertThrows(
    () => selectWeights(["*/gama"], second, "train.optimizer.decayExclude"),
    CapillaryError,
  );
  assertEquals(error.code, "E_LAYER_PATTERN");
  assert(error.message.includes(`decayExclude: "*/gama" matches no weight`), error.message);
  assert(error.message.includes("8 weights, e.g. enc_conv/kernel, enc_conv/bias, enc_bn/gamma"));
  assert(error.message.includes("moving_mean, moving_variance"), error.message);
  first.dispose();
  second.dispose();
});

Deno.test("layerControl() refuses to freeze every layer", () => {
  const model = smallModel();
  const error = assertThrows(
    () =>
      layerControl(model, {
        freeze: ["*"],
        unfreeze: [],
        parameterGroups: [],
        frozenBatchNorm: "inference",
      }),
    CapillaryError,
  );
  assert(error.message.includes("freezes every layer"), error.message);
  model.dispose();
});

/** Trains `model` for `steps` on one fixed batch with `optimizer`; returns the weights. */
function trainSteps(
  model: import("@tensorflow/tfjs").LayersModel,
  makeOptimizer: (variables: string[]) => import("@tensorflow/tfjs").Optimizer,
  steps: number,
): Float32Array[] {
  const optimizer = makeOptimizer(
    model.weights.map((w) => (w.read() as import("@tensorflow/tfjs").Variable).name),
  );
  model.compile({ optimizer, loss: "binaryCrossentropy" });
  const x = tf.tensor4d(Array.from({ length: 32 }, (_, i) => (i % 7) / 7 - 0.3), [2, 4, 4, 1]);
  const y = tf.tensor4d(Array.from({ length: 32 }, (_, i) => i % 3 === 0 ? 1 : 0), [2, 4, 4, 1]);
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      optimizer.minimize(() =>
        tf.mean(tf.metrics.binaryCrossentropy(y, model.apply(x, { training: true }) as never))
      );
    });
  }
  tf.dispose([x, y]);
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

Deno.test("groupedOptimizer() with no groups updates bit for bit as one tfjs optimizer", () => {
  const sgd = { type: "sgd", learningRate: 0.05, momentum: 0.99, nesterov: true } as const;
  const plain = trainSteps(smallModel(), () => tf.train.momentum(0.05, 0.99, true), 5);
  const grouped = trainSteps(smallModel(), (v) => groupedOptimizer(tf, sgd, [], v), 5);
  assertEquals(grouped, plain);
  assert(plain[0][0] !== 1, "the weights moved");
  const adam = {
    type: "adam",
    learningRate: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  } as const;
  const plainAdam = trainSteps(smallModel(), () => tf.train.adam(0.01, 0.9, 0.999, 1e-7), 5);
  assertEquals(trainSteps(smallModel(), (v) => groupedOptimizer(tf, adam, [], v), 5), plainAdam);
  assert(plainAdam[0].join() !== plain[0].join(), "Adam and SGD differ");
});

Deno.test("groupedOptimizer() moves each group at its own rate, scaled alike by setRates", () => {
  const a = tf.variable(tf.scalar(0), true, "group_test_a");
  const b = tf.variable(tf.scalar(0), true, "group_test_b");
  const sgd = { type: "sgd", learningRate: 0.1, momentum: 0.5, nesterov: false } as const;
  const optimizer = groupedOptimizer(tf, sgd, [
    { variables: new Set(["group_test_b"]), learningRate: 0.01 },
  ], ["group_test_a", "group_test_b"]);
  optimizer.setRates((base) => base / 2); // the schedule halves every base rate
  assertEquals(optimizer.rates, [0.05, 0.005]);
  const loss = () => tf.add(a, tf.mul(b, 2)) as import("@tensorflow/tfjs").Scalar; // grads 1, 2
  optimizer.minimize(loss);
  optimizer.minimize(loss);
  // momentum 0.5: accumulators g, then 0.5·g + g; two steps move by rate·(1 + 1.5)·g
  assert(Math.abs(a.dataSync()[0] - -0.05 * 2.5) < 1e-7, `${a.dataSync()[0]}`);
  assert(Math.abs(b.dataSync()[0] - -0.005 * 2.5 * 2) < 1e-7, `${b.dataSync()[0]}`);
  tf.dispose([a, b]);
});

Deno.test("groupedOptimizer() gives each variable a plugin's optimizer at its group's rate, clipped, its state saved", async () => {
  const made: number[] = [];
  const component = {
    type: "component",
    learningRate: 0.1,
    create: (rate: number) => {
      made.push(rate);
      return tf.train.momentum(rate, 0.5);
    },
  } as const;
  const [nameA, nameB] = ["plugin_group_a", "plugin_group_b"];
  const a = tf.variable(tf.scalar(0), true, nameA);
  const b = tf.variable(tf.scalar(0), true, nameB);
  const build = () =>
    groupedOptimizer(tf, component, [{ variables: new Set([nameB]), learningRate: 0.01 }], [
      nameA,
      nameB,
    ], { clipNorm: 1 });
  const optimizer = build();
  // One optimizer per variable, each at its group's base rate.
  assertEquals(made, [0.1, 0.01]);
  optimizer.setRates((base) => base / 2); // the schedule, through setLearningRate
  const loss = () => tf.add(tf.mul(a, 3), tf.mul(b, 4)) as import("@tensorflow/tfjs").Scalar;
  optimizer.minimize(loss); // gradients (3, 4), norm 5, clipped to (0.6, 0.8)
  assertAlmostEquals(a.dataSync()[0], -0.05 * 0.6, 1e-7);
  assertAlmostEquals(b.dataSync()[0], -0.005 * 0.8, 1e-7);
  // Its state (the momentum) survives a checkpoint: a second step from a restored optimizer
  // moves as the original's second step does.
  const saved = await optimizer.getWeights();
  assert(saved.some((w) => w.name.startsWith(`${nameA}::`)), saved.map((w) => w.name).join());
  const restored = build();
  await restored.setWeights(saved);
  restored.setRates((base) => base / 2);
  const before = [a.dataSync()[0], b.dataSync()[0]];
  optimizer.minimize(loss);
  const once = [a.dataSync()[0], b.dataSync()[0]];
  a.assign(tf.scalar(before[0]));
  b.assign(tf.scalar(before[1]));
  restored.minimize(loss);
  assertEquals([a.dataSync()[0], b.dataSync()[0]], once);
  // momentum 0.5: the second step moves by 1.5 times the first.
  assertAlmostEquals(once[0], -0.05 * 0.6 * 2.5, 1e-7);
  tf.dispose([a, b]);
  optimizer.dispose();
  restored.dispose();
});

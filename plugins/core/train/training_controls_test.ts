import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { CapillaryError, loadBackend, Random, tf } from "../../../mod.ts";
import { groupedOptimizer, type OptimizerSettings } from "./grouped_optimizer.ts";
import { Monitor } from "./monitor.ts";
import { belowThresholdWarning, splitByImage, ValidationScorer } from "./validation.ts";
import { weightedBinaryCrossentropy } from "./weighted_bce.ts";
import { noWebgpu, webgpuTestName } from "../../../tests/webgpu_adapter.ts";

await loadBackend("cpu");

Deno.test("splitByImage() holds out whole images, the same ones for the same seed", () => {
  const samples = Array.from({ length: 10 }, (_, i) => ({ id: `s${i}` }));
  const a = splitByImage(samples, 3, new Random(7));
  const b = splitByImage(samples, 3, new Random(7));
  assertEquals(a, b);
  assertEquals([a.train.length, a.validation.length], [7, 3]);
  assertEquals(new Set([...a.train, ...a.validation].map((s) => s.id)).size, 10);
  assertEquals(splitByImage(samples, 0, new Random(7)).validation, []);
  assertThrows(
    () => splitByImage(samples, 10, new Random(7)),
    CapillaryError,
    "none would be left",
  );
});

Deno.test("ValidationScorer pools cross-entropy and Dice by hand", () => {
  const scorer = new ValidationScorer();
  scorer.add([0.8, 0.6], [1, 0]); // TP, FP
  scorer.add([0.1, 0.3], [1, 0]); // FN, TN
  const { loss, dice } = scorer.result();
  const expected = -(Math.log(0.8) + Math.log(0.4) + Math.log(0.1) + Math.log(0.7)) / 4;
  assertAlmostEquals(loss, expected, 1e-12);
  assertEquals(dice, (2 * 1) / (2 * 1 + 1 + 1));
});

Deno.test("ValidationScorer warns when a head with negative weights caps every probability below 0.5", () => {
  // synthetic-pretrain.yaml's Adam run ended with this head: 1×1 weights -1.346 and -0.976 on
  // two ReLU channels, bias -0.309, so no pixel can exceed sigmoid(-0.309) = 0.423.
  const head = (a: number, b: number) =>
    1 / (1 + Math.exp(-(-0.309 - 1.346 * Math.max(0, a) - 0.976 * Math.max(0, b))));
  const scorer = new ValidationScorer();
  scorer.add([head(0, -1), head(-2, -0.5), head(1.5, 0.2), head(0.7, 2)], [1, 1, 0, 0]);
  const scores = scorer.result();
  assertEquals(scores.dice, 0);
  assertAlmostEquals(scores.highestProbability, 1 / (1 + Math.exp(0.309)), 1e-12);
  assert(scores.anyPositive);
  const warning = belowThresholdWarning(scores);
  assert(warning?.includes("highest probability 0.423"), warning);
  // The ranking is perfect (both vessels above both background pixels), which the warning says.
  assert(warning?.includes("ranks pixels but marks none"), warning);

  const healthy = new ValidationScorer();
  healthy.add([0.7, 0.2], [1, 0]);
  assertEquals(belowThresholdWarning(healthy.result()), undefined);
  const noVessels = new ValidationScorer();
  noVessels.add([0.1, 0.2], [0, 0]); // nothing to find: Dice 1, no warning
  assertEquals(belowThresholdWarning(noVessels.result()), undefined);
  assert(Number.isNaN(new ValidationScorer().result().highestProbability));
});

Deno.test("ValidationScorer tells the all-background plateau from a network that ranks but marks none", () => {
  // One probability everywhere, as drive.yaml's collapsed run gave: nothing is ranked.
  const plateau = new ValidationScorer();
  plateau.add([0.078, 0.079, 0.0785, 0.0782], [1, 0, 1, 0]);
  const scores = plateau.result();
  assertEquals([scores.lowestProbability, scores.highestProbability], [0.078, 0.079]);
  const warning = belowThresholdWarning(scores);
  assert(warning?.includes("all-background plateau"), warning);
  assert(warning?.includes("0.078 to 0.079"), warning);
  assert(warning?.includes("warmupEpochs"), warning);
  // Spread out but below 0.5: ranked, so the other warning.
  const ranked = new ValidationScorer();
  ranked.add([0.45, 0.05, 0.4, 0.1], [1, 0, 1, 0]);
  assert(belowThresholdWarning(ranked.result())?.includes("ranks pixels but marks none"));
});

Deno.test("Monitor tracks the best epoch and stops after `patience` epochs without improvement", () => {
  const loss = new Monitor("min", { patience: 2, minDelta: 0.01 });
  assertEquals(loss.update(0.5, 1), { improved: true, stop: false });
  assertEquals(loss.update(0.495, 2), { improved: false, stop: false }); // within minDelta
  assertEquals(loss.update(0.3, 3), { improved: true, stop: false });
  assertEquals(loss.update(0.4, 4), { improved: false, stop: false });
  assertEquals(loss.update(0.35, 5), { improved: false, stop: true });
  assertEquals(loss.state, { best: 0.3, bestEpoch: 3, badEpochs: 2 });
  // Continued from a saved state, as a resumed run does.
  const resumed = new Monitor("max", { patience: null }, { best: 0.7, bestEpoch: 2, badEpochs: 0 });
  assertEquals(resumed.update(0.69, 3), { improved: false, stop: false });
  assertEquals(resumed.update(0.8, 4).improved, true);
});

Deno.test("weightedBinaryCrossentropy() weighs foreground pixels; weight 1 is Keras's BCE", () => {
  const y = tf.tensor([1, 0, 1, 0]), p = tf.tensor([0.9, 0.2, 0.4, 0]);
  const plain = Array.from(
    tf.metrics.binaryCrossentropy(
      y.reshape([4, 1]),
      p.reshape([4, 1]),
    ).dataSync(),
  );
  const same = Array.from(weightedBinaryCrossentropy(tf, 1)(y, p).dataSync());
  same.forEach((v, i) => assertAlmostEquals(v, plain[i], 1e-6));
  const weighted = weightedBinaryCrossentropy(tf, 4)(y, p).dataSync();
  assertAlmostEquals(weighted[0], -4 * Math.log(0.9), 1e-6);
  assertAlmostEquals(weighted[1], -Math.log(0.8), 1e-6);
  assertAlmostEquals(weighted[3], -Math.log(1 - 1e-7), 1e-6); // clamped, finite
});

/** One SGD step (rate 1) on the gradient (3, 4), whose norm is 5, clipped to `clipNorm`. */
async function clippedStep(name: string, clipNorm: number): Promise<number[]> {
  const a = tf.variable(tf.tensor([0, 0]), true, name);
  const sgd: OptimizerSettings = { type: "sgd", learningRate: 1, momentum: 0, nesterov: false };
  const optimizer = groupedOptimizer(tf, sgd, [], [name], { clipNorm });
  optimizer.minimize(() =>
    tf.sum(tf.mul(a, tf.tensor([3, 4]))) as import("@tensorflow/tfjs").Scalar
  );
  const values = Array.from(await a.data());
  a.dispose();
  return values;
}

Deno.test("groupedOptimizer() clips the global gradient norm", async () => {
  // Gradient (3, 4) has norm 5: clipped to (0.6, 0.8); under a larger norm, left as it is.
  const [x, y] = await clippedStep("clip_test_a", 1);
  assertAlmostEquals(x, -0.6, 1e-6);
  assertAlmostEquals(y, -0.8, 1e-6);
  assertEquals(await clippedStep("clip_test_b", 10), [-3, -4]);
});

Deno.test({
  name: webgpuTestName("groupedOptimizer() clips the global gradient norm on webgpu"),
  ignore: noWebgpu,
  fn: async () => {
    await loadBackend("webgpu");
    await tf.setBackend("webgpu");
    try {
      const [x, y] = await clippedStep("clip_test_gpu", 1);
      assertAlmostEquals(x, -0.6, 1e-6);
      assertAlmostEquals(y, -0.8, 1e-6);
    } finally {
      await tf.setBackend("cpu"); // this file's other tests read synchronously
    }
  },
});

Deno.test("groupedOptimizer() state saved and restored continues bit for bit (SGD and Adam)", async () => {
  const settings: OptimizerSettings[] = [
    { type: "sgd", learningRate: 0.1, momentum: 0.9, nesterov: true },
    { type: "adam", learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  ];
  for (const [k, setting] of settings.entries()) {
    const name = `state_test_${k}`;
    const target = tf.tensor([0.3, -1.2, 2]);
    const loss = (v: import("@tensorflow/tfjs").Variable) => () =>
      tf.sum(tf.square(tf.sub(v, target))) as import("@tensorflow/tfjs").Scalar;
    // One optimizer for 6 steps, against 3 steps, save, a new optimizer restored, 3 steps.
    const whole = tf.variable(tf.tensor([1, 1, 1]), true, `${name}_whole`);
    const once = groupedOptimizer(tf, setting, [], [whole.name]);
    for (let i = 0; i < 6; i++) once.minimize(loss(whole));
    const split = tf.variable(tf.tensor([1, 1, 1]), true, `${name}_split`);
    const first = groupedOptimizer(tf, setting, [], [split.name]);
    for (let i = 0; i < 3; i++) first.minimize(loss(split));
    const saved = (await first.getWeights()).map((w) => ({
      name: w.name,
      tensor: w.tensor.clone(),
    }));
    const second = groupedOptimizer(tf, setting, [], [split.name]);
    await second.setWeights(saved);
    for (let i = 0; i < 3; i++) second.minimize(loss(split));
    assertEquals(Array.from(split.dataSync()), Array.from(whole.dataSync()), setting.type);
    assert(whole.dataSync()[0] !== 1, "it moved");
  }
});

/** Plain SGD and AdamW at learning rate 0.1 with weight decay 0.5: steps easy to compute by hand. */
const DECAYING: Record<"sgd" | "adamw", OptimizerSettings> = {
  sgd: { type: "sgd", learningRate: 0.1, momentum: 0, nesterov: false, weightDecay: 0.5 },
  adamw: {
    type: "adamw",
    learningRate: 0.1,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    weightDecay: 0.5,
  },
};

Deno.test("groupedOptimizer() applies SGD's L2 weight decay and AdamW's decoupled decay", () => {
  const w = tf.variable(tf.tensor([2]), true, "decay_test_sgd");
  groupedOptimizer(tf, DECAYING.sgd, [], [w.name]).minimize(() => tf.sum(tf.mul(w, 3)) as never);
  // w − lr·(g + wd·w) = 2 − 0.1·(3 + 1)
  assertAlmostEquals(w.dataSync()[0], 1.6, 1e-6);
  const v = tf.variable(tf.tensor([2]), true, "decay_test_adamw");
  groupedOptimizer(tf, DECAYING.adamw, [], [v.name]).minimize(() => tf.sum(tf.mul(v, 3)) as never);
  // w·(1 − lr·wd), then Adam's first step moves by lr·sign(g): 2·0.95 − 0.1
  assertAlmostEquals(v.dataSync()[0], 1.8, 1e-5);
  tf.dispose([w, v]);
});

Deno.test("groupedOptimizer() leaves decayExcluded variables undecayed (SGD and AdamW)", () => {
  const kernel = tf.variable(tf.tensor([2]), true, "spare_test_kernel");
  const bias = tf.variable(tf.tensor([2]), true, "spare_test_bias");
  groupedOptimizer(tf, DECAYING.sgd, [{ variables: new Set([bias.name]), learningRate: 0.1 }], [
    kernel.name,
    bias.name,
  ], { decayExcluded: new Set([bias.name]) })
    .minimize(() => tf.sum(tf.mul(tf.add(kernel, bias), 3)) as never);
  // Both gradients are 3: the kernel 2 − 0.1·(3 + 0.5·2), the bias (spared, in a group) 2 − 0.1·3.
  assertAlmostEquals(kernel.dataSync()[0], 1.6, 1e-6);
  assertAlmostEquals(bias.dataSync()[0], 1.7, 1e-6);
  const gamma = tf.variable(tf.tensor([2]), true, "spare_test_gamma");
  groupedOptimizer(tf, DECAYING.adamw, [], [gamma.name], { decayExcluded: new Set([gamma.name]) })
    .minimize(() => tf.sum(tf.mul(gamma, 3)) as never);
  // No 1 − lr·wd shrink: only Adam's first step of lr·sign(g).
  assertAlmostEquals(gamma.dataSync()[0], 1.9, 1e-5);
  tf.dispose([kernel, bias, gamma]);
});

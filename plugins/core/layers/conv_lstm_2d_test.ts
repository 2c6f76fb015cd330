import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { loadLayersModel, saveLayersModel, tf } from "../../../mod.ts";
import { ConvLstm2d } from "./conv_lstm_2d.ts";

function maxRelativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() =>
    tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] /
    Math.max(1e-6, tf.max(tf.abs(expected)).dataSync()[0])
  );
}

/** tfjs's ConvLSTM2D and ours with the same (random) weights on `[2, steps, 6, 5, 3]`. */
function pair(steps: number, goBackwards: boolean) {
  const stock = tf.layers.convLstm2d({
    filters: 4,
    kernelSize: 3,
    padding: "same",
    goBackwards,
    returnSequences: false,
  });
  const ours = new ConvLstm2d({ filters: 4, kernelSize: 3, goBackwards });
  const shape = [2, steps, 6, 5, 3];
  const x = tf.randomUniform(shape, -1, 1, "float32", 3);
  // The first call builds the weights.
  stock.apply(x);
  ours.apply(x);
  const weights = stock.getWeights().map((w, i) =>
    tf.randomUniform(w.shape, -0.5, 0.5, "float32", 7 + i)
  );
  stock.setWeights(weights);
  ours.setWeights(weights);
  return { stock, ours, x };
}

Deno.test("ConvLstm2d has tfjs ConvLSTM2D's weights, output and gradients", () => {
  for (const steps of [1, 2, 3]) {
    for (const goBackwards of [false, true]) {
      const { stock, ours, x } = pair(steps, goBackwards);
      assertEquals(
        ours.getWeights().map((w) => w.shape),
        stock.getWeights().map((w) => w.shape),
      );
      const expected = stock.apply(x) as tf.Tensor;
      const actual = ours.apply(x) as tf.Tensor;
      assertEquals(actual.shape, [2, 6, 5, 4]);
      const where = `${steps} steps, goBackwards ${goBackwards}`;
      assertEquals(maxRelativeError(actual, expected) < 1e-5, true, where);
      // One step never reads the recurrent kernel: no gradient to compare.
      if (steps === 1) continue;
      // Gradients of a weighted sum with respect to every weight and the input.
      const gradients = (layer: tf.layers.Layer) => {
        const w = tf.randomUniform([2, 6, 5, 4], -1, 1, "float32", 11);
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, w)) as tf.Scalar,
          layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val),
        );
        return Object.values(grads);
      };
      const ge = gradients(stock), ga = gradients(ours);
      assertEquals(ga.length, 3);
      ga.forEach((g, i) => {
        assertEquals(maxRelativeError(g, ge[i]) < 1e-4, true, `${where}, gradient ${i}`);
      });
    }
  }
});

Deno.test("ConvLstm2d starts with the forget gate's bias at 1, like Keras", () => {
  const layer = new ConvLstm2d({ filters: 2, kernelSize: 3 });
  layer.build([null, 2, 4, 4, 1]);
  assertEquals(Array.from(layer.getWeights()[2].dataSync()), [0, 0, 1, 1, 0, 0, 0, 0]);
});

Deno.test("ConvLstm2d rejects inputs that are not sequences of images", () => {
  const layer = new ConvLstm2d({ filters: 2, kernelSize: 3, name: "lstm" });
  assertThrows(
    () => layer.build([null, 4, 4, 1]),
    RangeError,
    "lstm needs [batch, steps, height, width, channels] inputs with known channels, not [, 4, 4, 1]",
  );
});

Deno.test("a model with ConvLstm2d saves and loads back with the same output", async () => {
  const input = tf.input({ shape: [2, 4, 4, 2] });
  const output = new ConvLstm2d({
    filters: 3,
    kernelSize: 3,
    goBackwards: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    recurrentInitializer: tf.initializers.glorotUniform({ seed: 2 }),
  }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  const dir = await Deno.makeTempDir();
  try {
    await saveLayersModel(model, dir);
    const loaded = await loadLayersModel(dir);
    const x = tf.randomUniform([1, 2, 4, 4, 2], -1, 1, "float32", 5);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    assertEquals(Array.from(b), Array.from(a));
    assertEquals(a.every(Number.isFinite) && a.some((v) => v !== 0), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

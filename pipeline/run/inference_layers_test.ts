import { assert, assertEquals } from "../../tests/assert.ts";
import { loadBackend, tf } from "../../mod.ts";
import {
  holdInInference,
  holdLayersInInference,
  isHeldInInference,
  layersHeldInInference,
} from "./inference_layers.ts";

await loadBackend("cpu");

/** A batch norm over one channel whose moving statistics are mean 1, variance 4. */
function batchNorm() {
  const layer = tf.layers.batchNormalization({
    axis: 1,
    epsilon: 0,
    momentum: 0.5,
    movingMeanInitializer: tf.initializers.constant({ value: 1 }),
    movingVarianceInitializer: tf.initializers.constant({ value: 4 }),
  });
  layer.build([null, 1]);
  return layer;
}

const values = (t: tf.Tensor) => Array.from(t.dataSync());

Deno.test("a held batch norm trains with its moving statistics and leaves them as they are", () => {
  const layer = batchNorm();
  const x = tf.tensor2d([[1], [3], [5], [7]]); // batch mean 4, variance 5
  holdInInference(layer, true);
  // (x − 1) / √4, the moving statistics' normalisation, though training is asked for.
  assertEquals(values(layer.apply(x, { training: true }) as tf.Tensor), [0, 1, 2, 3]);
  assertEquals(values(layer.getWeights()[2]), [1]);
  assertEquals(values(layer.getWeights()[3]), [4]);

  holdInInference(layer, false);
  const y = values(layer.apply(x, { training: true }) as tf.Tensor);
  // Released: the batch's statistics, (x − 4) / √5, and the moving ones move halfway to them.
  y.forEach((v, i) => assert(Math.abs(v - ([1, 3, 5, 7][i] - 4) / Math.sqrt(5)) < 1e-6, `${y}`));
  assertEquals(values(layer.getWeights()[2]), [2.5]);
  tf.dispose(x);
});

Deno.test("holding is idempotent and names the held layers of a model", () => {
  const input = tf.input({ shape: [1] });
  const norm = tf.layers.batchNormalization({ name: "norm" });
  const dense = tf.layers.dense({ units: 1, name: "dense" });
  const model = tf.model({
    inputs: input,
    outputs: dense.apply(norm.apply(input)) as tf.SymbolicTensor,
  });
  holdInInference(norm, true);
  holdInInference(norm, true);
  assertEquals(layersHeldInInference(model), ["norm"]);
  holdLayersInInference(model, ["dense"]);
  assertEquals(layersHeldInInference(model), ["dense"]);
  assert(!isHeldInInference(norm));
  holdInInference(norm, false); // not held: nothing to undo
  assertEquals(Object.hasOwn(norm, "call"), false);
  holdLayersInInference(model, []);
  assertEquals(layersHeldInInference(model), []);
  model.dispose();
});

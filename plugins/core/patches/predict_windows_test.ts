import { assertEquals } from "../../../tests/assert.ts";
import { tf } from "../../../mod.ts";
import { flipCombinations, predictWindows } from "./predict_windows.ts";

/** A 1×3 convolution [1, 0, 0]: each pixel's prediction is its left neighbour's value (0 at the edge). */
function leftNeighbour(window: number) {
  const input = tf.input({ shape: [window, window, 1] });
  const output = tf.layers.conv2d({
    filters: 1,
    kernelSize: [1, 3],
    padding: "same",
    useBias: false,
    weights: [tf.tensor4d([1, 0, 0], [1, 3, 1, 1])],
  }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

Deno.test("predictWindows() with a transposed flip averages in the upper neighbour too", async () => {
  await tf.setBackend("cpu");
  // 3 × 2:  1 2 3
  //         4 5 6
  const image = { width: 3, height: 2, channels: 1, data: new Float32Array([1, 2, 3, 4, 5, 6]) };
  const model = leftNeighbour(4);
  const how = { window: 4, stride: 4, batchSize: 4 };
  const plain = await predictWindows(tf, model, image, how);
  assertEquals([...plain.data], [0, 1, 2, 0, 4, 5]); // left neighbours
  // Transposed, the left neighbour is the one above: (left + above) / 2.
  const both = await predictWindows(tf, model, image, {
    ...how,
    flips: flipCombinations(["transpose"]),
  });
  assertEquals([both.width, both.height], [3, 2]);
  assertEquals([...both.data], [0, 0.5, 1, 0.5, 3, 4]);
  // All 8 symmetries: each of the four neighbours twice, so their mean, 0 beyond the edge.
  const all = await predictWindows(tf, model, image, {
    ...how,
    flips: flipCombinations(["horizontal", "vertical", "transpose"]),
  });
  const neighbours = [
    (2 + 4) / 4,
    (1 + 3 + 5) / 4,
    (2 + 6) / 4,
    (1 + 5) / 4,
    (2 + 4 + 6) / 4,
    (3 + 5) / 4,
  ];
  assertEquals([...all.data].map((v) => Number(v.toFixed(6))), neighbours);
  model.dispose();
});

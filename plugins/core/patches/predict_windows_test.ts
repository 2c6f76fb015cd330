import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import { random } from "../../../tests/random_data.ts";
import { CapillaryError, loadBackend, PredictionWorkers, tf } from "../../../mod.ts";
import { BCDUNET_LAYER_MODULES, buildBcduNet } from "../_bcdunet.ts";
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

Deno.test("predictWindows() on prediction workers gives this thread's probabilities bit for bit", async () => {
  await loadBackend("wasm");
  await tf.setBackend("wasm");
  // Custom layers (batch norm, ConvLSTM) rebuilt in the workers from the modules that register them.
  const config = { width: 2, dense: 1 as const, dropout: 0, seed: 5, batchNorm: true };
  const model = buildBcduNet(tf, config, 24, 1);
  const image = { width: 20, height: 24, channels: 1, data: random(20 * 24, 9) };
  const how = { window: 24, stride: 24, batchSize: 4, flips: flipCombinations(["horizontal"]) };
  const workers = await PredictionWorkers.start(2, model, BCDUNET_LAYER_MODULES);
  try {
    const windows: number[] = [];
    const there = await predictWindows(tf, model, image, {
      ...how,
      workers: workers.batchPredictors(24, 1),
    }, (n) => windows.push(n));
    const here = await predictWindows(tf, model, image, how);
    assertEquals(windows, [1, 1]); // the image and its mirror, a batch each
    assertEquals(there.data.every((v, i) => Object.is(v, here.data[i])), true);
    assertEquals(new Set(here.data).size > 1, true); // not a constant map
  } finally {
    await workers.close();
    model.dispose();
    await tf.setBackend("cpu");
  }
});

Deno.test("prediction workers without the modules of a network's custom layers say what to do", async () => {
  await loadBackend("wasm");
  const config = { width: 2, dense: 1 as const, dropout: 0, seed: 5, batchNorm: true };
  const model = buildBcduNet(tf, config, 16, 1);
  try {
    const error = await assertRejects(() => PredictionWorkers.start(1, model, []), CapillaryError);
    assertEquals(error.code, "E_WORKERS");
    if (!/layerModules.*evaluate\.workers to 1/.test(error.message)) throw new Error(error.message);
  } finally {
    model.dispose();
  }
});

Deno.test("predictWindows() that runs out of memory says what to make smaller", async () => {
  await tf.setBackend("cpu");
  const image = { width: 40, height: 24, channels: 1, data: new Float32Array(40 * 24) };
  const model = leftNeighbour(40);
  // What a prediction worker relayed when wasm's 4 GiB ran out (a 4096 × 4096 image whole).
  const exhausted = () =>
    Promise.reject(
      new Error("A prediction worker failed: RuntimeError: memory access out of bounds"),
    );
  const whole = await assertRejects(
    () =>
      predictWindows(tf, model, image, {
        window: 40,
        stride: 40,
        batchSize: 1,
        workers: [exhausted],
      }),
    CapillaryError,
  );
  assertEquals(whole.code, "E_OUT_OF_MEMORY");
  assertEquals(
    whole.message,
    "Predicting a 40 × 24 image whole, in one 40 × 40 window, ran out of memory on cpu " +
      "(A prediction worker failed: RuntimeError: memory access out of bounds; JavaScript's heap). " +
      "Predict in smaller windows, one at a time: evaluate.window: 16 and evaluate.batchSize: 1 in the " +
      "recipe, or --window 16 --batch-size 1 with deno task predict",
  );
  const windows = await assertRejects(
    () =>
      predictWindows(tf, model, image, {
        window: 16,
        stride: 8,
        batchSize: 4,
        workers: [exhausted],
      }),
    CapillaryError,
  );
  assertEquals(
    windows.message.startsWith(
      "Predicting a 40 × 24 image in 16 × 16 windows, 4 at a time, ran out",
    ),
    true,
    windows.message,
  );
  assertEquals(
    windows.message.endsWith(
      "Predict fewer windows at a time: evaluate.batchSize: 1 in the recipe, or --batch-size 1 with deno task predict",
    ),
    true,
    windows.message,
  );
  // Any other failure is passed on as it was.
  const other = new TypeError("a bug");
  const thrown = await assertRejects(
    () =>
      predictWindows(tf, model, image, {
        window: 40,
        stride: 40,
        batchSize: 1,
        workers: [() => Promise.reject(other)],
      }),
  );
  assertEquals(thrown, other);
});

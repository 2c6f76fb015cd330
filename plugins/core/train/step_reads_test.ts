import { assertEquals } from "../../../tests/assert.ts";
import { loadBackend, tf } from "../../../mod.ts";
import { readSteps, trainStepUnread } from "./step_reads.ts";
import { noWebgpu as ignore, webgpuTestName as named } from "../../../tests/webgpu_adapter.ts";

await loadBackend("wasm");

/** A convolution, batch norm and a sigmoid head, built the same from the same seeds. */
function smallNet(): import("@tensorflow/tfjs").LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  let x = tf.layers.conv2d({
    filters: 4,
    kernelSize: 3,
    padding: "same",
    kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
  })
    .apply(input) as import("@tensorflow/tfjs").SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  x = tf.layers.reLU().apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  const output = tf.layers.conv2d({
    filters: 1,
    kernelSize: 1,
    activation: "sigmoid",
    kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
  }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  model.compile({ optimizer: tf.train.momentum(0.1, 0.9, true), loss: "binaryCrossentropy" });
  return model;
}

function batches(count: number) {
  return [...Array(count).keys()].map((i) => ({
    x: tf.randomUniform([2, 8, 8, 1], 0, 1, "float32", 10 + i),
    y: tf.tidy(() =>
      tf.randomUniform([2, 8, 8, 1], 0, 1, "float32", 20 + i).greater(0.7).cast("float32")
    ),
  }));
}

/** Trains two copies of one network on the same 3 batches, by trainOnBatch and trainStepUnread. */
async function assertTrainsAsTrainOnBatch(backend: string): Promise<void> {
  await tf.setBackend(backend);
  {
    const data = batches(3);
    const byTrainOnBatch = smallNet();
    const unread = smallNet();
    const expected: number[] = [];
    const losses: import("@tensorflow/tfjs").Tensor[] = [];
    for (const { x, y } of data) {
      expected.push(await byTrainOnBatch.trainOnBatch(x, y) as number);
      losses.push(trainStepUnread(unread, x, y));
    }
    const read = await readSteps(tf, losses, unread);
    assertEquals(read.losses, expected, backend);
    const values = (model: import("@tensorflow/tfjs").LayersModel) =>
      Promise.all(model.getWeights().map(async (w) => [...await w.data()]));
    const a = await values(byTrainOnBatch);
    const b = await values(unread);
    assertEquals(b, a, `${backend}: the weights after 3 steps`);
    tf.dispose(data.flatMap(({ x, y }) => [x, y]));
  }
  await tf.setBackend("cpu");
}

Deno.test("trainStepUnread trains bit for bit as trainOnBatch, on cpu and wasm", async () => {
  await assertTrainsAsTrainOnBatch("cpu");
  await assertTrainsAsTrainOnBatch("wasm");
});

Deno.test({
  name: named("trainStepUnread trains bit for bit as trainOnBatch on webgpu"),
  ignore,
  fn: async () => {
    await loadBackend("webgpu");
    await assertTrainsAsTrainOnBatch("webgpu");
  },
});

Deno.test("readSteps reads losses and weights back in one read and disposes the losses", async () => {
  await tf.setBackend("cpu");
  const model = smallNet();
  const before = tf.memory().numTensors;
  const losses = [tf.scalar(0.25), 0.5, tf.scalar(0.125)];
  const data = tf.Tensor.prototype.data;
  let reads = 0;
  tf.Tensor.prototype.data = function (this: import("@tensorflow/tfjs").Tensor) {
    reads++;
    return data.call(this);
  } as typeof data;
  try {
    const read = await readSteps(tf, losses, model);
    assertEquals(read.losses, [0.25, 0.5, 0.125]);
    assertEquals(read.nonFiniteWeight, undefined);
  } finally {
    tf.Tensor.prototype.data = data;
  }
  assertEquals(reads, 1);
  assertEquals(tf.memory().numTensors, before, "the loss tensors are disposed");
});

Deno.test("readSteps names the first weight that is not finite, and its value", async () => {
  await tf.setBackend("cpu");
  const model = smallNet();
  const named = (suffix: string) => model.weights.find((w) => w.name.endsWith(suffix))!;
  const variance = named("moving_variance");
  variance.write(tf.tensor1d([1, 1, -Infinity, 1]));
  const read = await readSteps(tf, [], model);
  assertEquals(read.nonFiniteWeight, { name: variance.name, value: -Infinity });
  // With a weight before it broken too, that one is named.
  const bias = model.weights[1];
  bias.write(tf.tensor1d([0, NaN, 0, 0]));
  const first = await readSteps(tf, [], model);
  assertEquals(first.nonFiniteWeight?.name, bias.name);
  assertEquals(Number.isNaN(first.nonFiniteWeight?.value), true);
});

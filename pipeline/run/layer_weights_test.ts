import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { CapillaryError, loadBackend, saveLayersModel, tf } from "../../mod.ts";
import {
  layerWeights,
  pairLayerWeights,
  plannedLayers,
  savedLayerWeights,
} from "./layer_weights.ts";

await loadBackend("cpu");

/** A convolution, a batch norm and a 1×1 head, named. */
function net(filters: number): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  let x = tf.layers.conv2d({ filters, kernelSize: 3, name: "enc" }).apply(input);
  x = tf.layers.batchNormalization({ name: "enc_bn" }).apply(x);
  x = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "head" }).apply(x);
  return tf.model({ inputs: input, outputs: x as tf.SymbolicTensor });
}

Deno.test("layerWeights() and plannedLayers() list each layer's class and weight shapes", () => {
  const model = net(4);
  assertEquals(layerWeights(model), [
    {
      name: "enc",
      className: "Conv2D",
      weights: [{ name: "kernel", shape: [3, 3, 1, 4] }, { name: "bias", shape: [4] }],
    },
    {
      name: "enc_bn",
      className: "BatchNormalization",
      weights: ["gamma", "beta", "moving_mean", "moving_variance"].map((name) => ({
        name,
        shape: [4],
      })),
    },
    {
      name: "head",
      className: "Conv2D",
      weights: [{ name: "kernel", shape: [1, 1, 4, 1] }, { name: "bias", shape: [1] }],
    },
  ]);
  // 3·3·1·4 + 4 = 40, 4·4 = 16, 4 + 1 = 5.
  assertEquals(plannedLayers(model).map((l) => l.parameters), [40, 16, 5]);
  model.dispose();
});

Deno.test("savedLayerWeights() reads a saved model's layers without loading it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = net(4);
    // Saved while frozen, the batch norm's weights follow the trainable ones in the manifest.
    model.getLayer("enc_bn").trainable = false;
    await saveLayersModel(model, dir);
    model.getLayer("enc_bn").trainable = true;
    assertEquals(await savedLayerWeights(dir), layerWeights(model));
    model.dispose();

    await Deno.writeTextFile(`${dir}/model.json`, '{"format": "layers-model"}');
    const error = await assertRejects(() => savedLayerWeights(dir), CapillaryError);
    assertEquals(error.code, "E_MODEL_FROM");
    assert(error.message.includes("is not a saved network"), error.message);
    await Deno.writeTextFile(`${dir}/model.json`, "{ truncated");
    await assertRejects(() => savedLayerWeights(dir), CapillaryError, "Cannot read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pairLayerWeights() pairs by name in any order and names what differs", () => {
  const narrow = net(4), wide = net(8);
  const source = layerWeights(narrow);
  assertEquals(pairLayerWeights([...source].reverse(), source), [2, 1, 0]);
  assertEquals(
    assertThrows(() => pairLayerWeights(source, layerWeights(wide))).message,
    'layer "enc" has weight enc/kernel of shape [3,3,1,8] here but [3,3,1,4] there',
  );
  assertEquals(
    assertThrows(() => pairLayerWeights(source.slice(1), source)).message,
    'it has no layer "enc"',
  );
  assertEquals(
    assertThrows(() => pairLayerWeights(source, source.slice(0, 2))).message,
    'this network has no layer "head"',
  );
  narrow.dispose();
  wide.dispose();
});

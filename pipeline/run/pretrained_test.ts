import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { CapillaryError } from "../errors.ts";
import { loadBackend } from "../backend/select.ts";
import { tf } from "../backend/tfjs.ts";
import { copyWeightsByLayer, resolveModelFrom } from "./pretrained.ts";

await loadBackend("cpu");

const at = { file: "recipes/x.yaml", line: 7, column: 11 };

async function touch(path: string): Promise<void> {
  await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
  await Deno.writeTextFile(path, "{}");
}

Deno.test("resolveModelFrom() takes a model folder, a run folder or the newest finished run", async () => {
  const root = await Deno.makeTempDir({ prefix: "capillary-from-" });
  try {
    await touch(`${root}/runs/a/2026-11-01T10-00-00Z/model/model.json`);
    await touch(`${root}/runs/a/2026-11-01T10-00-00Z/metrics.json`);
    await touch(`${root}/runs/a/2026-11-02T10-00-00Z/model/model.json`);
    await touch(`${root}/runs/a/2026-11-02T10-00-00Z/metrics.json`);
    // The newest run was killed before it finished: no metrics.json.
    await touch(`${root}/runs/a/2026-11-03T10-00-00Z/model/model.json`);
    const base = `${root}/recipes`;
    assertEquals(
      await resolveModelFrom("../runs/a", base, at),
      `${root}/runs/a/2026-11-02T10-00-00Z/model`,
    );
    assertEquals(
      await resolveModelFrom("../runs/a/2026-11-01T10-00-00Z", base, at),
      `${root}/runs/a/2026-11-01T10-00-00Z/model`,
    );
    assertEquals(
      await resolveModelFrom(`${root}/runs/a/2026-11-03T10-00-00Z/model`, base, at),
      `${root}/runs/a/2026-11-03T10-00-00Z/model`,
    );
    const missing = await assertRejects(
      () => resolveModelFrom("../runs/b", base, at),
      CapillaryError,
    );
    assertEquals(missing.code, "E_MODEL_FROM");
    assert(missing.message.startsWith('recipes/x.yaml:7:11: stages.model.from: "../runs/b"'));
    await Deno.mkdir(`${root}/runs/empty`);
    const empty = await assertRejects(
      () => resolveModelFrom("../runs/empty", base, at),
      CapillaryError,
    );
    assert(empty.message.includes("no finished run with a saved model"), empty.message);
    // A run killed before it wrote model/: say so, and how to finish it.
    await touch(`${root}/runs/a/2026-11-04T10-00-00Z/recipe.resolved.yaml`);
    const killed = await assertRejects(
      () => resolveModelFrom("../runs/a/2026-11-04T10-00-00Z", base, at),
      CapillaryError,
    );
    assert(killed.message.includes("is a run that has not finished: it has no model/ yet"));
    assert(killed.message.includes("deno task run --resume"), killed.message);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

function net(filters: number, extra = false): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  let x = tf.layers.conv2d({ filters, kernelSize: 3, padding: "same", name: "enc" })
    .apply(input) as tf.SymbolicTensor;
  if (extra) x = tf.layers.conv2d({ filters, kernelSize: 1, name: "more" }).apply(x) as typeof x;
  x = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "head" }).apply(x) as typeof x;
  return tf.model({ inputs: input, outputs: x });
}

Deno.test("copyWeightsByLayer() copies by layer name, at any input size", () => {
  const source = net(4);
  const input = tf.input({ shape: [16, 16, 1] }); // another patch size, same weights
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "enc" })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "head" }).apply(x) as typeof x;
  const target = tf.model({ inputs: input, outputs: x });
  assertEquals(copyWeightsByLayer(source, target, "runs/a"), 4);
  assertEquals(
    target.getWeights().map((w) => Array.from(w.dataSync())),
    source.getWeights().map((w) => Array.from(w.dataSync())),
  );
});

Deno.test("copyWeightsByLayer() says which layer or shape differs", () => {
  const wider = assertThrows(() => copyWeightsByLayer(net(4), net(8), "runs/a"), CapillaryError);
  assert(
    wider.message.includes(
      'layer "enc" has weight enc/kernel of shape [3,3,1,8] here but [3,3,1,4]',
    ),
    wider.message,
  );
  assert(wider.message.includes("recipe.resolved.yaml"));
  const deeper = assertThrows(
    () => copyWeightsByLayer(net(4), net(4, true), "runs/a"),
    CapillaryError,
  );
  assert(deeper.message.includes('it has no layer "more"'), deeper.message);
});

/** A network whose layers tfjs names (conv2d_Conv2D7, ...): each build names them anew. */
function unnamedNet(filters: number, size = 8): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 1] });
  let x = tf.layers.conv2d({ filters, kernelSize: 3, padding: "same" }).apply(input);
  x = tf.layers.batchNormalization().apply(x);
  x = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

Deno.test("copyWeightsByLayer() pairs layers without names by their place", () => {
  const source = unnamedNet(4);
  const target = unnamedNet(4, 16);
  // The names differ: the second build counted on.
  assert(source.layers[1].name !== target.layers[1].name, target.layers[1].name);
  assertEquals(copyWeightsByLayer(source, target, "the trained network"), 8);
  assertEquals(
    target.getWeights().map((w) => Array.from(w.dataSync())),
    source.getWeights().map((w) => Array.from(w.dataSync())),
  );
  // Same classes in the same order but other shapes: said as for named layers.
  const wider = assertThrows(() => copyWeightsByLayer(unnamedNet(4), unnamedNet(8), "runs/a"));
  assert(
    /has weight conv2d_Conv2D\d+\/kernel of shape \[3,3,1,8\] here but \[3,3,1,4\]/
      .test(wider.message),
    wider.message,
  );
});

Deno.test("copyWeightsByLayer() says to name the layers when unnamed ones cannot be paired", () => {
  const error = assertThrows(
    () => copyWeightsByLayer(unnamedNet(4), net(4), "the trained network"),
    CapillaryError,
  );
  assert(error.message.includes('it has no layer "enc", "head"'), error.message);
  assert(error.message.includes("name every layer with weights"), error.message);
});

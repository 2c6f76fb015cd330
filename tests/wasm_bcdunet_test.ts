// The core network trained on wasm through the engine's own loading path
// (which registers the training kernels before the backend initialises).
import { AssertionError } from "./assert.ts";
import { random } from "./random_data.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { loadBackend, tf } from "../mod.ts";

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

await loadBackend("wasm");

type Weights = { data: Float32Array; shape: number[] }[];

/** Three training steps of a width-2 BCDU-Net from the given weights. */
async function trainBcdu(backend: string, initial: Weights) {
  await tf.setBackend(backend);
  const model = buildBcduNet(tf, { width: 2, dense: 1, dropout: 0.5, seed: 1 }, 48, 1);
  model.setWeights(initial.map((w) => tf.tensor(w.data, w.shape)));
  model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: "binaryCrossentropy" });
  const x = tf.tensor(random(2 * 48 * 48, 11).map((v) => (v + 1) / 2), [2, 48, 48, 1]);
  const y = tf.tensor(random(2 * 48 * 48, 12).map((v) => (v > 0 ? 1 : 0)), [2, 48, 48, 1]);
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) losses.push(await model.trainOnBatch(x, y) as number);
  const updates = model.getWeights().map((w, i) =>
    (w.dataSync() as Float32Array).map((v, k) => v - initial[i].data[k])
  );
  tf.dispose([x, y]);
  model.dispose();
  return { losses, updates };
}

Deno.test("BCDU-Net trains on wasm as on cpu", async () => {
  await tf.setBackend("cpu");
  const reference = buildBcduNet(tf, { width: 2, dense: 1, dropout: 0.5, seed: 1 }, 48, 1);
  const initial = reference.getWeights().map((w) => ({
    data: w.dataSync() as Float32Array,
    shape: w.shape,
  }));
  reference.dispose();
  const cpu = await trainBcdu("cpu", initial);
  const wasm = await trainBcdu("wasm", initial);
  for (let i = 0; i < 3; i++) {
    const error = Math.abs(wasm.losses[i] - cpu.losses[i]) / Math.abs(cpu.losses[i]);
    assert(error < 1e-3, `step ${i}: wasm loss ${wasm.losses[i]} vs cpu ${cpu.losses[i]}`);
  }
  // The losses barely move in three steps, so compare what the steps did to
  // each weight tensor too. A float32 weight w resolves a change only to
  // about ulp(w), and ReLUs near zero make the two runs drift apart by a few
  // percent over three steps; a wrong gradient kernel is off by ~100%.
  let changed = 0;
  for (const [i, expected] of cpu.updates.entries()) {
    let diff = 0;
    let scale = 0;
    let weight = 0;
    for (const [k, v] of expected.entries()) {
      diff = Math.max(diff, Math.abs(wasm.updates[i][k] - v));
      scale = Math.max(scale, Math.abs(v));
      weight = Math.max(weight, Math.abs(initial[i].data[k]));
    }
    if (scale > 1e-7) changed++;
    const tolerance = 0.05 * scale + 4 * weight * 2 ** -23 + 1e-9;
    assert(
      diff <= tolerance,
      `weight ${i} ${initial[i].shape}: updates differ by ${diff} (largest ${scale})`,
    );
  }
  assert(changed > cpu.updates.length / 2, `training changed only ${changed} weights`);
});

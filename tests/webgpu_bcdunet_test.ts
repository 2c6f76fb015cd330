// The core network's gradients on webgpu (through the engine's loading path, which patches the
// backend's kernels) against cpu's, for one batch: tfjs-backend-webgpu 4.22's rank-5 pad, the
// gradient of the ConvLSTM's per-step slice, once made every weight's gradient wrong from the
// decoder down, and the loss was NaN by the second step.
import { assert } from "./assert.ts";
import { random } from "./random_data.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { weightedBinaryCrossentropy } from "../plugins/core/train/weighted_bce.ts";
import { holdInInference, loadBackend, tf } from "../mod.ts";
import { noWebgpu as ignore, webgpuTestName } from "./webgpu_adapter.ts";

// The suite checks width 4. `CAPILLARY_WEBGPU_TEST_WIDTH=64` checks drive-full.yaml's paper
// width (on 2 patches, about 3 minutes on lavapipe): a manual check before a GPU run.
const width = Number(Deno.env.get("CAPILLARY_WEBGPU_TEST_WIDTH") ?? 4);
const batch = width > 16 ? 2 : 4;

/**
 * Each trainable weight's gradient, by the weight's name, for one batch on `backend`; with
 * `held`, the encoder's batch norms frozen and held in inference (`frozenBatchNorm: inference`).
 */
async function gradients(backend: string, held = false): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend);
  const config = { width, dense: 1, dropout: 0, seed: 1, batchNorm: true } as const;
  const model = buildBcduNet(tf, config, 48, 1);
  for (const layer of model.layers) {
    if (held && /^down.*_bn$/.test(layer.name)) {
      layer.trainable = false;
      holdInInference(layer, true);
    }
  }
  const shape = [batch, 48, 48, 1];
  const x = tf.tensor(random(batch * 48 * 48, 21), shape);
  const y = tf.tensor(random(batch * 48 * 48, 22).map((v) => (v > 0.75 ? 1 : 0)), shape);
  const loss = weightedBinaryCrossentropy(tf, 0.55);
  const { value, grads } = tf.variableGrads(() =>
    tf.mean(loss(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar
  );
  const out = new Map<string, Float32Array>();
  for (const weight of model.trainableWeights) {
    const key = (weight as unknown as { val: tf.Variable }).val.name;
    out.set(weight.originalName, await grads[key].data() as Float32Array);
  }
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

/** Checks webgpu's gradients against the reference backend's, weight by weight. */
async function compareBackends(held: boolean): Promise<void> {
  await loadBackend("webgpu");
  // wasm's kernels are checked against cpu's elsewhere, and are far faster at width 64.
  const reference = width > 16 ? "wasm" : "cpu";
  await loadBackend(reference);
  const cpu = await gradients(reference, held);
  const webgpu = await gradients("webgpu", held);
  assert(cpu.size === webgpu.size && cpu.size > 50, `${cpu.size} and ${webgpu.size} weights`);
  for (const [name, expected] of cpu) {
    const got = webgpu.get(name)!;
    let diff = 0, norm = 0;
    for (const [k, v] of expected.entries()) {
      diff += (got[k] - v) ** 2;
      norm += v * v;
    }
    // The transposed convolutions' biases feed batch norm: their gradient is 0 but for
    // rounding (about 1e-10), so only an absolute bound applies; a wrong kernel is off by 100 %.
    assert(
      Math.sqrt(diff) <= 0.01 * Math.sqrt(norm) + 1e-8,
      `${name}: gradients differ by ${Math.sqrt(diff)} (L2), against ${Math.sqrt(norm)}`,
    );
  }
}

Deno.test({
  name: webgpuTestName(
    `BCDU-Net (width ${width}) with batch norm has the same gradients on webgpu as on cpu`,
  ),
  ignore,
  fn: () => compareBackends(false),
});

Deno.test({
  name: webgpuTestName(
    `BCDU-Net (width ${width}) with frozen batch norms held in inference: the same on webgpu`,
  ),
  ignore,
  fn: () => compareBackends(true),
});

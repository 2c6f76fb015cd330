import { assert, assertEquals } from "../../../tests/assert.ts";
import { loadBackend, tf } from "../../../mod.ts";
import { fusedMomentum, MOMENTUM_STEP, registerMomentumKernel } from "./fused_momentum.ts";
import { noWebgpu, webgpuTestName } from "../../../tests/webgpu_adapter.ts";

await loadBackend("wasm");

/**
 * Five steps of `optimizer` on a quadratic of four variables; their values after each step (read
 * asynchronously: webgpu in Deno has no synchronous read).
 */
async function fiveSteps(make: () => tf.Optimizer, prefix: string): Promise<number[][]> {
  const shapes = [[3, 2], [5], [1], [4, 4, 2, 3]];
  const variables = shapes.map((shape, i) =>
    tf.variable(tf.randomUniform(shape, -1, 1, "float32", 10 + i), true, `${prefix}_${i}`)
  );
  const targets = shapes.map((shape, i) => tf.randomUniform(shape, -2, 2, "float32", 20 + i));
  const optimizer = make();
  const values: number[][] = [];
  for (let step = 0; step < 5; step++) {
    optimizer.minimize(() =>
      tf.addN(variables.map((v, i) => tf.sum(tf.square(tf.sub(v, targets[i]))))) as tf.Scalar
    );
    const read = await Promise.all(variables.map(async (v) => Array.from(await v.data())));
    values.push(read.flat());
  }
  tf.dispose([...variables, ...targets]);
  optimizer.dispose();
  return values;
}

Deno.test("fusedMomentum() updates bit for bit as tfjs's momentum optimizer, on wasm and cpu", async () => {
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    for (const nesterov of [false, true]) {
      const where = `${backend}, nesterov ${nesterov}`;
      const stock = await fiveSteps(() => tf.train.momentum(0.05, 0.9, nesterov), `stock_${where}`);
      const fused = await fiveSteps(() => fusedMomentum(tf, 0.05, 0.9, nesterov), `fused_${where}`);
      assertEquals(fused, stock, where);
      assert(stock[4].join() !== stock[0].join(), "the variables moved");
    }
  }
});

/** tfjs's momentum optimizer on `g + decay · w`, each gradient decayed by tfjs's own ops. */
function stockWithDecay(rate: number, momentum: number, nesterov: boolean, decay: number) {
  const optimizer = tf.train.momentum(rate, momentum, nesterov);
  const stock = optimizer.applyGradients.bind(optimizer);
  optimizer.applyGradients = (given) => {
    const decayed = Object.entries(given as tf.NamedTensorMap).map(([name, gradient]) => ({
      name,
      tensor: tf.tidy(() => tf.add(gradient, tf.mul(tf.engine().registeredVariables[name], decay))),
    }));
    stock(decayed);
    tf.dispose(decayed.map((d) => d.tensor));
  };
  return optimizer;
}

Deno.test("fusedMomentum() with weight decay steps on g + decay · w, bit for bit, with and without its kernel", async () => {
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    for (const nesterov of [false, true]) {
      const where = `${backend}, nesterov ${nesterov}`;
      const stock = await fiveSteps(
        () => stockWithDecay(0.05, 0.9, nesterov, 0.03),
        `stock_wd_${where}`,
      );
      const fused = await fiveSteps(
        () => fusedMomentum(tf, 0.05, 0.9, nesterov, 0.03),
        `fused_wd_${where}`,
      );
      assertEquals(fused, stock, where);
      const plain = await fiveSteps(
        () => fusedMomentum(tf, 0.05, 0.9, nesterov),
        `plain_wd_${where}`,
      );
      assert(plain[4].join() !== fused[4].join(), "the decay changed the steps");
    }
  }
  // Where the backend lacks the kernel (tensorflow), the decay is added by tfjs's ops.
  await tf.setBackend("cpu");
  const kernel = tf.getKernel(MOMENTUM_STEP, "cpu")!;
  tf.unregisterKernel(MOMENTUM_STEP, "cpu");
  try {
    const fused = await fiveSteps(() => {
      const optimizer = fusedMomentum(tf, 0.05, 0.9, true, 0.03);
      tf.unregisterKernel(MOMENTUM_STEP, "cpu"); // fusedMomentum registers it again
      return optimizer;
    }, "fallback_wd");
    assertEquals(
      fused,
      await fiveSteps(() => stockWithDecay(0.05, 0.9, true, 0.03), "stock_fallback_wd"),
    );
  } finally {
    if (!tf.getKernel(MOMENTUM_STEP, "cpu")) tf.registerKernel(kernel);
    registerMomentumKernel(tf);
  }
});

Deno.test("fusedMomentum() runs one kernel per variable, and keeps tfjs's state", async () => {
  await tf.setBackend("wasm");
  const w = tf.variable(tf.tensor([1, 2, 3]), true, "fused_state_w");
  const b = tf.variable(tf.scalar(1), true, "fused_state_b");
  const optimizer = fusedMomentum(tf, 0.1, 0.5, true);
  const loss = () => tf.add(tf.sum(tf.mul(w, 2)), tf.mul(b, 3)) as tf.Scalar;
  const { grads } = tf.variableGrads(loss);
  const { kernels } = await tf.profile(() =>
    optimizer.applyGradients(grads as Record<string, tf.Variable>)
  );
  assertEquals(kernels.filter((k) => k.name === MOMENTUM_STEP).length, 2);
  assertEquals(kernels.some((k) => k.name === "Multiply" || k.name === "Add"), false);
  // Accumulators as tfjs names them, holding the first gradients.
  const state = await optimizer.getWeights();
  assertEquals(state.map((s) => s.name), [
    "iter",
    "fused_state_w/momentum",
    "fused_state_b/momentum",
  ]);
  assertEquals(Array.from(state[1].tensor.dataSync()), [2, 2, 2]);
  assertEquals(Array.from(state[2].tensor.dataSync()), [3]);
  // Nesterov: w − 0.1 · (g + 0.5 · g) = w − 0.3 (in float32).
  assertEquals(Array.from(w.dataSync()), [1, 2, 3].map((v) => Math.fround(v - Math.fround(0.3))));
  tf.dispose([w, b]);
  optimizer.dispose();
});

Deno.test({
  name: webgpuTestName(
    "fusedMomentum() on webgpu: two dispatches per variable, tfjs's steps to rounding",
  ),
  ignore: noWebgpu,
  fn: async () => {
    await loadBackend("webgpu");
    for (const [nesterov, decay] of [[false, 0], [true, 0], [true, 0.03]] as const) {
      const where = `nesterov ${nesterov}, decay ${decay}`;
      await tf.setBackend("cpu");
      const stock = await fiveSteps(
        () => stockWithDecay(0.05, 0.9, nesterov, decay),
        `gpu_stock_${where}`,
      );
      await tf.setBackend("webgpu");
      const fused = await fiveSteps(
        () => fusedMomentum(tf, 0.05, 0.9, nesterov, decay),
        `gpu_fused_${where}`,
      );
      stock.forEach((values, step) =>
        values.forEach((v, i) => {
          const error = Math.abs(fused[step][i] - v);
          assert(error <= 1e-6 * Math.max(1, Math.abs(v)), `${where}: step ${step}, value ${i}`);
        })
      );
      assert(stock[4].join() !== stock[0].join(), "the variables moved");
    }
    const w = tf.variable(tf.tensor([1, 2, 3]), true, "gpu_fused_state_w");
    const b = tf.variable(tf.scalar(1), true, "gpu_fused_state_b");
    const optimizer = fusedMomentum(tf, 0.1, 0.5, true, 0.01);
    const { grads } = tf.variableGrads(() =>
      tf.add(tf.sum(tf.mul(w, 2)), tf.mul(b, 3)) as tf.Scalar
    );
    optimizer.applyGradients(grads as Record<string, tf.Variable>); // makes the accumulators
    const { kernels } = await tf.profile(() =>
      optimizer.applyGradients(grads as Record<string, tf.Variable>)
    );
    assertEquals(kernels.map((k) => k.name), [MOMENTUM_STEP, MOMENTUM_STEP]);
    tf.dispose([w, b, ...Object.values(grads)]);
    optimizer.dispose();
    await tf.setBackend("wasm");
  },
});

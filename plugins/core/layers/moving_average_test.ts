import { loadBackend, tf } from "../../../mod.ts";
import { MOVING_AVERAGE, movingAverage } from "./moving_average.ts";
import { assertEquals } from "../../../tests/assert.ts";

await loadBackend("wasm");

Deno.test("movingAverage() rounds as float32 after each of its three operations", () => {
  // 1 − momentum = 0.01 is not exact in float32: the step is (0.3 − 1e-8) × fround(0.01).
  const current = new Float32Array([0.3, -2, 1e6]);
  const value = new Float32Array([1e-8, 5, 1e6 + 64]);
  const out = new Float32Array(3);
  movingAverage(current, value, 0.99, out);
  const f = Math.fround, decay = f(1 - 0.99);
  assertEquals(Array.from(out), [
    f(f(0.3) - f(f(f(0.3) - f(1e-8)) * decay)),
    f(-2 - f(f(-2 - 5) * decay)),
    f(1e6 - f(f(1e6 - (1e6 + 64)) * decay)),
  ]);
});

Deno.test("the moving-average kernel equals tfjs-layers' three kernels bit for bit, on wasm and cpu", async () => {
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    tf.tidy(() => {
      const current = tf.randomNormal([64], 0, 3, "float32", 1);
      const value = tf.randomNormal([64], 1, 2, "float32", 2);
      for (const momentum of [0.99, 0.9, 0.5]) {
        const stock = tf.sub(current, tf.mul(tf.sub(current, value), 1 - momentum));
        const ours = tf.engine().runKernel(MOVING_AVERAGE, { current, value }, {
          momentum,
        }) as tf.Tensor;
        assertEquals(Array.from(ours.dataSync()), Array.from(stock.dataSync()), backend);
      }
    });
  }
});

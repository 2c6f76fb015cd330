import { assertEquals } from "../../tests/assert.ts";
import { loadBackend } from "./select.ts";
import { tf } from "./tfjs.ts";

await loadBackend("wasm");

Deno.test("clipByValue() on wasm keeps NaN and clips the rest", async () => {
  await tf.setBackend("wasm");
  const x = tf.tensor1d([NaN, -1, 0.5, 2]);
  const y = tf.clipByValue(x, 0.1, 0.9);
  assertEquals([...await y.data()].map((v) => (Number.isNaN(v) ? "NaN" : v.toFixed(2))), [
    "NaN",
    "0.10",
    "0.50",
    "0.90",
  ]);
  tf.dispose([x, y]);
});

Deno.test("binary cross-entropy of NaN predictions is NaN on wasm, as on cpu", async () => {
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const loss = tf.metrics.binaryCrossentropy(tf.ones([1, 2]), tf.tensor2d([[NaN, 0.5]]));
    assertEquals(Number.isNaN((await loss.data())[0]), true, backend);
    loss.dispose();
  }
});

Deno.test("the replacement frees its temporaries", async () => {
  await tf.setBackend("wasm");
  const x = tf.tensor1d([NaN, 3]);
  const before = tf.memory().numTensors;
  const bytes = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  tf.clipByValue(x, 0, 1).dispose();
  assertEquals(tf.memory().numTensors, before);
  assertEquals((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), bytes);
  x.dispose();
});

import { assertEquals } from "../../tests/assert.ts";
import { random } from "../../tests/random_data.ts";
import { tf } from "./tfjs.ts";
import { leadingAxes, poolWindow, registerWasmReduceKernels } from "./wasm_reduce_kernels.ts";

await import("@tensorflow/tfjs-backend-wasm");
await tf.setBackend("wasm");
await tf.ready();
registerWasmReduceKernels();

Deno.test("leadingAxes accepts only a leading run of axes that leaves one", () => {
  const shape = [4, 5, 6, 7];
  assertEquals(leadingAxes([0, 1, 2], shape), 3);
  assertEquals(leadingAxes([1, 0], shape), 2);
  assertEquals(leadingAxes(0, shape), 1);
  assertEquals(leadingAxes([-4, -3], shape), 2);
  assertEquals(leadingAxes([1, 2], shape), 0);
  assertEquals(leadingAxes([0, 1, 2, 3], shape), 0);
  assertEquals(leadingAxes([0, 2], shape), 0);
});

async function reduceOn(
  backend: string,
  op: "sum" | "mean",
  values: Float32Array | Int32Array,
  shape: number[],
  axis: number | number[],
  keepDims: boolean,
): Promise<{ data: number[]; shape: number[] }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor(values, shape);
    const out = op === "sum" ? tf.sum(x, axis, keepDims) : tf.mean(x, axis, keepDims);
    return { data: Array.from(out.dataSync()), shape: out.shape };
  });
}

Deno.test("Sum and Mean over leading axes match cpu, other reductions too", async () => {
  const shape = [6, 8, 9, 5];
  const values = random(6 * 8 * 9 * 5, 3);
  const cases: [number | number[], boolean][] = [
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [[0, 1], false],
    [0, true],
    [[1, 2], false], // not leading: stock kernel
    [[0, 1, 2, 3], false], // everything: stock kernel
    [-1, true],
  ];
  for (const op of ["sum", "mean"] as const) {
    for (const [axis, keepDims] of cases) {
      const wasm = await reduceOn("wasm", op, values, shape, axis, keepDims);
      const cpu = await reduceOn("cpu", op, values, shape, axis, keepDims);
      const where = `${op} over ${JSON.stringify(axis)}, keepDims ${keepDims}`;
      assertEquals(wasm.shape, cpu.shape, where);
      const worst = Math.max(
        ...wasm.data.map((v, i) => Math.abs(v - cpu.data[i]) / Math.max(1, Math.abs(cpu.data[i]))),
      );
      assertEquals(worst < 1e-5, true, `${where}: relative error ${worst}`);
    }
  }
  const ints = Int32Array.from({ length: 128 * 3 }, (_, i) => i % 7);
  assertEquals(
    await reduceOn("wasm", "sum", ints, [128, 3], 0, false),
    await reduceOn("cpu", "sum", ints, [128, 3], 0, false),
  );
  await tf.setBackend("wasm");
});

Deno.test("the fast reductions free their temporaries and keep their output", async () => {
  await tf.setBackend("wasm");
  const backend = tf.backend();
  const x = tf.tensor(random(64 * 4 * 3, 9), [64, 4, 3]);
  const before = backend.numDataIds();
  const sum = tf.sum(x, [0, 1]);
  const mean = tf.mean(x, 0, true);
  // Exactly the two outputs are new, and they hold their values.
  assertEquals(backend.numDataIds(), before + 2);
  assertEquals(sum.shape, [3]);
  assertEquals(mean.shape, [1, 4, 3]);
  const expected = await reduceOn(
    "cpu",
    "sum",
    x.dataSync() as Float32Array,
    [64, 4, 3],
    [0, 1],
    false,
  );
  await tf.setBackend("wasm");
  const worst = Math.max(
    ...Array.from(sum.dataSync()).map((v, i) => Math.abs(v - expected.data[i])),
  );
  assertEquals(worst < 1e-3, true);
  tf.dispose([sum, mean]);
  assertEquals(backend.numDataIds(), before);
  x.dispose();
});

Deno.test("poolWindow is the factor pair closest to square", () => {
  assertEquals(poolWindow(18432), [128, 144]);
  assertEquals(poolWindow(64), [8, 8]);
  assertEquals(poolWindow(67), [1, 67]); // a prime: one row
  assertEquals(poolWindow(6 * 8 * 9), [18, 24]);
});

Deno.test("the same data summed under two shapes gives each its own sums", async () => {
  // wasm's BatchMatMul caches an operator per right-hand tensor id whatever its shape; a sum
  // built on it answered the second shape with the first one's operator.
  await tf.setBackend("wasm");
  const values = random(64 * 12, 5);
  const x = tf.tensor(values, [64, 12]);
  const columnSums = (width: number) => {
    const sums = new Array(width).fill(0);
    values.forEach((v, i) => sums[i % width] += v);
    return sums;
  };
  for (const width of [12, 3, 12]) {
    const got = tf.tidy(() => Array.from(tf.sum(tf.reshape(x, [-1, width]), 0).dataSync()));
    const want = columnSums(width);
    const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
    assertEquals(worst < 1e-3, true, `width ${width}: off by ${worst}`);
  }
  x.dispose();
});

Deno.test("registration is idempotent", () => {
  assertEquals(registerWasmReduceKernels(), []);
});

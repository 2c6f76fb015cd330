import { assertEquals } from "../../tests/assert.ts";
import { loadBackend } from "./select.ts";
import { tf } from "./tfjs.ts";
import {
  setSplitThreshold,
  splitConvolutionCount,
  splitRows,
  startWasmThreads,
  stopWasmThreads,
  wasmThreadCount,
} from "./wasm_threads.ts";

await loadBackend("wasm");

/** Runs `body` on wasm with `threads` threads, splitting every convolution. */
async function withThreads<T>(threads: number, body: () => T): Promise<T> {
  const previousBackend = tf.getBackend();
  await tf.setBackend("wasm");
  const before = wasmThreadCount();
  await startWasmThreads(threads);
  const threshold = setSplitThreshold(0);
  try {
    return body();
  } finally {
    setSplitThreshold(threshold);
    await startWasmThreads(before);
    await tf.setBackend(previousBackend);
  }
}

function random(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, "float32", seed);
}

/** The convolutions a training step runs, forward and both gradients. */
function convolutions(): Float32Array[] {
  return tf.tidy(() => {
    const out: Float32Array[] = [];
    const cases: {
      x: number[];
      f: number[];
      strides: number;
      pad: "same" | "valid" | [[number, number], [number, number], [number, number], [
        number,
        number,
      ]];
      dilations?: number;
    }[] = [
      { x: [5, 9, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: "same" },
      { x: [3, 11, 10, 2], f: [2, 2, 2, 5], strides: 2, pad: "valid" },
      { x: [4, 8, 8, 3], f: [3, 3, 3, 2], strides: 1, pad: "valid", dilations: 2 },
      { x: [2, 7, 9, 2], f: [3, 2, 2, 3], strides: 1, pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
      // One image: split by output rows.
      { x: [1, 9, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: "same" },
      { x: [1, 11, 10, 2], f: [2, 2, 2, 5], strides: 2, pad: "valid" },
      { x: [1, 12, 9, 1], f: [3, 3, 1, 2], strides: 2, pad: "same" },
      { x: [1, 8, 8, 3], f: [3, 3, 3, 2], strides: 1, pad: "valid", dilations: 2 },
      { x: [1, 7, 9, 2], f: [3, 2, 2, 3], strides: 1, pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
    ];
    cases.forEach(({ x: xShape, f: fShape, strides, pad, dilations }, i) => {
      const x = random(xShape, 10 + i) as tf.Tensor4D;
      const f = random(fShape, 20 + i) as tf.Tensor4D;
      const y = tf.conv2d(x, f, strides, pad, "NHWC", dilations ?? 1);
      out.push(y.dataSync() as Float32Array);
      if (dilations === undefined) {
        const dy = random(y.shape, 30 + i);
        const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad).mul(dy).sum()
        )([x, f]);
        out.push(dx.dataSync() as Float32Array, df.dataSync() as Float32Array);
      }
    });
    const bias = random([4], 40);
    // A batch, and a single image (split by rows).
    for (const [shape, seed] of [[[6, 5, 5, 3], 41], [[1, 10, 6, 3], 43]] as const) {
      out.push(
        tf.fused.conv2d({
          x: random([...shape], seed) as tf.Tensor4D,
          filter: random([3, 3, 3, 4], 42) as tf.Tensor4D,
          strides: 1,
          pad: "same",
          bias,
          activation: "relu",
        }).dataSync() as Float32Array,
      );
    }
    return out;
  });
}

Deno.test("splitRows splits a batch into near-equal runs that cover it", () => {
  assertEquals(splitRows(16, 2), [[0, 8], [8, 16]]);
  assertEquals(splitRows(5, 2), [[0, 2], [2, 5]]);
  assertEquals(splitRows(7, 3), [[0, 2], [2, 4], [4, 7]]);
});

Deno.test("convolutions and their gradients are bit-identical on 1, 2 and 3 threads", async () => {
  const one = await withThreads(1, convolutions);
  for (const threads of [2, 3]) {
    const splitBefore = splitConvolutionCount();
    const many = await withThreads(threads, () => {
      assertEquals(wasmThreadCount(), threads);
      return convolutions();
    });
    // Every convolution, forward and in both gradients, was split.
    assertEquals(splitConvolutionCount() - splitBefore >= 20, true);
    assertEquals(many.length, one.length);
    many.forEach((values, i) => {
      assertEquals(values.length, one[i].length, `result ${i}`);
      assertEquals(values.every((v, k) => Object.is(v, one[i][k])), true, `result ${i} differs`);
    });
  }
});

Deno.test("a network trains to the same weights on 2 threads as on 1", async () => {
  const train = () =>
    tf.tidy(() => {
      const w = tf.variable(random([3, 3, 2, 4], 50));
      const v = tf.variable(random([3, 3, 4, 1], 51));
      const x = random([6, 12, 12, 2], 52) as tf.Tensor4D;
      const target = random([6, 12, 12, 1], 53).greater(0).cast("float32");
      const optimizer = tf.train.sgd(0.1);
      for (let step = 0; step < 3; step++) {
        optimizer.minimize(() =>
          tf.losses.sigmoidCrossEntropy(
            target,
            tf.conv2d(
              tf.relu(tf.conv2d(x, w as tf.Tensor4D, 1, "same")),
              v as tf.Tensor4D,
              1,
              "same",
            ),
          )
        );
      }
      const weights = [...w.dataSync(), ...v.dataSync()];
      w.dispose();
      v.dispose();
      return weights;
    });
  const one = await withThreads(1, train);
  const two = await withThreads(2, train);
  assertEquals(two, one);
});

Deno.test("worker threads do not keep a finished program alive", async () => {
  const program = `
    import { startWasmThreads } from "${new URL("./wasm_threads.ts", import.meta.url).href}";
    import { loadBackend } from "${new URL("./select.ts", import.meta.url).href}";
    await loadBackend("wasm");
    const { threads } = await startWasmThreads(2);
    console.log("threads", threads);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", program],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A hung child would hang the test; kill it after a generous wait instead.
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  assertEquals(new TextDecoder().decode(stdout).trim(), "threads 2");
});

Deno.test("stopWasmThreads goes back to one thread", async () => {
  await startWasmThreads(2);
  assertEquals(wasmThreadCount(), 2);
  await stopWasmThreads();
  assertEquals(wasmThreadCount(), 1);
});

Deno.test("a single image's convolution is split by output rows, bit-identical", async () => {
  const conv = () =>
    tf.tidy(() =>
      tf.conv2d(
        random([1, 13, 6, 2], 50) as tf.Tensor4D,
        random([3, 3, 2, 3], 51) as tf.Tensor4D,
        1,
        "same",
      )
        .dataSync() as Float32Array
    );
  const one = await withThreads(1, conv);
  const before = splitConvolutionCount();
  const three = await withThreads(3, conv);
  assertEquals(splitConvolutionCount() - before, 1);
  assertEquals(three.every((v, k) => Object.is(v, one[k])), true);
});

import { maxPoolGradTiled } from "./max_pool_grad.ts";
import { registerWasmTrainingKernels } from "./wasm_training_kernels.ts";
import { tf } from "./tfjs.ts";
import { assertEquals } from "../../tests/assert.ts";

Deno.test("maxPoolGradTiled() routes each window's gradient to its largest input, per channel", () => {
  // One 2×2 image, two channels: channel 0 peaks bottom-right, channel 1 top-left.
  const x = new Float32Array([1, 8, 2, 3, 3, 2, 4, 1]);
  const dx = new Float32Array(8).fill(NaN);
  maxPoolGradTiled(x, new Float32Array([5, 7]), dx, [1, 2, 2, 2], [2, 2]);
  assertEquals(Array.from(dx), [0, 7, 0, 0, 0, 0, 5, 0]);
});

Deno.test("maxPoolGradTiled() leaves rows and columns past the last whole window at zero", () => {
  // A 3×3 image pooled 2×2 (valid): one window; its row-major last maximum (of two 6s) wins.
  const x = new Float32Array([6, 1, 9, 2, 6, 9, 9, 9, 9]);
  const dx = new Float32Array(9).fill(NaN);
  maxPoolGradTiled(x, new Float32Array([3]), dx, [1, 3, 3, 1], [2, 2]);
  assertEquals(Array.from(dx), [0, 0, 0, 0, 3, 0, 0, 0, 0]);
});

Deno.test("maxPoolGradTiled() walks the batch and a 1×3 window", () => {
  // Two images of 1×6, windows of 3: last maxima at 2, 4 (first image) and 8, 11 (second).
  const x = new Float32Array([0, 1, 5, 7, 7, 2, 4, 4, 4, 0, 1, 2]);
  const dx = new Float32Array(12);
  maxPoolGradTiled(x, new Float32Array([1, 2, 3, 4]), dx, [2, 1, 6, 1], [1, 3]);
  assertEquals(Array.from(dx), [0, 0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 4]);
});

// The stock kernel, taken before Capillary's replaces it: the training results must not move.
await import("@tensorflow/tfjs-backend-wasm");
await tf.setBackend("wasm");
await tf.ready();
const stock = tf.getKernel("MaxPoolGrad", "wasm")!;
registerWasmTrainingKernels();
const tiled = tf.getKernel("MaxPoolGrad", "wasm")!;

/** The input gradient of a max pool of `x` by `kernel`, for an output gradient of 1, 2, 3, … */
function poolGrad(
  kernel: tf.KernelConfig,
  x: tf.Tensor4D,
  filterSize: [number, number],
  strides: [number, number],
  pad: "valid" | "same",
): number[] {
  tf.unregisterKernel("MaxPoolGrad", "wasm");
  tf.registerKernel(kernel);
  return tf.tidy(() => {
    const output = tf.maxPool(x, filterSize, strides, pad);
    const dy = tf.range(1, output.size + 1).reshape(output.shape);
    const dx = tf.engine().runKernel("MaxPoolGrad", { dy, input: x, output }, {
      filterSize,
      strides,
      pad,
    }) as tf.Tensor;
    return Array.from(dx.dataSync());
  });
}

Deno.test("MaxPoolGrad on wasm: the stock kernel's gradient, bit for bit, ties included", () => {
  // Values in {0.5, 1, 1.5}: most windows hold ties, and every window's largest is positive.
  const x = tf.tidy(() =>
    tf.randomUniform([3, 12, 10, 5], 1, 4, "float32", 11).floor().div(2) as tf.Tensor4D
  );
  for (
    const [size, strides, pad] of [
      [[2, 2], [2, 2], "valid"],
      [[2, 2], [2, 2], "same"],
      [[3, 2], [3, 2], "valid"],
      [[3, 3], [2, 2], "same"], // overlapping and padded: the stock kernel's
    ] as [[number, number], [number, number], "valid" | "same"][]
  ) {
    assertEquals(poolGrad(tiled, x, size, strides, pad), poolGrad(stock, x, size, strides, pad));
  }
  x.dispose();
  tf.unregisterKernel("MaxPoolGrad", "wasm");
  tf.registerKernel(tiled);
});

Deno.test("MaxPoolGrad on wasm after a ReLU (the core network's pools): the stock gradient", () => {
  // Negative, zero and tied values; the ReLU zeroes what all-zero windows pass back.
  const x = tf.tidy(() =>
    tf.randomUniform([2, 8, 8, 4], -3, 3, "float32", 12).floor().div(2) as tf.Tensor4D
  );
  const gradient = (kernel: tf.KernelConfig) => {
    tf.unregisterKernel("MaxPoolGrad", "wasm");
    tf.registerKernel(kernel);
    return tf.tidy(() => {
      const weights = tf.range(1, 65).reshape([1, 4, 4, 4]);
      const loss = (v: tf.Tensor) =>
        tf.maxPool(tf.relu(v as tf.Tensor4D), 2, 2, "valid").mul(weights).sum();
      return Array.from(tf.grad(loss)(x).dataSync());
    });
  };
  assertEquals(gradient(tiled), gradient(stock));
  x.dispose();
});

Deno.test("MaxPoolGrad on wasm: a window of values ≤ 0 passes its gradient to a largest one", () => {
  // The stock kernel gives it to the first value, −1 here, which is not the window's maximum.
  const x = tf.tensor4d([-1, 0, -2, 0], [1, 2, 2, 1]);
  assertEquals(poolGrad(tiled, x, [2, 2], [2, 2], "valid"), [0, 0, 0, 1]);
  assertEquals(poolGrad(stock, x, [2, 2], [2, 2], "valid"), [1, 0, 0, 0]);
  x.dispose();
  tf.unregisterKernel("MaxPoolGrad", "wasm");
  tf.registerKernel(tiled);
});

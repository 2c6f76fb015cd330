import { assert, assertEquals } from "../../tests/assert.ts";
import { tf } from "./tfjs.ts";
import { filterGradientModuleBytes, simdFilterGradient } from "./wasm_simd_filter_gradient.ts";

await import("@tensorflow/tfjs-backend-wasm");
await tf.setBackend("wasm");
await tf.ready();

/** dW of x `[1, H, W, 1]` and dy, on the wasm heap. */
function filterGradient(
  x: number[][],
  dy: number[],
  dyShape: number[],
  kernel: number,
  pad: number,
): { values: number[]; shape: number[] } | undefined {
  const xs = tf.tensor(x.flat(), [1, x.length, x[0].length, 1]);
  const dys = tf.tensor(dy, dyShape);
  const filterShape = [kernel, kernel, 1, dyShape[3]];
  const out = simdFilterGradient(tf.backend(), xs, dys, filterShape, {
    kh: kernel,
    kw: kernel,
    sh: 1,
    sw: 1,
    top: pad,
    left: pad,
  });
  tf.dispose([xs, dys]);
  if (!out) return undefined;
  const result = tf.engine().makeTensorFromTensorInfo(out);
  const values = Array.from(result.dataSync());
  result.dispose();
  return { values, shape: out.shape };
}

Deno.test("the emitted module is valid WebAssembly with SIMD", () => {
  assert(WebAssembly.validate(filterGradientModuleBytes()), "invalid module");
});

Deno.test("a 2×2 valid filter gradient is each input pixel times dy", () => {
  // One output pixel: dW[ky, kx, 0, co] = x[ky, kx] · dy[co].
  const got = filterGradient([[1, 2], [3, 4]], [1, 10, 100, 1000], [1, 1, 1, 4], 2, 0)!;
  assertEquals(got.shape, [2, 2, 1, 4]);
  assertEquals(got.values, [
    ...[1, 10, 100, 1000],
    ...[2, 20, 200, 2000],
    ...[3, 30, 300, 3000],
    ...[4, 40, 400, 4000],
  ]);
});

Deno.test("a 3×3 same-padded filter gradient sums only the input pixels inside the image", () => {
  // dy all ones: tap (ky, kx) sums x[oy + ky − 1, ox + kx − 1] over the in-range pixels.
  const got = filterGradient([[1, 2], [3, 4]], new Array(16).fill(1), [1, 2, 2, 4], 3, 1)!;
  const perTap = [1, 3, 2, 4, 10, 6, 3, 7, 4]; // e.g. tap (0, 1): x[0][0] + x[0][1]
  assertEquals(got.values, perTap.flatMap((v) => [v, v, v, v]));
});

Deno.test("output channels that are not a multiple of 4 are left to the caller", () => {
  assertEquals(filterGradient([[1, 2], [3, 4]], [1, 2], [1, 1, 1, 2], 2, 0), undefined);
});

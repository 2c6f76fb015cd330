import { assert, assertEquals } from "../../../tests/assert.ts";
import { kernelMemory, loadBackend, tf } from "../../../mod.ts";
import { lstmCell, registerLstmCellKernels, tanh, useLstmCellSimd } from "./lstm_cell.ts";
import { lstmCellModuleBytes } from "./lstm_cell_simd.ts";

registerLstmCellKernels();
await loadBackend("wasm");
await tf.setBackend("wasm");

/** The bits of a tensor's float32 values, so that −0, +0 and NaNs compare exactly. */
const bits = (t: tf.Tensor): number[] =>
  Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

/**
 * A cell step and its gradients with respect to the gates and the previous
 * state (none for the first step), under weights `w` on the outputs.
 */
function cellAndGradients(
  gates: tf.Tensor,
  c: tf.Tensor | undefined,
  wh: tf.Tensor,
  wc: tf.Tensor,
) {
  const loss = (z: tf.Tensor, state?: tf.Tensor) => {
    const [h, next] = lstmCell(z, state);
    return tf.add(tf.sum(tf.mul(h, wh)), tf.sum(tf.mul(next, wc))) as tf.Scalar;
  };
  const [h, next] = lstmCell(gates, c);
  const grads = c ? tf.grads((z, s) => loss(z, s))([gates, c]) : [tf.grad((z) => loss(z))(gates)];
  return [h, next, ...grads];
}

/** Gates of `pixels` × 4F with values spread wide: beyond tanh's rational range, and on the hard sigmoid's kinks. */
function gates(pixels: number, f: number, seed: number): tf.Tensor {
  const values = tf.randomNormal([pixels, 4 * f], 0, 4, "float32", seed).dataSync() as Float32Array;
  // ±2.5 put the hard sigmoid exactly at 0 and 1; ±8 and ±10 are beyond the rational tanh.
  [2.5, -2.5, 8, -8, 10, -10, 0, -0].forEach((v, i) => (values[(i * 7) % values.length] = v));
  return tf.tensor(values, [pixels, 4 * f]);
}

Deno.test("the LSTM cell module is valid WebAssembly for every multiple of 4 channels", () => {
  const t = { limit: 7.9, numerator: [1, 0, 0, 0, 0, 0, 0], denominator: [1, 0, 0, 0], tanh };
  for (const f of [4, 8, 16, 64]) {
    assert(WebAssembly.validate(lstmCellModuleBytes(f, t)), `F = ${f}`);
  }
});

Deno.test("the SIMD cell and its gradients give the JavaScript loops' bits", () => {
  assert(kernelMemory("wasm", tf.backend()).heap, "the wasm heap is importable here");
  for (const [pixels, f] of [[1, 4], [37, 8], [50, 16]]) {
    const z = gates(pixels, f, f);
    // A previous state, also beyond tanh's range in places once added to the candidate.
    const c = tf.randomNormal([pixels, f], 0, 5, "float32", f + 1);
    const wh = tf.randomNormal([pixels, f], 0, 1, "float32", f + 2);
    const wc = tf.randomNormal([pixels, f], 0, 1, "float32", f + 3);
    for (const state of [c, undefined]) {
      try {
        useLstmCellSimd(false);
        const want = cellAndGradients(z, state, wh, wc).map(bits);
        useLstmCellSimd(true);
        const got = cellAndGradients(z, state, wh, wc).map(bits);
        const names = ["h", "c'", "dGates", "dState"];
        for (const [i, values] of want.entries()) {
          assertEquals(
            got[i],
            values,
            `${names[i]}, F = ${f}, ${state ? "with" : "without"} a state`,
          );
        }
      } finally {
        useLstmCellSimd(true);
      }
    }
  }
});

Deno.test("the SIMD cell computes one step by hand", () => {
  // One pixel, F = 4: zi = zf = zo = 2.5 (gates fully open), zc = 0.5; previous state 0.25.
  const z = tf.tensor([[
    2.5,
    2.5,
    2.5,
    2.5,
    2.5,
    2.5,
    2.5,
    2.5,
    0.5,
    0.5,
    0.5,
    0.5,
    2.5,
    2.5,
    2.5,
    2.5,
  ]]);
  const [h, c] = lstmCell(z, tf.fill([1, 4], 0.25));
  const state = 0.25 + Math.tanh(0.5);
  for (let k = 0; k < 4; k++) {
    assert(Math.abs(c.dataSync()[k] - state) < 1e-6, `c'[${k}]`);
    assert(Math.abs(h.dataSync()[k] - Math.tanh(state)) < 1e-6, `h'[${k}]`);
  }
});

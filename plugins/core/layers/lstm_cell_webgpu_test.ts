import { assert } from "../../../tests/assert.ts";
import { loadBackend, tf } from "../../../mod.ts";
import { LSTM_CELL, LSTM_CELL_FIRST, lstmCell, registerLstmCellKernels } from "./lstm_cell.ts";
import { noWebgpu as ignore, webgpuTestName as named } from "../../../tests/webgpu_adapter.ts";

registerLstmCellKernels();

/** The cell's outputs and the gradients of a loss of both, on the active backend. */
async function cellAndGradients(first: boolean): Promise<Float32Array[]> {
  const f = 3, shape: [number, number, number] = [2, 5, 7];
  const gates = tf.tidy(() => {
    const z = tf.randomUniform([...shape, 4 * f], -4, 4, "float32", 1);
    // Some gates exactly on the hard sigmoid's corners (±2.5), where clip's gradient still passes.
    const corner = tf.randomUniform([...shape, 4 * f], 0, 1, "float32", 2);
    const sign = tf.sign(tf.randomUniform([...shape, 4 * f], -1, 1, "float32", 3));
    return tf.where(tf.less(corner, 0.15), tf.mul(sign, 2.5), z);
  });
  const state = tf.randomUniform([...shape, f], -1, 1, "float32", 4);
  const wh = tf.randomUniform([...shape, f], -1, 1, "float32", 5);
  const wc = tf.randomUniform([...shape, f], -1, 1, "float32", 6);
  const c = first ? undefined : state;
  const [h, next] = lstmCell(gates, c);
  const loss = (z: tf.Tensor, s?: tf.Tensor) => {
    const [hh, cc] = lstmCell(z, s);
    return tf.add(tf.sum(tf.mul(hh, wh)), tf.sum(tf.mul(cc, wc))) as tf.Scalar;
  };
  const grads = first
    ? [tf.grad((z: tf.Tensor) => loss(z))(gates)]
    : tf.grads((z: tf.Tensor, s: tf.Tensor) => loss(z, s))([gates, state]);
  const out = [h, next, ...grads];
  const values = await Promise.all(out.map(async (t) => await t.data() as Float32Array));
  tf.dispose([gates, state, wh, wc, ...out]);
  return values;
}

Deno.test({
  name: named("lstmCell() on webgpu: the cpu kernels' outputs and gradients, to rounding"),
  ignore,
  fn: async () => {
    await loadBackend("webgpu");
    const before = tf.getBackend();
    try {
      for (const first of [false, true]) {
        await tf.setBackend("cpu");
        const expected = await cellAndGradients(first);
        await tf.setBackend("webgpu");
        const { kernels } = await tf.profile(async () => {
          await cellAndGradients(first);
        });
        const names = new Set(kernels.map((k) => k.name));
        assert(names.has(first ? LSTM_CELL_FIRST : LSTM_CELL), "the cell's kernel ran");
        assert(!names.has("ClipByValue"), "no hard sigmoid ran as tfjs ops");
        const actual = await cellAndGradients(first);
        const what = ["h", "c", "d gates", "d state"];
        expected.forEach((values, i) => {
          values.forEach((v, j) => {
            const off = Math.abs(actual[i][j] - v);
            assert(
              off <= 2e-6 * Math.max(1, Math.abs(v)),
              `${what[i]}[${j}], first ${first}: ${actual[i][j]} against ${v}`,
            );
          });
        });
      }
    } finally {
      await tf.setBackend(before);
    }
  },
});

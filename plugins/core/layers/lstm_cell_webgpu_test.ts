import { assert } from "../../../tests/assert.ts";
import { loadBackend, tf } from "../../../mod.ts";
import { LSTM_CELL, LSTM_CELL_FIRST, lstmCell, registerLstmCellKernels } from "./lstm_cell.ts";
import { cellInputs } from "./lstm_cell_test_data.ts";
import { noWebgpu as ignore, webgpuTestName as named } from "../../../tests/webgpu_adapter.ts";

registerLstmCellKernels();

/** The cell's outputs and the gradients of a loss of both, on the active backend. */
async function cellAndGradients(first: boolean): Promise<Float32Array[]> {
  const { gates, state, wh, wc } = cellInputs([2, 5, 7], 3);
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

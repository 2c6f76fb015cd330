import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
import { loadBackend, tf } from "../../../mod.ts";
import { ConvLstm2d } from "./conv_lstm_2d.ts";
import { LSTM_CELL_BACKENDS, lstmCell, registerLstmCellKernels, tanh } from "./lstm_cell.ts";
import { cellInputs } from "./lstm_cell_test_data.ts";

registerLstmCellKernels();
await loadBackend("wasm");

const hard = (x: number) => Math.min(1, Math.max(0, 0.2 * x + 0.5));

/** Runs `body` on each backend the cell has, restoring the one before. */
async function onEachBackend(body: (backend: string) => void | Promise<void>) {
  const before = tf.getBackend();
  try {
    for (const backend of LSTM_CELL_BACKENDS) {
      await tf.setBackend(backend);
      await body(backend);
    }
  } finally {
    await tf.setBackend(before);
  }
}

Deno.test("lstmCell() computes one step by hand, with and without a previous state", async () => {
  await onEachBackend((backend) => {
    // One pixel, F = 2: gates [zi0, zi1 | zf0, zf1 | zc0, zc1 | zo0, zo1].
    const z = [1, -3, 0.5, 2, -0.4, 0.8, 2.5, -1];
    const c0 = [0.3, -0.6];
    const [h, c] = lstmCell(tf.tensor(z, [1, 1, 1, 8]), tf.tensor(c0, [1, 1, 1, 2]));
    const [h1, c1] = lstmCell(tf.tensor(z, [1, 1, 1, 8]));
    for (let k = 0; k < 2; k++) {
      const candidate = hard(z[k]) * Math.tanh(z[4 + k]);
      const state = hard(z[2 + k]) * c0[k] + candidate;
      assertAlmostEquals(c.dataSync()[k], state, 1e-6, `${backend} c[${k}]`);
      assertAlmostEquals(h.dataSync()[k], hard(z[6 + k]) * Math.tanh(state), 1e-6, backend);
      // No previous state: zero, so the forget gate does not matter.
      assertAlmostEquals(c1.dataSync()[k], candidate, 1e-6, `${backend} first c[${k}]`);
      assertAlmostEquals(h1.dataSync()[k], hard(z[6 + k]) * Math.tanh(candidate), 1e-6);
    }
    // zi1 = -3 shuts the input gate: the candidate adds nothing.
    assertEquals(c1.dataSync()[1], 0);
    assertEquals(c.shape, [1, 1, 1, 2]);
  });
});

Deno.test("lstmCell()'s gradient is the ops' gradient, the hard sigmoid's bounds included", async () => {
  // The ops the kernel replaces, as ConvLstm2d computed them before.
  const byOps = (z: tf.Tensor, c?: tf.Tensor) => {
    const hs = (x: tf.Tensor) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
    const [zi, zf, zc, zo] = tf.split(z, 4, 3);
    const candidate = tf.mul(hs(zi), tf.tanh(zc));
    const next = c ? tf.add(tf.mul(hs(zf), c), candidate) : candidate;
    return [tf.mul(hs(zo), tf.tanh(next)), next];
  };
  await onEachBackend((backend) => {
    const f = 3;
    const { gates, state, wh, wc } = cellInputs([2, 4, 5], f);
    // A loss of both outputs, so the state's gradient reaches the cell from both sides.
    const loss =
      (cell: (z: tf.Tensor, c?: tf.Tensor) => tf.Tensor[], c?: tf.Tensor) => (z: tf.Tensor) => {
        const [h, next] = cell(z, c);
        return tf.add(tf.sum(tf.mul(h, wh)), tf.sum(tf.mul(next, wc))) as tf.Scalar;
      };
    const offBy = (a: tf.Tensor, e: tf.Tensor) => {
      const av = a.dataSync(), ev = e.dataSync();
      return Math.max(...ev.map((v, j) => Math.abs(av[j] - v)));
    };
    for (const first of [false, true]) {
      const where = `${backend}, ${first ? "first step" : "with a state"}`;
      const c = first ? undefined : state;
      const expected = tf.grad(loss(byOps, c))(gates);
      const actual = tf.grad(loss(lstmCell, c))(gates);
      const gatesOff = offBy(actual, expected);
      assertEquals(gatesOff < 1e-5, true, `${where}: gates' gradient off by ${gatesOff}`);
      if (!first) {
        const byState = (cell: typeof byOps) => (s: tf.Tensor) => loss(cell, s)(gates);
        const stateOff = offBy(tf.grad(byState(lstmCell))(state), tf.grad(byState(byOps))(state));
        assertEquals(stateOff < 1e-5, true, `${where}: state's gradient off by ${stateOff}`);
      }
      // The corners pass gradient: some zi exactly ±2.5 have a non-zero gradient.
      const z = gates.dataSync(), dz = actual.dataSync();
      const cornersPassing = [...z.keys()].filter((j) =>
        Math.abs(z[j]) === 2.5 && j % (4 * f) < f && dz[j] !== 0
      );
      assertEquals(cornersPassing.length > 0, true, where);
    }
  });
});

Deno.test("ConvLstm2d gives the same output and gradients with the fused cell as in ops", async () => {
  await onEachBackend((backend) => {
    const x = tf.randomUniform([2, 2, 6, 5, 3], -1, 1, "float32", 8);
    const layer = (fusedCell: boolean) => {
      const l = new ConvLstm2d({ filters: 4, kernelSize: 3, goBackwards: true, fusedCell });
      l.apply(x);
      l.setWeights(l.getWeights().map((w, i) => tf.randomUniform(w.shape, -1, 1, "float32", i)));
      return l;
    };
    const [ops, fused] = [layer(false), layer(true)];
    const w = tf.randomUniform([2, 6, 5, 4], -1, 1, "float32", 11);
    const run = (l: ConvLstm2d) =>
      tf.variableGrads(
        () => tf.sum(tf.mul(l.apply(x) as tf.Tensor, w)) as tf.Scalar,
        l.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val),
      );
    const expected = run(ops), actual = run(fused);
    assertAlmostEquals(actual.value.dataSync()[0], expected.value.dataSync()[0], 1e-4, backend);
    const e = Object.values(expected.grads), a = Object.values(actual.grads);
    assertEquals(a.length, 3);
    a.forEach((g, i) => {
      const gv = g.dataSync(), ev = e[i].dataSync();
      const scale = Math.max(...ev.map(Math.abs));
      const worst = Math.max(...gv.map((v, j) => Math.abs(v - ev[j])));
      assertEquals(worst / scale < 1e-5, true, `${backend}: weight ${i} off by ${worst / scale}`);
    });
  });
});

Deno.test("tanh() is tanh to float32 precision, saturates, and keeps NaN", () => {
  let worst = 0;
  for (let i = -1_000_000; i <= 1_000_000; i++) {
    const x = i / 50_000; // −20 … 20
    worst = Math.max(worst, Math.abs(tanh(x) - Math.tanh(x)));
  }
  // Half an ulp of float32 just below 1 is 3·10⁻⁸.
  assertEquals(worst < 3e-8, true, `off by ${worst}`);
  assertEquals([tanh(Infinity), tanh(-Infinity), tanh(0)], [1, -1, 0]);
  assertEquals(Number.isNaN(tanh(NaN)), true);
});

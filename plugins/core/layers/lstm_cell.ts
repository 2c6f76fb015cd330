/**
 * A ConvLSTM cell's arithmetic after its convolutions, as one kernel forward
 * and two backward, on the `wasm` and `cpu` backends (and on `webgpu` as
 * shaders: `lstm_cell_webgpu.ts`): from the gate
 * pre-activations `z = [zi | zf | zc | zo]` (`[..., 4F]`, Keras' gate order)
 * and the previous state `c`,
 *
 * ```
 * c' = σh(zf) · c + σh(zi) · tanh(zc)      h' = σh(zo) · tanh(c')
 * ```
 *
 * with Keras' hard sigmoid `σh(x) = clip(0.2 x + 0.5, 0, 1)`. The same cell in
 * tensor ops takes four slices, a dozen elementwise kernels and about three
 * times as many for its gradient, and the slices of the channel axis are
 * strided copies; on a BCDU-Net training step of width 8 they were a fifth
 * of the time. One pass over the pixels does it here, over the backend's own
 * memory: on the `wasm` backend as WebAssembly SIMD (`lstm_cell_simd.ts`,
 * for `F` divisible by 4), elsewhere in JavaScript, with the same bits.
 *
 * The gradient matches the ops': the hard sigmoid passes 0.2 of the gradient
 * where `0 ≤ 0.2 x + 0.5 ≤ 1` (bounds included, as `clipByValue`'s gradient
 * does) and none elsewhere. Values differ from the ops' only by rounding:
 * float64 inside a pixel, float32 stored, and `tanh` from a rational
 * approximation accurate to float32 (see {@link tanh}).
 *
 * @module
 */
import { HOST_MEMORY_BACKENDS, type KernelMemory, registerHostKernel, tf } from "../../../mod.ts";
import { lstmCellPasses, type TanhApproximation } from "./lstm_cell_simd.ts";
import { registerWebgpuLstmCellKernels } from "./lstm_cell_webgpu.ts";

type TensorInfo = tf.TensorInfo;
type Tensor = tf.Tensor;

/** The cell with a previous state: inputs `{ gates, c }`, outputs `[h, c, tanhs]`. */
export const LSTM_CELL = "CapillaryLstmCell";
/** The first cell of a sequence, whose state starts at zero: inputs `{ gates }`. */
export const LSTM_CELL_FIRST = "CapillaryLstmCellFirst";
const GATES_GRAD = "CapillaryLstmCellGatesGrad";
const STATE_GRAD = "CapillaryLstmCellStateGrad";

/** The backends the kernels are registered for: those whose memory they can read. */
export const LSTM_CELL_BACKENDS = HOST_MEMORY_BACKENDS;

const F32_POINT_2 = Math.fround(0.2);

/** Keras' hard sigmoid as tfjs computes it in float32: clip(0.2 x + 0.5, 0, 1). */
function hardSigmoid(x: number): number {
  const u = Math.fround(Math.fround(x * F32_POINT_2) + 0.5);
  return u < 0 ? 0 : u > 1 ? 1 : u;
}

/** The hard sigmoid's derivative as the ops' gradient gives it (clip bounds pass). */
function hardSigmoidSlope(x: number): number {
  const u = Math.fround(Math.fround(x * F32_POINT_2) + 0.5);
  return u >= 0 && u <= 1 ? F32_POINT_2 : 0;
}

// A rational minimax approximation of tanh on [−7.9, 7.9] (the one Eigen uses for float32):
// within 3·10⁻⁸ of tanh there, below float32's resolution near ±1, and several times faster
// than `Math.exp` or `Math.tanh` here. Beyond it the (rare) values take an exponential, and
// past ±9.02 tanh is ±1 in float32.
const TANH_LIMIT = 7.90531110763549805;
const [A1, A3, A5, A7, A9, A11, A13] = [
  4.89352455891786e-03,
  6.37261928875436e-04,
  1.48572235717979e-05,
  5.12229709037114e-08,
  -8.60467152213735e-11,
  2.00018790482477e-13,
  -2.76076847742355e-16,
];
const [B0, B2, B4, B6] = [
  4.89352518554385e-03,
  2.26843463243900e-03,
  1.18534705686654e-04,
  1.19825839466702e-06,
];

/**
 * tanh to float32 precision (see above); NaN stays NaN.
 *
 * @example Usage
 * ```ts
 * import { tanh } from "./lstm_cell.ts";
 * console.assert(Math.abs(tanh(0.5) - Math.tanh(0.5)) < 1e-7 && tanh(20) === 1 && tanh(-20) === -1);
 * ```
 */
export function tanh(x: number): number {
  if (x > TANH_LIMIT || x < -TANH_LIMIT) {
    return x > 9.02 ? 1 : x < -9.02 ? -1 : 1 - 2 / (Math.exp(2 * x) + 1);
  }
  const x2 = x * x;
  const p = x * (A1 + x2 * (A3 + x2 * (A5 + x2 * (A7 + x2 * (A9 + x2 * (A11 + x2 * A13))))));
  return p / (B0 + x2 * (B2 + x2 * (B4 + x2 * B6)));
}

/** {@link tanh}'s constants and itself, for `lstm_cell_simd.ts`. */
const TANH: TanhApproximation = {
  limit: TANH_LIMIT,
  numerator: [A1, A3, A5, A7, A9, A11, A13],
  denominator: [B0, B2, B4, B6],
  tanh,
};

let simdEnabled = true;

/**
 * Whether the kernels may use `lstm_cell_simd.ts` (default true): off, they
 * run the JavaScript loops everywhere, for benchmarks that compare the two.
 */
export function useLstmCellSimd(enabled: boolean): void {
  simdEnabled = enabled;
}

/** The SIMD passes for cells of `f` channels, where the heap and `f` allow them. */
function simdPasses(memory: KernelMemory, f: number, pixels: number) {
  if (!simdEnabled || f % 4 !== 0 || pixels === 0 || !memory.heap) return undefined;
  return lstmCellPasses(memory.heap, f, TANH);
}

/** Checks the gate tensor's shape and returns `[pixels, F]`. */
function cellSize(gates: TensorInfo, c?: TensorInfo): [number, number] {
  const shape = gates.shape;
  const channels = shape[shape.length - 1];
  if (gates.dtype !== "float32" || channels % 4 !== 0) {
    throw new Error(`${LSTM_CELL}: gates must be float32 with 4·F channels, got ${shape}`);
  }
  const f = channels / 4;
  const pixels = shape.slice(0, -1).reduce((n, d) => n * d, 1);
  if (c && (c.dtype !== "float32" || c.shape.reduce((n, d) => n * d, 1) !== pixels * f)) {
    throw new Error(`${LSTM_CELL}: state [${c.shape}] does not match gates [${shape}]`);
  }
  return [pixels, f];
}

function cellForward(
  memory: KernelMemory,
  gatesInfo: TensorInfo,
  cInfo: TensorInfo | undefined,
): TensorInfo[] {
  const [pixels, f] = cellSize(gatesInfo, cInfo);
  const stateShape = [...gatesInfo.shape.slice(0, -1), f];
  const hInfo = memory.output(stateShape);
  const nextInfo = memory.output(stateShape);
  const tanhsInfo = memory.output([...gatesInfo.shape.slice(0, -1), 2 * f]);
  // Views after every allocation: growing the wasm heap detaches earlier ones.
  const z = memory.view(gatesInfo);
  const c = cInfo ? memory.view(cInfo) : undefined;
  const h = memory.view(hInfo), next = memory.view(nextInfo), tanhs = memory.view(tanhsInfo);
  const passes = simdPasses(memory, f, pixels);
  if (passes) {
    const [zp, hp, np, tp] = [z, h, next, tanhs].map((v) => v.byteOffset);
    if (c) passes.forward(zp, c.byteOffset, hp, np, tp, pixels);
    else passes.forwardFirst(zp, hp, np, tp, pixels);
    return [hInfo, nextInfo, tanhsInfo];
  }
  for (let p = 0; p < pixels; p++) {
    const g = p * 4 * f, s = p * f, t = p * 2 * f;
    for (let k = 0; k < f; k++) {
      const candidate = tanh(z[g + 2 * f + k]);
      let state = Math.fround(hardSigmoid(z[g + k]) * Math.fround(candidate));
      if (c) state = Math.fround(Math.fround(hardSigmoid(z[g + f + k]) * c[s + k]) + state);
      const squashed = tanh(state);
      next[s + k] = state;
      h[s + k] = hardSigmoid(z[g + 3 * f + k]) * Math.fround(squashed);
      tanhs[t + k] = candidate;
      tanhs[t + f + k] = squashed;
    }
  }
  return [hInfo, nextInfo, tanhsInfo];
}

/** `dc'` plus what reaches `c'` through `h'`: the gradient of the new state in all. */
function stateGradient(dh: number, dc: number, zo: number, squashed: number): number {
  return dc + dh * hardSigmoid(zo) * (1 - squashed * squashed);
}

function gatesGradient(memory: KernelMemory, inputs: Record<string, TensorInfo>): TensorInfo {
  const [pixels, f] = cellSize(inputs.gates, inputs.c);
  const outInfo = memory.output(inputs.gates.shape);
  const [dh, dc, z, tanhs, out] = [inputs.dh, inputs.dc, inputs.gates, inputs.tanhs, outInfo].map(
    (info) => memory.view(info),
  );
  const c = inputs.c ? memory.view(inputs.c) : undefined;
  const passes = simdPasses(memory, f, pixels);
  if (passes) {
    const [a, b, zp, tp, o] = [dh, dc, z, tanhs, out].map((v) => v.byteOffset);
    if (c) passes.gatesGradient(a, b, zp, tp, c.byteOffset, o, pixels);
    else passes.gatesGradientFirst(a, b, zp, tp, o, pixels);
    return outInfo;
  }
  for (let p = 0; p < pixels; p++) {
    const g = p * 4 * f, s = p * f, t = p * 2 * f;
    for (let k = 0; k < f; k++) {
      const candidate = tanhs[t + k], squashed = tanhs[t + f + k];
      const zo = z[g + 3 * f + k];
      const dState = stateGradient(dh[s + k], dc[s + k], zo, squashed);
      out[g + k] = dState * candidate * hardSigmoidSlope(z[g + k]);
      out[g + f + k] = c ? dState * c[s + k] * hardSigmoidSlope(z[g + f + k]) : 0;
      out[g + 2 * f + k] = dState * hardSigmoid(z[g + k]) * (1 - candidate * candidate);
      out[g + 3 * f + k] = dh[s + k] * squashed * hardSigmoidSlope(zo);
    }
  }
  return outInfo;
}

function previousStateGradient(
  memory: KernelMemory,
  inputs: Record<string, TensorInfo>,
): TensorInfo {
  const [pixels, f] = cellSize(inputs.gates, inputs.c);
  const outInfo = memory.output(inputs.c.shape);
  const [dh, dc, z, tanhs, out] = [inputs.dh, inputs.dc, inputs.gates, inputs.tanhs, outInfo].map(
    (info) => memory.view(info),
  );
  const passes = simdPasses(memory, f, pixels);
  if (passes) {
    passes.stateGradient(
      dh.byteOffset,
      dc.byteOffset,
      z.byteOffset,
      tanhs.byteOffset,
      out.byteOffset,
      pixels,
    );
    return outInfo;
  }
  for (let p = 0; p < pixels; p++) {
    const g = p * 4 * f, s = p * f, t = p * 2 * f;
    for (let k = 0; k < f; k++) {
      const dState = stateGradient(dh[s + k], dc[s + k], z[g + 3 * f + k], tanhs[t + f + k]);
      out[s + k] = dState * hardSigmoid(z[g + f + k]);
    }
  }
  return outInfo;
}

/**
 * Registers the cell's kernels and gradients for {@link LSTM_CELL_BACKENDS}
 * and `webgpu`. Idempotent.
 */
export function registerLstmCellKernels(): void {
  if (tf.getKernel(LSTM_CELL, "cpu")) return;
  registerWebgpuLstmCellKernels({
    cell: LSTM_CELL,
    first: LSTM_CELL_FIRST,
    gatesGradient: GATES_GRAD,
    stateGradient: STATE_GRAD,
  });
  registerHostKernel(tf, LSTM_CELL, (memory, { gates, c }) => cellForward(memory, gates, c));
  registerHostKernel(
    tf,
    LSTM_CELL_FIRST,
    (memory, { gates }) => cellForward(memory, gates, undefined),
  );
  registerHostKernel(tf, GATES_GRAD, gatesGradient);
  registerHostKernel(tf, STATE_GRAD, previousStateGradient);
  const run = (name: string, inputs: Record<string, Tensor>) =>
    tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap) as Tensor;
  tf.registerGradient({
    kernelName: LSTM_CELL,
    inputsToSave: ["gates", "c"],
    outputsToSave: [false, false, true],
    gradFunc: (dy, saved) => {
      const [dh, dc] = dy as Tensor[];
      const [gates, c, tanhs] = saved;
      const inputs = { dh, dc, gates, c, tanhs };
      return { gates: () => run(GATES_GRAD, inputs), c: () => run(STATE_GRAD, inputs) };
    },
  });
  tf.registerGradient({
    kernelName: LSTM_CELL_FIRST,
    inputsToSave: ["gates"],
    outputsToSave: [false, false, true],
    gradFunc: (dy, saved) => {
      const [dh, dc] = dy as Tensor[];
      const [gates, tanhs] = saved;
      return { gates: () => run(GATES_GRAD, { dh, dc, gates, tanhs }) };
    },
  });
}

/** Whether the active backend has the fused cell. */
export function hasLstmCell(): boolean {
  return tf.getKernel(LSTM_CELL, tf.getBackend()) !== undefined;
}

/**
 * One cell step: the new hidden state and cell state from the gate
 * pre-activations `[..., 4F]` and the previous state `[..., F]` (none: zero).
 * Needs {@link registerLstmCellKernels} and a backend of {@link LSTM_CELL_BACKENDS} or `webgpu`.
 *
 * @example Usage
 * ```ts
 * import { tf } from "../../../mod.ts";
 * import { lstmCell, registerLstmCellKernels } from "./lstm_cell.ts";
 * registerLstmCellKernels();
 * await tf.setBackend("cpu");
 * // zi = zf = zo = 2.5 (gates fully open), zc = 0.5: c' = tanh(0.5), h' = tanh(c').
 * const [h, c] = lstmCell(tf.tensor([[2.5, 2.5, 0.5, 2.5]]));
 * console.assert(Math.abs(c.dataSync()[0] - Math.tanh(0.5)) < 1e-6);
 * console.assert(Math.abs(h.dataSync()[0] - Math.tanh(Math.tanh(0.5))) < 1e-6);
 * ```
 */
export function lstmCell(gates: Tensor, c?: Tensor): [Tensor, Tensor] {
  const [h, next] =
    (c
      ? tf.engine().runKernel(LSTM_CELL, { gates, c } as unknown as tf.NamedTensorMap)
      : tf.engine().runKernel(
        LSTM_CELL_FIRST,
        { gates } as unknown as tf.NamedTensorMap,
      )) as Tensor[];
  return [h, next];
}

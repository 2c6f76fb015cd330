/**
 * The ConvLSTM cell's kernels of `lstm_cell.ts` on the `webgpu` backend, one
 * elementwise shader per output: three for a forward step (`h'`, `c'` and the
 * two tanh values kept for the gradient), one for the gates' gradient and
 * one for the previous state's. In tfjs ops the same cell dispatched four
 * slices and a dozen elementwise kernels forward and about three times as
 * many backward, for each of a BCDU-Net's six cell steps.
 *
 * The formulas are the host kernels' (see `lstm_cell.ts`), in float32, with
 * tanh as `sign(x) · (1 − e^(−2|x|)) / (1 + e^(−2|x|))` (finite for every
 * finite `x`, as tfjs-backend-webgpu's own tanh is): the results agree with
 * the host kernels' to rounding.
 *
 * @module
 */
import { runElementwise, tf } from "../../../mod.ts";

type TensorInfo = tf.TensorInfo;

/** Keras' hard sigmoid, its slope as the ops' gradient gives it, and tanh, in WGSL. */
const FUNCTIONS = `
  fn hardSigmoid(x : f32) -> f32 { return clamp(0.2 * x + 0.5, 0.0, 1.0); }
  fn hardSigmoidSlope(x : f32) -> f32 {
    let u = 0.2 * x + 0.5;
    return select(0.0, 0.2, u >= 0.0 && u <= 1.0);
  }
  fn tanhFinite(x : f32) -> f32 {
    let e = exp(-2.0 * abs(x));
    return sign(x) * (1.0 - e) / (1.0 + e);
  }
`;

/**
 * WGSL that sets `p` (the pixel) and `k` (the channel) of a flat `index` into
 * an output of `width` × F channels per pixel, and reads the pixel's gate
 * pre-activations `zi`, `zf`, `zc`, `zo` from `Z` (`[..., 4F]`).
 */
function pixelAndGates(width: number): string {
  return `
    let f = uniforms.f;
    let p = index / (${width} * f);
    let k = index % f;
    let zi = Z[p * 4 * f + k];
    let zf = Z[p * 4 * f + f + k];
    let zc = Z[p * 4 * f + 2 * f + k];
    let zo = Z[p * 4 * f + 3 * f + k];
  `;
}

/** WGSL for the new state `state` and its tanh `squashed`, from the gates and `C` where given. */
function newState(hasState: boolean): string {
  return `
    let candidate = tanhFinite(zc);
    let state = ${hasState ? "hardSigmoid(zf) * C[p * f + k] + " : ""}hardSigmoid(zi) * candidate;
    let squashed = tanhFinite(state);
  `;
}

/** The channels F of a cell's gates `[..., 4F]`. */
function channels(gates: TensorInfo): number {
  return gates.shape[gates.shape.length - 1] / 4;
}

/** `shape` with its last axis `width` × F. */
function withChannels(gates: TensorInfo, width: number): number[] {
  return [...gates.shape.slice(0, -1), width * channels(gates)];
}

function forward(backend: unknown, gates: TensorInfo, c?: TensorInfo): TensorInfo[] {
  const inputs: Record<string, TensorInfo> = c ? { Z: gates, C: c } : { Z: gates };
  const f = { f: { type: "i32" as const, value: channels(gates) } };
  const output = (name: string, width: number, value: string) =>
    runElementwise(backend, {
      key: `lstm_cell_${name}_${c !== undefined}`,
      outputShape: withChannels(gates, width),
      inputs,
      uniforms: f,
      functions: FUNCTIONS,
      body: `${pixelAndGates(width)}${newState(c !== undefined)}setOutputAtIndex(index, ${value});`,
    });
  return [
    output("h", 1, "hardSigmoid(zo) * squashed"),
    output("c", 1, "state"),
    // [candidate | squashed] per pixel: which one by the index's place in its 2F.
    output("tanhs", 2, "select(candidate, squashed, index % (2 * f) >= f)"),
  ];
}

/** WGSL for `dState`, the gradient of the new state in all, from `DH`, `DC` and the saved tanhs. */
const STATE_GRADIENT = `
  let candidate = T[p * 2 * f + k];
  let squashed = T[p * 2 * f + f + k];
  let dh = DH[p * f + k];
  let dState = DC[p * f + k] + dh * hardSigmoid(zo) * (1.0 - squashed * squashed);
`;

function gatesGradient(backend: unknown, inputs: Record<string, TensorInfo>): TensorInfo {
  const { dh, dc, gates, tanhs, c } = inputs;
  const given: Record<string, TensorInfo> = { DH: dh, DC: dc, Z: gates, T: tanhs };
  if (c) given.C = c;
  return runElementwise(backend, {
    key: `lstm_cell_gates_gradient_${c !== undefined}`,
    outputShape: gates.shape,
    inputs: given,
    uniforms: { f: { type: "i32", value: channels(gates) } },
    functions: FUNCTIONS,
    body: `${pixelAndGates(4)}${STATE_GRADIENT}
      let gate = (index % (4 * f)) / f;
      var value = dh * squashed * hardSigmoidSlope(zo);
      if (gate == 0) { value = dState * candidate * hardSigmoidSlope(zi); }
      if (gate == 1) { value = ${c ? "dState * C[p * f + k] * hardSigmoidSlope(zf)" : "0.0"}; }
      if (gate == 2) { value = dState * hardSigmoid(zi) * (1.0 - candidate * candidate); }
      setOutputAtIndex(index, value);`,
  });
}

function previousStateGradient(backend: unknown, inputs: Record<string, TensorInfo>): TensorInfo {
  const { dh, dc, gates, tanhs } = inputs;
  return runElementwise(backend, {
    key: "lstm_cell_state_gradient",
    outputShape: inputs.c.shape,
    inputs: { DH: dh, DC: dc, Z: gates, T: tanhs },
    uniforms: { f: { type: "i32", value: channels(gates) } },
    functions: FUNCTIONS,
    body: `${pixelAndGates(1)}${STATE_GRADIENT}
      setOutputAtIndex(index, dState * hardSigmoid(zf));`,
  });
}

/**
 * Registers the cell's four kernels on the `webgpu` backend, whether or not
 * it is loaded yet. Idempotent.
 *
 * @param names The kernels' names, as `lstm_cell.ts` registers them elsewhere.
 */
export function registerWebgpuLstmCellKernels(names: {
  cell: string;
  first: string;
  gatesGradient: string;
  stateGradient: string;
}): void {
  const register = (
    kernelName: string,
    run: (backend: unknown, inputs: Record<string, TensorInfo>) => TensorInfo | TensorInfo[],
  ) => {
    if (tf.getKernel(kernelName, "webgpu")) return;
    tf.registerKernel({
      kernelName,
      backendName: "webgpu",
      kernelFunc: ({ inputs, backend }) => run(backend, inputs as Record<string, TensorInfo>),
    });
  };
  register(names.cell, (backend, { gates, c }) => forward(backend, gates, c));
  register(names.first, (backend, { gates }) => forward(backend, gates));
  register(names.gatesGradient, gatesGradient);
  register(names.stateGradient, previousStateGradient);
}

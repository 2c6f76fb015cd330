/**
 * Batch normalisation over the last axis whose training pass is one kernel
 * forward and one backward on the `wasm` and `cpu` backends: tfjs-layers'
 * `BatchNormalization` in training computes the batch moments and the
 * normalisation in tensor ops and differentiates through all of them, about
 * forty small kernels per layer; in a BCDU-Net of width 8 with batch norm
 * after every convolution that was a quarter of a training step.
 *
 * The layer is tfjs-layers' own (same options, weights, `getConfig`,
 * inference and moving averages); only its training pass differs, and only
 * by rounding (the moments are summed in float64). On the `wasm` backend the
 * passes over the data run as WebAssembly SIMD (`batch_norm_simd.ts`, for
 * channel counts divisible by 4), with the same bits as the JavaScript loops
 * used elsewhere. Over the `M` values of a
 * channel, with `x̂ = (x − μ) / √(σ² + ε)` and `y = γ x̂ + β`:
 *
 * ```
 * dβ = Σ dy      dγ = Σ dy · x̂      dx = γ / √(σ² + ε) · (dy − Σ dy / M − x̂ · Σ dy · x̂ / M)
 * ```
 *
 * plus what reaches `x` through the batch mean and variance themselves when
 * they are used further (they feed only the moving averages here).
 *
 * @module
 */
import { type KernelMemory, registerHostKernel, tf } from "../../../mod.ts";
import { batchNormPasses, ROW, ROWS } from "./batch_norm_simd.ts";

type TensorInfo = tf.TensorInfo;
type Tensor = tf.Tensor;

/** Inputs `{ x, gamma, beta }`, attribute `epsilon`; outputs `[y, mean, variance]`. */
export const BATCH_NORM_TRAINING = "CapillaryBatchNormTraining";
/** The gradient: inputs `{ dy, x, gamma, mean, variance, dMean, dVariance }`; outputs `[dx, dGamma, dBeta]`. */
export const BATCH_NORM_GRAD = "CapillaryBatchNormGrad";

/** Values per channel and channels of `x` (channels last). */
function layout(x: TensorInfo): [number, number] {
  const channels = x.shape[x.shape.length - 1];
  if (x.dtype !== "float32") throw new Error(`${BATCH_NORM_TRAINING}: x must be float32`);
  return [x.shape.reduce((n, d) => n * d, 1) / channels, channels];
}

/** Per channel `1 / √(σ² + ε)`. */
function inverseStd(variance: Float32Array, epsilon: number): Float64Array {
  return Float64Array.from(variance, (v) => 1 / Math.sqrt(v + epsilon));
}

/**
 * A float64 constants region on the wasm heap for `batch_norm_simd.ts`
 * (`ROWS` rows of `channels`), with its address and rows as views. Taken
 * after the kernel's outputs are allocated; released by the caller.
 */
function simdConstants(memory: KernelMemory, channels: number) {
  const info = memory.output([2 * ROWS * channels]);
  const view = memory.view(info);
  // malloc aligns to 8 or more; a Float64Array needs it.
  if (view.byteOffset % 8 !== 0) throw new Error("batch norm: misaligned heap allocation");
  const k = new Float64Array(view.buffer, view.byteOffset, ROWS * channels);
  const row = (r: number) => k.subarray(r * channels, (r + 1) * channels);
  return { info, address: view.byteOffset, row };
}

let simdEnabled = true;

/**
 * Whether the training kernels may use the SIMD passes (default true): off,
 * they run the JavaScript loops everywhere, for benchmarks that compare the two.
 */
export function useBatchNormSimd(enabled: boolean): void {
  simdEnabled = enabled;
}

/** Whether the SIMD passes take `x`: on an importable wasm heap, channels divisible by 4. */
function simdHeap(memory: KernelMemory, channels: number, m: number) {
  return simdEnabled && channels % 4 === 0 && m > 0 ? memory.heap : undefined;
}

/**
 * The training pass: `[y, mean, variance]` of inputs `{ x, gamma, beta }`,
 * by `batch_norm_simd.ts`'s passes where `memory` has an importable heap and
 * the channels are a multiple of 4, else by JavaScript loops (the same bits).
 */
export function batchNormTraining(
  memory: KernelMemory,
  inputs: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(inputs.x);
  const heap = simdHeap(memory, channels, m);
  return heap
    ? simdTraining(memory, heap, inputs, epsilon)
    : scalarTraining(memory, inputs, epsilon);
}

/** {@link scalarTraining}'s arithmetic in `batch_norm_simd.ts`'s passes. */
function simdTraining(
  memory: KernelMemory,
  heap: WebAssembly.Memory,
  { x, gamma, beta }: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(x);
  const yInfo = memory.output(x.shape);
  const meanInfo = memory.output([channels]);
  const varianceInfo = memory.output([channels]);
  const k = simdConstants(memory, channels);
  const [xs, g, b, y, mean, variance] = [x, gamma, beta, yInfo, meanInfo, varianceInfo].map(
    (info) => memory.view(info),
  );
  const passes = batchNormPasses(heap, channels);
  const sum = k.row(ROW.sum);
  passes.sum(xs.byteOffset, m, k.address);
  for (let c = 0; c < channels; c++) mean[c] = sum[c] / m;
  k.row(ROW.mean).set(mean);
  passes.squares(xs.byteOffset, m, k.address);
  for (let c = 0; c < channels; c++) variance[c] = sum[c] / m;
  const inv = inverseStd(variance, epsilon);
  k.row(ROW.scale).set(inv.map((v, c) => v * g[c]));
  k.row(ROW.beta).set(b);
  passes.normalize(xs.byteOffset, y.byteOffset, m, k.address);
  memory.release(k.info);
  return [yInfo, meanInfo, varianceInfo];
}

function scalarTraining(
  memory: KernelMemory,
  { x, gamma, beta }: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(x);
  const yInfo = memory.output(x.shape);
  const meanInfo = memory.output([channels]);
  const varianceInfo = memory.output([channels]);
  const [xs, g, b, y, mean, variance] = [x, gamma, beta, yInfo, meanInfo, varianceInfo].map(
    (info) => memory.view(info),
  );
  const sum = new Float64Array(channels), squares = new Float64Array(channels);
  for (let i = 0; i < xs.length; i += channels) {
    for (let c = 0; c < channels; c++) sum[c] += xs[i + c];
  }
  for (let c = 0; c < channels; c++) mean[c] = sum[c] / m;
  // Squared deviations from the (rounded) mean, as tf.moments takes them: no cancellation.
  for (let i = 0; i < xs.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = xs[i + c] - mean[c];
      squares[c] += d * d;
    }
  }
  for (let c = 0; c < channels; c++) variance[c] = squares[c] / m;
  const inv = inverseStd(variance, epsilon);
  const scale = Float64Array.from(inv, (v, c) => v * g[c]);
  for (let i = 0; i < xs.length; i += channels) {
    for (let c = 0; c < channels; c++) y[i + c] = (xs[i + c] - mean[c]) * scale[c] + b[c];
  }
  return [yInfo, meanInfo, varianceInfo];
}

/** Per channel `Σ dy` and `Σ dy · x̂`. */
function gradientSums(
  dy: Float32Array,
  x: Float32Array,
  mean: Float32Array,
  inv: Float64Array,
): [Float64Array, Float64Array] {
  const channels = mean.length;
  const sumDy = new Float64Array(channels), sumDyXhat = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      sumDy[c] += dy[i + c];
      sumDyXhat[c] += dy[i + c] * (x[i + c] - mean[c]) * inv[c];
    }
  }
  return [sumDy, sumDyXhat];
}

/**
 * The gradient: `[dx, dGamma, dBeta]` of `{ dy, x, gamma, mean, variance,
 * dMean, dVariance }`, chosen between SIMD and JavaScript as
 * {@link batchNormTraining} is.
 */
export function batchNormGradients(
  memory: KernelMemory,
  inputs: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(inputs.x);
  const heap = simdHeap(memory, channels, m);
  return heap
    ? simdGradients(memory, heap, inputs, epsilon)
    : scalarGradients(memory, inputs, epsilon);
}

/** {@link scalarGradients}' arithmetic in `batch_norm_simd.ts`'s passes. */
function simdGradients(
  memory: KernelMemory,
  heap: WebAssembly.Memory,
  inputs: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(inputs.x);
  const dxInfo = memory.output(inputs.x.shape);
  const dGammaInfo = memory.output([channels]), dBetaInfo = memory.output([channels]);
  const k = simdConstants(memory, channels);
  const [dy, x, gamma, mean, variance, dMean, dVariance, dx, dGamma, dBeta] = [
    inputs.dy,
    inputs.x,
    inputs.gamma,
    inputs.mean,
    inputs.variance,
    inputs.dMean,
    inputs.dVariance,
    dxInfo,
    dGammaInfo,
    dBetaInfo,
  ].map((info) => memory.view(info));
  const passes = batchNormPasses(heap, channels);
  const inv = inverseStd(variance, epsilon);
  k.row(ROW.mean).set(mean);
  k.row(ROW.inverseStd).set(inv);
  passes.gradientSums(dy.byteOffset, x.byteOffset, m, k.address);
  const sumDy = k.row(ROW.sum), sumDyXhat = k.row(ROW.secondSum);
  k.row(ROW.scale).set(inv.map((v, c) => v * gamma[c]));
  k.row(ROW.meanDy).set(sumDy.map((s) => s / m));
  k.row(ROW.meanDyXhat).set(sumDyXhat.map((s) => s / m));
  k.row(ROW.dMean).set(dMean);
  k.row(ROW.twoDVariance).set(Float64Array.from(dVariance, (v) => 2 * v));
  k.row(ROW.count).fill(m);
  passes.inputGradient(dy.byteOffset, x.byteOffset, dx.byteOffset, m, k.address);
  dGamma.set(sumDyXhat);
  dBeta.set(sumDy);
  memory.release(k.info);
  return [dxInfo, dGammaInfo, dBetaInfo];
}

/** All three gradients from one pass for the sums and one for `dx` (see the module doc). */
function scalarGradients(
  memory: KernelMemory,
  inputs: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(inputs.x);
  const dxInfo = memory.output(inputs.x.shape);
  const dGammaInfo = memory.output([channels]), dBetaInfo = memory.output([channels]);
  const [dy, x, gamma, mean, variance, dMean, dVariance, dx, dGamma, dBeta] = [
    inputs.dy,
    inputs.x,
    inputs.gamma,
    inputs.mean,
    inputs.variance,
    inputs.dMean,
    inputs.dVariance,
    dxInfo,
    dGammaInfo,
    dBetaInfo,
  ].map((info) => memory.view(info));
  const inv = inverseStd(variance, epsilon);
  const [sumDy, sumDyXhat] = gradientSums(dy, x, mean, inv);
  const scale = Float64Array.from(inv, (v, c) => v * gamma[c]);
  const meanDy = Float64Array.from(sumDy, (s) => s / m);
  const meanDyXhat = Float64Array.from(sumDyXhat, (s) => s / m);
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const centred = x[i + c] - mean[c];
      dx[i + c] = scale[c] * (dy[i + c] - meanDy[c] - centred * inv[c] * meanDyXhat[c]) +
        (dMean[c] + 2 * dVariance[c] * centred) / m;
    }
  }
  dGamma.set(sumDyXhat);
  dBeta.set(sumDy);
  return [dxInfo, dGammaInfo, dBetaInfo];
}

/** Registers the kernels and the gradient for the backends with host memory. Idempotent. */
export function registerBatchNormKernels(): void {
  if (tf.getKernel(BATCH_NORM_TRAINING, "cpu")) return;
  const epsilonOf = (attrs: Record<string, unknown>) => attrs.epsilon as number;
  registerHostKernel(tf, BATCH_NORM_TRAINING, (m, i, a) => batchNormTraining(m, i, epsilonOf(a)));
  registerHostKernel(tf, BATCH_NORM_GRAD, (m, i, a) => batchNormGradients(m, i, epsilonOf(a)));
  const run = (name: string, inputs: Record<string, Tensor>, epsilon: number) =>
    tf.engine().runKernel(
      name,
      inputs as unknown as tf.NamedTensorMap,
      { epsilon } as unknown as tf.NamedAttrMap,
    );
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ["x", "gamma"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy, dMean, dVariance] = dys as Tensor[];
      const [x, gamma, mean, variance] = saved;
      const epsilon = (attrs as unknown as { epsilon: number }).epsilon;
      // One kernel for all three, run here rather than in the closures: the engine runs each
      // closure in a scope of its own, which would free the others' results. What no closure asks
      // for (a frozen layer's scale and offset) is freed with the backward pass's scope.
      const [dx, dGamma, dBeta] = run(
        BATCH_NORM_GRAD,
        { dy, x, gamma, mean, variance, dMean, dVariance },
        epsilon,
      ) as Tensor[];
      return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
    },
  });
}

registerBatchNormKernels();

type StockBatchNormalization = ReturnType<typeof tf.layers.batchNormalization>;
type BatchNormalizationArgs = Parameters<typeof tf.layers.batchNormalization>[0];
/** tfjs-layers' class, which the package does not export: taken from an instance. */
const StockBatchNormalization = Object.getPrototypeOf(
  tf.layers.batchNormalization({ name: "capillary_stock_batch_norm" }),
).constructor as new (args?: BatchNormalizationArgs) => StockBatchNormalization;

/** The stock layer's fields that its training pass reads. */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/**
 * tfjs-layers' `BatchNormalization` with the training pass in one kernel
 * where the backend has it (see the module doc). Saved as
 * `CapillaryBatchNormalization`, so loading a model needs this module.
 *
 * @example Usage
 * ```ts
 * import { tf } from "../../../mod.ts";
 * import { BatchNormalization } from "./batch_norm.ts";
 * await tf.setBackend("cpu");
 * const layer = new BatchNormalization({ axis: 1 });
 * const y = layer.apply(tf.tensor2d([[1], [3]]), { training: true }) as tf.Tensor;
 * // mean 2, variance 1: (x − 2) / √(1 + 0.001)
 * console.assert(Math.abs(y.dataSync()[1] - 1 / Math.sqrt(1.001)) < 1e-6);
 * ```
 */
export class BatchNormalization extends StockBatchNormalization {
  /** The name model files use for this layer type. */
  static className = "CapillaryBatchNormalization";

  override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const state = this as unknown as BatchNormState;
    const axis = state.axis >= 0 ? state.axis : state.axis + input.rank;
    const fused = kwargs?.training === true && axis === input.rank - 1 && state.center &&
      state.scale && tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()) !== undefined;
    if (!fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf.engine().runKernel(
        BATCH_NORM_TRAINING,
        {
          x: input,
          gamma: state.gamma.read(),
          beta: state.beta.read(),
        } as unknown as tf.NamedTensorMap,
        { epsilon: state.epsilon } as unknown as tf.NamedAttrMap,
      ) as Tensor[];
      // The moving averages exactly as the stock layer updates them.
      for (
        const [variable, value] of [[state.movingMean, mean], [
          state.movingVariance,
          variance,
        ]] as const
      ) {
        tf.tidy(() => {
          const current = variable.read();
          variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - state.momentum)));
        });
      }
      return y;
    });
  }
}

tf.serialization.registerClass(
  BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>,
);

/**
 * Batch normalisation over the last axis whose training pass is one kernel
 * forward and one backward on the `wasm` and `cpu` backends (and three
 * shaders each way on `webgpu`: `batch_norm_webgpu.ts`): tfjs-layers'
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
 * used elsewhere.
 *
 * Over the `M` values of a channel, with `x̂ = (x − μ) / √(σ² + ε)` and
 * `y = γ x̂ + β`:
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
import { registerWebgpuBatchNormKernels } from "./batch_norm_webgpu.ts";
import { MOVING_AVERAGE } from "./moving_average.ts";

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

let simdEnabled = true;

/**
 * Whether the training kernels may use the SIMD passes (default true): off,
 * they run the JavaScript loops everywhere, for benchmarks that compare the two.
 */
export function useBatchNormSimd(enabled: boolean): void {
  simdEnabled = enabled;
}

/** The per-channel constants of {@link DataPasses.inputGradient}. */
interface InputGradientConstants {
  readonly mean: Float32Array;
  readonly inv: Float64Array;
  readonly scale: Float64Array;
  readonly meanDy: Float64Array;
  readonly meanDyXhat: Float64Array;
  readonly dMean: Float32Array;
  readonly dVariance: Float32Array;
}

/**
 * The kernels' passes over the data, channels last, each summing in float64
 * over the values one after another: as JavaScript loops, or as
 * `batch_norm_simd.ts`'s passes (the same bits).
 */
interface DataPasses {
  /** `Σ x` per channel. */
  sum(x: Float32Array): Float64Array;
  /** `Σ (x − mean)²` per channel. */
  squares(x: Float32Array, mean: Float32Array): Float64Array;
  /** `y = (x − mean) · scale + beta`. */
  normalize(
    x: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    scale: Float64Array,
    beta: Float32Array,
  ): void;
  /** `[Σ dy, Σ dy · (x − mean) · inv]` per channel. */
  gradientSums(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    inv: Float64Array,
  ): [Float64Array, Float64Array];
  /** `dx` of the module doc. */
  inputGradient(
    dy: Float32Array,
    x: Float32Array,
    dx: Float32Array,
    k: InputGradientConstants,
  ): void;
}

/** {@link DataPasses} as JavaScript loops, for `channels` channels. */
function loopPasses(channels: number): DataPasses {
  return {
    sum(x) {
      const sum = new Float64Array(channels);
      for (let i = 0; i < x.length; i += channels) {
        for (let c = 0; c < channels; c++) sum[c] += x[i + c];
      }
      return sum;
    },
    squares(x, mean) {
      const squares = new Float64Array(channels);
      for (let i = 0; i < x.length; i += channels) {
        for (let c = 0; c < channels; c++) {
          const d = x[i + c] - mean[c];
          squares[c] += d * d;
        }
      }
      return squares;
    },
    normalize(x, y, mean, scale, beta) {
      for (let i = 0; i < x.length; i += channels) {
        for (let c = 0; c < channels; c++) y[i + c] = (x[i + c] - mean[c]) * scale[c] + beta[c];
      }
    },
    gradientSums(dy, x, mean, inv) {
      const sumDy = new Float64Array(channels), sumDyXhat = new Float64Array(channels);
      for (let i = 0; i < x.length; i += channels) {
        for (let c = 0; c < channels; c++) {
          sumDy[c] += dy[i + c];
          sumDyXhat[c] += dy[i + c] * (x[i + c] - mean[c]) * inv[c];
        }
      }
      return [sumDy, sumDyXhat];
    },
    inputGradient(dy, x, dx, { mean, inv, scale, meanDy, meanDyXhat, dMean, dVariance }) {
      const m = x.length / channels;
      for (let i = 0; i < x.length; i += channels) {
        for (let c = 0; c < channels; c++) {
          const centred = x[i + c] - mean[c];
          dx[i + c] = scale[c] * (dy[i + c] - meanDy[c] - centred * inv[c] * meanDyXhat[c]) +
            (dMean[c] + 2 * dVariance[c] * centred) / m;
        }
      }
    },
  };
}

/**
 * {@link DataPasses} by `batch_norm_simd.ts` on `heap`, with their float64
 * constants in `scratch` (`ROWS` rows of `channels` on the heap).
 */
function simdPasses(heap: WebAssembly.Memory, channels: number, scratch: Float32Array): DataPasses {
  // malloc aligns to 8 or more; a Float64Array needs it.
  if (scratch.byteOffset % 8 !== 0) throw new Error("batch norm: misaligned heap allocation");
  const k = new Float64Array(scratch.buffer, scratch.byteOffset, ROWS * channels);
  const row = (r: number) => k.subarray(r * channels, (r + 1) * channels);
  const at = scratch.byteOffset;
  const passes = batchNormPasses(heap, channels);
  const count = (x: Float32Array) => x.length / channels;
  return {
    sum(x) {
      passes.sum(x.byteOffset, count(x), at);
      return row(ROW.sum).slice();
    },
    squares(x, mean) {
      row(ROW.mean).set(mean);
      passes.squares(x.byteOffset, count(x), at);
      return row(ROW.sum).slice();
    },
    normalize(x, y, mean, scale, beta) {
      row(ROW.mean).set(mean);
      row(ROW.scale).set(scale);
      row(ROW.beta).set(beta);
      passes.normalize(x.byteOffset, y.byteOffset, count(x), at);
    },
    gradientSums(dy, x, mean, inv) {
      row(ROW.mean).set(mean);
      row(ROW.inverseStd).set(inv);
      passes.gradientSums(dy.byteOffset, x.byteOffset, count(x), at);
      return [row(ROW.sum).slice(), row(ROW.secondSum).slice()];
    },
    inputGradient(dy, x, dx, c) {
      row(ROW.mean).set(c.mean);
      row(ROW.inverseStd).set(c.inv);
      row(ROW.scale).set(c.scale);
      row(ROW.meanDy).set(c.meanDy);
      row(ROW.meanDyXhat).set(c.meanDyXhat);
      row(ROW.dMean).set(c.dMean);
      // 2 · dVariance is exact in float64, as the loops' `2 * dVariance[c] * centred` begins.
      row(ROW.twoDVariance).set(Float64Array.from(c.dVariance, (v) => 2 * v));
      row(ROW.count).fill(count(x));
      passes.inputGradient(dy.byteOffset, x.byteOffset, dx.byteOffset, count(x), at);
    },
  };
}

/**
 * Allocates a kernel's outputs (and, for the SIMD passes, their scratch
 * region), then takes the views (a growing wasm heap detaches earlier ones)
 * and runs `body` with the passes; frees the scratch.
 */
function withPasses<T>(
  memory: KernelMemory,
  x: TensorInfo,
  outputShapes: number[][],
  inputs: TensorInfo[],
  body: (passes: DataPasses, views: Float32Array[], outputs: TensorInfo[]) => T,
): T {
  const [m, channels] = layout(x);
  const heap = simdEnabled && channels % 4 === 0 && m > 0 ? memory.heap : undefined;
  const outputs = outputShapes.map((shape) => memory.output(shape));
  const scratch = heap ? memory.output([2 * ROWS * channels]) : undefined;
  const views = [...inputs, ...outputs].map((info) => memory.view(info));
  const passes = heap ? simdPasses(heap, channels, memory.view(scratch!)) : loopPasses(channels);
  try {
    return body(passes, views, outputs);
  } finally {
    if (scratch) memory.release(scratch);
  }
}

/**
 * The training pass: `[y, mean, variance]` of inputs `{ x, gamma, beta }`,
 * by `batch_norm_simd.ts`'s passes where `memory` has an importable heap and
 * the channels are a multiple of 4, else by JavaScript loops (the same bits).
 */
export function batchNormTraining(
  memory: KernelMemory,
  { x, gamma, beta }: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(x);
  return withPasses(
    memory,
    x,
    [x.shape, [channels], [channels]],
    [x, gamma, beta],
    (passes, [xs, g, b, y, mean, variance], outputs) => {
      const sum = passes.sum(xs);
      for (let c = 0; c < channels; c++) mean[c] = sum[c] / m;
      // Squared deviations from the (rounded) mean, as tf.moments takes them: no cancellation.
      const squares = passes.squares(xs, mean);
      for (let c = 0; c < channels; c++) variance[c] = squares[c] / m;
      const inv = inverseStd(variance, epsilon);
      passes.normalize(xs, y, mean, Float64Array.from(inv, (v, c) => v * g[c]), b);
      return outputs;
    },
  );
}

/**
 * The gradient: `[dx, dGamma, dBeta]` of `{ dy, x, gamma, mean, variance,
 * dMean, dVariance }`, from one pass for the sums and one for `dx` (see the
 * module doc), chosen between SIMD and loops as {@link batchNormTraining} is.
 */
export function batchNormGradients(
  memory: KernelMemory,
  inputs: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(inputs.x);
  const { dy, x, gamma, mean, variance, dMean, dVariance } = inputs;
  return withPasses(
    memory,
    x,
    [x.shape, [channels], [channels]],
    [dy, x, gamma, mean, variance, dMean, dVariance],
    (passes, [dys, xs, g, means, variances, dMeans, dVariances, dx, dGamma, dBeta], outputs) => {
      const inv = inverseStd(variances, epsilon);
      const [sumDy, sumDyXhat] = passes.gradientSums(dys, xs, means, inv);
      passes.inputGradient(dys, xs, dx, {
        mean: means,
        inv,
        scale: Float64Array.from(inv, (v, c) => v * g[c]),
        meanDy: Float64Array.from(sumDy, (s) => s / m),
        meanDyXhat: Float64Array.from(sumDyXhat, (s) => s / m),
        dMean: dMeans,
        dVariance: dVariances,
      });
      dGamma.set(sumDyXhat);
      dBeta.set(sumDy);
      return outputs;
    },
  );
}

/**
 * Registers the kernels and the gradient for the backends with host memory,
 * and the kernels on `webgpu` (`batch_norm_webgpu.ts`). Idempotent.
 */
export function registerBatchNormKernels(): void {
  if (tf.getKernel(BATCH_NORM_TRAINING, "cpu")) return;
  registerWebgpuBatchNormKernels({ training: BATCH_NORM_TRAINING, gradients: BATCH_NORM_GRAD });
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
      // The moving averages exactly as the stock layer updates them, in one kernel where the
      // backend has it (moving_average.ts).
      const oneKernel = tf.getKernel(MOVING_AVERAGE, tf.getBackend()) !== undefined;
      for (
        const [variable, value] of [[state.movingMean, mean], [
          state.movingVariance,
          variance,
        ]] as const
      ) {
        tf.tidy(() => {
          const current = variable.read();
          variable.write(
            oneKernel
              ? tf.engine().runKernel(
                MOVING_AVERAGE,
                { current, value } as unknown as tf.NamedTensorMap,
                { momentum: state.momentum } as unknown as tf.NamedAttrMap,
              ) as Tensor
              : tf.sub(current, tf.mul(tf.sub(current, value), 1 - state.momentum)),
          );
        });
      }
      return y;
    });
  }
}

tf.serialization.registerClass(
  BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>,
);

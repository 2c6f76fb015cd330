/**
 * Batch norm's training kernels of `batch_norm.ts` on the `webgpu` backend,
 * three shaders forward (the channels' means, their variances, `y`) and four
 * backward (`Σ dy`, which is `dβ`; `Σ dy · x̂`, which is `dγ`; `dx`'s
 * per-channel coefficients; `dx`). In tfjs
 * ops one layer's training pass dispatched about thirty-eight shaders (a
 * profiled BCDU-Net step, before and after), and a BCDU-Net has eighteen
 * such layers.
 *
 * The formulas are the host kernels' (see `batch_norm.ts`), but summed in
 * float32 (each thread a strided share, then pairwise: `runChannelSums`)
 * where the host kernels sum in float64, so the results agree to rounding.
 *
 * @module
 */
import { runChannelSums, runElementwise, tf } from "../../../mod.ts";

type TensorInfo = tf.TensorInfo;

/** The backend's memory release, for a kernel's intermediate results. */
function backendOf(backend: unknown): tf.KernelBackend {
  return backend as tf.KernelBackend;
}

/** Values per channel and channels of `x` (channels last). */
function layout(x: TensorInfo): [number, number] {
  const channels = x.shape[x.shape.length - 1];
  return [x.shape.reduce((n, d) => n * d, 1) / channels, channels];
}

/** WGSL for the channel `c` of flat index `index`, and its `1 / √(σ² + ε)`. */
const CHANNEL = `
  let c = index % uniforms.channels;
  let inv = 1.0 / sqrt(VARIANCE[c] + uniforms.epsilon);
`;

function training(
  backend: unknown,
  { x, gamma, beta }: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(x);
  const mean = runChannelSums(backend, {
    key: "batch_norm_mean",
    values: m,
    channels,
    inputs: { X: x },
    term: "X[i]",
    scale: 1 / m,
  });
  const variance = runChannelSums(backend, {
    key: "batch_norm_variance",
    values: m,
    channels,
    inputs: { X: x, MEAN: mean },
    term: "(X[i] - MEAN[c]) * (X[i] - MEAN[c])",
    scale: 1 / m,
  });
  const y = runElementwise(backend, {
    key: "batch_norm_y",
    outputShape: x.shape,
    inputs: { X: x, MEAN: mean, VARIANCE: variance, GAMMA: gamma, BETA: beta },
    uniforms: {
      channels: { type: "i32", value: channels },
      epsilon: { type: "f32", value: epsilon },
    },
    body: `${CHANNEL}
      setOutputAtIndex(index, (X[index] - MEAN[c]) * (inv * GAMMA[c]) + BETA[c]);`,
  });
  return [y, mean, variance];
}

function gradients(
  backend: unknown,
  { dy, x, gamma, mean, variance, dMean, dVariance }: Record<string, TensorInfo>,
  epsilon: number,
): TensorInfo[] {
  const [m, channels] = layout(x);
  const sumDy = runChannelSums(backend, {
    key: "batch_norm_sum_dy",
    values: m,
    channels,
    inputs: { DY: dy },
    term: "DY[i]",
  });
  const sumDyXhat = runChannelSums(backend, {
    key: `batch_norm_sum_dy_xhat_${epsilon}`,
    values: m,
    channels,
    inputs: { DY: dy, X: x, MEAN: mean, VARIANCE: variance },
    // The epsilon is a shader constant here: sums take no uniforms of their own.
    term: `DY[i] * (X[i] - MEAN[c]) / sqrt(VARIANCE[c] + ${epsilon.toExponential()})`,
  });
  // dx = a · dy + b · (x − μ) + k per channel (the module doc of batch_norm.ts, regrouped), the
  // coefficients in a shader of their own: dx's inputs would otherwise be nine, and a shader
  // may bind eight storage buffers in all (WebGPU's default limit).
  const coefficients = runElementwise(backend, {
    key: "batch_norm_dx_coefficients",
    outputShape: [3, channels],
    inputs: {
      GAMMA: gamma,
      VARIANCE: variance,
      SUMDY: sumDy,
      SUMDYXHAT: sumDyXhat,
      DMEAN: dMean,
      DVARIANCE: dVariance,
    },
    uniforms: {
      channels: { type: "i32", value: channels },
      epsilon: { type: "f32", value: epsilon },
      values: { type: "f32", value: m },
    },
    body: `${CHANNEL}
      let row = index / uniforms.channels;
      let a = inv * GAMMA[c];
      var value = a;
      if (row == 1) {
        value = -a * inv * SUMDYXHAT[c] / uniforms.values + 2.0 * DVARIANCE[c] / uniforms.values;
      }
      if (row == 2) {
        value = -a * SUMDY[c] / uniforms.values + DMEAN[c] / uniforms.values;
      }
      setOutputAtIndex(index, value);`,
  });
  const dx = runElementwise(backend, {
    key: "batch_norm_dx",
    outputShape: x.shape,
    inputs: { DY: dy, X: x, MEAN: mean, K: coefficients },
    uniforms: { channels: { type: "i32", value: channels } },
    body: `
      let c = index % uniforms.channels;
      let centred = X[index] - MEAN[c];
      setOutputAtIndex(index,
        K[c] * DY[index] + K[uniforms.channels + c] * centred + K[2 * uniforms.channels + c]);`,
  });
  backendOf(backend).disposeData(coefficients.dataId);
  return [dx, sumDyXhat, sumDy];
}

/**
 * Registers the training kernels `names.training` and `names.gradients` on
 * the `webgpu` backend, whether or not it is loaded yet. Idempotent.
 *
 * @param names The kernels' names, as `batch_norm.ts` registers them elsewhere.
 */
export function registerWebgpuBatchNormKernels(
  names: { training: string; gradients: string },
): void {
  const register = (
    kernelName: string,
    run: (backend: unknown, inputs: Record<string, TensorInfo>, epsilon: number) => TensorInfo[],
  ) => {
    if (tf.getKernel(kernelName, "webgpu")) return;
    tf.registerKernel({
      kernelName,
      backendName: "webgpu",
      kernelFunc: ({ inputs, backend, attrs }) =>
        run(backend, inputs as Record<string, TensorInfo>, (attrs as { epsilon: number }).epsilon),
    });
  };
  register(names.training, training);
  register(names.gradients, gradients);
}

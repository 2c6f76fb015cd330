/**
 * Shaders on tfjs-backend-webgpu (4.22) for kernels that replace a chain of
 * tfjs ops with one dispatch per output: elementwise ({@link runElementwise})
 * and per-channel sums ({@link runChannelSums}). The backend declares each
 * input as a storage array under the name given, the uniforms,
 * `setOutputAtIndex` and the entry point; the caller writes the WGSL that
 * computes an element, or the term summed.
 *
 * Only inputs the shader reads may be given: the pipeline's bind-group
 * layout leaves out a binding the shader never reads, and the backend binds
 * every input, so an unread one fails validation and the dispatch writes
 * nothing.
 *
 * @module
 */
import type { tf } from "./tfjs.ts";

type TensorInfo = tf.TensorInfo;

/** What {@link runElementwise} runs. */
export interface ElementwiseShader {
  /** Names the compiled shader: equal keys must mean equal code (shapes are added by the backend). */
  readonly key: string;
  /** The output's shape; the body runs once per element. */
  readonly outputShape: number[];
  /** The inputs by their names in WGSL (capitalised, e.g. `Z`), only those the body reads. */
  readonly inputs: Readonly<Record<string, TensorInfo>>;
  /** Scalar uniforms by name, read in WGSL as `uniforms.name`. */
  readonly uniforms?: Readonly<Record<string, { type: "f32" | "i32"; value: number }>>;
  /** WGSL functions the body calls. */
  readonly functions?: string;
  /** WGSL statements for the element at flat `index` (an `i32`); they end with `setOutputAtIndex(index, value)`. */
  readonly body: string;
}

/** Threads a workgroup, as tfjs-backend-webgpu's own elementwise programs use. */
const WORKGROUP = 64;

/** The one method of tfjs-backend-webgpu's backend that runs a program. */
interface WebgpuBackend {
  runWebGPUProgram(
    program: object,
    inputs: TensorInfo[],
    outputDtype: "float32",
    uniforms: { type: "float32" | "int32"; data: number[] }[],
  ): TensorInfo;
}

/**
 * Runs `shader` on the webgpu backend `backend` (a kernel function's
 * `backend` argument) and returns its float32 output.
 *
 * @param backend The webgpu backend.
 * @param shader The shader.
 * @returns The output tensor.
 */
export function runElementwise(backend: unknown, shader: ElementwiseShader): TensorInfo {
  const names = Object.keys(shader.inputs);
  const uniforms = Object.entries(shader.uniforms ?? {});
  const size = shader.outputShape.reduce((n, d) => n * d, 1);
  const program = {
    variableNames: names,
    size: true,
    uniforms: uniforms.map(([name, { type }]) => `${name} : ${type},`).join(" ") || undefined,
    workgroupSize: [WORKGROUP, 1, 1],
    outputShape: shader.outputShape,
    dispatchLayout: { x: shader.outputShape.map((_, i) => i) },
    // The backend reshapes a dispatch that exceeds the device's per-dimension limit.
    dispatch: [Math.ceil(size / WORKGROUP), 1, 1],
    shaderKey: `capillary_${shader.key}`,
    getUserCode: () => `
      ${shader.functions ?? ""}
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${shader.body}
        }
      }
    `,
  };
  return (backend as WebgpuBackend).runWebGPUProgram(
    program,
    names.map((name) => shader.inputs[name]),
    "float32",
    uniforms.map(([, { type, value }]) => ({
      type: type === "f32" ? "float32" : "int32",
      data: [value],
    })),
  );
}

/** What {@link runChannelSums} sums. */
export interface ChannelSums {
  /** Names the compiled shader: equal keys must mean equal code. */
  readonly key: string;
  /** Values per channel (`M`): the inputs are `[M, channels]`, channels last. */
  readonly values: number;
  /** Channels (`C`): the output has one sum per channel. */
  readonly channels: number;
  /** The inputs by their names in WGSL, only those the term reads. */
  readonly inputs: Readonly<Record<string, TensorInfo>>;
  /**
   * WGSL for the term at flat index `i` of channel `c` (both `i32`), e.g.
   * `X[i] * X[i]`; per-channel inputs are read at `c`.
   */
  readonly term: string;
  /** Each sum is multiplied by this (e.g. `1 / M` for a mean). */
  readonly scale?: number;
}

/** Threads that share a channel's sum. */
const SUM_THREADS = 256;

/**
 * Sums `term` over the `values` of each channel on the webgpu backend, one
 * workgroup per channel: each thread sums a strided share in float32, then
 * the workgroup adds the threads' sums pairwise, so rounding grows with
 * log₂ of the count rather than with the count.
 *
 * @param backend The webgpu backend (a kernel function's `backend` argument).
 * @param sums What to sum.
 * @returns The `[channels]` sums, times `scale`.
 */
export function runChannelSums(backend: unknown, sums: ChannelSums): TensorInfo {
  const names = Object.keys(sums.inputs);
  const program = {
    variableNames: names,
    uniforms: "values : i32, channels : i32, scale : f32,",
    workgroupSize: [SUM_THREADS, 1, 1],
    outputShape: [sums.channels],
    dispatchLayout: { x: [0] },
    dispatch: [sums.channels, 1, 1],
    shaderKey: `capillary_sums_${sums.key}`,
    getUserCode: () => `
      var<workgroup> partial : array<f32, ${SUM_THREADS}>;
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let t = i32(localId.x);
        var sum = 0.0;
        for (var v = t; v < uniforms.values; v = v + ${SUM_THREADS}) {
          let i = v * uniforms.channels + c;
          sum = sum + (${sums.term});
        }
        partial[t] = sum;
        workgroupBarrier();
        for (var stride = ${SUM_THREADS / 2}; stride > 0; stride = stride / 2) {
          if (t < stride) {
            partial[t] = partial[t] + partial[t + stride];
          }
          workgroupBarrier();
        }
        if (t == 0) {
          setOutputAtIndex(c, partial[0] * uniforms.scale);
        }
      }
    `,
  };
  return (backend as WebgpuBackend).runWebGPUProgram(
    program,
    names.map((name) => sums.inputs[name]),
    "float32",
    [
      { type: "int32", data: [sums.values] },
      { type: "int32", data: [sums.channels] },
      { type: "float32", data: [sums.scale ?? 1] },
    ],
  );
}

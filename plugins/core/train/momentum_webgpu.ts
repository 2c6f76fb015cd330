/**
 * The momentum step of `fused_momentum.ts` on the `webgpu` backend: two
 * shader dispatches per variable, one writing the next accumulation and one
 * the next value, where tfjs's momentum optimizer with Nesterov's momentum and
 * weight decay dispatches eight. A BCDU-Net has 68 variables, so a step
 * dispatches about 400 shaders fewer. On a GPU, dispatches rather than
 * arithmetic bound a step of these small convolutions: from Deno, each
 * costs tens of microseconds of host time (measured on Mesa's lavapipe:
 * about 55 µs an elementwise op).
 *
 * The arithmetic is the host kernel's, in float32, but a shader compiler may
 * fuse a multiply and an add, so the results agree with tfjs's to rounding,
 * not bit for bit.
 *
 * @module
 */
import type { Tf } from "../../../mod.ts";
import type { tf as TfNamespace } from "../../../pipeline/backend/tfjs.ts";

type TensorInfo = TfNamespace.TensorInfo;

/** Threads a workgroup: tfjs-backend-webgpu's own choice for elementwise programs is 64 to 128. */
const WORKGROUP = 64;

/** The one method of tfjs-backend-webgpu 4.22's backend that runs a program. */
interface WebgpuBackend {
  runWebGPUProgram(
    program: object,
    inputs: TensorInfo[],
    outputDtype: "float32",
    uniforms: { type: "float32"; data: number[] }[],
  ): TensorInfo;
}

/**
 * A tfjs-backend-webgpu program (its `WebGPUProgram` contract, 4.22) for one
 * output of the momentum step. The backend declares the inputs `A`
 * (accumulation), `G` (gradient) and `V` (value) as storage arrays, the
 * uniforms, `setOutputAtIndex` and the entry point that calls `main` with
 * each flat index. `V` is an input only where the shader reads it: the
 * pipeline's layout leaves out a binding that the shader never uses, and
 * the backend binds every input.
 */
class MomentumProgram {
  readonly variableNames: string[];
  readonly size = true;
  readonly uniforms = "momentum : f32, negativeRate : f32, decay : f32,";
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey: string;

  constructor(
    readonly outputShape: number[],
    private readonly output: "value" | "accumulation",
    private readonly nesterov: boolean,
    private readonly decays: boolean,
  ) {
    const size = outputShape.reduce((n, d) => n * d, 1);
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    // The backend reshapes a dispatch that exceeds the device's per-dimension limit.
    this.dispatch = [Math.ceil(size / WORKGROUP), 1, 1];
    this.shaderKey = `capillary_momentum_${output}_${nesterov}_${decays}`;
    this.variableNames = this.readsValue ? ["A", "G", "V"] : ["A", "G"];
  }

  /** Whether the shader reads the value: for the next value, or for the decay. */
  get readsValue(): boolean {
    return this.output === "value" || this.decays;
  }

  getUserCode(): string {
    const gradient = this.decays ? "G[index] + V[index] * uniforms.decay" : "G[index]";
    const step = this.nesterov ? "g + accumulation * uniforms.momentum" : "accumulation";
    const result = this.output === "accumulation"
      ? "accumulation"
      : `uniforms.negativeRate * (${step}) + V[index]`;
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let g = ${gradient};
          let accumulation = uniforms.momentum * A[index] + g;
          setOutputAtIndex(index, ${result});
        }
      }
    `;
  }
}

/** What the momentum step is told (see `fused_momentum.ts`). */
interface StepAttrs {
  readonly momentum: number;
  readonly learningRate: number;
  readonly nesterov: boolean;
  readonly weightDecay?: number;
}

/**
 * Registers the momentum step `kernelName` (inputs `{ value, accumulation,
 * gradient }`, outputs `[value, accumulation]`) on the `webgpu` backend,
 * whether or not that backend is loaded yet. Idempotent.
 *
 * @param tf The TensorFlow.js runtime.
 * @param kernelName The kernel's name, `CapillaryMomentumStep`.
 */
export function registerWebgpuMomentumKernel(tf: Tf, kernelName: string): void {
  if (tf.getKernel(kernelName, "webgpu")) return;
  tf.registerKernel({
    kernelName,
    backendName: "webgpu",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { value, accumulation, gradient } = inputs as Record<string, TensorInfo>;
      const { momentum, learningRate, nesterov, weightDecay = 0 } = attrs as unknown as StepAttrs;
      const uniforms = [momentum, -learningRate, weightDecay].map((v) => ({
        type: "float32" as const,
        data: [v],
      }));
      const run = (output: "value" | "accumulation") => {
        const program = new MomentumProgram(value.shape, output, nesterov, weightDecay !== 0);
        const given = program.readsValue
          ? [accumulation, gradient, value]
          : [accumulation, gradient];
        return (backend as unknown as WebgpuBackend).runWebGPUProgram(
          program,
          given,
          "float32",
          uniforms,
        );
      };
      return [run("value"), run("accumulation")];
    },
  });
}

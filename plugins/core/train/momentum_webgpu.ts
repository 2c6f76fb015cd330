/**
 * The momentum step of `fused_momentum.ts` on the `webgpu` backend: two
 * shader dispatches per variable, one writing the next accumulation and one
 * the next value, where tfjs's momentum optimizer with Nesterov's momentum and
 * weight decay dispatches eight. A BCDU-Net has 68 variables, so a step
 * dispatches about 400 shaders fewer. On a GPU, dispatches rather than
 * arithmetic bound a step of these small convolutions: from Deno, each
 * costs tens of microseconds of host time (measured on Mesa's lavapipe:
 * 51 to 84 µs an elementwise op).
 *
 * The arithmetic is the host kernel's, in float32, but a shader compiler may
 * fuse a multiply and an add, so the results agree with tfjs's to rounding,
 * not bit for bit.
 *
 * @module
 */
import { runElementwise, type Tf } from "../../../mod.ts";
import type { tf as TfNamespace } from "../../../pipeline/backend/tfjs.ts";

type TensorInfo = TfNamespace.TensorInfo;

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
      const decays = weightDecay !== 0;
      const step = (output: "value" | "accumulation") => {
        // The shader reads the value for the next value, and for the decay.
        const readsValue = output === "value" || decays;
        const next = output === "accumulation"
          ? "accumulation"
          : `uniforms.negativeRate * (${
            nesterov ? "g + accumulation * uniforms.momentum" : "accumulation"
          }) + V[index]`;
        return runElementwise(backend, {
          key: `momentum_${output}_${nesterov}_${decays}`,
          outputShape: value.shape,
          inputs: readsValue
            ? { A: accumulation, G: gradient, V: value }
            : { A: accumulation, G: gradient },
          uniforms: {
            momentum: { type: "f32", value: momentum },
            negativeRate: { type: "f32", value: -learningRate },
            decay: { type: "f32", value: weightDecay },
          },
          body: `
            let g = ${decays ? "G[index] + V[index] * uniforms.decay" : "G[index]"};
            let accumulation = uniforms.momentum * A[index] + g;
            setOutputAtIndex(index, ${next});
          `,
        });
      };
      return [step("value"), step("accumulation")];
    },
  });
}

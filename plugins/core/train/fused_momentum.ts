/**
 * SGD with momentum whose update is one kernel per variable on the `wasm`
 * and `cpu` backends, where tfjs's `MomentumOptimizer` runs six (and its
 * engine bookkeeping for each): a BCDU-Net has about 70 variables, so a step
 * spent about 400 kernel calls on the update alone, on the main thread while
 * data-parallel workers wait. The arithmetic is tfjs's, each operation
 * rounded to float32 as its kernels round it, so the weights and
 * accumulators are bit for bit what tfjs computes; its state (`getWeights`,
 * `setWeights`, the accumulators' names) is tfjs's own. On `webgpu` the step
 * is two shader dispatches per variable (`momentum_webgpu.ts`), equal to
 * tfjs's to rounding; on other backends it is tfjs's optimizer as it is. Weight decay (PyTorch's SGD `weight_decay`:
 * the gradient plus `decay · w`) is folded into the same kernel, rounded as
 * tfjs's `add(g, mul(w, decay))` rounds, so it costs no kernels of its own.
 *
 * @module
 */
import { type KernelMemory, registerHostKernel, type Tf } from "../../../mod.ts";
import type { tf as TfNamespace } from "../../../pipeline/backend/tfjs.ts";
import { registerWebgpuMomentumKernel } from "./momentum_webgpu.ts";

type TensorInfo = TfNamespace.TensorInfo;
type Tensor = TfNamespace.Tensor;

/** Inputs `{ value, accumulation, gradient }`; outputs `[value, accumulation]` after the step. */
export const MOMENTUM_STEP = "CapillaryMomentumStep";

/** What {@link MOMENTUM_STEP} is told. */
interface StepAttrs {
  readonly momentum: number;
  readonly learningRate: number;
  readonly nesterov: boolean;
  /** L2 penalty: the gradient used is `g + weightDecay · w`; 0 or absent: none. */
  readonly weightDecay?: number;
}

function momentumStep(
  memory: KernelMemory,
  inputs: Record<string, TensorInfo>,
  { momentum, learningRate, nesterov, weightDecay = 0 }: StepAttrs,
): TensorInfo[] {
  const { value, accumulation, gradient } = inputs;
  const size = value.shape.reduce((n, d) => n * d, 1);
  for (const info of [accumulation, gradient]) {
    if (info.dtype !== "float32" || info.shape.reduce((n, d) => n * d, 1) !== size) {
      throw new Error(
        `${MOMENTUM_STEP}: [${info.shape}] does not match the value [${value.shape}]`,
      );
    }
  }
  const nextValueInfo = memory.output(value.shape);
  const nextAccumulationInfo = memory.output(value.shape);
  const [v, a, g, nextValue, nextAccumulation] = [
    value,
    accumulation,
    gradient,
    nextValueInfo,
    nextAccumulationInfo,
  ].map((info) => memory.view(info));
  // tfjs's scalars m = momentum and c = −rate, in float32; every product and sum rounded.
  const m = Math.fround(momentum), c = Math.fround(-learningRate), round = Math.fround;
  const d = round(weightDecay);
  for (let i = 0; i < size; i++) {
    const gi = d === 0 ? g[i] : round(g[i] + round(v[i] * d));
    const acc = round(round(m * a[i]) + gi);
    nextAccumulation[i] = acc;
    const step = nesterov ? round(gi + round(acc * m)) : acc;
    nextValue[i] = round(c * step) + v[i];
  }
  return [nextValueInfo, nextAccumulationInfo];
}

/**
 * Registers {@link MOMENTUM_STEP} on the backends with host memory and on
 * `webgpu` (`momentum_webgpu.ts`). Idempotent.
 */
export function registerMomentumKernel(tf: Tf): void {
  registerWebgpuMomentumKernel(tf, MOMENTUM_STEP);
  registerHostKernel(
    tf,
    MOMENTUM_STEP,
    (memory, inputs, attrs) => momentumStep(memory, inputs, attrs as unknown as StepAttrs),
  );
}

/** tfjs's private state of a momentum optimizer, which the fused update reads and keeps. */
interface MomentumState {
  accumulations: { originalName: string; variable: TfNamespace.Variable }[];
  learningRate: number;
  momentum: number;
  useNesterov: boolean;
  incrementIterations(): void;
}

/**
 * `tf.train.momentum(learningRate, momentum, nesterov)`, updating through
 * {@link MOMENTUM_STEP} where the backend has it, with optional weight decay
 * (each gradient `g` replaced by `g + weightDecay · w`, as PyTorch's SGD).
 *
 * @param tf The TensorFlow.js runtime.
 * @param learningRate The learning rate (`setLearningRate` changes it).
 * @param momentum The momentum.
 * @param nesterov Nesterov's momentum.
 * @param weightDecay The L2 penalty's factor; 0 (the default): none.
 * @returns A `MomentumOptimizer`.
 *
 * @example Usage
 * ```ts
 * import { tf } from "../../../mod.ts";
 * import { fusedMomentum } from "./fused_momentum.ts";
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.scalar(1), true, "fused_momentum_doc");
 * const optimizer = fusedMomentum(tf, 0.1, 0.5, false);
 * optimizer.minimize(() => tf.mul(w, 2) as tf.Scalar); // gradient 2: accumulator 2, w = 1 − 0.2
 * optimizer.minimize(() => tf.mul(w, 2) as tf.Scalar); // accumulator 0.5·2 + 2 = 3, w = 0.8 − 0.3
 * console.assert(Math.abs(w.dataSync()[0] - 0.5) < 1e-6);
 * ```
 */
export function fusedMomentum(
  tf: Tf,
  learningRate: number,
  momentum: number,
  nesterov: boolean,
  weightDecay = 0,
): TfNamespace.MomentumOptimizer {
  registerMomentumKernel(tf);
  const optimizer = tf.train.momentum(learningRate, momentum, nesterov);
  const stock = optimizer.applyGradients.bind(optimizer);
  const state = optimizer as unknown as MomentumState;
  optimizer.applyGradients = (given) => {
    const entries: [string, Tensor | undefined][] = Array.isArray(given)
      ? given.map(({ name, tensor }) => [name, tensor])
      : Object.entries(given);
    if (!tf.getKernel(MOMENTUM_STEP, tf.getBackend())) {
      if (!weightDecay) return stock(given);
      const decayed = entries.map(([name, gradient]) => ({
        name,
        tensor: gradient &&
          tf.tidy(() =>
            tf.add(gradient, tf.mul(tf.engine().registeredVariables[name], weightDecay))
          ),
      }));
      stock(decayed as Parameters<typeof stock>[0]);
      tf.dispose(decayed.flatMap(({ tensor }) => tensor ? [tensor] : []));
      return;
    }
    // As tfjs's: accumulators by position, made at first use, named after their variables.
    entries.forEach(([name, gradient], i) => {
      const value = tf.engine().registeredVariables[name];
      state.accumulations[i] ??= {
        originalName: `${name}/momentum`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      if (gradient == null) return;
      const accumulation = state.accumulations[i].variable;
      tf.tidy(() => {
        const [nextValue, nextAccumulation] = tf.engine().runKernel(
          MOMENTUM_STEP,
          { value, accumulation, gradient } as unknown as TfNamespace.NamedTensorMap,
          {
            momentum: state.momentum,
            learningRate: state.learningRate,
            nesterov: state.useNesterov,
            weightDecay,
          } as unknown as TfNamespace.NamedAttrMap,
        ) as Tensor[];
        accumulation.assign(nextAccumulation);
        value.assign(nextValue);
      });
    });
    state.incrementIterations();
  };
  return optimizer;
}

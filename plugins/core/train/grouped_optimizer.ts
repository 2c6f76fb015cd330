/**
 * An optimizer that gives parameter groups their own learning rates, as
 * PyTorch's `param_groups` do: each group has its own base learning rate,
 * and the schedule scales every group's base rate alike. TensorFlow.js
 * layers models take one optimizer, so this one routes each variable's
 * gradient to an optimizer of its own (SGD with momentum, Adam, or one a
 * plugin's optimizer component makes).
 *
 * @module
 */
import {
  type NamedTensor,
  type OptimizerFactory,
  setOptimizerLearningRate,
  type Tf,
} from "../../../mod.ts";
import type { tf as TfNamespace } from "../../../pipeline/backend/tfjs.ts";
import { fusedMomentum } from "./fused_momentum.ts";

type Gradients = Parameters<TfNamespace.Optimizer["applyGradients"]>[0];

/** One group: which variables, and at what base learning rate. */
export interface ParameterGroup {
  /** Variable names (`tf.Variable.name`) in the group. */
  readonly variables: ReadonlySet<string>;
  /** The group's base learning rate (before the schedule). */
  readonly learningRate: number;
}

/** SGD with momentum (the paper's), as `core/train` configures it. */
export interface SgdSettings {
  readonly type: "sgd";
  /** The base learning rate of variables in no group. */
  readonly learningRate: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  /** L2 penalty added to the gradient (`g + weightDecay · w`), as PyTorch's SGD does; 0: none. */
  readonly weightDecay?: number;
}

/** Adam or AdamW, as `core/train` configures them. */
export interface AdamSettings {
  /** `adamw` decays the weights apart from the gradient (Loshchilov and Hutter). */
  readonly type: "adam" | "adamw";
  /** The base learning rate of variables in no group. */
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** AdamW: each step first scales a weight by `1 − rate · weightDecay`. */
  readonly weightDecay?: number;
}

/** A plugin's optimizer (an optimizer component), as `core/train` builds it. */
export interface ComponentOptimizerSettings {
  readonly type: "component";
  /** The base learning rate of variables in no group. */
  readonly learningRate: number;
  /** Makes one variable's optimizer at its group's base rate (`createComponent`'s, checked). */
  readonly create: OptimizerFactory;
}

/** Which optimizer updates each variable, and the default base rate. */
export type OptimizerSettings = SgdSettings | AdamSettings | ComponentOptimizerSettings;

/** Adam's private running powers of beta1 and beta2 (see `getWeights`). */
const ADAM_POWERS = ["accBeta1", "accBeta2"];

/**
 * One variable's optimizer, how to set its learning rate, and how to apply
 * a gradient to it (with weight decay, when set).
 */
function makeOptimizer(tf: Tf, settings: OptimizerSettings, initialRate: number, decay: number) {
  let rate = initialRate;
  const variable = (name: string) => tf.engine().registeredVariables[name] as TfNamespace.Variable;
  if (settings.type === "component") {
    // Its decay is its own: the options refuse weightDecay beside a plugin's optimizer.
    const optimizer = settings.create(rate);
    return {
      optimizer,
      setRate: (r: number) => setOptimizerLearningRate(optimizer, rate = r),
      apply: (name: string, gradient: TfNamespace.Tensor) =>
        optimizer.applyGradients({ [name]: gradient } as never),
    };
  }
  if (settings.type === "sgd") {
    const optimizer = fusedMomentum(tf, rate, settings.momentum, settings.nesterov, decay);
    return {
      optimizer,
      setRate: (r: number) => optimizer.setLearningRate(rate = r),
      apply: (name: string, gradient: TfNamespace.Tensor) =>
        optimizer.applyGradients({ [name]: gradient } as never),
    };
  }
  const optimizer = tf.train.adam(rate, settings.beta1, settings.beta2, settings.epsilon);
  return {
    optimizer,
    // tfjs's Adam has no setter but reads its rate at every update.
    setRate: (r: number) =>
      (optimizer as unknown as { learningRate: number }).learningRate = rate = r,
    apply(name: string, gradient: TfNamespace.Tensor) {
      if (settings.type === "adamw" && decay) {
        const w = variable(name);
        tf.tidy(() => w.assign(tf.mul(w, 1 - rate * decay)));
      }
      optimizer.applyGradients({ [name]: gradient } as never);
    },
  };
}

/** Options that act on the updates of all groups together. */
export interface GradientSettings {
  /** Rescale the gradients when their global L2 norm exceeds this (null: never). */
  readonly clipNorm?: number | null;
  /**
   * Variables (by `tf.Variable.name`) that weight decay leaves alone, in
   * whichever group they are: biases and batch norm's scale and offset, say.
   */
  readonly decayExcluded?: ReadonlySet<string>;
}

/** Separates a variable's name from its optimizer's weight name in saved state. */
const STATE_SEPARATOR = "::";

/** An optimizer over parameter groups (see the module doc). */
export interface GroupedOptimizer extends TfNamespace.Optimizer {
  /** Sets every group's rate to `rate(base)`, e.g. the schedule at this step. */
  setRates(rate: (base: number) => number): void;
  /** The learning rates now: the default group's first, then each group's. */
  readonly rates: readonly number[];
}

/**
 * Creates an optimizer whose variables in `groups[i]` learn at
 * `groups[i].learningRate` and the rest at `settings.learningRate`. With no
 * groups it updates exactly as one optimizer of that kind does.
 *
 * @param tf The TensorFlow.js runtime (the stage context's).
 * @param settings The kind of optimizer, its settings and the default base rate.
 * @param groups Disjoint groups of variables.
 * @param variables Every variable it will update (by `tf.Variable.name`).
 * @param gradients Gradient clipping by global norm, and the variables weight decay spares.
 * @returns The optimizer, to pass to `model.compile`.
 *
 * @example Usage
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { groupedOptimizer } from "./grouped_optimizer.ts";
 * const a = tf.variable(tf.scalar(1), true, "a"), b = tf.variable(tf.scalar(1), true, "b");
 * const sgd = { type: "sgd", learningRate: 0.1, momentum: 0, nesterov: false } as const;
 * const optimizer = groupedOptimizer(tf, sgd, [
 *   { variables: new Set(["b"]), learningRate: 0.01 },
 * ], ["a", "b"]);
 * optimizer.minimize(() => tf.add(a, b) as tf.Scalar); // both gradients are 1
 * console.assert(Math.abs(a.dataSync()[0] - 0.9) < 1e-6 && Math.abs(b.dataSync()[0] - 0.99) < 1e-6);
 * ```
 */
export function groupedOptimizer(
  tf: Tf,
  settings: OptimizerSettings,
  groups: readonly ParameterGroup[],
  variables: Iterable<string>,
  gradients: GradientSettings = {},
): GroupedOptimizer {
  const bases = [settings.learningRate, ...groups.map((g) => g.learningRate)];
  const groupOf = (name: string) => 1 + groups.findIndex((g) => g.variables.has(name));
  // One momentum optimizer per variable: tfjs keys its accumulators by the
  // position of a variable in each call, so a set of variables that changes
  // (layers thawing) would otherwise pair variables with other accumulators.
  // Made here, not on first use: an optimizer made inside a tidy loses its constants.
  const perVariable = new Map<string, { group: number } & ReturnType<typeof makeOptimizer>>();
  for (const name of variables) {
    const group = groupOf(name);
    const decay = gradients.decayExcluded?.has(name) || settings.type === "component"
      ? 0
      : settings.weightDecay ?? 0;
    perVariable.set(name, { group, ...makeOptimizer(tf, settings, bases[group], decay) });
  }
  class Grouped extends tf.Optimizer implements GroupedOptimizer {
    static className = "CapillaryGroupedOptimizer";
    rates = [...bases];
    setRates(rate: (base: number) => number): void {
      this.rates = bases.map(rate);
      for (const { group, setRate } of perVariable.values()) setRate(this.rates[group]);
    }
    applyGradients(given: Gradients): void {
      let entries = Array.isArray(given)
        ? given.map(({ name, tensor }) => [name, tensor] as const)
        : Object.entries(given);
      const clipNorm = gradients.clipNorm;
      const scaled: TfNamespace.Tensor[] = [];
      if (clipNorm) {
        // On the device, without reading the norm back: a read per step would stall a GPU
        // (and Deno's webgpu backend cannot read synchronously at all). A factor of exactly 1
        // leaves a gradient under the norm as it was.
        const factor = tf.tidy(() =>
          tf.minimum(
            1,
            tf.div(
              clipNorm,
              tf.sqrt(tf.addN(entries.map(([, t]) => tf.sum(tf.square(t as TfNamespace.Tensor))))),
            ),
          )
        );
        scaled.push(factor);
        entries = entries.map(([name, t]) => {
          const s = tf.mul(t as TfNamespace.Tensor, factor);
          scaled.push(s);
          return [name, s] as const;
        });
      }
      for (const [name, tensor] of entries) {
        const entry = perVariable.get(name);
        if (!entry) {
          throw new Error(`Cannot update variable "${name}": it was not given at creation`);
        }
        entry.apply(name, tensor as TfNamespace.Tensor);
      }
      tf.dispose(scaled);
    }
    /** Every variable's optimizer state, for checkpoints (see {@link STATE_SEPARATOR}). */
    override async getWeights(): Promise<NamedTensor[]> {
      const out: NamedTensor[] = [];
      for (const [variable, { optimizer }] of perVariable) {
        for (const { name, tensor } of await optimizer.getWeights()) {
          out.push({ name: `${variable}${STATE_SEPARATOR}${name}`, tensor });
        }
        // Adam keeps beta^t as running products, which setWeights would recompute
        // with pow (other rounding): saved as they are, so a resumed run is exact.
        for (const key of ADAM_POWERS) {
          const power = (optimizer as unknown as Record<string, TfNamespace.Variable>)[key];
          if (power) out.push({ name: `${variable}${STATE_SEPARATOR}${key}`, tensor: power });
        }
      }
      return out;
    }
    /** Restores what {@link getWeights} gave. */
    override async setWeights(values: NamedTensor[]): Promise<void> {
      // tfjs makes variable names unique per process (`down1_conv1/kernel_16`): a checkpoint
      // written by another process, or after other builds, names them with other counters.
      // Without the counter, a layer's weight is named by its layer (unique in the network).
      const withoutCounter = (name: string) => name.replace(/_\d+$/, "");
      const byStem = new Map<string, string | null>();
      for (const name of perVariable.keys()) {
        const stem = withoutCounter(name);
        byStem.set(stem, byStem.has(stem) ? null : name); // null: two share it, no match
      }
      const byVariable = new Map<string, NamedTensor[]>();
      for (const { name, tensor } of values) {
        const at = name.lastIndexOf(STATE_SEPARATOR);
        const saved = name.slice(0, at);
        const variable = perVariable.has(saved) ? saved : byStem.get(withoutCounter(saved));
        if (!variable) {
          throw new Error(`Cannot restore optimizer state: no variable "${saved}" here`);
        }
        const list = byVariable.get(variable) ?? [];
        list.push({ name: name.slice(at + STATE_SEPARATOR.length), tensor });
        byVariable.set(variable, list);
      }
      for (const [variable, list] of byVariable) {
        const { optimizer } = perVariable.get(variable)!;
        await optimizer.setWeights(list.filter((w) => !ADAM_POWERS.includes(w.name)));
        for (const key of ADAM_POWERS) {
          const saved = list.find((w) => w.name === key);
          if (saved) {
            (optimizer as unknown as Record<string, TfNamespace.Variable>)[key].assign(
              saved.tensor,
            );
          }
        }
      }
    }
    override dispose(): void {
      // A plugin's optimizer may be a plain object without dispose.
      for (const { optimizer } of perVariable.values()) optimizer.dispose?.();
      super.dispose();
    }
    getConfig() {
      // A plugin's factory is no setting to serialise.
      const plain = settings.type === "component"
        ? { type: settings.type, learningRate: settings.learningRate }
        : settings;
      return {
        ...plain,
        groups: groups.map((g) => ({ learningRate: g.learningRate, variables: [...g.variables] })),
      };
    }
  }
  return new Grouped();
}

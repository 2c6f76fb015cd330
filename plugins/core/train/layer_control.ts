/**
 * Freezing layers, thawing them on schedule, and parameter groups with their
 * own learning rates: the layer-level controls of fine-tuning.
 *
 * Frozen layers are TensorFlow.js's `trainable = false`, which takes effect
 * at `compile`. A frozen batch norm layer keeps its scale and offset; with
 * `frozenBatchNorm: inference` (the default, as Keras 3) it is also held in
 * inference mode, normalising with its moving statistics and leaving them
 * as they are, while with `batch` it normalises with each batch's statistics
 * and updates the moving ones, as TensorFlow.js alone would.
 *
 * @module
 */
import { CapillaryError, holdInInference } from "../../../mod.ts";
import type { ParameterGroup } from "./grouped_optimizer.ts";
import { selectLayers } from "./layer_patterns.ts";

type LayersModel = import("@tensorflow/tfjs").LayersModel;
type Variable = import("@tensorflow/tfjs").Variable;

/** The options of `core/train` this module reads. */
export interface LayerOptions {
  readonly freeze: readonly string[];
  readonly unfreeze: readonly { readonly epoch: number; readonly layers: readonly string[] }[];
  readonly parameterGroups: readonly {
    readonly layers: readonly string[];
    readonly learningRate: number;
  }[];
  readonly frozenBatchNorm: "inference" | "batch";
}

/**
 * Whether a layer of class `className` (`getClassName()`) is a batch norm:
 * tfjs-layers' `BatchNormalization`, Capillary's, or a plugin's named so.
 */
export function isBatchNorm(className: string): boolean {
  return className.endsWith("BatchNormalization");
}

/** What {@link layerControl} gives the training loop. */
export interface LayerControl {
  /** Parameter groups (layer names and variable names) in option order. */
  readonly groups: readonly (ParameterGroup & { readonly layers: readonly string[] })[];
  /** Thaws what is scheduled for the start of `epoch` (from 1); whether anything changed. */
  thaw(epoch: number): boolean;
  /** Thaws every layer (after training). */
  thawAll(): void;
  /** Lines on what is frozen (as of `epoch`, or at the start) and the groups' rates. */
  describe(epoch?: number): string[];
  /** Names of the layers frozen now. */
  frozen(): string[];
  /** Every weight variable's name (`tf.Variable.name`), frozen or not. */
  readonly variables: readonly string[];
}

/** What `freeze`, `unfreeze` and `parameterGroups` select among a network's layers. */
export interface LayerSelection {
  /** The layers frozen at the start. */
  readonly frozen: readonly string[];
  /** Per `unfreeze` entry (option order): its epoch and the frozen layers it thaws then. */
  readonly thaws: readonly {
    readonly epoch: number;
    readonly layers: readonly string[];
    readonly warning?: string;
  }[];
  /** Per parameter group (option order): its rate and members (a layer joins its first match). */
  readonly groups: readonly {
    readonly learningRate: number;
    readonly layers: readonly string[];
    readonly warning?: string;
  }[];
  /**
   * The entries' warnings, where a setting selects layers yet changes
   * nothing: said, since training accepts it.
   */
  readonly warnings: readonly string[];
}

/**
 * Resolves `freeze`, `unfreeze` and `parameterGroups` against the names of
 * the layers with weights: the run's selection and the plan's.
 *
 * @throws {CapillaryError} `E_LAYER_PATTERN` when a pattern matches no layer.
 *
 * @example Usage
 * ```ts
 * import { selectLayerSettings } from "./layer_control.ts";
 * const selection = selectLayerSettings({
 *   freeze: ["down*"],
 *   unfreeze: [{ epoch: 3, layers: ["*"] }, { epoch: 2, layers: ["down1"] }],
 *   parameterGroups: [],
 * }, ["down1", "down2", "head"]);
 * console.assert(selection.thaws.map((t) => t.layers.join()).join(" ") === "down2 down1");
 * ```
 */
export function selectLayerSettings(
  options: Omit<LayerOptions, "frozenBatchNorm">,
  names: readonly string[],
): LayerSelection {
  const frozen = selectLayers(options.freeze, names, "train.freeze");
  const stillFrozen = new Set(frozen); // less what earlier thaws released
  const thaws: LayerSelection["thaws"][number][] = [];
  [...options.unfreeze.entries()].sort(([, a], [, b]) => a.epoch - b.epoch).forEach(([i, u]) => {
    const layers = selectLayers(u.layers, names, `train.unfreeze[${i}].layers`)
      .filter((n) => stillFrozen.has(n));
    layers.forEach((n) => stillFrozen.delete(n));
    thaws[i] = {
      epoch: u.epoch,
      layers,
      warning: !layers.length
        ? `train.unfreeze[${i}] thaws nothing: none of its layers is frozen then`
        : u.epoch === 1
        ? `train.unfreeze[${i}] thaws at epoch 1, before any training, so their freeze does nothing`
        : undefined,
    };
  });
  const taken = new Set<string>();
  const groups = options.parameterGroups.map((g, i) => {
    const layers = selectLayers(g.layers, names, `train.parameterGroups[${i}].layers`)
      .filter((n) => !taken.has(n));
    layers.forEach((n) => taken.add(n));
    const warning = layers.length ? undefined : `train.parameterGroups[${i}] is empty: each of ` +
      "its layers joined an earlier group, the first it matches";
    return { learningRate: g.learningRate, layers, warning };
  });
  const warnings = [...thaws, ...groups].flatMap((e) => e.warning ? [e.warning] : []);
  return { frozen, thaws, groups, warnings };
}

/**
 * Applies `core/train`'s `freeze`, `unfreeze` and `parameterGroups` to a
 * built network: checks every pattern against its layers up front, freezes,
 * and thaws on schedule.
 *
 * @param model The network, before `compile` (frozen layers must be known then).
 * @param options The three options.
 * @returns The parameter groups for {@link groupedMomentum}, `thaw` to call at
 * each epoch's start (recompile when it returns true), and `describe` for the log.
 * @throws {CapillaryError} When a pattern matches no layer, or every layer is frozen.
 */
export function layerControl(model: LayersModel, options: LayerOptions): LayerControl {
  const withWeights = model.layers.filter((l) => l.weights.length);
  const byName = new Map(withWeights.map((l) => [l.name, l]));
  const selection = selectLayerSettings(options, withWeights.map((l) => l.name));
  const frozen = new Set(selection.frozen);
  const groups = selection.groups.map((g) => ({
    learningRate: g.learningRate,
    layers: g.layers,
    variables: new Set(
      g.layers.flatMap((n) => byName.get(n)!.weights.map((w) => (w.read() as Variable).name)),
    ),
  }));
  const holdStatistics = options.frozenBatchNorm === "inference";
  const apply = () =>
    withWeights.forEach((l) => {
      l.trainable = !frozen.has(l.name);
      if (isBatchNorm(l.getClassName())) holdInInference(l, holdStatistics && frozen.has(l.name));
    });
  apply();
  const trainable = () =>
    withWeights.filter((l) => !frozen.has(l.name)).reduce((n, l) => n + l.countParams(), 0);
  if (trainable() === 0) throw everyLayerFrozen();
  const list = (names: readonly string[]) =>
    names.length > 6 ? `${names.slice(0, 6).join(", ")}, … (${names.length} layers)` : names.join(
      ", ",
    );
  return {
    groups,
    frozen: () => [...frozen],
    thawAll() {
      frozen.clear();
      apply();
    },
    variables: withWeights.flatMap((l) => l.weights.map((w) => (w.read() as Variable).name)),
    thaw(epoch: number): boolean {
      const due = selection.thaws.filter((t) => t.epoch === epoch).flatMap((t) => t.layers)
        .filter((n) => frozen.has(n));
      due.forEach((n) => frozen.delete(n));
      if (due.length) apply();
      return due.length > 0;
    },
    describe(epoch?: number): string[] {
      const total = withWeights.reduce((n, l) => n + l.countParams(), 0);
      const lines = frozen.size || epoch
        ? [
          `${epoch ? `epoch ${epoch}: ` : ""}${
            frozen.size ? `frozen ${list([...frozen])}` : "all layers train"
          }; ${trainable().toLocaleString("en")} of ${total.toLocaleString("en")} parameters train`,
        ]
        : [];
      if (!epoch) {
        lines.push(...selection.warnings.map((w) => `warning: ${w}`));
        const norms = withWeights.filter((l) =>
          frozen.has(l.name) && isBatchNorm(l.getClassName())
        ).length;
        if (norms) lines.push(frozenBatchNormLine(norms, options.frozenBatchNorm));
        for (const g of groups) lines.push(`learning rate ${g.learningRate}: ${list(g.layers)}`);
      }
      return lines;
    },
  };
}

/** What `count` frozen batch norm layers do in training (the run's line and the plan's). */
export function frozenBatchNormLine(count: number, mode: "inference" | "batch"): string {
  return mode === "inference"
    ? `frozen batch norm layers (${count}): normalise with their moving statistics, which stay ` +
      "as they start (frozenBatchNorm: inference)"
    : `frozen batch norm layers (${count}): normalise with each batch's statistics and update ` +
      "their moving ones (frozenBatchNorm: batch)";
}

/** The refusal of a `train.freeze` that leaves nothing to train (the run's and the plan's). */
export function everyLayerFrozen(): CapillaryError {
  return new CapillaryError(
    "Cannot train: train.freeze freezes every layer; leave some out or add train.unfreeze",
    "E_LAYER_PATTERN",
  );
}

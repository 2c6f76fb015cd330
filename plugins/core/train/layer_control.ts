/**
 * Freezing layers, thawing them on schedule, and parameter groups with their
 * own learning rates: the layer-level controls of fine-tuning.
 *
 * Frozen layers are TensorFlow.js's `trainable = false`, which takes effect
 * at `compile`. A frozen BatchNormalization layer keeps its scale and offset
 * but, as TensorFlow.js does, still normalises with batch statistics in
 * training and updates its running ones.
 *
 * @module
 */
import { CapillaryError } from "../../../mod.ts";
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
  const names = withWeights.map((l) => l.name);
  const byName = new Map(withWeights.map((l) => [l.name, l]));
  const frozen = new Set(selectLayers(options.freeze, names, "train.freeze"));
  const thaws = options.unfreeze.map((u, i) => ({
    epoch: u.epoch,
    layers: selectLayers(u.layers, names, `train.unfreeze[${i}].layers`),
  }));
  const taken = new Set<string>();
  const groups = options.parameterGroups.map((g, i) => {
    const members = selectLayers(g.layers, names, `train.parameterGroups[${i}].layers`)
      .filter((n) => !taken.has(n));
    members.forEach((n) => taken.add(n));
    return {
      learningRate: g.learningRate,
      layers: members,
      variables: new Set(
        members.flatMap((n) => byName.get(n)!.weights.map((w) => (w.read() as Variable).name)),
      ),
    };
  });
  const apply = () => withWeights.forEach((l) => l.trainable = !frozen.has(l.name));
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
      const due = thaws.filter((t) => t.epoch === epoch).flatMap((t) => t.layers)
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
        for (const g of groups) lines.push(`learning rate ${g.learningRate}: ${list(g.layers)}`);
      }
      return lines;
    },
  };
}

/** The refusal of a `train.freeze` that leaves nothing to train (the run's and the plan's). */
export function everyLayerFrozen(): CapillaryError {
  return new CapillaryError(
    "Cannot train: train.freeze freezes every layer; leave some out or add train.unfreeze",
    "E_LAYER_PATTERN",
  );
}

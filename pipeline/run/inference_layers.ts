/**
 * Layers held in inference mode while the network trains: their `call`
 * sees `training: false` whatever the caller passes. Keras 3 does this to a
 * BatchNormalization layer set `trainable = False` (it normalises with its
 * moving statistics and leaves them as they are), the usual way to
 * fine-tune a pretrained block on new data; TensorFlow.js has no such switch.
 *
 * The hold is a property of the layer object, never saved with the model;
 * data-parallel workers are told which layers are held with each job.
 *
 * @module
 */
import type { tf } from "../backend/tfjs.ts";

type Layer = tf.layers.Layer;

/** The marker on a held layer's own `call`. */
const HELD = Symbol("capillary.heldInInference");

type Call = Layer["call"] & { [HELD]?: true };

/**
 * Holds `layer` in inference mode (`hold` true) or releases it: while held,
 * every `call` runs with `training: false`. Holding twice, or releasing a
 * layer not held, changes nothing.
 *
 * @example Usage
 * ```ts
 * import { tf } from "../backend/tfjs.ts";
 * import { holdInInference, isHeldInInference } from "./inference_layers.ts";
 * const layer = tf.layers.batchNormalization();
 * holdInInference(layer, true);
 * console.assert(isHeldInInference(layer));
 * holdInInference(layer, false);
 * console.assert(!isHeldInInference(layer));
 * ```
 */
export function holdInInference(layer: Layer, hold: boolean): void {
  if (hold === isHeldInInference(layer)) return;
  if (!hold) {
    // The class's own call shows through again.
    delete (layer as unknown as { call?: Call }).call;
    return;
  }
  const classCall = layer.call;
  const held: Call = function (this: Layer, inputs, kwargs) {
    return classCall.call(this, inputs, { ...kwargs, training: false });
  };
  held[HELD] = true;
  layer.call = held;
}

/** Whether `layer` is held in inference mode by {@link holdInInference}. */
export function isHeldInInference(layer: Layer): boolean {
  return Object.hasOwn(layer, "call") && (layer.call as Call)[HELD] === true;
}

/** The names of `model`'s layers held in inference mode, in layer order. */
export function layersHeldInInference(model: tf.LayersModel): string[] {
  return model.layers.filter(isHeldInInference).map((l) => l.name);
}

/** Holds exactly the layers of `model` named in `names`, releasing the others. */
export function holdLayersInInference(model: tf.LayersModel, names: readonly string[]): void {
  const held = new Set(names);
  for (const layer of model.layers) holdInInference(layer, held.has(layer.name));
}

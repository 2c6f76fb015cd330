/**
 * A network's layers with weights, as plain data (name, class, weight shapes),
 * from a built network or a saved `model.json` without loading its weights;
 * and pairing two such lists layer by layer, the check behind
 * `stages.model.from` in the run (`pretrained.ts`) and in the plan.
 *
 * @module
 */
import type { tf } from "../backend/tfjs.ts";
import { CapillaryError } from "../errors.ts";
import { join } from "../path.ts";

/** One weight of a layer: its name within the layer (`kernel`) and its shape. */
export interface WeightShape {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A layer that holds weights, as data. */
export interface LayerWeights {
  readonly name: string;
  /** Its class, `getClassName()` (e.g. `Conv2D`). */
  readonly className: string;
  /** Its weights in the layer's order (trainable ones first). */
  readonly weights: readonly WeightShape[];
}

/** The weight's name within its layer: `down1_conv1/kernel` → `kernel`. */
function shortName(full: string, layer: string): string {
  return full.startsWith(`${layer}/`) ? full.slice(layer.length + 1) : full;
}

/**
 * The layers of `model` that hold weights, as {@link LayerWeights}.
 *
 * @example Usage
 * ```ts
 * import { tf } from "../backend/tfjs.ts";
 * import { layerWeights } from "./layer_weights.ts";
 * const input = tf.input({ shape: [4, 4, 1] });
 * const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, name: "c" });
 * const model = tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor });
 * const [layer] = layerWeights(model);
 * console.assert(layer.weights.map((w) => `${w.name} ${w.shape}`).join() === "kernel 3,3,1,2,bias 2");
 * ```
 */
export function layerWeights(model: tf.LayersModel): LayerWeights[] {
  return model.layers.filter((l) => l.weights.length).map((l) => ({
    name: l.name,
    className: l.getClassName(),
    weights: l.weights.map((w) => ({
      name: shortName(w.originalName, l.name),
      shape: w.shape as number[], // a weight's shape is always known
    })),
  }));
}

/** A layer that holds weights, as a model's plan lists it. */
export interface PlannedLayer {
  readonly name: string;
  /** Its weight count. */
  readonly parameters: number;
  /** Its class (`getClassName()`), e.g. `Conv2D`. */
  readonly className?: string;
  /** Its weights in the layer's order: name within the layer (`kernel`) and shape. */
  readonly weights?: readonly WeightShape[];
}

/**
 * The layers of a built network that hold weights, as `ModelPlan.layers`
 * gives them: names, weight counts, classes and weight shapes.
 *
 * @example Usage
 * ```ts
 * import { tf } from "../backend/tfjs.ts";
 * import { plannedLayers } from "./layer_weights.ts";
 * const input = tf.input({ shape: [8, 8, 1] });
 * const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: "conv" });
 * const model = tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor });
 * console.assert(plannedLayers(model)[0].parameters === 3 * 3 * 4 + 4);
 * ```
 */
export function plannedLayers(model: tf.LayersModel): PlannedLayer[] {
  const counts = new Map(model.layers.map((l) => [l.name, l.countParams()]));
  return layerWeights(model).map((l) => ({ ...l, parameters: counts.get(l.name)! }));
}

/** The part of a saved `model.json` read here. */
interface SavedModelJson {
  modelTopology?: { config?: { layers?: { class_name?: string; config?: { name?: string } }[] } };
  weightsManifest?: { weights?: { name?: string; shape?: number[] }[] }[];
}

/**
 * The layers with weights of the model saved in `dir` (`model.json`, as
 * `model_io.ts` writes it), read from its topology and weights manifest
 * alone: neither the network nor its weights are loaded.
 *
 * @throws {CapillaryError} `E_MODEL_FROM` when `model.json` cannot be read or is not a saved network.
 */
export async function savedLayerWeights(dir: string): Promise<LayerWeights[]> {
  const path = join(dir, "model.json");
  let json: SavedModelJson;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new CapillaryError(
      `Cannot read ${path}: ${(error as Error).message}; train the model again, or start ` +
        "from another run",
      "E_MODEL_FROM",
    );
  }
  const layers = json.modelTopology?.config?.layers;
  const manifest = json.weightsManifest?.flatMap((group) => group.weights ?? []);
  if (!Array.isArray(layers) || !Array.isArray(manifest)) {
    throw new CapillaryError(
      `${path} is not a saved network (no layer list or weights manifest); train the model ` +
        "again, or start from another run",
      "E_MODEL_FROM",
    );
  }
  return layers.flatMap((layer) => {
    const name = layer.config?.name ?? "";
    // The manifest lists every trainable weight before the others, each as `layer/weight`.
    const own = manifest.filter((w) => w.name?.startsWith(`${name}/`));
    const order = (w: { name?: string }) => /\/moving_(mean|variance)$/.test(w.name!) ? 1 : 0;
    const weights = own.map((w, i) => ({ w, i })).sort((a, b) =>
      order(a.w) - order(b.w) || a.i - b.i
    ).map(({ w }) => ({ name: shortName(w.name!, name), shape: w.shape ?? [] }));
    return weights.length ? [{ name, className: layer.class_name ?? "", weights }] : [];
  });
}

/**
 * Whether tfjs made up the layer's name (`conv2d_Conv2D2`: its class in snake
 * case, then the class and a counter of the process), which a second build of
 * the same network does not repeat.
 */
function generatedName(layer: LayerWeights): boolean {
  const tail = layer.name.lastIndexOf(`_${layer.className}`);
  return tail > 0 && /^\d+$/.test(layer.name.slice(tail + layer.className.length + 1));
}

/**
 * Pairs every layer of `target` with the layer of `source` that holds its
 * weights, and checks their shapes: by name; or, where names differ only
 * because tfjs made them up (a plugin's layers without `name`), by place,
 * when both list the same classes in the same order.
 *
 * @returns For each target layer, in order, the index of its source layer.
 * @throws {Error} A message (no more) saying which layer is missing, or which
 * weight has which shape on each side; callers say what could not start.
 *
 * @example Usage
 * ```ts
 * import { pairLayerWeights } from "./layer_weights.ts";
 * const conv = (filters: number) => ({
 *   name: "c",
 *   className: "Conv2D",
 *   weights: [{ name: "kernel", shape: [3, 3, 1, filters] }],
 * });
 * console.assert(pairLayerWeights([conv(8)], [conv(8)]).join() === "0");
 * try {
 *   pairLayerWeights([conv(8)], [conv(6)]);
 * } catch (error) {
 *   console.assert((error as Error).message === 'layer "c" has weight c/kernel of shape [3,3,1,6] here but [3,3,1,8] there');
 * }
 * ```
 */
export function pairLayerWeights(
  source: readonly LayerWeights[],
  target: readonly LayerWeights[],
): number[] {
  const byName = new Map(source.map((l, i) => [l.name, i]));
  const sameNames = source.length === target.length && target.every((l) => byName.has(l.name));
  const samePlaces = !sameNames && source.length === target.length &&
    target.every((l, i) =>
      l.className === source[i].className &&
      (l.name === source[i].name || (generatedName(l) && generatedName(source[i])))
    );
  if (!sameNames && !samePlaces) {
    const sourceNames = new Set(source.map((l) => l.name));
    const targetNames = new Set(target.map((l) => l.name));
    const missing = target.filter((l) => !sourceNames.has(l.name)).map((l) => `"${l.name}"`);
    const extra = source.filter((l) => !targetNames.has(l.name)).map((l) => `"${l.name}"`);
    throw new Error(
      [
        missing.length ? `it has no layer ${missing.join(", ")}` : "",
        extra.length ? `this network has no layer ${extra.join(", ")}` : "",
        [...source, ...target].some(generatedName)
          ? "(names like conv2d_Conv2D2 are made up by tfjs for layers built without a " +
            "`name`, and change from one build to the next: name every layer with weights)"
          : "",
      ].filter(Boolean).join(", and "),
    );
  }
  const pairs = target.map((l, i) => sameNames ? byName.get(l.name)! : i);
  target.forEach((layer, i) => {
    const from = source[pairs[i]];
    layer.weights.forEach((weight, j) => {
      const shape = from.weights[j]?.shape ?? [];
      if (from.weights.length !== layer.weights.length || shape.join() !== weight.shape.join()) {
        throw new Error(
          `layer "${layer.name}" has weight ${layer.name}/${weight.name} of shape [${weight.shape}] ` +
            `here but [${shape}] there`,
        );
      }
    });
  });
  return pairs;
}

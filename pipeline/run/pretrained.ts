/**
 * Starting a network from an earlier run's weights (`stages.model.from`):
 * finding the saved model a recipe points at, and copying its weights into a
 * freshly built network layer by layer.
 *
 * Weights are matched by layer name, not by variable name: TensorFlow.js
 * makes variable names unique per process (`conv/kernel_1`), while layer
 * names are what the architecture sets (and, for layers built without one,
 * by their place: see {@link copyWeightsByLayer}).
 *
 * @module
 */
import type { tf } from "../backend/tfjs.ts";
import { CapillaryError, formatPosition, type SourcePosition } from "../errors.ts";
import { join, resolve } from "../path.ts";
import { layerWeights, pairLayerWeights } from "./layer_weights.ts";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Finds the saved model that `from` names, relative to `baseDir`: a folder
 * holding `model.json`, a run folder holding `model/model.json`, or a folder
 * of runs, of which the newest (by name: run folders are timestamps) that
 * finished (`metrics.json` written) is taken.
 *
 * @param from The path as the recipe gives it.
 * @param baseDir The folder it is relative to (the working folder, where runs go).
 * @param position Where the recipe says it, for the error.
 * @returns The absolute folder holding `model.json` and its weights.
 * @throws {CapillaryError} `E_MODEL_FROM`, naming the position, when there is no model there.
 *
 * @example Usage
 * ```ts
 * import { resolveModelFrom } from "./pretrained.ts";
 * const runs = await Deno.makeTempDir();
 * for (const stamp of ["2026-01-01T00-00-00Z", "2026-02-01T00-00-00Z"]) {
 *   await Deno.mkdir(`${runs}/${stamp}/model`, { recursive: true });
 *   await Deno.writeTextFile(`${runs}/${stamp}/model/model.json`, "{}");
 *   await Deno.writeTextFile(`${runs}/${stamp}/metrics.json`, "{}");
 * }
 * const dir = await resolveModelFrom(runs, "/", { file: "r.yaml", line: 3, column: 11 });
 * console.assert(dir.endsWith("2026-02-01T00-00-00Z/model"));
 * ```
 */
export async function resolveModelFrom(
  from: string,
  baseDir: string,
  position: SourcePosition,
): Promise<string> {
  const path = resolve(baseDir, from);
  const fail = (why: string, hint: string) =>
    new CapillaryError(
      `${formatPosition(position)}: stages.model.from: ${why}; ${hint}`,
      "E_MODEL_FROM",
    );
  if (await isFile(join(path, "model.json"))) return path;
  if (await isFile(join(path, "model", "model.json"))) return join(path, "model");
  if (!(await isDirectory(path))) {
    throw fail(
      `"${from}" (${path}) does not exist`,
      "train the model to start from first, or correct the path (relative to the working folder)",
    );
  }
  // A run folder of its own, killed or still training: it has no model/ yet.
  if (await isFile(join(path, "recipe.resolved.yaml"))) {
    throw fail(
      `"${from}" (${path}) is a run that has not finished: it has no model/ yet`,
      `let it finish, or resume it (deno task run --resume ${path}), then start from it`,
    );
  }
  const runs: string[] = [];
  for await (const entry of Deno.readDir(path)) if (entry.isDirectory) runs.push(entry.name);
  runs.sort().reverse();
  for (const run of runs) {
    const model = join(path, run, "model");
    if (await isFile(join(model, "model.json")) && await isFile(join(path, run, "metrics.json"))) {
      return model;
    }
  }
  throw fail(
    `no finished run with a saved model in "${from}" (${path})`,
    "train the model to start from first: its run writes model/ and metrics.json",
  );
}

/**
 * The refusal to start from `describe` (a saved model) whose layers differ
 * from the network's, as `why` (`pairLayerWeights`'s message) says:
 * the run's and the plan's.
 */
export function layersMismatch(describe: string, why: string): CapillaryError {
  return new CapillaryError(
    `Cannot start from ${describe}: ${why}; the model stage's options must match those of the ` +
      "run it starts from (see that run's recipe.resolved.yaml)",
    "E_MODEL_FROM",
  );
}

/**
 * Copies every weight of `source` into `target`, layer by layer, after
 * checking that both have the same layers with the same weight shapes.
 * Layers are matched by name; layers whose names tfjs made up (no `name`
 * given) by their place among the same classes in the same order.
 *
 * @param source The trained network (e.g. loaded from an earlier run).
 * @param target A freshly built network of the same architecture (any input size).
 * @param describe Names the source in errors (e.g. its folder).
 * @returns How many weight tensors were copied.
 * @throws {CapillaryError} `E_MODEL_FROM` when the layers or shapes differ, saying which.
 */
export function copyWeightsByLayer(
  source: tf.LayersModel,
  target: tf.LayersModel,
  describe: string,
): number {
  const sourceLayers = source.layers.filter((l) => l.weights.length);
  const targetLayers = target.layers.filter((l) => l.weights.length);
  let pairs: number[];
  try {
    pairs = pairLayerWeights(layerWeights(source), layerWeights(target));
  } catch (error) {
    throw layersMismatch(describe, (error as Error).message);
  }
  let copied = 0;
  for (const [i, layer] of targetLayers.entries()) {
    const values = sourceLayers[pairs[i]].getWeights();
    layer.setWeights(values);
    copied += values.length;
  }
  return copied;
}

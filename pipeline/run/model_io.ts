/**
 * Saves and loads networks in the TensorFlow.js layers format
 * (`model.json` plus one `weights.bin`), atomically.
 *
 * @module
 */
import { tf } from "../backend/tfjs.ts";
import { join } from "../path.ts";
import { writeFileAtomic } from "./run_folder.ts";

/**
 * Writes `model` to `dir/model.json` and `dir/weights.bin`; weights first, so
 * a `model.json` never points at missing weights.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = artifacts.weightData
      ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
      : new Uint8Array();
    await writeFileAtomic(join(dir, "weights.bin"), weights);
    const json = {
      modelTopology: artifacts.modelTopology,
      format: "layers-model",
      generatedBy: artifacts.generatedBy,
      convertedBy: null,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
    };
    await writeFileAtomic(join(dir, "model.json"), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
}

/** Reads a network written by {@link saveLayersModel}. */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
  const weights = await Deno.readFile(join(dir, "weights.bin"));
  return await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
}

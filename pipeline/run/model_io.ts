/**
 * Saves and loads networks in the TensorFlow.js layers format
 * (`model.json` plus one `weights.bin`), atomically.
 *
 * @module
 */
import { tf } from "../backend/tfjs.ts";
import { CapillaryError } from "../errors.ts";
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

/** Bytes per value of each dtype a weights manifest may give. */
const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/**
 * The bytes that the weights described by `specs` take, or undefined where
 * a spec is one this cannot size (a string tensor).
 */
export function weightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const bytes = DTYPE_BYTES[spec.quantization?.dtype ?? spec.dtype];
    if (bytes === undefined || !Array.isArray(spec.shape)) return undefined;
    total += spec.shape.reduce((n, d) => n * d, 1) * bytes;
  }
  return total;
}

/**
 * Reads a JSON file that a save wrote, saying which file is damaged rather
 * than the parser's position alone.
 *
 * @throws {CapillaryError} `E_DAMAGED_FILE` naming the file.
 */
export async function readSavedJson(path: string): Promise<unknown> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CapillaryError(
      `${path} is damaged: it is not JSON (${(error as Error).message}; ${text.length} characters)`,
      "E_DAMAGED_FILE",
      { cause: error },
    );
  }
}

/**
 * Checks that `bytes`, read from `path`, are as many as the weights `specs`
 * (from `manifest`) describe.
 *
 * @throws {CapillaryError} `E_DAMAGED_FILE` naming the file, when they are not.
 */
export function checkWeightBytes(
  path: string,
  bytes: Uint8Array,
  specs: readonly tf.io.WeightsManifestEntry[],
  manifest: string,
): void {
  const expected = weightBytes(specs);
  if (expected !== undefined && expected !== bytes.byteLength) {
    throw new CapillaryError(
      `${path} is damaged: it has ${bytes.byteLength} bytes where ${manifest} describes ` +
        `${expected} (${bytes.byteLength < expected ? "truncated" : "too long"})`,
      "E_DAMAGED_FILE",
    );
  }
}

/**
 * Reads a network written by {@link saveLayersModel}.
 *
 * @throws {CapillaryError} `E_DAMAGED_FILE` naming `model.json` or `weights.bin` when one
 * is damaged (not JSON, or weights of the wrong length).
 */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const file = join(dir, "model.json");
  const json = await readSavedJson(file) as {
    modelTopology?: unknown;
    weightsManifest?: { weights?: tf.io.WeightsManifestEntry[] }[];
  };
  const specs = json?.weightsManifest?.[0]?.weights;
  if (!json?.modelTopology || !Array.isArray(specs)) {
    throw new CapillaryError(
      `${file} is damaged: it lacks ${
        json?.modelTopology ? "the weights manifest" : "the network"
      }`,
      "E_DAMAGED_FILE",
    );
  }
  const weightsFile = join(dir, "weights.bin");
  const weights = await Deno.readFile(weightsFile);
  checkWeightBytes(weightsFile, weights, specs, file);
  return await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology as never,
    weightSpecs: specs,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
}

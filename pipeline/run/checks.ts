/**
 * Checks of what a stage hands to the next, so a faulty stage fails at its
 * own door with a message naming the sample, not three stages later.
 *
 * @module
 */
import type { Raster, Sample, SegmentationData } from "../data.ts";
import { DataError, StageError } from "../errors.ts";
import type { Evaluation, ModelSpec, PatchBatch, TrainedModel } from "../stage.ts";
import type { LayersModel } from "@tensorflow/tfjs";

const where = (sample: Sample) =>
  `sample "${sample.id}"${sample.source ? ` (${sample.source})` : ""}`;

/**
 * What a value is, in a message about what a stage returned.
 *
 * @example Usage
 * ```ts
 * import { described } from "./checks.ts";
 * console.assert([undefined, null, [], "x", {}].map(described).join() === "undefined,null,a list,a string,an object");
 * ```
 */
export function described(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return "a list";
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

/** What a load or preprocess stage returns, in the words of PLUGINS.md. */
const DATA_CONTRACT = "a load or preprocess stage returns a data set { name, train, test }: two " +
  "lists of samples { id, image, mask, roi }, each image, mask and region a raster " +
  "{ width, height, channels, data } with data a Float32Array";

function checkRaster(raster: Raster, what: string, sample: Sample): void {
  if (!raster || typeof raster !== "object") {
    throw new DataError(
      `${where(sample)}: its ${what} is ${described(raster)}, not a raster; ${DATA_CONTRACT}`,
    );
  }
  const { width, height, channels, data } = raster;
  if (!ArrayBuffer.isView(data) && !Array.isArray(data)) {
    throw new DataError(
      `${where(sample)}: its ${what}'s data is ${described(data)}, not a list of values; ` +
        DATA_CONTRACT,
    );
  }
  if (!(width > 0 && height > 0 && channels > 0) || data.length !== width * height * channels) {
    throw new DataError(
      `${where(sample)}: ${what} has ${data.length} values for ${width}×${height}×${channels}`,
    );
  }
}

function checkBinary(raster: Raster, what: string, sample: Sample): void {
  for (let i = 0; i < raster.data.length; i++) {
    const v = raster.data[i];
    if (v !== 0 && v !== 1) {
      throw new DataError(`${where(sample)}: ${what} must hold only 0 and 1, found ${v}`);
    }
  }
}

/**
 * The refusal of a file that is both a training and a test sample: the
 * run's (below) and a load stage's plan, which can say it before any image
 * is read.
 */
export function inBothSplits(dataSet: string, file: string): DataError {
  return new DataError(
    `data set "${dataSet}": ${file} is both a training and a test sample; the test images must ` +
      "be others (check the loader's test pattern)",
  );
}

/**
 * Checks a data set: non-empty splits, ids unique within each split (and no
 * file both a training and a test sample), consistent sizes, finite images,
 * binary masks, non-empty binary regions, (when `unitRange`) images in [0, 1],
 * and (when `sameChannels`) every image with as many channels as the first.
 *
 * @param sameChannels Whether the images must agree in channels: the data
 * the network sees must; a loader's, before a preprocessing stage that may
 * convert them (colour and grey files to grey), need not.
 * @throws {DataError} Naming the sample and what is wrong.
 */
export function checkSegmentationData(
  data: SegmentationData,
  unitRange: boolean,
  sameChannels = true,
): void {
  checkDataShape(data);
  if (!data.train.length) throw new DataError(`data set "${data.name}" has no training samples`);
  if (!data.test.length) throw new DataError(`data set "${data.name}" has no test samples`);
  // Ids name files (predictions/<id>.png) and held-out images within a split; the splits may
  // share one (many data sets number each from 1), unless it is the same file twice.
  const seen = new Map<string, Sample>();
  let channels: number | undefined;
  for (
    const [split, sample] of [
      ...data.train.map((s) => ["training", s] as const),
      ...data.test.map((s) => ["test", s] as const),
    ]
  ) {
    const key = `${split}/${sample.id}`;
    const twin = seen.get(key);
    if (twin) {
      throw new DataError(
        `data set "${data.name}" has two ${split} samples "${sample.id}"` +
          (twin.source && sample.source ? ` (${twin.source} and ${sample.source})` : "") +
          "; ids must differ within a split",
      );
    }
    seen.set(key, sample);
    const trained = split === "test" ? seen.get(`training/${sample.id}`) : undefined;
    if (trained?.source !== undefined && trained.source === sample.source) {
      throw inBothSplits(data.name, sample.source);
    }
    const { image, mask, roi } = sample;
    checkRaster(image, "image", sample);
    channels ??= image.channels;
    if (sameChannels && image.channels !== channels) {
      const kind = (c: number) =>
        `${c} channel${c === 1 ? " (grey)" : c === 3 ? "s (colour)" : "s"}`;
      throw new DataError(
        `${where(sample)}: image has ${kind(image.channels)}, earlier images ${kind(channels)}; ` +
          "give every image the same kind (a colour file whose pixels all have R = G = B reads " +
          "as grey)",
      );
    }
    for (
      const [what, raster] of [
        ["mask", mask],
        ["region", roi],
        ...Object.entries(sample.extra ?? {}),
      ] as [string, Raster][]
    ) {
      checkRaster(raster, what, sample);
      if (raster.width !== image.width || raster.height !== image.height || raster.channels !== 1) {
        throw new DataError(
          `${
            where(sample)
          }: ${what} is ${raster.width}×${raster.height}×${raster.channels} but the image is ${image.width}×${image.height} (masks must be one channel of the image's size)`,
        );
      }
      checkBinary(raster, what, sample);
    }
    // An empty region would leave nothing to sample or score, and fail later, far from its file.
    if (!roi.data.includes(1)) {
      throw new DataError(
        `${where(sample)}: its region of interest (field of view) is empty: no pixel is inside. ` +
          "Check its FOV mask (white inside the field of view), or let the loader take the " +
          "whole image or estimate the field of view",
      );
    }
    for (let i = 0; i < image.data.length; i++) {
      const v = image.data[i];
      if (!Number.isFinite(v) || (unitRange && (v < 0 || v > 1))) {
        throw new DataError(
          `${where(sample)}: image value ${v} at index ${i} is ${
            Number.isFinite(v)
              ? "outside [0, 1] (preprocess must scale images to [0, 1])"
              : "not finite"
          }`,
        );
      }
    }
  }
}

/**
 * What a data set must be before its values are read: an object with a
 * string name, lists `train` and `test`, and samples that are objects with a
 * string id (their rasters are checked one by one after).
 */
function checkDataShape(data: SegmentationData): void {
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new DataError(`returned ${described(data)}, not a data set; ${DATA_CONTRACT}`);
  }
  if (typeof data.name !== "string") {
    throw new DataError(
      `returned a data set whose name is ${described(data.name)}, not a string; ${DATA_CONTRACT}`,
    );
  }
  for (const split of ["train", "test"] as const) {
    const samples: unknown = data[split];
    if (!Array.isArray(samples)) {
      throw new DataError(
        `data set "${data.name}" has no list \`${split}\` (it is ${described(samples)}); ` +
          DATA_CONTRACT,
      );
    }
    samples.forEach((sample: Sample | undefined, i) => {
      if (!sample || typeof sample !== "object" || typeof sample.id !== "string") {
        throw new DataError(
          `data set "${data.name}": ${split}[${i}] is ${
            sample && typeof sample === "object"
              ? "a sample without a string id"
              : described(sample)
          }; ${DATA_CONTRACT}`,
        );
      }
    });
  }
}

/**
 * Warnings about masks that load but look wrong: a truth mask that covers
 * more than half of its region of interest was most often saved inverted
 * (segmentation usually marks the smaller class; DRIVE's vessels are about
 * 12 % of the field of view). A warning, not an error: some tasks' objects
 * do fill their crops.
 *
 * @param data The loaded data set.
 * @returns One line per split with such masks (empty when none).
 *
 * @example Usage
 * ```ts
 * import { maskWarnings } from "./checks.ts";
 * const r = (data: number[]) => ({ width: 2, height: 1, channels: 1, data: Float32Array.from(data) });
 * const sample = (id: string, mask: number[]) => ({ id, image: r([0, 1]), mask: r(mask), roi: r([1, 1]), source: `${id}.png` });
 * console.assert(maskWarnings({ name: "d", train: [sample("a", [0, 1])], test: [sample("b", [0, 1])] }).length === 0);
 * const [line] = maskWarnings({ name: "d", train: [sample("a", [1, 1])], test: [sample("b", [0, 1])] });
 * console.assert(line.startsWith("training masks covering more than half of their region: 1 of 1 (a.png)"));
 * ```
 */
export function maskWarnings(data: SegmentationData): string[] {
  const lines: string[] = [];
  for (const [split, samples] of [["training", data.train], ["test", data.test]] as const) {
    const full = samples.filter(({ mask, roi }) => {
      let inside = 0, marked = 0;
      for (let i = 0; i < roi.data.length; i++) {
        if (roi.data[i] !== 1) continue;
        inside++;
        marked += mask.data[i];
      }
      return marked > inside / 2;
    });
    if (!full.length) continue;
    const named = full.slice(0, 3).map((s) => s.source ?? s.id).join(", ");
    lines.push(
      `${split} masks covering more than half of their region: ${full.length} of ` +
        `${samples.length} (${named}${full.length > 3 ? ", …" : ""}); masks usually mark the ` +
        "smaller class: are they inverted (white must be the object)?",
    );
  }
  return lines;
}

/**
 * Checks a model spec: a name and a `build(size, channels)` function, not a
 * network already built (a tfjs `LayersModel` has a `build` method too).
 *
 * @throws {StageError} Naming the stage and what a model stage must return.
 */
export function checkModelSpec(spec: ModelSpec, stage: string): void {
  const contract = "a model stage returns a spec { name, build(size, channels) } whose build " +
    "gives a fresh tfjs LayersModel for that input size";
  if (spec && typeof (spec as unknown as { predict?: unknown }).predict === "function") {
    throw new StageError(stage, `returned a built network, not a model spec; ${contract}`);
  }
  if (!spec || typeof spec.build !== "function") {
    throw new StageError(stage, `returned no model spec with a build function; ${contract}`);
  }
  if (typeof spec.name !== "string" || !spec.name) {
    throw new StageError(stage, `returned a model spec without a name; ${contract}`);
  }
}

/** Output activations that give probabilities, which binary cross-entropy and 0.5 need. */
const PROBABILITY_ACTIVATIONS = new Set(["sigmoid", "hardSigmoid"]);

/**
 * Checks what a model spec's `build(size, channels)` gave: one input of
 * `size × size × channels` and one output of the same height and width and
 * a single channel, from a layer whose activation (where it has one) gives
 * probabilities. A network that gives logits or two channels would otherwise
 * train on clipped values or fail in tfjs's words, blamed on training.
 *
 * @param network What `build` returned.
 * @param size The side it was asked for.
 * @param channels The channels it was asked for.
 * @param stage The model stage's id.
 * @throws {StageError} Naming the stage and what differs.
 */
export function checkBuiltNetwork(
  network: LayersModel,
  size: number,
  channels: number,
  stage: string,
): void {
  const fail = (what: string, todo: string) => {
    throw new StageError(stage, `its build(${size}, ${channels}) gave ${what}; ${todo}`);
  };
  const candidate = network as Partial<LayersModel> | undefined;
  if (
    !candidate || typeof candidate.predict !== "function" || !Array.isArray(candidate.inputs) ||
    !Array.isArray(candidate.outputs)
  ) {
    return fail(
      "no tfjs LayersModel",
      "return tf.model({ inputs, outputs }) built with context.tf",
    );
  }
  const shape = (dims: readonly (number | null)[]) =>
    `[${dims.map((d) => d ?? "batch").join(", ")}]`;
  if (network.inputs.length !== 1 || network.outputs.length !== 1) {
    return fail(
      `a network of ${network.inputs.length} inputs and ${network.outputs.length} outputs`,
      "a segmentation network takes the image and gives one probability map",
    );
  }
  const input = network.inputs[0].shape, output = network.outputs[0].shape;
  const [, height, width, inputChannels] = input;
  if (
    input.length !== 4 || inputChannels !== channels ||
    (height !== null && height !== size) || (width !== null && width !== size)
  ) {
    return fail(
      `a network taking ${shape(input)}`,
      `it must take [batch, ${size}, ${size}, ${channels}] (size and channels as asked)`,
    );
  }
  if (
    output.length !== 4 || output[3] !== 1 || output[1] !== height || output[2] !== width
  ) {
    return fail(
      `a network mapping ${shape(input)} to ${shape(output)}`,
      `it must give [batch, ${height ?? "height"}, ${width ?? "width"}, 1]: one foreground ` +
        "probability per pixel, the size of its input ('same' padding, one output filter)",
    );
  }
  const last = network.outputs[0].sourceLayer;
  let activation: unknown;
  try {
    activation = (last.getConfig() as { activation?: unknown }).activation;
  } catch {
    // A custom layer without a config: its activation is its own business.
  }
  if (typeof activation === "string" && !PROBABILITY_ACTIVATIONS.has(activation)) {
    return fail(
      `a network whose output layer "${last.name}" has activation "${activation}"`,
      'it must give probabilities: end with activation: "sigmoid"',
    );
  }
}

/**
 * Checks what an augmentation returned for `input`: a batch of the same
 * patches (count, side, channels) with as many values as those say, finite
 * images (in [0, 1] where the input's were) and masks and regions of 0 and 1.
 * A wrong batch would otherwise fail later inside training, blamed on the
 * train stage in tfjs's words, or train silently on other targets.
 *
 * @param output What the augmentation returned.
 * @param input The batch it was given.
 * @param stage The augment stage's id.
 * @throws {StageError} Naming the stage and what differs.
 *
 * @example Usage
 * ```ts
 * import { checkAugmentedBatch } from "./checks.ts";
 * const batch = { images: new Float32Array(8), masks: new Float32Array(8), count: 2, size: 2, channels: 1 };
 * checkAugmentedBatch({ ...batch, images: batch.images.map((v) => 1 - v) }, batch, "my/invert");
 * let message = "";
 * try {
 *   checkAugmentedBatch({ ...batch, images: new Float32Array(3) }, batch, "my/broken");
 * } catch (error) {
 *   message = (error as Error).message;
 * }
 * console.assert(message.includes("images of 3 values"));
 * ```
 */
export function checkAugmentedBatch(output: PatchBatch, input: PatchBatch, stage: string): void {
  const shape = (b: PatchBatch) => `${b.count} patches of ${b.size} × ${b.size} × ${b.channels}`;
  const fail = (what: string) => {
    throw new StageError(
      stage,
      `its augmentation returned ${what} for a batch of ${shape(input)}; an augmentation must ` +
        "return a batch of the same patches (count, size, channels), values in Float32Arrays",
    );
  };
  const then = (output as { then?: unknown } | null | undefined)?.then;
  if (typeof then === "function") {
    // An async augmentation's rejection would otherwise go unhandled and end the process.
    then.call(output, undefined, () => {});
    throw new StageError(
      stage,
      "its augmentation returned a Promise: augmentations are called synchronously, batch " +
        "after batch inside training, so an augmentation must be a plain (not async) function " +
        "that returns the batch itself",
    );
  }
  if (!output || typeof output !== "object") {
    return fail(`${output === null ? "null" : typeof output}`);
  }
  if (
    output.count !== input.count || output.size !== input.size || output.channels !== input.channels
  ) {
    fail(shape(output));
  }
  const pixels = input.count * input.size * input.size;
  const sized = (name: "images" | "masks" | "rois", values: unknown, expected: number) => {
    if (!(values instanceof Float32Array)) fail(`${name} that are not a Float32Array`);
    else if (values.length !== expected) {
      fail(`${name} of ${values.length} values (${expected} expected)`);
    }
  };
  sized("images", output.images, pixels * input.channels);
  sized("masks", output.masks, pixels);
  if (input.rois !== undefined) sized("rois", output.rois, pixels);
  checkAugmentedValues(output, input, stage);
}

/** Whether every value lies in [0, 1]. */
function inUnitRange(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!(values[i] >= 0 && values[i] <= 1)) return false;
  return true;
}

/**
 * The values an augmentation returned: finite images, in [0, 1] where its
 * input was (preprocessing leaves them there), and masks and regions of 0
 * and 1 only. A NaN would otherwise surface as the train stage's NaN loss, and
 * halved masks would train silently on other targets.
 */
function checkAugmentedValues(output: PatchBatch, input: PatchBatch, stage: string): void {
  const fail = (what: string, todo: string) => {
    throw new StageError(stage, `its augmentation returned ${what}; ${todo}`);
  };
  const patch = (i: number, perPatch: number) =>
    `patch ${Math.floor(i / perPatch) + 1} of ${input.count}`;
  const imageValues = input.size * input.size * input.channels;
  const unit = inUnitRange(input.images);
  const images = output.images;
  for (let i = 0; i < images.length; i++) {
    const v = images[i];
    if (!Number.isFinite(v)) {
      fail(`images holding ${v} (${patch(i, imageValues)})`, "its images must stay finite");
    }
    if (unit && (v < 0 || v > 1)) {
      fail(
        `images holding ${+v.toPrecision(6)} (${patch(i, imageValues)}), outside [0, 1] ` +
          "where its input was",
        "clip the images it returns to [0, 1]",
      );
    }
  }
  const binary = (name: "masks" | "rois", values: Float32Array | undefined) => {
    if (!values) return;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== 0 && v !== 1) {
        fail(
          `${name} holding ${v} (${patch(i, input.size * input.size)})`,
          "masks and rois must stay 0 or 1: move them as the images, with nearest-pixel sampling",
        );
      }
    }
  };
  binary("masks", output.masks);
  binary("rois", output.rois);
}

/**
 * Checks what a train stage returned: a trained model `{ spec, model,
 * patchSize, channels }` (with `validationIds` and `caveats` lists of strings
 * where given) whose weights are all finite.
 *
 * @throws {StageError} Naming what is missing or wrong, or the first non-finite weight.
 */
export async function checkTrainedModel(trained: TrainedModel, stage: string): Promise<void> {
  const contract = "a train stage returns a trained model { spec, model, patchSize, channels }: " +
    "the model spec it was given, the trained tfjs LayersModel, the side of the patches it " +
    "trained on and the image channels it expects";
  if (!trained || typeof trained !== "object") {
    throw new StageError(stage, `returned ${described(trained)}, not a trained model; ${contract}`);
  }
  const model = trained.model as Partial<LayersModel> | undefined;
  if (!model || typeof model.predict !== "function" || !Array.isArray(model.weights)) {
    throw new StageError(
      stage,
      `returned a trained model whose model is ${
        model && typeof model === "object" ? "not a tfjs LayersModel" : described(model)
      }; ${contract}`,
    );
  }
  if (!trained.spec || typeof trained.spec.build !== "function") {
    throw new StageError(
      stage,
      `returned a trained model whose spec is ${
        trained.spec && typeof trained.spec === "object"
          ? "a spec without a build function"
          : described(trained.spec)
      }; ${contract}`,
    );
  }
  for (const key of ["patchSize", "channels"] as const) {
    const value: unknown = trained[key];
    if (!(typeof value === "number" && Number.isInteger(value) && value > 0)) {
      throw new StageError(
        stage,
        `returned a trained model whose ${key} is ${
          typeof value === "number" ? value : described(value)
        }, not a positive whole number; ${contract}`,
      );
    }
  }
  for (const key of ["validationIds", "caveats"] as const) {
    const value: unknown = trained[key];
    if (
      value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === "string"))
    ) {
      throw new StageError(
        stage,
        `returned a trained model whose ${key} is not a list of strings; ${contract} (and, ` +
          "where given, validationIds and caveats lists of strings)",
      );
    }
  }
  for (const weight of trained.model.weights) {
    // Asynchronous reads: a synchronous one fails on WebGPU.
    const values = await weight.read().data();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        throw new StageError(
          stage,
          `weight "${weight.name}" holds ${values[i]} after training; lower the learning rate`,
        );
      }
    }
  }
}

/**
 * Checks every number of an evaluation is finite: the metrics, each
 * reference's, each image's in `perImage` (which must also have a string
 * id), and the chosen threshold and its metrics.
 *
 * @param evaluation What the evaluate stage returned.
 * @param stage The stage's id, for the message.
 * @throws {StageError} Naming the first number that is not finite, and where it is.
 *
 * @example Usage
 * ```ts
 * import { checkEvaluation } from "./checks.ts";
 * checkEvaluation({ metrics: { auc: 0.9 }, perImage: [{ id: "a", metrics: { dice: 0.8 } }] }, "x/score");
 * let message = "";
 * try {
 *   checkEvaluation({ metrics: { auc: 0.9 }, perImage: [{ id: "a", metrics: { dice: NaN } }] }, "x/score");
 * } catch (error) {
 *   message = (error as Error).message;
 * }
 * console.assert(message.includes('metric "dice" of image "a" is NaN'));
 * ```
 */
export function checkEvaluation(evaluation: Evaluation, stage: string): void {
  if (!evaluation || typeof evaluation !== "object") {
    throw new StageError(
      stage,
      `returned ${described(evaluation)}, not an evaluation; an evaluate stage returns ` +
        "{ metrics }: each metric's name and its number",
    );
  }
  const checkAll = (metrics: Readonly<Record<string, number>> | undefined, where: string) => {
    if (typeof metrics !== "object" || metrics === null) {
      throw new StageError(stage, `returned no metrics${where}`);
    }
    for (const [name, value] of Object.entries(metrics)) {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new StageError(stage, `metric "${name}"${where} is ${value}`);
      }
    }
  };
  checkAll(evaluation.metrics, "");
  for (const [row, metrics] of Object.entries(evaluation.references ?? {})) {
    checkAll(metrics, ` of reference "${row}"`);
  }
  if (evaluation.perImage !== undefined) {
    if (!Array.isArray(evaluation.perImage)) {
      throw new StageError(stage, "returned perImage that is not a list");
    }
    for (const image of evaluation.perImage) {
      if (typeof image?.id !== "string") {
        throw new StageError(stage, "returned a perImage entry without a string id");
      }
      checkAll(image.metrics, ` of image "${image.id}"`);
    }
  }
  const chosen = evaluation.chosenThreshold;
  if (chosen !== undefined) {
    const t = chosen.threshold;
    if (typeof t !== "number" || !Number.isFinite(t)) {
      throw new StageError(stage, `chosen threshold is ${t}`);
    }
    checkAll(chosen.metrics, ` at the chosen threshold ${t}`);
  }
  for (const [row, points] of Object.entries(evaluation.atReferencePoints ?? {})) {
    for (const [at, point] of Object.entries(points ?? {})) {
      const { sensitivity, specificity } = point ?? {};
      if (
        !(Number.isFinite(sensitivity) && Number.isFinite(specificity)) ||
        typeof point.threshold !== "number" || Number.isNaN(point.threshold)
      ) {
        throw new StageError(
          stage,
          `returned an ${at} point of reference "${row}" that is not numbers`,
        );
      }
    }
  }
  const validation = evaluation.validation;
  if (validation !== undefined) {
    if (typeof validation.on !== "string") {
      throw new StageError(stage, "returned validation scores without a string `on`");
    }
    checkAll(validation.metrics, ` on ${validation.on}`);
  }
}

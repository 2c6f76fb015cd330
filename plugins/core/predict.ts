/**
 * `deno task predict`: a trained run's network applied to new images of any
 * size. Each image goes through the run's own preprocessing stages, then
 * sliding windows and test-time flips as the run's evaluation used them; the
 * probability map and the binary map at a threshold are written as PNGs.
 *
 * The run's preprocessing is re-run with the new images standing in for the
 * training set. For `core/retina_preprocess` that changes nothing but float
 * rounding: its z-score with the training set's statistics is followed by a
 * min-max rescaling of each image, which cancels any such affine map.
 *
 * @module
 */
import {
  CapillaryError,
  checkpointStore,
  chooseBackend,
  componentCreator,
  copyWeightsByLayer,
  countOf,
  createFolder,
  DataError,
  encodeGrayPng,
  loadLayersModel,
  type ModelSpec,
  PredictionWorkers,
  type Progress,
  type Raster,
  recipeBaseDir,
  type ResolvedRecipe,
  type ResolvedStage,
  RunFolder,
  type Sample,
  type SegmentationData,
  type StageContext,
  stageRandomOf,
  tf,
  withCleanup,
  writeFileAtomic,
} from "../../mod.ts";
import { estimateFov } from "./image/fov.ts";
import { readImage } from "./image/read_image.ts";
import {
  type FlipAxis,
  flipCombinations,
  predictedWindows,
  predictWindows,
  windowGeometry,
  type WindowOption,
} from "./patches/predict_windows.ts";

/** The epochs the run's train stage was to train (its `epochs` option), where it says. */
function plannedEpochs(recipe: ResolvedRecipe | undefined): number | undefined {
  const epochs = (recipe?.stages.get("train")?.[0]?.options as { epochs?: unknown } | undefined)
    ?.epochs;
  return typeof epochs === "number" ? epochs : undefined;
}

/** The epochs a checkpoint folder's `state.json` says were trained; undefined without one. */
async function checkpointEpoch(dir: string): Promise<number | undefined> {
  try {
    const epoch = JSON.parse(await Deno.readTextFile(`${dir}/state.json`))?.epoch;
    return typeof epoch === "number" ? epoch : undefined;
  } catch {
    return undefined;
  }
}

const isDirectory = (path: string) => Deno.stat(path).then((s) => s.isDirectory, () => false);

/**
 * The refusal to predict with a run folder that has no `model/` yet (killed
 * or failed in training, or still training): what it holds and how to go on.
 *
 * @param given The `--model` as given.
 * @param runDir The run folder.
 * @param recipe Its `recipe.resolved.yaml`, loaded, for the epochs it was to train.
 * @returns The error, `E_USAGE`.
 */
export async function unfinishedRunError(
  given: string,
  runDir: string,
  recipe?: ResolvedRecipe,
): Promise<CapillaryError> {
  const checkpoint = `${runDir.replace(/[\\/]+$/, "")}/checkpoint`;
  const epoch = await isDirectory(checkpoint) ? await checkpointEpoch(checkpoint) : undefined;
  const planned = plannedEpochs(recipe);
  const of = planned === undefined ? "" : ` of ${planned}`;
  return new CapillaryError(
    `Cannot predict with "${given}": the run has no model/ yet: it stopped during training ` +
      `(or is still training)${
        epoch === undefined
          ? `, before its first checkpoint; resume it (deno task run --resume ${runDir}) ` +
            "to train it to the end, then predict"
          : `, and its last checkpoint is of epoch ${epoch}${of}; resume it (deno task run ` +
            `--resume ${runDir}) to train it to the end, or predict from that checkpoint ` +
            `(--model ${checkpoint}), a network trained part way`
      }`,
    "E_USAGE",
  );
}

/**
 * The warning for predicting with a checkpoint (a folder with `state.json`)
 * of a run whose training was unfinished: the epoch it holds of those
 * planned; undefined for a model folder, or a run that finished training.
 *
 * @param recipe The run's recipe.
 * @param modelDir The folder predicted with.
 */
export async function unfinishedTrainingWarning(
  recipe: ResolvedRecipe,
  modelDir: string,
): Promise<string | undefined> {
  const epoch = await checkpointEpoch(modelDir);
  if (epoch === undefined) return undefined;
  const runDir = modelDir.replace(/[\\/]+$/, "").replace(/[\\/][^\\/]+$/, "");
  const planned = plannedEpochs(recipe);
  if (await isDirectory(`${runDir}/model`) && (planned === undefined || epoch >= planned)) {
    return undefined;
  }
  const finished = await isDirectory(`${runDir}/model`);
  return `${modelDir} is a checkpoint of epoch ${epoch}${
    planned === undefined ? "" : ` of ${planned}`
  }${
    finished
      ? " (the run's model/ is its final network)"
      : `: the run's training was unfinished, so these maps are those of a network trained ` +
        `part way (deno task run --resume ${runDir} finishes it)`
  }`;
}

/** Options of {@link predictImages}. */
export interface PredictOptions {
  /** Where the PNGs go (default: `<run>/predict`). */
  output?: string;
  /** Probability at or above which a pixel is foreground in the binary map (default 0.5). */
  threshold?: number;
  /**
   * `estimate`: zero the binary map outside the field of view found in each
   * image; `none`: keep it all. Default: as the run's test images had it
   * ({@link runFieldOfView}).
   */
  fov?: "estimate" | "none";
  /** The window side or `"image"`, instead of the run's `evaluate.window` (smaller: less memory). */
  window?: WindowOption;
  /** The step between windows (default: the run's `evaluate.stride`, or half of `window` when given). */
  stride?: number;
  /** Windows per prediction batch (default 16). */
  batchSize?: number;
  /** Progress output. */
  progress: Progress;
}

/** What {@link predictImages} wrote, per image. */
export interface Prediction {
  /** The input file. */
  readonly file: string;
  /** The probability map's PNG. */
  readonly probability: string;
  /** The binary map's PNG. */
  readonly binary: string;
}

const stem = (file: string) => file.split(/[\\/]/).pop()!.replace(/\.[^.]+$/, "");

/**
 * How new images' field of view follows the run's: `none` where its load
 * stage evaluated whole images (`fov: null`, as `core/folder` takes it),
 * else `estimate` (FOV masks, as DRIVE's, exist only for the data set's own
 * images); with the reason, for the log.
 *
 * @example Usage
 * ```ts
 * import { runFieldOfView } from "./predict.ts";
 * const load = (fov: unknown) =>
 *   ({ stages: new Map([["load", [{ id: "core/folder", options: { test: { fov } } }]]]) }) as never;
 * console.assert(runFieldOfView(load(null)).fov === "none");
 * console.assert(runFieldOfView(load("estimate")).fov === "estimate");
 * ```
 */
export function runFieldOfView(
  recipe: ResolvedRecipe,
): { fov: "estimate" | "none"; why: string } {
  const load = recipe.stages.get("load")?.[0];
  const options = load?.options as { fov?: unknown; test?: unknown } | undefined;
  // core/folder sets it per split (the test split's is what evaluation used); others at the top.
  const test = options?.test;
  const fov = typeof test === "object" && test !== null && "fov" in test
    ? (test as { fov: unknown }).fov
    : options?.fov;
  if (fov === null) {
    return { fov: "none", why: `the run's ${load!.id} had fov: null; --fov estimate to find one` };
  }
  return {
    fov: "estimate",
    why: `the run evaluated inside a field of view${
      typeof fov === "string" && fov !== "estimate" ? " given as masks" : ""
    }; --fov none keeps each image whole`,
  };
}

/**
 * Predicts `files` with the network in `modelDir`, whose run folder (its
 * parent) holds the recipe it was trained with.
 *
 * @param recipe The run's `recipe.resolved.yaml`, loaded.
 * @param modelDir The run's `model/` folder.
 * @param files Image files (TIFF, PNG, JPEG, GIF, PPM/PGM), any size.
 * @param options Output folder, threshold, FOV handling, progress.
 * @returns What was written, per image.
 * @throws {CapillaryError} Before any work: `E_USAGE` when two files share a
 * name (their maps would overwrite each other), `E_OUTPUT` when the output
 * folder cannot be made.
 * @throws {DataError} When an image cannot be read or has the wrong channels.
 */
export async function predictImages(
  recipe: ResolvedRecipe,
  modelDir: string,
  files: readonly string[],
  options: PredictOptions,
): Promise<Prediction[]> {
  const { progress } = options;
  const runDir = modelDir.replace(/[\\/]+$/, "").replace(/[\\/][^\\/]+$/, "");
  const output = options.output ?? `${runDir}/predict`;
  const threshold = options.threshold ?? 0.5;
  if (!(threshold > 0 && threshold < 1)) {
    throw new CapillaryError(`Cannot predict: --threshold ${threshold} is not between 0 and 1`);
  }
  // Each image's maps are named after its file alone: a later one would overwrite an earlier one's.
  const named = new Map<string, string>();
  for (const file of files) {
    const id = stem(file);
    // macOS and Windows folders ignore case by default: there A.png and a.png clash too.
    const key = Deno.build.os === "linux" ? id : id.toLowerCase();
    const earlier = named.get(key);
    if (earlier !== undefined) {
      throw new CapillaryError(
        earlier === file
          ? `Cannot predict: ${file} is given twice; give it once`
          : `Cannot predict: ${earlier} and ${file} would both write ${id}_probability.png and ` +
            `${id}_binary.png; predict them into different --output folders`,
        "E_USAGE",
      );
    }
    named.set(key, file);
  }
  // Before the images are read and predicted, not after.
  await createFolder(output, { contents: "the predictions", folder: "prediction folder" });
  const unfinished = await unfinishedTrainingWarning(recipe, modelDir);
  if (unfinished) progress.info(`warning: ${unfinished}`);
  const fov = options.fov === undefined
    ? runFieldOfView(recipe)
    : { fov: options.fov, why: `--fov ${options.fov}` };
  const backend = await chooseBackend(
    recipe.inferenceBackend === "same" ? recipe.backend : recipe.inferenceBackend,
    "inference",
  );
  await tf.setBackend(backend.info.tfName);
  progress.info(`Predicting on ${backend.info.name} (${backend.reason})`);
  progress.info(
    `field of view: ${
      fov.fov === "none" ? "each image whole" : "estimated in each image"
    } (${fov.why})`,
  );
  const samples: Sample[] = [];
  for (const file of files) {
    const image = await readImage(file);
    const n = image.width * image.height;
    const roi = fov.fov === "none"
      ? { width: image.width, height: image.height, channels: 1, data: new Float32Array(n).fill(1) }
      : estimateFov(image);
    const covered = roi.data.reduce((k, v) => k + (v > 0.5 ? 1 : 0), 0) / n;
    if (fov.fov === "estimate" && covered < 0.5) {
      progress.info(
        `warning: the field of view estimated in ${file} covers ${
          (100 * covered).toFixed(0)
        } % of it; the binary map is 0 outside it (--fov none keeps the image whole)`,
      );
    }
    const mask = {
      width: image.width,
      height: image.height,
      channels: 1,
      data: new Float32Array(n),
    };
    samples.push({ id: stem(file), image, mask, roi, source: file });
  }

  // The run's own stages, as its runner called them (the same seeds).
  const scratch = new RunFolder(await Deno.makeTempDir({ prefix: "capillary-predict-" }));
  const context = (stage: ResolvedStage): StageContext => ({
    stageId: stage.id,
    tf,
    useBackend: () => Promise.resolve(backend.info.name),
    random: stageRandomOf(recipe, stage),
    run: scratch,
    progress,
    recipeDir: recipeBaseDir(recipe),
    createComponent: componentCreator(recipe.components),
    checkpoints: checkpointStore(scratch.path, false),
  });
  let data: SegmentationData = { name: "predict", train: samples, test: samples };
  for (const stage of recipe.stages.get("preprocess") ?? []) {
    data = await stage.registered.stage.run(
      stage.options as never,
      data as never,
      context(stage),
    ) as SegmentationData;
  }
  const modelStage = recipe.stages.get("model")![0];
  const spec = await modelStage.registered.stage.run(
    modelStage.options as never,
    data as never,
    context(modelStage),
  ) as ModelSpec;
  await Deno.remove(scratch.path, { recursive: true }).catch(() => {});

  let saved: tf.LayersModel;
  try {
    saved = await loadLayersModel(modelDir);
  } catch (error) {
    if ((error as { code?: string })?.code !== "E_DAMAGED_FILE") throw error;
    throw new CapillaryError(
      `Cannot predict with ${modelDir}: its model files are damaged: ${
        (error as Error).message
      }. Predict with another copy of the run's network (its checkpoint/ or checkpoint-best/ ` +
        "folder, where it has one), or train it again",
      "E_DAMAGED_FILE",
      { cause: error },
    );
  }
  const trainSize = saved.inputs[0].shape[1] ?? 48;
  const channels = saved.inputs[0].shape[3] ?? 1;
  if (!(recipe.stages.get("preprocess") ?? []).length && channels > 1) {
    // Grey where the network takes colour and no stage converts: the same values in each
    // channel, as the file holds them (a colour file whose pixels are all grey reads as grey).
    data = {
      ...data,
      test: data.test.map((s) =>
        s.image.channels === 1 ? { ...s, image: replicateChannels(s.image, channels) } : s
      ),
    };
  }
  const evaluate = recipe.stages.get("evaluate")?.[0]?.options as
    | {
      window?: WindowOption;
      stride?: number | null;
      batchSize?: number;
      flips?: FlipAxis[];
      workers?: number;
    }
    | undefined;
  const { window, stride } = windowGeometry(
    options.window ?? evaluate?.window,
    options.stride ?? (options.window === undefined ? evaluate?.stride : null),
    trainSize,
    data.test.map((s) => s.image),
  );
  const how = {
    window,
    stride,
    batchSize: options.batchSize ?? evaluate?.batchSize ?? 16,
    flips: flipCombinations(evaluate?.flips ?? []),
  };
  for (const sample of data.test) {
    if (sample.image.channels !== channels) {
      const kind = (c: number) => `${c} ${c === 1 ? "channel (grey)" : "channels"}`;
      saved.dispose();
      throw new DataError(
        `Cannot predict ${sample.source}: it has ${kind(sample.image.channels)} after the run's ` +
          `preprocessing, and the network takes ${kind(channels)}; give images like those it ` +
          "was trained on",
      );
    }
  }
  const model = spec.build(window, channels);
  copyWeightsByLayer(saved, model, modelDir);
  saved.dispose();
  // The recipe's prediction workers, where its backend can have them.
  const workerCount = backend.info.name === "wasm" ? evaluate?.workers ?? 1 : 1;
  const workers = workerCount > 1
    ? await PredictionWorkers.start(workerCount, model, spec.layerModules ?? [])
    : undefined;
  const predictors = workers?.batchPredictors(window, channels) ?? [];

  const total = data.test.reduce((n, s) => n + predictedWindows(s.image, how), 0);
  const task = progress.task(`predict ${countOf(data.test.length, "image")}`, total);
  let done = 0;
  const written: Prediction[] = [];
  // withCleanup: after memory ran out, disposing can fail too; the first error is what to show.
  await withCleanup(async () => {
    for (const sample of data.test) {
      const probability = await predictWindows(
        tf,
        model,
        sample.image,
        { ...how, workers: predictors },
        (n) => task.update(done += n),
      );
      const binary: Raster = {
        ...probability,
        data: probability.data.map((p, i) => (p >= threshold && sample.roi.data[i] > 0.5 ? 1 : 0)),
      };
      const paths = {
        file: sample.source!,
        probability: `${output}/${sample.id}_probability.png`,
        binary: `${output}/${sample.id}_binary.png`,
      };
      await writeFileAtomic(paths.probability, encodeGrayPng(probability));
      await writeFileAtomic(paths.binary, encodeGrayPng(binary));
      written.push(paths);
    }
  }, async () => {
    await workers?.close();
    model.dispose();
  });
  task.done(`${countOf(written.length, "image")} to ${output}`);
  // How these maps were made, one line per call: a later call may overwrite some of them.
  await appendPredictLog(output, {
    at: new Date().toISOString(),
    model: modelDir,
    threshold,
    fov: fov.fov,
    window,
    stride,
    flips: evaluate?.flips ?? [],
    files: written.map((w) => w.file),
  });
  return written;
}

/** Appends `entry` to `<output>/predict.jsonl`, atomically (the file rewritten whole). */
async function appendPredictLog(output: string, entry: Record<string, unknown>): Promise<void> {
  const path = `${output}/predict.jsonl`;
  const earlier = await Deno.readTextFile(path).catch(() => "");
  await writeFileAtomic(path, `${earlier}${JSON.stringify(entry)}\n`);
}

/** `raster`'s one channel repeated into `channels`. */
function replicateChannels(raster: Raster, channels: number): Raster {
  const data = new Float32Array(raster.data.length * channels);
  raster.data.forEach((v, i) => data.fill(v, i * channels, (i + 1) * channels));
  return { ...raster, channels, data };
}

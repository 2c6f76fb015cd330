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

/** Options of {@link predictImages}. */
export interface PredictOptions {
  /** Where the PNGs go (default: `<run>/predict`). */
  output?: string;
  /** Probability at or above which a pixel is foreground in the binary map (default 0.5). */
  threshold?: number;
  /** `estimate`: zero the binary map outside the field of view found in each image (default); `none`: keep it all. */
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
  const backend = await chooseBackend(
    recipe.inferenceBackend === "same" ? recipe.backend : recipe.inferenceBackend,
    "inference",
  );
  await tf.setBackend(backend.info.tfName);
  progress.info(`Predicting on ${backend.info.name} (${backend.reason})`);

  const samples: Sample[] = [];
  for (const file of files) {
    const image = await readImage(file);
    const n = image.width * image.height;
    const roi = options.fov === "none"
      ? { width: image.width, height: image.height, channels: 1, data: new Float32Array(n).fill(1) }
      : estimateFov(image);
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

  const saved = await loadLayersModel(modelDir);
  const trainSize = saved.inputs[0].shape[1] ?? 48;
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
  const channels = data.test[0].image.channels;
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
      if (sample.image.channels !== channels) {
        throw new DataError(
          `Cannot predict ${sample.source}: ${sample.image.channels} channels after preprocessing, the network takes ${channels}`,
        );
      }
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
  return written;
}

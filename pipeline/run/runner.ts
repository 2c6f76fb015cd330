/**
 * Runs a resolved recipe: stages in kind order, each output checked before
 * the next stage sees it, results written to a fresh run folder.
 *
 * @module
 */
import {
  dataCacheDir,
  dataCacheKey,
  readCachedEntry,
  readCachedWarnings,
  seededKey,
  unwritableCache,
  writeCachedData,
} from "./data_cache.ts";
import { componentCreator } from "../registry.ts";
import { type BackendChoice, chooseBackend } from "../backend/select.ts";
import { type BackendRole, tf } from "../backend/tfjs.ts";
import type { SegmentationData } from "../data.ts";
import { CapillaryError, describeThrown, StageError } from "../errors.ts";
import { RecordingRandom, stageRandomOf } from "../random.ts";
import { recipeBaseDir, renderResolvedRecipe } from "../recipe/render.ts";
import type { ResolvedRecipe, ResolvedStage } from "../recipe/validate.ts";
import {
  type Augmentation,
  type Evaluation,
  interruption,
  isInterruption,
  type ModelSpec,
  type StageContext,
  type StageKind,
  type TrainedModel,
} from "../stage.ts";
import { VERSION } from "../version.ts";
import {
  checkBuiltNetwork,
  checkEvaluation,
  checkModelSpec,
  checkSegmentationData,
  checkTrainedModel,
  maskWarnings,
} from "./checks.ts";
import { checkpointStore, holdsTrainingState } from "./checkpoint.ts";
import { checkedAugmentation } from "./checked_augmentation.ts";
import { loadLayersModel, saveLayersModel } from "./model_io.ts";
import { checkDataDigest, dataDigest } from "./data_digest.ts";
import { planRecipe } from "./plan.ts";
import { copyWeightsByLayer, resolveModelFrom } from "./pretrained.ts";
import { consoleProgress, formatDuration, type Progress } from "./progress.ts";
import { RunFolder } from "./run_folder.ts";
import { TRAINING_RECIPE, trainingPart } from "./resume.ts";
import { hasCheckpoint, howToGoOn, recordFailure, stageFailure } from "./failure.ts";

/** Options of {@link runRecipe}. */
export interface RunOptions {
  /** Where progress goes (default: stderr). */
  progress?: Progress;
  /** Writes the run under this root instead of the recipe's `output`. */
  outputRoot?: string;
  /**
   * Reuse (and write) cached loaded-and-preprocessed data when the load stage
   * has a fingerprint (default true; `data_cache.ts`).
   */
  cache?: boolean;
  /**
   * Continue the run in this folder (killed or failed) from its last
   * checkpoint instead of starting a new one; `recipe` must be the one it
   * ran (its `recipe.resolved.yaml`; see `loadResumable` in `resume.ts`),
   * with at most its evaluation changed.
   */
  resume?: string;
  /**
   * The `--set` overrides a resumed run's evaluation was changed by
   * (`loadResumable` checked them): recorded in `resumed.jsonl`, and the
   * rewritten `recipe.resolved.yaml` names them.
   */
  resumedWith?: readonly string[];
  /** Called with the run folder once it exists (the CLI names it when interrupted). */
  onFolder?: (path: string) => void;
  /**
   * Asks the run to stop (the CLI aborts it on the first Ctrl-C): stages see
   * it as `StageContext.signal` and stop at their next safe point (`core/train`
   * between steps, never inside a checkpoint, keeping no partial epoch); the
   * runner checks it between stages. The run then rejects with an
   * `E_INTERRUPTED` error (`isInterruption`), its folder resumable.
   */
  signal?: AbortSignal;
}

/** What a finished run produced. */
export interface RunResult {
  /** The run folder. */
  readonly folder: string;
  /** The evaluation. */
  readonly evaluation: Evaluation;
  /** What was written to `metrics.json`. */
  readonly summary: Record<string, unknown>;
  /** How training departed from the recipe as written (`TrainedModel.caveats`); empty when not. */
  readonly caveats: readonly string[];
}

/**
 * Runs `recipe` end to end.
 *
 * @returns The run folder and the evaluation.
 * @throws {StageError} Wrapping any failure inside a stage, with the stage's id.
 * @throws {CapillaryError} `E_MODEL_FROM` when `stages.model.from` names no
 * finished run (before the run folder is made) or a network that does not fit.
 */
export async function runRecipe(
  recipe: ResolvedRecipe,
  options: RunOptions = {},
): Promise<RunResult> {
  const progress = options.progress ?? consoleProgress();
  const started = performance.now();
  // Found before the run folder is made, so a missing earlier run leaves nothing behind.
  const from = recipe.stages.get("model")?.[0]?.from;
  let startFrom = from !== undefined;
  try {
    const fromDir = from && await resolveModelFrom(from.path, Deno.cwd(), from.position);
    if (fromDir) recipe = withModelFrom(recipe, fromDir);
  } catch (error) {
    // A resumed run whose checkpoint holds its training state needs no starting weights: the
    // checkpoint replaces them all. Without one it would train from random weights: refused.
    const resumable = options.resume !== undefined &&
      (error as { code?: string }).code === "E_MODEL_FROM" &&
      await holdsTrainingState(options.resume);
    if (!resumable) throw error;
    startFrom = false;
    progress.info(
      `stages.model.from ${from!.path} is gone; the run's checkpoint holds every weight, ` +
        "so it resumes without it",
    );
  }
  // A network that cannot take those weights is refused here too, by the plan (no data loaded).
  if (startFrom && !options.resume) await refuseMismatchedStart(recipe);
  if (options.signal?.aborted) throw interruption("before the run folder was made");
  let folder: RunFolder;
  let release: () => Promise<void>;
  if (options.resume) {
    folder = new RunFolder(options.resume);
    // One process at a time in a run folder: a second --resume of it is refused.
    release = await folder.lock((line) => progress.info(`note: ${line}`));
    progress.info(`Resuming the run in ${folder.path} from its last checkpoint`);
    const resumedWith = options.resumedWith ?? [];
    try {
      await folder.appendLine(
        "resumed.jsonl",
        JSON.stringify({
          at: new Date().toISOString(),
          ...(resumedWith.length ? { set: resumedWith } : {}),
        }),
      );
    } catch (error) {
      await release(); // a folder that cannot be written keeps no lock either
      throw error;
    }
  } else {
    folder = await RunFolder.create(options.outputRoot ?? recipe.output, recipe.name);
    release = await folder.lock();
    progress.info(`Run folder: ${folder.path}`);
  }

  options.onFolder?.(folder.path);
  try {
    return await runStages(recipe, folder, progress, started, {
      startFrom,
      useCache: options.cache ?? true,
      resuming: options.resume !== undefined,
      resumedWith: options.resumedWith ?? [],
      signal: options.signal,
    });
  } catch (error) {
    // Asked to stop: not a failure, and the caller says how to go on (the CLI does).
    if (isInterruption(error)) throw error;
    await recordFailure(folder, error);
    const stageId = (error as { stage?: string })?.stage;
    // A refused resume says itself what to do instead.
    if ((error as { code?: string })?.code === "E_RESUME_DATA") throw error;
    // So does a damaged checkpoint, which cannot be resumed.
    if ((error as { cause?: { code?: string } })?.cause?.code === "E_CHECKPOINT") throw error;
    progress.info(`\n${
      howToGoOn({
        folder: folder.path,
        inEvaluation: recipe.stages.get("evaluate")?.some((s) => s.id === stageId) ?? false,
        checkpointed: await hasCheckpoint(folder.path),
      })
    }`);
    throw error;
  } finally {
    await release();
  }
}

/**
 * Plans `recipe` to check its `stages.model.from` against the network before
 * any data loads: only that refusal is passed on; whatever else the plan
 * finds, the run meets in its own stage, as it always has.
 */
async function refuseMismatchedStart(recipe: ResolvedRecipe): Promise<void> {
  try {
    await planRecipe(recipe);
  } catch (error) {
    if ((error as { code?: string }).code === "E_MODEL_FROM") throw error;
  }
}

/** The recipe with its model stage's `from` replaced by the folder it resolved to. */
function withModelFrom(recipe: ResolvedRecipe, dir: string): ResolvedRecipe {
  const stages = new Map(recipe.stages);
  stages.set(
    "model",
    stages.get("model")!.map((s) => ({ ...s, from: { path: dir, position: s.from!.position } })),
  );
  return { ...recipe, stages };
}

/**
 * Wraps `spec` so that every network it builds starts with the weights saved
 * in `dir` (checked once here, so a mismatch fails before training).
 */
async function startingFrom(spec: ModelSpec, dir: string, progress: Progress): Promise<ModelSpec> {
  let saved: import("@tensorflow/tfjs").LayersModel;
  try {
    saved = await loadLayersModel(dir);
  } catch (error) {
    throw new CapillaryError(
      `Cannot start from ${dir}: its model does not load (${(error as Error).message}); ` +
        "point stages.model.from at a run that finished",
      "E_MODEL_FROM",
      { cause: error },
    );
  }
  const build = (size: number, channels: number) => {
    const model = spec.build(size, channels);
    copyWeightsByLayer(saved, model, dir);
    return model;
  };
  const probe = build(saved.inputs[0].shape[1] ?? 48, saved.inputs[0].shape[3] ?? 1);
  const tensors = probe.weights.length;
  const parameters = probe.countParams();
  probe.dispose();
  progress.info(
    `  starting from ${dir}: ${tensors} weight tensors, ${
      parameters.toLocaleString("en")
    } parameters`,
  );
  return { ...spec, build };
}

async function runStages(
  recipe: ResolvedRecipe,
  folder: RunFolder,
  progress: Progress,
  started: number,
  { startFrom, useCache, resuming, resumedWith, signal }: {
    /** Whether the network starts from `stages.model.from` (not where a checkpoint replaces it). */
    startFrom: boolean;
    useCache: boolean;
    resuming: boolean;
    resumedWith: readonly string[];
    signal?: AbortSignal;
  },
): Promise<RunResult> {
  const recipeDir = recipeBaseDir(recipe);
  const fromDir = startFrom ? recipe.stages.get("model")?.[0]?.from?.path : undefined;
  const backends = new Map<BackendRole, BackendChoice>();
  backends.set("train", await chooseBackend(recipe.backend, "train"));
  backends.set(
    "inference",
    recipe.inferenceBackend === "same"
      ? backends.get("train")!
      : await chooseBackend(recipe.inferenceBackend, "inference"),
  );
  progress.info(
    `Training backend: ${backends.get("train")!.info.name} (${backends.get("train")!.reason})`,
  );
  progress.info(
    `Inference backend: ${backends.get("inference")!.info.name} (${
      backends.get("inference")!.reason
    })`,
  );
  // How it trains, as it starts: --resume refuses a recipe.resolved.yaml edited since.
  if (!resuming) await folder.writeJson(TRAINING_RECIPE, trainingPart(recipe));
  // A resumed run keeps the record of what it was started with, unless its evaluation changed.
  if (!resuming || resumedWith.length) {
    await folder.write(
      "recipe.resolved.yaml",
      renderResolvedRecipe(recipe, VERSION, [
        `backend ${recipe.backend} chose ${
          backends.get("train")!.info.name
        }; inferenceBackend ${recipe.inferenceBackend} chose ${
          backends.get("inference")!.info.name
        }`,
        ...(resumedWith.length
          ? [`resumed on ${new Date().toISOString()} with --set ${resumedWith.join(" --set ")}`]
          : []),
      ]),
    );
  }
  const useBackend = async (role: BackendRole) => {
    const { info } = backends.get(role)!;
    if (tf.getBackend() !== info.tfName) await tf.setBackend(info.tfName);
    return info.name;
  };
  await useBackend("train");

  const seconds: Record<string, number> = {};
  const createComponent = componentCreator(recipe.components, recipeBaseDir({ file: recipe.file }));
  const checkpoints = checkpointStore(folder.path, resuming);
  // The warnings the data stages print, kept with the cached data so that a run that takes it
  // from the cache says them too.
  const dataWarnings: string[] = [];
  // The data stages' generators: data made with one is cached for this seed alone.
  const dataRandoms: RecordingRandom[] = [];
  const dataRandom = (stage: ResolvedStage) => {
    const random = RecordingRandom.of(stageRandomOf(recipe, stage));
    dataRandoms.push(random);
    return random;
  };
  const runStage = async <T>(
    stage: ResolvedStage,
    input: unknown,
    check: (out: T) => void | Promise<void>,
  ) => {
    const dataStage = stage.kind === "load" || stage.kind === "preprocess";
    const context: StageContext = {
      stageId: stage.id,
      tf,
      useBackend,
      random: dataStage ? dataRandom(stage) : stageRandomOf(recipe, stage),
      run: folder,
      progress: dataStage
        ? {
          ...progress,
          info: (line: string) => {
            if (line.startsWith("warning: ")) dataWarnings.push(line);
            progress.info(line);
          },
        }
        : progress,
      recipeDir,
      createComponent,
      checkpoints,
      ...(signal ? { signal } : {}),
    };
    // Between stages: a stage that ignores the signal stops the run here.
    if (signal?.aborted) throw interruption(`before ${stage.id}`);
    progress.info(`\n▶ ${stage.kind}: ${stage.id}`);
    const t0 = performance.now();
    let output: T;
    try {
      output = await stage.registered.stage.run(
        stage.options as never,
        input as never,
        context,
      ) as T;
      await check(output);
    } catch (error) {
      if (isInterruption(error)) throw error;
      // `signal.throwIfAborted()` in a plugin's stage: an interruption too.
      if (signal?.aborted && (error as Error)?.name === "AbortError") {
        throw interruption(`in ${stage.id}`);
      }
      throw stageFailure(stage.id, error);
    }
    const s = (performance.now() - t0) / 1000;
    seconds[stage.kind] = (seconds[stage.kind] ?? 0) + s;
    progress.info(`✔ ${stage.id} (${formatDuration(s)})`);
    return output;
  };

  const stagesOf = (kind: StageKind) => recipe.stages.get(kind) ?? [];
  const loadStage = stagesOf("load")[0];
  const dataStages = [loadStage, ...stagesOf("preprocess")];
  const fingerprint = useCache ? loadStage.registered.stage.fingerprint : undefined;
  let cacheKey: string | undefined;
  let data: SegmentationData | undefined;
  if (fingerprint) {
    const t0 = performance.now();
    let files: string[];
    try {
      files = await fingerprint(loadStage.options as never, {
        stageId: loadStage.id,
        tf,
        recipeDir,
        createComponent,
      });
    } catch (error) {
      // The fingerprint reads what the stage would: its errors are the stage's.
      throw new StageError(loadStage.id, (error as Error)?.message ?? String(error), {
        cause: error,
      });
    }
    cacheKey = await dataCacheKey(dataStages, files, recipe.file);
    const entry = cacheKey === undefined
      ? undefined
      : await readCachedEntry(cacheKey, recipe.seed, (line) => progress.info(`warning: ${line}`));
    data = entry?.data;
    if (entry) {
      seconds.load = (performance.now() - t0) / 1000;
      progress.info(
        `\n▶ load + preprocess: cached (${files.length} files unchanged, key ${
          entry.key.slice(0, 12)
        }…${
          entry.key === cacheKey ? "" : `, made with seed ${recipe.seed}`
        }, ${dataCacheDir()}); skipped ${dataStages.map((s) => s.id).join(", ")}`,
      );
      for (const line of await readCachedWarnings(entry.key)) progress.info(line);
    }
  }
  if (!data) {
    // Grey and colour images may mix until the last stage before the network: a preprocessing
    // stage may convert them all to grey.
    const preprocess = stagesOf("preprocess");
    data = await runStage<SegmentationData>(
      loadStage,
      undefined,
      (d) => checkSegmentationData(d, false, preprocess.length === 0),
    );
    for (const [i, stage] of preprocess.entries()) {
      data = await runStage<SegmentationData>(
        stage,
        data,
        (d) => checkSegmentationData(d, true, i === preprocess.length - 1),
      );
    }
    if (cacheKey) {
      // Data made with a stage's random generator serves only runs with this seed.
      const seeded = dataRandoms.some((r) => r.used);
      // A cache that cannot be written (read-only, CAPILLARY_CACHE a file) costs the cache only.
      await writeCachedData(
        seeded ? await seededKey(cacheKey, recipe.seed) : cacheKey,
        data,
        dataWarnings,
      ).catch((error) => progress.info(`warning: ${unwritableCache(error)}`));
    }
  }
  for (const line of maskWarnings(data)) progress.info(`warning: ${line}`);
  // What this run learns from, recorded; a resumed run goes on only with the same training data.
  const { caveat: dataCaveat, note: dataNote } = await checkDataDigest(
    folder,
    await dataDigest(data),
    resuming,
  );
  if (dataNote) progress.info(`note: ${dataNote}`);
  if (dataCaveat) progress.info(`warning: ${dataCaveat}`);
  const augmentations: Augmentation[] = [];
  for (const stage of stagesOf("augment")) {
    let checked: Augmentation | undefined;
    await runStage<Augmentation>(stage, undefined, (a) => {
      checked = checkedAugmentation(a, stage.id);
    });
    // Called inside training: what goes wrong in it is the augment stage's, not the train stage's
    // (the same wrapper as augment-preview's).
    augmentations.push(checked!);
  }
  const augment: Augmentation = (batch, random) =>
    augmentations.reduce((b, f) => f(b, random), batch);
  const modelStage = stagesOf("model")[0];
  let spec = await runStage<ModelSpec>(modelStage, data, (m) => checkModelSpec(m, modelStage.id));
  // Every network the spec builds (for training, evaluation, resuming) is checked, and a wrong
  // one blamed on the model stage rather than on the stage that built it.
  const unchecked = spec;
  spec = {
    ...unchecked,
    build: (size, channels) => {
      let network;
      try {
        network = unchecked.build(size, channels);
      } catch (error) {
        // The model stage's code failed, whichever stage asked for the network.
        if (error instanceof StageError) throw error;
        const what = error instanceof CapillaryError ? error.message : describeThrown(error);
        throw new StageError(
          modelStage.id,
          `its model spec's build(${size}, ${channels}) threw: ${what}`,
          { cause: error },
        );
      }
      checkBuiltNetwork(network, size, channels, modelStage.id);
      return network;
    },
  };
  if (fromDir) spec = await startingFrom(spec, fromDir, progress);
  const trainStage = stagesOf("train")[0];
  const trainedAsRun = await runStage<TrainedModel>(
    trainStage,
    { data, model: spec, augment },
    (t) => checkTrainedModel(t, trainStage.id),
  );
  const trained = dataCaveat
    ? { ...trainedAsRun, caveats: [...(trainedAsRun.caveats ?? []), dataCaveat] }
    : trainedAsRun;
  await saveLayersModel(trained.model, folder.resolve("model"));
  const evaluateStage = stagesOf("evaluate")[0];
  const evaluation = await runStage<Evaluation>(
    evaluateStage,
    { data, trained },
    (e) => checkEvaluation(e, evaluateStage.id),
  );
  seconds.total = (performance.now() - started) / 1000;
  const summary = {
    recipe: recipe.name,
    capillary: VERSION,
    metrics: evaluation.metrics,
    // The threshold chosen without the test images and the test scores at it, then each
    // test image's own scores, when the evaluate stage gives them.
    ...(evaluation.chosenThreshold ? { chosenThreshold: evaluation.chosenThreshold } : {}),
    // The rows printed beside ours: published results, and a second annotation's own scores.
    ...(Object.keys(evaluation.references ?? {}).length
      ? { references: evaluation.references }
      : {}),
    // The validation images' own scores, what settings are chosen on.
    ...(evaluation.validation ? { validation: evaluation.validation } : {}),
    // Where the test ROC passes each reference's operating point.
    ...(evaluation.atReferencePoints ? { atReferencePoints: evaluation.atReferencePoints } : {}),
    ...(evaluation.perImage ? { perImage: evaluation.perImage } : {}),
    // How training departed from the recipe as written, so the scores are read with it.
    ...(trained.caveats?.length ? { caveats: trained.caveats } : {}),
    backend: {
      train: backends.get("train")!.info.name,
      inference: backends.get("inference")!.info.name,
      trainDetail: backends.get("train")!.info.detail,
      inferenceDetail: backends.get("inference")!.info.detail,
    },
    seed: recipe.seed,
    seconds,
    finishedAt: new Date().toISOString(),
  };
  await folder.writeJson("metrics.json", summary);
  return { folder: folder.path, evaluation, summary, caveats: trained.caveats ?? [] };
}

/**
 * Stage kinds, what flows between them, and the context a stage runs in.
 * A recipe runs its stages in the fixed order of {@link STAGE_KINDS}.
 *
 * @module
 */
import type { z } from "zod";
import { CapillaryError } from "./errors.ts";
import type { ComponentKind, ComponentOutput, ComponentRef } from "./component.ts";
import type { SegmentationData } from "./data.ts";
import type { Random } from "./random.ts";
import type { RunFolder } from "./run/run_folder.ts";
import type { CheckpointStore } from "./run/checkpoint.ts";
import type { Progress } from "./run/progress.ts";
import type { BackendRole, Tf } from "./backend/tfjs.ts";
import type { PlannedLayer } from "./run/layer_weights.ts";

/** The stage kinds, in the order a recipe runs them. */
export const STAGE_KINDS = ["load", "preprocess", "augment", "model", "train", "evaluate"] as const;

/** One of {@link STAGE_KINDS}. */
export type StageKind = typeof STAGE_KINDS[number];

/** Stage kinds a recipe may leave out. */
export const OPTIONAL_KINDS: ReadonlySet<StageKind> = new Set(["preprocess", "augment"]);

/** Stage kinds that take a list of stages, applied one after the other. */
export const CHAIN_KINDS: ReadonlySet<StageKind> = new Set(["preprocess", "augment"]);

/** A batch of square training patches, NHWC-packed, with their masks. */
export interface PatchBatch {
  /** `count * size * size * channels` image values. */
  readonly images: Float32Array;
  /** `count * size * size` mask values (0 or 1). */
  readonly masks: Float32Array;
  /**
   * `count * size * size` region-of-interest values (1 inside the FOV), when
   * the patches carry it; geometric augmentations move it with the mask.
   */
  readonly rois?: Float32Array;
  /** Patches in the batch. */
  readonly count: number;
  /** Side of each square patch. */
  readonly size: number;
  /** Image channels. */
  readonly channels: number;
}

/** A random transform applied identically to the images and masks of a batch. */
export type Augmentation = (batch: PatchBatch, random: Random) => PatchBatch;

/** A network architecture that can be built for any input size. */
export interface ModelSpec {
  /** The architecture's name, for reports. */
  readonly name: string;
  /** Builds a fresh, untrained network taking `size × size × channels` inputs and giving one sigmoid map. */
  build(size: number, channels: number): import("@tensorflow/tfjs").LayersModel;
  /**
   * URLs of the modules that register the network's custom layer classes
   * (`tf.serialization.registerClass`): training workers import them to
   * rebuild the network from its topology (`train.workers` above 1).
   */
  readonly layerModules?: readonly string[];
}

/** A trained network and what it was trained on. */
export interface TrainedModel {
  /** How to rebuild the network at another input size. */
  readonly spec: ModelSpec;
  /** The trained network. */
  readonly model: import("@tensorflow/tfjs").LayersModel;
  /** Side of the square patches it was trained on. */
  readonly patchSize: number;
  /** Image channels it expects. */
  readonly channels: number;
  /**
   * Ids of the training samples held out for validation (never trained on),
   * so the evaluation can choose a threshold on them; empty or absent when
   * none were held out by image.
   */
  readonly validationIds?: readonly string[];
  /**
   * What a reader of the scores must know about how training departed from
   * the recipe as written (a time budget that shortened its epochs), one
   * sentence each; the run writes them to `metrics.json` and prints them
   * with the results.
   */
  readonly caveats?: readonly string[];
}

/** One point of a ROC curve: a threshold and the rates it gives. */
export interface CurvePoint {
  /** Scores >= this are predicted positive (±Infinity: all or none). */
  readonly threshold: number;
  /** True positives / positives. */
  readonly sensitivity: number;
  /** True negatives / negatives. */
  readonly specificity: number;
}

/**
 * What an evaluation found.
 *
 * @example Usage
 * ```ts
 * import type { Evaluation } from "./stage.ts";
 * const evaluation: Evaluation = {
 *   metrics: { auc: 0.98, f1: 0.81 },
 *   perImage: [{ id: "01_test", metrics: { auc: 0.97, dice: 0.8 } }],
 *   chosenThreshold: { threshold: 0.43, chosenOn: "4 validation images", metrics: { f1: 0.82 } },
 * };
 * console.assert(evaluation.chosenThreshold!.metrics.f1 > evaluation.metrics.f1);
 * ```
 */
export interface Evaluation {
  /** Metric name to value, over all test images (in report order). */
  readonly metrics: Readonly<Record<string, number>>;
  /** Reference results to print beside ours: row name to metric name to value. */
  readonly references?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Each test image's own scores: its sample id, and metric name to value. */
  readonly perImage?: readonly {
    readonly id: string;
    readonly metrics: Readonly<Record<string, number>>;
  }[];
  /**
   * The test scores again at a threshold chosen without the test images (e.g.
   * the best F1 on validation images): only the metrics that depend on it.
   */
  readonly chosenThreshold?: {
    /** The threshold: a pixel is foreground when its probability is >= it. */
    readonly threshold: number;
    /** What it was chosen on, for reports (e.g. `4 validation images`). */
    readonly chosenOn: string;
    /** Metric name to value at that threshold. */
    readonly metrics: Readonly<Record<string, number>>;
  };
  /**
   * Where this run's ROC curve passes each reference's published operating
   * point: row name of `references` to this run's sensitivity at that row's
   * specificity and its specificity at that row's sensitivity, each with the
   * threshold that gives it. Threshold-free: it compares the curves at the
   * reference's point, where `metrics` compares two points of them.
   */
  readonly atReferencePoints?: Readonly<
    Record<string, { readonly atSpecificity: CurvePoint; readonly atSensitivity: CurvePoint }>
  >;
  /**
   * The same metrics on the validation images (held out of training, never
   * the test images), at the evaluation's own threshold: what a recipe's
   * settings can be chosen on.
   */
  readonly validation?: {
    /** Which images, for reports (e.g. `2 validation images (23_training, 24_training)`). */
    readonly on: string;
    /** Metric name to value. */
    readonly metrics: Readonly<Record<string, number>>;
  };
}

/** What each stage kind receives and returns. */
export interface StageIO {
  /** Reads a data set. */
  load: { input: undefined; output: SegmentationData };
  /** Transforms every image of a data set. */
  preprocess: { input: SegmentationData; output: SegmentationData };
  /** Gives a random transform of training batches. */
  augment: { input: undefined; output: Augmentation };
  /** Gives a network architecture for the data. */
  model: { input: SegmentationData; output: ModelSpec };
  /** Trains the network. */
  train: {
    input: { data: SegmentationData; model: ModelSpec; augment: Augmentation };
    output: TrainedModel;
  };
  /** Scores the trained network on the test samples. */
  evaluate: { input: { data: SegmentationData; trained: TrainedModel }; output: Evaluation };
}

/** What the engine hands every stage. */
export interface StageContext {
  /** The full id of the running stage, e.g. `core/train`. */
  readonly stageId: string;
  /** The one TensorFlow.js runtime; plugins must use it rather than import their own. */
  readonly tf: Tf;
  /** Switches the active backend to the one chosen for `role` and returns its name. */
  useBackend(role: BackendRole): Promise<string>;
  /** A generator seeded from the recipe's seed and the stage's position. */
  readonly random: Random;
  /** The run's output folder (atomic writes). */
  readonly run: RunFolder;
  /** Progress and log output. */
  readonly progress: Progress;
  /** The folder of the recipe file, for resolving relative paths. */
  readonly recipeDir: string;
  /** Builds the component an option refers to (validated when the recipe loaded). */
  createComponent<C extends ComponentKind>(kind: C, ref: ComponentRef): ComponentOutput[C];
  /** The run's checkpoints: save each epoch; `load` gives the last one when the run resumes. */
  readonly checkpoints: CheckpointStore;
  /**
   * Aborted when the run is asked to stop (the CLI's first Ctrl-C): a long
   * stage may honour it by calling {@link safePoint} between units of work
   * (steps, images) where stopping loses nothing written, e.g. not in the
   * middle of a checkpoint. Optional for a stage to honour: the engine checks
   * it between stages, so one that ignores it stops when it returns. Absent
   * where nothing can stop the run.
   */
  readonly signal?: AbortSignal;
}

/** The code of the error a run stopped by its signal throws ({@link interruption}). */
export const INTERRUPTED = "E_INTERRUPTED";

/**
 * The error a stage (or the engine) throws when the run's signal asked it to
 * stop: a {@link CapillaryError} with code {@link INTERRUPTED}, which the
 * engine passes on as it is and the CLI answers with exit code 130.
 *
 * @param where What stopped, for the message (e.g. `training in epoch 2`).
 * @returns The error.
 *
 * @example Usage
 * ```ts
 * import { interruption, isInterruption } from "./stage.ts";
 * console.assert(isInterruption(interruption("training in epoch 2")));
 * ```
 */
export function interruption(where: string): CapillaryError {
  return new CapillaryError(
    `Interrupted: stopped ${where}, at a safe point; what the run wrote is complete`,
    INTERRUPTED,
  );
}

/**
 * Whether `error`, or an error in its `cause` chain, is an {@link interruption}.
 *
 * @param error Anything thrown.
 * @returns True for an interruption.
 */
export function isInterruption(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as never) {
    if (typeof e !== "object") return false;
    if (e.code === INTERRUPTED) return true;
  }
  return false;
}

/** Wall time between the turns {@link safePoint} gives the event loop, in milliseconds. */
const TURN_MS = 500;
let lastTurn = performance.now();

/**
 * A point where a long loop may stop: throws an {@link interruption} when
 * `signal` is aborted. Synchronous work (a tfjs step on cpu or wasm) and
 * awaits that are only microtasks keep a signal (SIGINT) from being
 * delivered, so it also yields one macrotask turn to the event loop when
 * {@link TURN_MS} ms of wall time have passed since the last: cheap enough to
 * call between every step.
 *
 * @param signal The run's signal (`StageContext.signal`); nothing happens without one.
 * @param where What stops if it is aborted, for the message (e.g. `training in epoch 2`).
 * @throws {CapillaryError} {@link INTERRUPTED} when the signal is aborted.
 *
 * @example Usage
 * ```ts
 * import { isInterruption, safePoint } from "./stage.ts";
 * const controller = new AbortController();
 * await safePoint(controller.signal, "the loop"); // goes on
 * controller.abort();
 * let stopped = false;
 * await safePoint(controller.signal, "the loop").catch((e) => stopped = isInterruption(e));
 * console.assert(stopped);
 * ```
 */
export async function safePoint(signal: AbortSignal | undefined, where: string): Promise<void> {
  if (!signal) return;
  if (performance.now() - lastTurn >= TURN_MS) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    lastTurn = performance.now();
  }
  if (signal.aborted) throw interruption(where);
}

/** A data set as a plan sees it: counts and sizes, no pixels. */
export interface DataPlan {
  /** Training samples. */
  readonly train: number;
  /** Test samples. */
  readonly test: number;
  /** Image height and width (of the first image; `null` when they vary). */
  readonly height: number | null;
  readonly width: number | null;
  /** Image channels. */
  readonly channels: number;
  /**
   * Where sizes vary and the load stage knows them: the least width and the
   * least height over the images (of two images, possibly), which bound the
   * patches a later stage may cut.
   */
  readonly smallest?: { readonly width: number; readonly height: number };
}

/** A network as a plan sees it. */
export interface ModelPlan {
  /** The architecture's name. */
  readonly name: string;
  /** Weights (trainable and not) of the network for `size × size × channels` inputs. */
  parameters(size: number, channels: number): number;
  /** Forward FLOP (2 per multiply-add) for one `size × size × channels` input, if known. */
  forwardFlops?(size: number, channels: number): number;
  /**
   * The layers that hold weights, in order, with their weight counts (for
   * freezing by name) and, where given, their classes and weight shapes (to
   * check `stages.model.from` before anything runs): `plannedLayers`
   * lists them from a built network.
   */
  layers?(size: number, channels: number): readonly PlannedLayer[];
}

/** A training loop as a plan sees it: what the trained network takes. */
export interface TrainPlan {
  /** Side of the training patches. */
  readonly patchSize: number;
  /** Input channels. */
  readonly channels: number;
}

/** What each stage kind's plan receives and passes on (`deno task plan`). */
export interface PlanIO {
  load: { input: undefined; output: DataPlan };
  preprocess: { input: DataPlan; output: DataPlan };
  augment: { input: undefined; output: undefined };
  model: { input: DataPlan; output: ModelPlan };
  train: { input: { data: DataPlan; model: ModelPlan }; output: TrainPlan };
  evaluate: { input: { data: DataPlan; trained: TrainPlan }; output: undefined };
}

/** A stage's plan: what it passes on and the lines that describe it. */
export interface StagePlan<K extends StageKind = StageKind> {
  readonly output: PlanIO[K]["output"];
  /** What the stage will do: shapes in and out, counts, schedules. */
  readonly lines: readonly string[];
}

/** What the engine hands a plan: no run folder, no backend switching. */
export type PlanContext = Pick<StageContext, "stageId" | "tf" | "recipeDir" | "createComponent">;

/** A stage implementation: a named, schema-checked function of one kind. */
export interface StageDefinition<K extends StageKind = StageKind, S extends z.ZodType = z.ZodType> {
  /** The name within its plugin, e.g. `train` (recipes write `plugin/name`). */
  readonly name: string;
  /** Which slot of a recipe it fills. */
  readonly kind: K;
  /** One line on what it does. */
  readonly description: string;
  /** The zod schema of its options: the single source of their types, defaults and docs. */
  readonly options: S;
  /**
   * Describes what `run` would do without doing it (`deno task plan`):
   * cheap, no training. Optional; a stage without it shows only its options.
   */
  plan?(
    options: z.output<S>,
    input: PlanIO[K]["input"],
    context: PlanContext,
  ): Promise<StagePlan<K>> | StagePlan<K>;
  /**
   * For a load stage: the files whose contents determine what `run` returns.
   * With it, the engine caches the loaded and preprocessed data under a key
   * of those contents and the stages' options (`pipeline/run/data_cache.ts`).
   */
  fingerprint?(options: z.output<S>, context: PlanContext): Promise<string[]> | string[];
  /** Does the work. */
  run(
    options: z.output<S>,
    input: StageIO[K]["input"],
    context: StageContext,
  ): Promise<StageIO[K]["output"]> | StageIO[K]["output"];
}

/**
 * Declares a stage; an identity function that gives `run` its option types.
 *
 * @example Usage
 * ```ts
 * import { z } from "zod";
 * import { defineStage } from "./stage.ts";
 * const flip = defineStage({
 *   name: "flip",
 *   kind: "augment",
 *   description: "Flips patches left-right.",
 *   options: z.object({ p: z.number().default(0.5) }).strict(),
 *   run: (options) => (batch) => batch,
 * });
 * console.assert(flip.kind === "augment");
 * ```
 */
export function defineStage<K extends StageKind, S extends z.ZodType>(
  definition: StageDefinition<K, S>,
): StageDefinition<K, S> {
  return definition;
}

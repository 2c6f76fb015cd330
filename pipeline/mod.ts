/**
 * The Capillary engine: recipes, plugins, backends and the runner. It knows
 * nothing of any particular data set or network; those come from plugins.
 *
 * @module
 */
export * from "./component.ts";
export * from "./data.ts";
export * from "./errors.ts";
export * from "./plugin.ts";
export * from "./random.ts";
export * from "./registry.ts";
export * from "./stage.ts";
export * from "./suggest.ts";
export * from "./version.ts";
/**
 * The engine's zod. A plugin that builds its option schemas with it (`import { z } from
 * "@capillary/capillary"`) gets the one major version and copy the engine reads, whatever its own
 * dependencies say.
 */
export { z } from "zod";
export { BACKEND_NAMES, type BackendName } from "./recipe/schema.ts";
export { type LoadedRecipe, loadRecipe, type LoadRecipeOptions } from "./recipe/load.ts";
export { type ParsedRecipe, parseRecipeText } from "./recipe/parse.ts";
export { recipeBaseDir, renderResolvedRecipe } from "./recipe/render.ts";
export { type ResolvedRecipe, type ResolvedStage, validateRecipe } from "./recipe/validate.ts";
export {
  type BackendChoice,
  type BackendInfo,
  chooseBackend,
  loadBackend,
} from "./backend/select.ts";
export { liftReverseRankLimit } from "./backend/reverse_kernel.ts";
export { isOutOfMemory, memoryBound } from "./backend/out_of_memory.ts";
export { withCleanup } from "./cleanup.ts";
export {
  HOST_MEMORY_BACKENDS,
  type HostKernel,
  type KernelMemory,
  kernelMemory,
  registerHostKernel,
} from "./backend/kernel_memory.ts";
export * as wasmAssembler from "./backend/wasm_assembler.ts";
export {
  type ChannelSums,
  type ElementwiseShader,
  runChannelSums,
  runElementwise,
} from "./backend/webgpu_programs.ts";
export { type BackendRole, type Tf, tf } from "./backend/tfjs.ts";
export { type RunOptions, runRecipe, type RunResult } from "./run/runner.ts";
export { createFolder, type FolderWords, RunFolder, writeFileAtomic } from "./run/run_folder.ts";
export {
  consoleProgress,
  countOf,
  formatDuration,
  type Progress,
  type ProgressTask,
} from "./run/progress.ts";
export {
  formatMetricsTable,
  type MetricsColumn,
  metricsColumns,
  referencePointLines,
  shortThreshold,
} from "./run/metrics_table.ts";
export { loadLayersModel, saveLayersModel } from "./run/model_io.ts";
export { copyWeightsByLayer, resolveModelFrom } from "./run/pretrained.ts";
export {
  type LayerWeights,
  layerWeights,
  type PlannedLayer,
  plannedLayers,
  type WeightShape,
} from "./run/layer_weights.ts";
export { loadResumable } from "./run/resume.ts";
export { inBothSplits } from "./run/checks.ts";
export {
  GradientWorkers,
  type GradientWorkerSetup,
  type ShardGradients,
} from "./run/gradient_workers.ts";
export { type Shard, weightsInLayerOrder, type WorkerLoss } from "./run/model_workers.ts";
export {
  holdInInference,
  holdLayersInInference,
  isHeldInInference,
  layersHeldInInference,
} from "./run/inference_layers.ts";
export { PredictionWorkers } from "./run/prediction_workers.ts";
export {
  type Checkpoint,
  type CheckpointStore,
  checkpointStore,
  type LoadedCheckpoint,
  type NamedTensor,
} from "./run/checkpoint.ts";
export { formatPlan, type PlannedStage, planRecipe } from "./run/plan.ts";
export { encodeGrayPng, encodeRgbPng } from "./image/write_png.ts";
export {
  type AugmentPreview,
  augmentPreview,
  type AugmentPreviewOptions,
} from "./run/augment_preview.ts";

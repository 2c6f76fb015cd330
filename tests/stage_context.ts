/**
 * A quiet stage context for calling a stage's `run` directly in tests: no
 * run folder, no output, the cpu backend, no components.
 */
import { Random, type StageContext, tf } from "../mod.ts";
import { componentCreator } from "../pipeline/registry.ts";
import { checkpointStore } from "../pipeline/run/checkpoint.ts";

/** A context for `stageId`, resolving relative paths against `recipeDir`. */
export function quietStageContext(stageId: string, recipeDir = "/"): StageContext {
  return {
    stageId,
    tf,
    useBackend: () => Promise.resolve("cpu"),
    random: new Random(1),
    run: undefined as never,
    progress: { info() {}, task: () => ({ update() {}, done() {} }) },
    recipeDir,
    createComponent: componentCreator(new Map()),
    checkpoints: checkpointStore("/nonexistent", false),
  };
}

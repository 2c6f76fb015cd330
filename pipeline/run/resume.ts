/**
 * Finding what a resumed run needs: its folder, checked, and the recipe it
 * ran (`recipe.resolved.yaml`, which re-runs as is, or with `--set` on how it
 * is evaluated: a run whose evaluation failed, say for GPU memory, can be
 * evaluated another way without training again).
 *
 * @module
 */
import { CapillaryError } from "../errors.ts";
import { join } from "../path.ts";
import { type LoadedRecipe, loadRecipe, type LoadRecipeOptions } from "../recipe/load.ts";
import { resolvedRecipeObject } from "../recipe/render.ts";
import type { ResolvedRecipe } from "../recipe/validate.ts";
import { differingPaths } from "../recipe/setting_paths.ts";

/** What `--set` may change when a run resumes: how it is evaluated, nothing that trains. */
export const RESUMABLE_SETTINGS: readonly string[] = ["inferenceBackend", "stages.evaluate"];

/**
 * The resolved recipe as plain JSON data, less what a resumed run may change:
 * what a run writes to {@link TRAINING_RECIPE} when it starts, and what
 * `--resume` compares the run's `recipe.resolved.yaml` with.
 *
 * @param recipe The resolved recipe.
 * @returns Its settings that decide how the run trains.
 */
export function trainingPart(recipe: ResolvedRecipe): Record<string, unknown> {
  const object = resolvedRecipeObject(recipe);
  const { inferenceBackend: _inference, stages, ...rest } = object;
  const { evaluate: _evaluate, ...trainingStages } = stages as Record<string, unknown>;
  // Through JSON, as the file holds it: undefined values go.
  return JSON.parse(JSON.stringify({ ...rest, stages: trainingStages }));
}

/**
 * The run-folder file that keeps how the run trains as it started, so that a
 * `recipe.resolved.yaml` edited by hand cannot change a resumed run's training.
 */
export const TRAINING_RECIPE = "recipe.training.json";

/**
 * Checks that `runDir` is a run that can be resumed and loads the recipe it
 * ran, with `options.overrides` applied if they change only
 * {@link RESUMABLE_SETTINGS}.
 *
 * @param runDir The run folder (`runs/<name>/<timestamp>`).
 * @param options Built-in plugins, and `--set` overrides of the evaluation.
 * @returns The loaded recipe, to pass to `runRecipe` with `{ resume: runDir }`.
 * @throws {CapillaryError} `E_RESUME` when the folder does not exist or is not a run, the run
 * already finished, or an override would change how it trains.
 */
export async function loadResumable(
  runDir: string,
  options: LoadRecipeOptions = {},
): Promise<LoadedRecipe> {
  const file = join(runDir, "recipe.resolved.yaml");
  // A mistyped path: "holds no recipe.resolved.yaml" would send one looking inside it.
  const absent = await Deno.stat(runDir).then(
    () => false,
    (error) => error instanceof Deno.errors.NotFound,
  );
  if (absent) {
    throw new CapillaryError(
      `Cannot resume "${runDir}": the folder does not exist; give a run folder, ` +
        "e.g. runs/drive/2026-11-27T10-00-00Z",
      "E_RESUME",
    );
  }
  try {
    await Deno.stat(file);
  } catch {
    throw new CapillaryError(
      `Cannot resume "${runDir}": it holds no recipe.resolved.yaml; give a run folder, ` +
        "e.g. runs/drive/2026-11-27T10-00-00Z",
      "E_RESUME",
    );
  }
  try {
    await Deno.stat(join(runDir, "metrics.json"));
    throw new CapillaryError(
      `Cannot resume "${runDir}": the run finished (it wrote metrics.json); nothing to resume`,
      "E_RESUME",
    );
  } catch (error) {
    if (error instanceof CapillaryError) throw error;
  }
  const ran = await loadRecipe(file, { ...options, overrides: [] });
  // What it trained with when it started (runs from before the file have none to compare).
  let started: unknown;
  try {
    started = JSON.parse(await Deno.readTextFile(join(runDir, TRAINING_RECIPE)));
  } catch {
    started = undefined;
  }
  if (started !== undefined) {
    const edited = differingPaths(started, trainingPart(ran.recipe));
    if (edited.length) {
      throw new CapillaryError(
        `Cannot resume "${runDir}": its recipe.resolved.yaml was edited since the run started ` +
          `(${edited.join(", ")} differ from ${TRAINING_RECIPE}), and a resumed run trains ` +
          "exactly as it started. Undo the edit; to change how it is evaluated use --set " +
          `(${RESUMABLE_SETTINGS.join(", ")}); to change training, start a new run ` +
          "(stages.model.from can start it from this run's checkpoint)",
        "E_RESUME",
      );
    }
  }
  if (!options.overrides?.length) return ran;
  const changed = await loadRecipe(file, options);
  const training = differingPaths(trainingPart(ran.recipe), trainingPart(changed.recipe));
  if (training.length) {
    throw new CapillaryError(
      `Cannot resume with --set ${options.overrides.join(" --set ")}: it changes ` +
        `${training.join(", ")}, and a resumed run trains exactly as it started; --set may ` +
        `change only how it is evaluated (${RESUMABLE_SETTINGS.join(", ")}). To change ` +
        "training, start a new run (stages.model.from can start it from this run's model)",
      "E_RESUME",
    );
  }
  return changed;
}

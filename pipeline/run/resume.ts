/**
 * Finding what a resumed run needs: its folder, checked, and the recipe it
 * ran (`recipe.resolved.yaml`, which re-runs as is).
 *
 * @module
 */
import { CapillaryError } from "../errors.ts";
import { join } from "../path.ts";
import { type LoadedRecipe, loadRecipe, type LoadRecipeOptions } from "../recipe/load.ts";

/**
 * Checks that `runDir` is a run that can be resumed and loads the recipe it ran.
 *
 * @param runDir The run folder (`runs/<name>/<timestamp>`).
 * @param options Built-in plugins; overrides are refused: a resumed run runs as it started.
 * @returns The loaded recipe, to pass to `runRecipe` with `{ resume: runDir }`.
 * @throws {CapillaryError} `E_RESUME` when the folder is not a run, or the run already finished.
 */
export async function loadResumable(
  runDir: string,
  options: LoadRecipeOptions = {},
): Promise<LoadedRecipe> {
  if (options.overrides?.length) {
    throw new CapillaryError(
      "Cannot resume with --set: a resumed run continues exactly as it started; " +
        "to change settings, start a new run (stages.model.from can start it from this run's model)",
      "E_RESUME",
    );
  }
  const file = join(runDir, "recipe.resolved.yaml");
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
  return await loadRecipe(file, options);
}

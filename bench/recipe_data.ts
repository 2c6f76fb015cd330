/**
 * Runs a recipe's load and preprocess stages outside the runner, for the
 * bench scripts that need its data set (`data_cache.ts`, `drive_trials_data.ts`).
 *
 * @module
 */
import type { ResolvedRecipe, SegmentationData } from "../mod.ts";
import { quietStageContext } from "../tests/stage_context.ts";

/**
 * The data set after the recipe's load and preprocess stages.
 *
 * @param recipe A loaded recipe.
 * @param file The recipe's path, whose folder resolves relative paths.
 * @returns What the last data stage returned.
 */
export async function runDataStages(
  recipe: ResolvedRecipe,
  file: string,
): Promise<SegmentationData> {
  const stages = [...recipe.stages.get("load") ?? [], ...recipe.stages.get("preprocess") ?? []];
  let data = undefined as unknown as SegmentationData;
  for (const s of stages) {
    const context = quietStageContext(s.id, file.replace(/\/[^/]*$/, ""));
    data = await s.registered.stage.run(
      s.options as never,
      data as never,
      context,
    ) as SegmentationData;
  }
  return data;
}

/**
 * `deno task plan`: the stage graph of a resolved recipe without training —
 * each stage, its implementation and plugin, its resolved options, and what
 * its `plan` hook says (the shapes flowing between stages, the network's
 * size and cost, the learning rate per epoch).
 *
 * @module
 */
import { stringify } from "yaml";
import { tf } from "../backend/tfjs.ts";
import { CapillaryError, describeThrown, StageError } from "../errors.ts";
import { recipeBaseDir } from "../recipe/render.ts";
import { componentCreator } from "../registry.ts";
import { described } from "./checks.ts";
import { type LayerWeights, pairLayerWeights, savedLayerWeights } from "./layer_weights.ts";
import { layersMismatch, resolveModelFrom } from "./pretrained.ts";
import type { ResolvedRecipe, ResolvedStage } from "../recipe/validate.ts";
import type { DataPlan, ModelPlan, PlanContext, StagePlan, TrainPlan } from "../stage.ts";

/** One planned stage, in run order. */
export interface PlannedStage {
  readonly stage: ResolvedStage;
  /** The hook's lines, or why there are none. */
  readonly lines: readonly string[];
}

/**
 * Runs every stage's `plan` hook in order, passing each what the earlier
 * ones described. A stage without a hook, or whose input could not be
 * described, is listed with its options only.
 *
 * @param recipe The resolved recipe.
 * @returns The stages with their descriptions.
 * @throws {StageError} When a hook fails (e.g. the data folder is missing), naming the stage.
 */
export async function planRecipe(recipe: ResolvedRecipe): Promise<PlannedStage[]> {
  const recipeDir = recipeBaseDir(recipe);
  const createComponent = componentCreator(recipe.components);
  let data: DataPlan | undefined;
  let model: ModelPlan | undefined;
  let trained: TrainPlan | undefined;
  let startFrom: string | undefined; // the saved model the model stage starts from
  const planned: PlannedStage[] = [];
  // The first stage whose output later plans needed and could not get: it had no hook.
  let unplanned: string | undefined;
  for (const [kind, stages] of recipe.stages) {
    for (const stage of stages) {
      const hook = stage.registered.stage.plan;
      const input = kind === "preprocess" || kind === "model"
        ? data
        : kind === "train"
        ? data && model && { data, model }
        : kind === "evaluate"
        ? data && trained && { data, trained }
        : undefined;
      const needsInput = kind !== "load" && kind !== "augment";
      if (!hook || (needsInput && input === undefined)) {
        planned.push({
          stage,
          lines: [
            hook
              ? `(not described: ${unplanned ?? "an earlier stage"} has no plan hook to say ` +
                "what it passes on)"
              : "(no plan hook)",
          ],
        });
        if (!hook && kind !== "augment") unplanned ??= stage.id;
        continue;
      }
      const context: PlanContext = { stageId: stage.id, tf, recipeDir, createComponent };
      let result: StagePlan;
      try {
        result = await hook(stage.options as never, input as never, context) as StagePlan;
      } catch (error) {
        if (error instanceof CapillaryError) throw error;
        throw new StageError(stage.id, `its plan failed: ${describeThrown(error)}`, {
          cause: error,
        });
      }
      checkStagePlan(result, stage.id);
      if (kind === "load" || kind === "preprocess") data = result.output as DataPlan;
      if (kind === "model") model = result.output as ModelPlan;
      const from = stage.from &&
        await resolveModelFrom(stage.from.path, Deno.cwd(), stage.from.position);
      if (from) {
        result = { ...result, lines: [...result.lines, `weights from ${from}`] };
        startFrom = from;
      }
      if (kind === "train") {
        trained = result.output as TrainPlan;
        if (startFrom && model) await checkStartFrom(startFrom, model, trained);
      }
      planned.push({ stage, lines: result.lines });
    }
  }
  return planned;
}

/**
 * Checks what a `plan` hook returned: `{ output, lines }` with `lines` a list
 * of strings (`output` is the kind's own, read by the next stages' hooks).
 *
 * @throws {StageError} Naming the stage and what its hook must return.
 */
function checkStagePlan(result: StagePlan, stage: string): void {
  const contract = "a plan hook returns { output, lines }: what the stage passes on, described " +
    "for the next stages' hooks, and its lines of text, a list of strings";
  if (!result || typeof result !== "object" || Array.isArray(result)) {
    throw new StageError(stage, `its plan returned ${described(result)}; ${contract}`);
  }
  const lines: unknown = result.lines;
  if (!Array.isArray(lines)) {
    throw new StageError(
      stage,
      `its plan returned lines that are ${described(lines)}, not a list; ${contract}`,
    );
  }
  const line = lines.findIndex((l) => typeof l !== "string");
  if (line >= 0) {
    throw new StageError(
      stage,
      `its plan returned lines[${line}], ${described(lines[line])}, not a string; ${contract}`,
    );
  }
}

/**
 * What the run refuses when it starts the network from `dir`, said before
 * anything loads: the model's planned layers (where its plan gives their
 * classes and weight shapes) against those `dir`'s `model.json` lists.
 */
async function checkStartFrom(dir: string, model: ModelPlan, trained: TrainPlan): Promise<void> {
  const layers = model.layers?.(trained.patchSize, trained.channels);
  if (!layers?.length || !layers.every((l) => l.className && l.weights)) return;
  try {
    pairLayerWeights(await savedLayerWeights(dir), layers as readonly LayerWeights[]);
  } catch (error) {
    if (error instanceof CapillaryError) throw error;
    throw layersMismatch(dir, (error as Error).message);
  }
}

/**
 * Formats {@link planRecipe}'s result: per stage its slot, id, plugin and
 * version, options (one line), then the plan's lines.
 */
export function formatPlan(recipe: ResolvedRecipe, planned: readonly PlannedStage[]): string {
  const out = [`Plan of ${recipe.file} (seed ${recipe.seed}, backend ${recipe.backend})`];
  planned.forEach(({ stage, lines }, i) => {
    const plugin = stage.registered.plugin;
    out.push(
      "",
      `${i + 1}. ${stage.kind}: ${stage.id} (plugin ${plugin.name} ${plugin.version})`,
      `   with ${stringify(stage.options, { collectionStyle: "flow", lineWidth: 0 }).trim()}`,
      ...lines.map((l) => `   ${l}`),
    );
  });
  return out.join("\n");
}

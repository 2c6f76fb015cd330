/**
 * The schema of a recipe's top level. Each stage's options are checked
 * against the schema of the stage the recipe names (see `validate.ts`).
 *
 * @module
 */
import { z } from "zod";
import { STAGE_KINDS } from "../stage.ts";

/** Backends a recipe may ask for. */
export const BACKEND_NAMES = [
  "auto",
  "tensorflow-gpu",
  "tensorflow",
  "webgpu",
  "wasm",
  "cpu",
] as const;

/** One of {@link BACKEND_NAMES}. */
export type BackendName = typeof BACKEND_NAMES[number];

/** One stage entry: which implementation and its options. */
export const stageEntrySchema = z.object({
  use: z.string().describe("The stage implementation, as `plugin/name`, e.g. `core/train`."),
  with: z.record(z.string(), z.unknown()).nullable().default({})
    .describe("The stage's options; see the stage's documentation for their names and defaults."),
  from: z.string().min(1).optional().describe(
    "Model stage only: start from the trained weights of an earlier run, given as its run " +
      "folder, its `model/` folder, or a folder of runs (the newest finished one is taken); " +
      "relative to the working folder, as `output` is. The architecture must match.",
  ),
}).strict();

/** The top level of a recipe; `stages` entries are checked separately. */
export const recipeSchema = z.object({
  name: z.string().regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    "use letters, digits, '.', '_' or '-'",
  ).optional()
    .describe("The run's name, used for the run folder (default: the recipe's file name)."),
  description: z.string().optional().describe("What the recipe is for."),
  extends: z.union([z.string(), z.array(z.string())]).optional()
    .describe(
      "Base recipe(s) this one builds on, relative to this file: maps merge, lists replace " +
        "(`{$append: [...]}` appends), `null` deletes a key.",
    ),
  seed: z.number().int().default(42).describe("Seeds every random choice of the run."),
  backend: z.enum(BACKEND_NAMES).default("auto")
    .describe("The TensorFlow.js backend that trains; `auto` picks the fastest that can train."),
  inferenceBackend: z.enum([...BACKEND_NAMES, "same"]).default("auto")
    .describe(
      "The backend that predicts during evaluation; `auto` picks the fastest for inference, `same` keeps the training backend.",
    ),
  output: z.string().default("runs")
    .describe("The folder under which each run writes `<name>/<timestamp>/`."),
  relativeTo: z.string().min(1).optional()
    .describe(
      "The folder that relative paths in stage options (a data set's `root`) are relative to " +
        "(default: this recipe's folder). A run's `recipe.resolved.yaml` names the original " +
        "recipe's folder here, so that the run resumes and re-plans from its own folder.",
    ),
  plugins: z.array(z.string()).default([])
    .describe(
      "Extra plugin modules: a path relative to the recipe, an `npm:` or an `https:` specifier.",
    ),
  stages: z.record(z.string(), z.unknown())
    .describe(`The stages, by kind: ${STAGE_KINDS.join(", ")}.`),
}).strict();

/** A recipe's top level after defaults. */
export type RecipeTop = z.output<typeof recipeSchema>;

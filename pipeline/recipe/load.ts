/**
 * Loads a recipe file end to end: read, parse, load its plugins, validate.
 *
 * @module
 */
import { CapillaryError, RecipeValidationError } from "../errors.ts";
import type { Plugin } from "../plugin.ts";
import { Registry } from "../registry.ts";
import { dirname, resolve } from "../path.ts";
import { parseRecipeText } from "./parse.ts";
import { loadPlugins } from "./load_plugins.ts";
import { type ResolvedRecipe, validateRecipe, validateTop } from "./validate.ts";

/** Options of {@link loadRecipe}. */
export interface LoadRecipeOptions {
  /** Plugins available to every recipe without listing them (the core plugin). */
  builtins?: readonly Plugin[];
}

/** A loaded recipe and the registry its stages came from. */
export interface LoadedRecipe {
  /** The validated recipe with defaults filled in. */
  readonly recipe: ResolvedRecipe;
  /** Every registered stage (built-ins and the recipe's plugins). */
  readonly registry: Registry;
}

/**
 * Reads and validates a recipe file.
 *
 * @param file Path to the YAML recipe.
 * @param options Built-in plugins.
 * @returns The resolved recipe and registry.
 * @throws {CapillaryError} When the file is missing, and the recipe error subclasses for bad content.
 */
export async function loadRecipe(
  file: string,
  options: LoadRecipeOptions = {},
): Promise<LoadedRecipe> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "file not found"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a folder"
      : (error as Error).message;
    throw new CapillaryError(`Cannot read recipe "${file}": ${reason}`, "E_RECIPE_READ");
  }
  const parsed = parseRecipeText(text, file);
  const registry = new Registry();
  for (const plugin of options.builtins ?? []) registry.register(plugin, "(built in)");
  const { top, partial, issues } = validateTop(parsed);
  const usable = top ?? partial;
  if (!usable) throw new RecipeValidationError(issues);
  const pluginIssues = await loadPlugins(
    usable.plugins,
    dirname(resolve(file)),
    registry,
    parsed,
  );
  if (pluginIssues.length) throw new RecipeValidationError([...issues, ...pluginIssues]);
  return { recipe: validateRecipe(parsed, registry, usable, issues), registry };
}

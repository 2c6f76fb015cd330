/**
 * Loads a recipe file end to end: read, parse, compose with its bases and
 * overrides, resolve `${...}`, load its plugins, validate.
 *
 * @module
 */
import { RecipeValidationError } from "../errors.ts";
import type { Plugin } from "../plugin.ts";
import { Registry } from "../registry.ts";
import { dirname, resolve } from "../path.ts";
import { mergeLayers, overrideLayer, parseOverride, readRecipeLayers } from "./compose.ts";
import { interpolateRecipe } from "./interpolate.ts";
import type { ParsedRecipe } from "./parse.ts";
import { resolvePluginSpecifier } from "./plugin_specifier.ts";
import { loadPlugins } from "./load_plugins.ts";
import { type ResolvedRecipe, validateRecipe, validateTop } from "./validate.ts";

/** Options of {@link loadRecipe}. */
export interface LoadRecipeOptions {
  /** Plugins available to every recipe without listing them (the core plugin). */
  builtins?: readonly Plugin[];
  /** `key.path=value` overrides, applied over the recipe (`--set`). */
  overrides?: readonly string[];
}

/** A loaded recipe and the registry its stages came from. */
export interface LoadedRecipe {
  /** The validated recipe with defaults filled in. */
  readonly recipe: ResolvedRecipe;
  /** Every registered stage (built-ins and the recipe's plugins). */
  readonly registry: Registry;
  /** The composed recipe (its bases, itself, the overrides) with where each value came from. */
  readonly parsed: ParsedRecipe;
}

/** Rewrites a base recipe's relative plugin paths so they stay relative to the base. */
function anchorPlugins(layer: ParsedRecipe): ParsedRecipe {
  const value = layer.value as Record<string, unknown>;
  if (!Array.isArray(value?.plugins)) return layer;
  const dir = dirname(resolve(layer.file));
  const plugins = value.plugins.map((p) => {
    if (typeof p !== "string") return p;
    try {
      return resolvePluginSpecifier(p, dir);
    } catch {
      return p; // reported when the plugins load
    }
  });
  return { ...layer, value: { ...value, plugins } };
}

/**
 * Reads, composes and validates a recipe: the recipes it `extends`, then the
 * file, then `overrides` (see `compose.ts` for the merge rules).
 *
 * @param file Path to the YAML recipe.
 * @param options Built-in plugins and overrides.
 * @returns The resolved recipe, registry and composed source.
 * @throws {CapillaryError} When a file is missing or an override is malformed, and the recipe
 * error subclasses for bad content.
 */
export async function loadRecipe(
  file: string,
  options: LoadRecipeOptions = {},
): Promise<LoadedRecipe> {
  const layers = await readRecipeLayers(file);
  const overrides = (options.overrides ?? []).map((o) => overrideLayer(parseOverride(o)));
  const composed = layers.length === 1 && overrides.length === 0 ? layers[0] : mergeLayers(
    [...layers.map((l, i) => i === layers.length - 1 ? l : anchorPlugins(l)), ...overrides],
    file,
  );
  const parsed = interpolateRecipe(composed);
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
  return { recipe: validateRecipe(parsed, registry, usable, issues), registry, parsed };
}

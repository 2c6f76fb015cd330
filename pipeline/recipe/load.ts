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
import {
  mergeLayers,
  overrideLayer,
  parseOverride,
  readRecipeLayers,
  replacedPluginsHint,
} from "./compose.ts";
import { interpolateRecipe } from "./interpolate.ts";
import type { ParsedRecipe } from "./parse.ts";
import { resolvePluginSpecifier } from "./plugin_specifier.ts";
import { loadPlugins } from "./load_plugins.ts";
import { recipeSchema } from "./schema.ts";
import { defaultRecipeName, type ResolvedRecipe, validateRecipe, validateTop } from "./validate.ts";

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

/**
 * A base recipe as the recipes extending it see it: its relative plugin paths
 * kept relative to the base, and without its `name`. A name names one file's
 * runs: a recipe that writes none is named after its own file, as a recipe
 * without bases is, so its runs do not go into its base's folder.
 */
function asBase(layer: ParsedRecipe): ParsedRecipe {
  const raw = layer.value;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return layer;
  const { name: _name, ...value } = raw as Record<string, unknown>;
  if (!Array.isArray(value.plugins)) return { ...layer, value };
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
 * For a recipe with bases: its file's name as the default `name`, over its
 * bases (whose names `asBase` drops) and under itself and the `--set`s, so
 * that a base's `${name}` reads the name its runs go under. It sets nothing
 * that `explain` would name (the name is the default), and is left out where
 * the file's name is no valid run name (validation then falls back to it).
 */
function fileNameLayer(own: ParsedRecipe): ParsedRecipe[] {
  const name = defaultRecipeName(own.file);
  if (!recipeSchema.shape.name.safeParse(name).success) return [];
  return [{
    file: own.file,
    value: { name },
    positionOf: (path, part) => own.positionOf(path, part),
    sourceOf: () => undefined,
  }];
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
  const own = layers[layers.length - 1];
  const composed = layers.length === 1 && overrides.length === 0 ? layers[0] : mergeLayers(
    [
      ...layers.slice(0, -1).map(asBase),
      ...(layers.length > 1 ? fileNameLayer(own) : []),
      own,
      ...overrides,
    ],
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
  const pluginHint = replacedPluginsHint(
    [...layers, ...overrides],
    usable.plugins,
    dirname(resolve(file)),
  );
  return { recipe: validateRecipe(parsed, registry, usable, issues, pluginHint), registry, parsed };
}

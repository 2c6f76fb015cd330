/**
 * Imports the plugin modules a recipe lists and registers them.
 *
 * @module
 */
import { PluginLoadError, type RecipeIssue } from "../errors.ts";
import type { Plugin } from "../plugin.ts";
import type { Registry } from "../registry.ts";
import type { ParsedRecipe } from "./parse.ts";
import { resolvePluginSpecifier } from "./plugin_specifier.ts";

function pluginExport(module: Record<string, unknown>): Plugin | undefined {
  const candidate = module.default ?? module.plugin;
  return candidate && typeof candidate === "object" ? candidate as Plugin : undefined;
}

/**
 * Loads every plugin in `specifiers` into `registry`; failures become issues
 * positioned at the recipe's plugin entry.
 *
 * @param specifiers As written under `plugins:`.
 * @param recipeDir The recipe's folder.
 * @param registry Where to register them.
 * @param parsed The recipe, for positions.
 * @returns The issues found (empty when all loaded).
 */
export async function loadPlugins(
  specifiers: readonly string[],
  recipeDir: string,
  registry: Registry,
  parsed: ParsedRecipe,
): Promise<RecipeIssue[]> {
  const issues: RecipeIssue[] = [];
  for (const [i, specifier] of specifiers.entries()) {
    const path = ["plugins", i];
    const fail = (message: string, hint?: string) =>
      issues.push({ path, position: parsed.positionOf(path), message, hint });
    let url: string;
    try {
      url = resolvePluginSpecifier(specifier, recipeDir);
    } catch (error) {
      fail((error as Error).message);
      continue;
    }
    let module: Record<string, unknown>;
    try {
      module = await import(url);
    } catch (error) {
      const text = String((error as Error).message ?? error).split("\n")[0];
      const missing = /not found|Module not found|No such file|ERR_MODULE_NOT_FOUND/i.test(text);
      fail(
        missing
          ? `cannot load plugin "${specifier}": module not found`
          : `plugin "${specifier}" threw while loading: ${text}`,
        missing ? `looked for ${url}` : undefined,
      );
      continue;
    }
    const plugin = pluginExport(module);
    if (!plugin) {
      fail(
        `plugin "${specifier}" exports no plugin`,
        "export one as `export default definePlugin({ ... })`",
      );
      continue;
    }
    try {
      registry.register(plugin, specifier);
    } catch (error) {
      if (!(error instanceof PluginLoadError)) throw error;
      fail(error.message);
    }
  }
  return issues;
}

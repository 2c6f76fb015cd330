/**
 * Renders a resolved recipe back to YAML: every default filled in, so the
 * file shows exactly what ran and re-runs identically.
 *
 * @module
 */
import { stringify } from "yaml";
import { dirname, resolve } from "../path.ts";
import { resolvePluginSpecifier } from "./plugin_specifier.ts";
import { CHAIN_KINDS } from "../stage.ts";
import type { ResolvedRecipe } from "./validate.ts";

/**
 * The resolved stages in recipe layout: `{ use, from, with }` per slot, a
 * list for the chain slots (preprocess, augment). A relative `from` (relative
 * to the working folder, as runs are) becomes absolute, so the layout means
 * the same from any folder.
 */
export function stagesLayout(recipe: ResolvedRecipe): Record<string, unknown> {
  const stages: Record<string, unknown> = {};
  for (const [kind, list] of recipe.stages) {
    const entries = list.map((s) => ({
      use: s.id,
      ...(s.from ? { from: resolve(s.from.path) } : {}),
      with: s.options,
    }));
    stages[kind] = CHAIN_KINDS.has(kind) ? entries : entries[0];
  }
  return stages;
}

/**
 * The folder that `recipe`'s relative paths (in stage options) are relative
 * to: its `relativeTo` (itself relative to the recipe's folder), else the
 * recipe file's folder; absolute.
 *
 * @example Usage
 * ```ts ignore
 * recipeBaseDir(recipe); // "/work/recipes" for /work/recipes/drive.yaml
 * ```
 */
export function recipeBaseDir(recipe: Pick<ResolvedRecipe, "file" | "relativeTo">): string {
  const dir = dirname(resolve(recipe.file));
  return recipe.relativeTo === undefined ? dir : resolve(dir, recipe.relativeTo);
}

/**
 * The resolved recipe as a plain object in recipe layout. Plugin paths become
 * `file:` URLs and `relativeTo` the absolute folder of relative paths, so the
 * rendering means the same from any folder (a run's `recipe.resolved.yaml`).
 */
export function resolvedRecipeObject(recipe: ResolvedRecipe): Record<string, unknown> {
  const stages = stagesLayout(recipe);
  const { file, stages: _stages, components: _components, relativeTo: _, plugins, ...top } = recipe;
  const recipeDir = dirname(resolve(file));
  // In one order whether or not the recipe wrote relativeTo: a rendering re-renders the same.
  return {
    ...top,
    relativeTo: recipeBaseDir(recipe),
    plugins: plugins.map((p) => resolvePluginSpecifier(p, recipeDir)),
    stages,
  };
}

/**
 * Renders the resolved recipe, headed by comments naming the Capillary and
 * plugin versions that resolved it, and any `notes` (e.g. the backends chosen).
 *
 * @example Usage
 * ```ts ignore
 * const yaml = renderResolvedRecipe(recipe, "0.1.0");
 * ```
 */
export function renderResolvedRecipe(
  recipe: ResolvedRecipe,
  engineVersion: string,
  notes: readonly string[] = [],
): string {
  const plugins = new Map<string, string>();
  for (const list of recipe.stages.values()) {
    for (const s of list) plugins.set(s.registered.plugin.name, s.registered.plugin.version);
  }
  // A plugin that gives only components (a loss, a schedule) ran too.
  for (const c of recipe.components.values()) plugins.set(c.plugin.name, c.plugin.version);
  const header = [
    `# Resolved from ${recipe.file} by Capillary ${engineVersion}`,
    `# plugins: ${[...plugins].map(([n, v]) => `${n} ${v}`).join(", ")}`,
    "# Every default is filled in: this file runs exactly this.",
    ...notes.map((n) => `# ${n}`),
  ].join("\n");
  return `${header}\n${stringify(resolvedRecipeObject(recipe), { lineWidth: 0 })}`;
}

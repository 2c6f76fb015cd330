/**
 * Where a recipe's settings are, by name, as `--set` reaches them: what the
 * CLI suggests for an option it does not take (`--epochs 3`: `--set
 * train.epochs=3`), and the plain-value diff that tells whether two resolved
 * recipes differ, and where.
 *
 * @module
 */
import { explainValues } from "./explain.ts";
import type { LoadedRecipe } from "./load.ts";
import { resolvedRecipeObject } from "./render.ts";

/**
 * The dotted paths at which two plain values (from YAML: maps, lists, scalars) differ.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "../../tests/assert.ts";
 * import { differingPaths } from "./setting_paths.ts";
 *
 * assertEquals(differingPaths({ a: { b: 1, c: [1, 2] } }, { a: { b: 2, c: [1, 3] }, d: 0 }), [
 *   "a.b",
 *   "a.c.1",
 *   "d",
 * ]);
 * ```
 */
export function differingPaths(before: unknown, after: unknown, prefix = ""): string[] {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (!isMap(before) || !isMap(after) || Array.isArray(before) !== Array.isArray(after)) {
    return Object.is(before, after) ? [] : [prefix || "(the whole recipe)"];
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.flatMap((key) =>
    differingPaths(before[key], after[key], prefix ? `${prefix}.${key}` : key)
  );
}

/** A value as `--set` reads it (YAML): strings bare, the rest as JSON, which is YAML too. */
export function setText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The `--set` paths of the recipe's settings named like `name` (case, `-` and
 * `_` aside: `batch-size` is `batchSize`), each with its value. Each path is
 * shortened as `--set` allows (`train.epochs` for `stages.train.with.epochs`),
 * then kept only if setting its own value there leaves the recipe as it was:
 * that is, `--set` can reach it (not inside a list of stages).
 *
 * @param name The name to look for.
 * @param load Loads the recipe with `--set` overrides.
 * @param sets The overrides given, kept while looking (they may choose other stages).
 * @param within Full paths the settings must lie under (all when left out).
 * @returns The paths found, in the recipe's order.
 */
export async function settingPathsNamed(
  name: string,
  load: (overrides: string[]) => Promise<LoadedRecipe>,
  sets: readonly string[],
  within?: readonly string[],
): Promise<{ path: string; value: unknown }[]> {
  const key = (text: string) => text.toLowerCase().replace(/[-_]/g, "");
  let loaded: LoadedRecipe | undefined;
  let kept: readonly string[] = [];
  for (const given of [sets, []]) {
    try {
      loaded = await load([...given]);
      kept = given;
      break;
    } catch {
      // Overrides that do not load (the next error the user will see): look without them.
    }
  }
  if (!loaded) return [];
  const base = resolvedRecipeObject(loaded.recipe);
  const found: { path: string; value: unknown }[] = [];
  for (const leaf of explainValues(loaded.recipe, loaded.parsed)) {
    const last = leaf.path.at(-1);
    if (typeof last !== "string" || key(last) !== key(name)) continue;
    const full = leaf.path.join(".");
    if (within && !within.some((s) => full === s || full.startsWith(`${s}.`))) continue;
    const [top, kind, ...rest] = leaf.path;
    const inStage = typeof rest[0] === "number" ? rest.slice(1) : rest;
    const path =
      (top === "stages" && inStage[0] === "with" ? [kind, ...inStage.slice(1)] : leaf.path).join(
        ".",
      );
    try {
      const again = await load([...kept, `${path}=${setText(leaf.value)}`]);
      if (differingPaths(base, resolvedRecipeObject(again.recipe)).length) continue;
    } catch {
      continue;
    }
    found.push({ path, value: leaf.value });
  }
  return found;
}

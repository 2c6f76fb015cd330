/**
 * `deno task explain`: every value of a resolved recipe beside where it was
 * set — a file and line (the recipe or a base it extends), a `--set`
 * override, or `default`.
 *
 * @module
 */
import { stringify } from "yaml";
import { formatPosition, type SourcePosition } from "../errors.ts";
import { stagesLayout } from "./render.ts";
import type { KeyPath, ParsedRecipe } from "./parse.ts";
import type { ResolvedRecipe } from "./validate.ts";

/** One resolved value and where it came from (`undefined`: a default). */
export interface ExplainedValue {
  readonly path: KeyPath;
  readonly value: unknown;
  readonly source?: SourcePosition;
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function rawAt(value: unknown, path: KeyPath): unknown {
  let node = value;
  for (const step of path) {
    if (Array.isArray(node) && typeof step === "number") node = node[step];
    else if (isPlainMap(node)) node = node[String(step)];
    else return undefined;
  }
  return node;
}

/**
 * Lists every leaf of the resolved recipe with its source. A list of plain
 * values is one leaf, unless several files wrote its items; lists of maps
 * are walked item by item.
 */
export function explainValues(recipe: ResolvedRecipe, parsed: ParsedRecipe): ExplainedValue[] {
  const { file: _file, stages: _stages, components: _components, ...top } = recipe;
  const layout: Record<string, unknown> = { ...top, stages: stagesLayout(recipe) };
  const out: ExplainedValue[] = [];
  const sourceOf = (path: KeyPath) => {
    // A chain slot written as one map (`augment: {use: ...}`) resolves to a list of one.
    const [first, kind, index, ...rest] = path;
    if (first === "stages" && typeof index === "number" && index === 0) {
      const raw = rawAt(parsed.value, ["stages", kind]);
      if (isPlainMap(raw)) return parsed.sourceOf(["stages", kind, ...rest]);
    }
    return parsed.sourceOf(path);
  };
  // A list of plain values that several files wrote (`plugins: { $append: [...] }`) is
  // shown item by item, each with its file.
  const fromSeveralFiles = (list: unknown[], path: KeyPath) =>
    new Set(list.map((_, i) => sourceOf([...path, i])?.file)).size > 1;
  const walk = (value: unknown, path: KeyPath) => {
    const leaf = isPlainMap(value) ? Object.keys(value).length === 0 : !Array.isArray(value) ||
      (value.every((v) => !isPlainMap(v) && !Array.isArray(v)) &&
        !fromSeveralFiles(value, path));
    if (leaf) {
      if (value !== undefined) out.push({ path, value, source: sourceOf(path) });
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else for (const [k, v] of Object.entries(value as object)) walk(v, [...path, k]);
  };
  walk(layout, []);
  return out;
}

/**
 * Formats {@link explainValues} as aligned `path: value  # source` lines.
 *
 * @example Usage
 * ```ts ignore
 * const { recipe, parsed } = await loadRecipe("recipes/drive.yaml", { builtins: [core] });
 * console.log(explainRecipe(recipe, parsed));
 * ```
 */
export function explainRecipe(recipe: ResolvedRecipe, parsed: ParsedRecipe): string {
  const rows = explainValues(recipe, parsed).map(({ path, value, source }) => [
    `${path.join(".")}: ${stringify(value, { lineWidth: 0, collectionStyle: "flow" }).trim()}`,
    source ? formatPosition(source) : "default",
  ]);
  const width = Math.min(72, Math.max(...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) => `${left.padEnd(width)}  # ${right}`).join("\n");
}

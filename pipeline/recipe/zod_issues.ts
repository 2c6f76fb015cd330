/**
 * Turns zod issues into recipe issues with source positions, plain messages
 * and did-you-mean hints.
 *
 * @module
 */
import type { z } from "zod";
import type { RecipeIssue } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import type { KeyPath, ParsedRecipe } from "./parse.ts";

type Def = {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
};
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Unwraps optional, default, nullable and pipe wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(s);
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}

/**
 * The option names an object schema at `path` (relative to `schema`) accepts.
 * For a union of maps told apart by a `type` literal, `value`'s `type` picks
 * the map whose names count.
 */
export function knownKeys(schema: z.ZodType, path: KeyPath, value?: unknown): string[] {
  let s: z.ZodType | undefined = unwrap(schema);
  for (const step of path) {
    if (!s) return [];
    const def = defOf(s);
    if (def.type === "object" && def.shape) s = def.shape[String(step)];
    else if (def.type === "array" && def.element) s = def.element;
    else if (def.type === "record" && def.valueType) s = def.valueType;
    else if (def.type === "union" && def.options) {
      s = def.options.map(unwrap).find((o) => defOf(o).type === "object");
      if (s) s = defOf(s).shape?.[String(step)];
    } else return [];
    if (s) s = unwrap(s);
  }
  if (!s) return [];
  const def = defOf(s);
  if (def.type === "object" && def.shape) return Object.keys(def.shape);
  if (def.type === "union" && def.options) {
    const maps = def.options.map((o) => defOf(unwrap(o))).filter((d) => d.type === "object");
    const tag = (value as { type?: unknown } | null)?.type;
    const tags = (d: Def) => {
      const t = d.shape?.type && defOf(unwrap(d.shape.type));
      return t ? [...(t.values ?? []), ...Object.values(t.entries ?? {})] : [];
    };
    const tagged = maps.filter((d) => tags(d).includes(tag));
    return (tagged.length ? tagged : maps).flatMap((d) => Object.keys(d.shape ?? {}));
  }
  return [];
}

const TYPE_WORDS: Record<string, string> = {
  record: "a map",
  object: "a map",
  array: "a list",
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
};

/** A short rendering of a value for messages: `"ten"`, `3`, `a list`, `a map`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return String(value);
}

function valueAt(root: unknown, path: KeyPath): unknown {
  let v = root;
  for (const step of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[step];
  }
  return v;
}

/**
 * Converts the issues of one zod parse to recipe issues.
 *
 * @param issues The zod issues.
 * @param schema The schema that was parsed against (for known option names).
 * @param value The value that was parsed.
 * @param parsed The parsed recipe, for positions.
 * @param prefix Where `value` sits in the recipe.
 * @returns One recipe issue per problem (one per unknown key).
 */
export function zodIssuesToRecipeIssues(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  value: unknown,
  parsed: ParsedRecipe,
  prefix: KeyPath,
): RecipeIssue[] {
  const out: RecipeIssue[] = [];
  for (const issue of issues) {
    const rel = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)) as (
      | string
      | number
    )[];
    const path = [...prefix, ...rel];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, rel, valueAt(value, rel));
      for (const key of issue.keys) {
        out.push({
          path: [...path, key],
          position: parsed.positionOf([...path, key], "key"),
          message: `unknown option "${key}"`,
          hint: didYouMean(key, known) || undefined,
        });
      }
      continue;
    }
    const got = valueAt(value, rel);
    let message: string;
    let hint: string | undefined;
    switch (issue.code) {
      case "invalid_type": {
        const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
        message = got === undefined
          ? `missing required option (expected ${expected})`
          : `expected ${expected}, got ${describeValue(got)}`;
        break;
      }
      case "invalid_union": {
        // A union of literals (e.g. 1 | 3), or a discriminated union whose tag matched nothing.
        const tagged = issue as { options?: unknown[] };
        const literals = tagged.options ??
          issue.errors.flatMap((branch) =>
            branch.length === 1 && branch[0].code === "invalid_value" ? branch[0].values : [null]
          );
        if (literals.length && !literals.includes(null)) {
          message = `expected one of ${literals.map((v) => JSON.stringify(v)).join(", ")}, got ${
            describeValue(got)
          }`;
          if (typeof got === "string") {
            const near = didYouMean(got, literals.map(String));
            if (near.startsWith("did you mean")) hint = near;
          }
        } else message = `does not match any allowed form, got ${describeValue(got)}`;
        break;
      }
      case "invalid_value": {
        const allowed = issue.values.map((v) => JSON.stringify(v)).join(", ");
        message = `expected one of ${allowed}, got ${describeValue(got)}`;
        if (typeof got === "string") {
          const near = didYouMean(got, issue.values.map(String));
          if (near.startsWith("did you mean")) hint = near;
        }
        break;
      }
      case "too_small":
      case "too_big": {
        const op = issue.code === "too_small"
          ? (issue.inclusive ? ">=" : ">")
          : (issue.inclusive ? "<=" : "<");
        const what = issue.origin === "array"
          ? "a list with length"
          : issue.origin === "string"
          ? "a string with length"
          : "a value";
        message = `expected ${what} ${op} ${
          issue.code === "too_small" ? issue.minimum : issue.maximum
        }, got ${Array.isArray(got) ? `length ${got.length}` : describeValue(got)}`;
        break;
      }
      default:
        message = `${issue.message}${got !== undefined ? `, got ${describeValue(got)}` : ""}`;
    }
    out.push({
      path,
      position: parsed.positionOf(path, got === undefined ? "key" : "value"),
      message,
      hint,
    });
  }
  return out;
}

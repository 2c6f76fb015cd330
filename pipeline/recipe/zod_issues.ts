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
  /** An object's schema of keys it does not declare; unset where zod strips them. */
  catchall?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  in?: z.ZodType;
  out?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  checks?: { _zod: { def: { check: string } } }[];
};
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

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
 * The schema at `path` below `schema`, as declared (wrappers kept); through a
 * union, its first map (callers that need every map look at the union itself).
 */
function schemaAt(schema: z.ZodType, path: KeyPath): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const step of path) {
    if (!s) return undefined;
    const def = defOf(unwrap(s));
    if (def.type === "object" && def.shape) s = def.shape[String(step)];
    else if (def.type === "array" && def.element) s = def.element;
    else if (def.type === "record" && def.valueType) s = def.valueType;
    else if (def.type === "union" && def.options) {
      // The first map that has the key (a union's maps may differ in their keys).
      const maps = def.options.map(unwrap).filter((o) => defOf(o).type === "object");
      s = maps.find((o) => defOf(o).shape?.[String(step)]) ?? maps[0];
      if (s) s = defOf(s).shape?.[String(step)];
    } else return undefined;
  }
  return s;
}

/** A union of maps told apart by one key (a tag) whose value each map fixes. */
interface Tagged {
  /** The tag's name, e.g. `type`. */
  key: string;
  /** The maps, in the union's order (as zod reports each branch's issues). */
  maps: z.ZodType[];
  /** Each map's schema of the tag; undefined for the one map that may lack it. */
  tags: (z.ZodType | undefined)[];
  /** Every tag value the union accepts, in order. */
  values: unknown[];
}

/** The literal values a literal or enum schema accepts; undefined for any other schema. */
function literalValues(schema: z.ZodType): unknown[] | undefined {
  const def = defOf(unwrap(schema));
  if (def.type === "literal") return def.values ?? [];
  if (def.type === "enum") return Object.values(def.entries ?? {});
  return undefined;
}

/**
 * The tag of a union of maps: zod's discriminator for `z.discriminatedUnion`,
 * else the first key that every map has as a literal or enum (as in a plain
 * `z.union` of `{ kind: "a", ... } | { kind: "b", ... }`), else one that all
 * maps but one have so, of three or more: the one without it is told apart by
 * the keys written (`core/train`'s optimizer: `{ type: sgd }`, `{ type: adam }`
 * or a plugin's `{ use, with, learningRate }`).
 */
function taggedUnion(schema: z.ZodType | undefined): Tagged | undefined {
  if (!schema) return undefined;
  const def = defOf(unwrap(schema));
  if (def.type !== "union" || !def.options || def.options.length < 2) return undefined;
  const maps = def.options.map(unwrap);
  if (!maps.every((m) => defOf(m).type === "object" && defOf(m).shape)) return undefined;
  const shapes = maps.map((m) => defOf(m).shape!);
  const keys = [...new Set(shapes.flatMap((shape) => Object.keys(shape)))];
  /** Whether at least `least` maps have `k`, each as a literal or enum. */
  const tagIn = (k: string, least: number) => {
    const having = shapes.filter((shape) => shape[k]);
    return having.length >= least && having.every((shape) => literalValues(shape[k]));
  };
  const key = def.discriminator ?? keys.find((k) => tagIn(k, shapes.length)) ??
    (shapes.length > 2 ? keys.find((k) => tagIn(k, shapes.length - 1)) : undefined);
  if (!key || (def.discriminator && !shapes.every((shape) => shape[key]))) return undefined;
  const tags = shapes.map((shape) => shape[key]);
  const values = [...new Set(tags.flatMap((t) => (t && literalValues(t)) ?? []))];
  return { key, maps, tags, values };
}

/**
 * The maps of a tagged union whose tag accepts `map`'s (a missing tag picks a
 * map that defaults it, or the map without the tag); where several do, those
 * that declare every key `map` has, if any do.
 */
function branchesFor(tagged: Tagged, map: Record<string, unknown>): number[] {
  const tag = map[tagged.key];
  const byTag = tagged.tags.flatMap((t, i) =>
    (t ? t.safeParse(tag).success : tag === undefined) ? [i] : []
  );
  if (byTag.length < 2) return byTag;
  const declaring = byTag.filter((i) => {
    const shape = defOf(tagged.maps[i]).shape ?? {};
    return Object.keys(map).every((k) => k in shape);
  });
  return declaring.length ? declaring : byTag;
}

/**
 * The option names an object schema at `path` (relative to `schema`) accepts.
 * For a union of maps told apart by a tag (e.g. `type`), `value`'s tag picks
 * the map whose names count.
 */
export function knownKeys(schema: z.ZodType, path: KeyPath, value?: unknown): string[] {
  const declared = schemaAt(schema, path);
  if (!declared) return [];
  const s = unwrap(declared);
  const def = defOf(s);
  if (def.type === "object" && def.shape) return Object.keys(def.shape);
  if (def.type === "union" && def.options) {
    const maps = def.options.map((o) => defOf(unwrap(o))).filter((d) => d.type === "object");
    const tagged = taggedUnion(s);
    const picked = tagged && value !== null && typeof value === "object"
      ? branchesFor(tagged, value as Record<string, unknown>).map((i) => defOf(tagged.maps[i]))
      : [];
    return [...new Set((picked.length ? picked : maps).flatMap((d) => Object.keys(d.shape ?? {})))];
  }
  return [];
}

/**
 * The keys of `value` that an object schema inside `schema` does not know and
 * would drop without a word: zod's default object (neither `.strict()` nor
 * `.passthrough()`) strips them, so a misspelt option would validate and its
 * default apply. Each map's are reported as the `unrecognized_keys` issue a
 * strict object gives, so they read the same. An object that declares what
 * it does with other keys (`.passthrough()`, `z.looseObject`, `.catchall()`)
 * accepts them as its author chose; a strict one reports them itself.
 *
 * Maps are followed through object fields, lists, records and the map a
 * union's tag picks. Of a union without a tag only the keys that none of its
 * maps declares count (which map zod picked is not known), and nothing is
 * followed past a transform of the raw value.
 *
 * @param schema The schema `value` is parsed against.
 * @param value The value as written.
 * @returns One issue per map with unknown keys, its path relative to `value`.
 */
export function strippedKeyIssues(schema: z.ZodType, value: unknown): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  const walk = (declared: z.ZodType, node: unknown, path: (string | number)[]) => {
    const s = unwrap(declared);
    const def = defOf(s);
    if (def.type === "object" && def.shape && isMap(node)) {
      const shape = def.shape;
      const keys = Object.keys(node).filter((k) => !(k in shape));
      if (def.catchall === undefined && keys.length) {
        out.push({ code: "unrecognized_keys", keys, path, message: "", input: node });
      }
      for (const [key, inner] of Object.entries(shape)) {
        if (node[key] !== undefined) walk(inner, node[key], [...path, key]);
      }
    } else if (def.type === "array" && def.element && Array.isArray(node)) {
      node.forEach((item, i) => walk(def.element!, item, [...path, i]));
    } else if (def.type === "record" && def.valueType && isMap(node)) {
      for (const [key, item] of Object.entries(node)) walk(def.valueType, item, [...path, key]);
    } else if (def.type === "union" && def.options && isMap(node)) {
      const tagged = taggedUnion(s);
      const branches = tagged ? branchesFor(tagged, node) : [];
      if (tagged && branches.length === 1) return walk(tagged.maps[branches[0]], node, path);
      if (tagged) return;
      // Untagged: a key no map of the union declares is dropped (or refused) whichever
      // map matched, unless one of them takes any key.
      const maps = def.options.map((o) => defOf(unwrap(o))).filter((d) => d.type === "object");
      const takesAny = maps.some((d) => d.catchall && defOf(d.catchall).type !== "never");
      if (!maps.some((d) => d.catchall === undefined) || takesAny) return;
      const keys = Object.keys(node).filter((k) => !maps.some((d) => d.shape && k in d.shape));
      if (keys.length) {
        out.push({ code: "unrecognized_keys", keys, path, message: "", input: node });
      }
    }
  };
  walk(schema, value, []);
  return out;
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
 * The message for a tag that picks no map of a tagged union: what was
 * written, the closest allowed values and all of them.
 */
function unknownTagMessage(key: string, tag: unknown, values: readonly unknown[]): string {
  const allowed = values.map((v) => JSON.stringify(v)).join(", ");
  if (tag === undefined) return `missing required option (expected one of ${allowed})`;
  if (!["string", "number", "boolean"].includes(typeof tag)) {
    return `expected one of ${allowed}, got ${describeValue(tag)}`;
  }
  const near = typeof tag === "string" ? didYouMean(tag, values.map(String)) : "";
  return `unknown ${key} ${describeValue(tag)}${
    near.startsWith("did you mean") ? `; ${near}` : ""
  } (one of ${allowed})`;
}

type Path = (string | number)[];
const relPath = (issue: z.core.$ZodIssue): Path =>
  issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)) as Path;
const startsWith = (path: KeyPath, prefix: KeyPath) => prefix.every((step, i) => path[i] === step);

/** Whether `schema` or a wrapper of it refines its value (`refine`, `superRefine`, `transform`). */
function refines(schema: z.ZodType | undefined): boolean {
  for (let s = schema, i = 0; s && i < 20; i++) {
    const def = defOf(s);
    if (def.checks?.some((c) => c._zod.def.check === "custom")) return true;
    if (def.type === "pipe" && def.out && defOf(def.out).type === "transform") return true;
    if (def.type === "union") return def.options?.some(refines) ?? false;
    s = def.innerType ?? (def.type === "pipe" ? def.in : undefined);
  }
  return false;
}

/**
 * Where the refinement that raised a `custom` issue sits: the deepest schema
 * on the issue's path that refines. Undefined when none does.
 */
function refinementScope(schema: z.ZodType, path: KeyPath): KeyPath | undefined {
  for (let n = path.length; n >= 0; n--) {
    if (refines(schemaAt(schema, path.slice(0, n)))) return path.slice(0, n);
  }
  return undefined;
}

/**
 * The `custom` issues of refinements that judged a value with faults of its
 * own. zod runs an object's refinements after issues that do not abort (a
 * number below its minimum, an unknown key), so a cross-field check such as
 * "low must not exceed high" then compares a value the recipe must change
 * anyway and adds a second, misleading problem, often at another line. Which
 * fields a refinement reads is not known, so any other fault inside the
 * refined value counts; such a check is reported once those are fixed.
 */
function staleRefinements(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
): Set<z.core.$ZodIssue> {
  const scopes = new Map<z.core.$ZodIssue, KeyPath>();
  for (const issue of issues) {
    if (issue.code !== "custom") continue;
    const scope = refinementScope(schema, relPath(issue));
    if (scope) scopes.set(issue, scope);
  }
  const stale = new Set<z.core.$ZodIssue>();
  for (const [issue, scope] of scopes) {
    const faulted = issues.some((other) => {
      if (other === issue || !startsWith(relPath(other), scope)) return false;
      // Another refinement of the same value is a sibling check, not a fault it judged.
      const otherScope = other.code === "custom" ? scopes.get(other) ?? relPath(other) : undefined;
      return otherScope === undefined || otherScope.length > scope.length;
    });
    if (faulted) stale.add(issue);
  }
  return stale;
}

/**
 * Converts the issues of one zod parse to recipe issues.
 *
 * @param issues The zod issues.
 * @param schema The schema that was parsed against (for known option names).
 * @param value The value that was parsed.
 * @param parsed The parsed recipe, for positions.
 * @param prefix Where `value` sits in the recipe.
 * @returns One recipe issue per problem (one per unknown key); a refinement's
 * issue is left out while the value it checked has faults of its own.
 */
export function zodIssuesToRecipeIssues(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  value: unknown,
  parsed: ParsedRecipe,
  prefix: KeyPath,
): RecipeIssue[] {
  const out: RecipeIssue[] = [];
  const stale = staleRefinements(issues, schema);
  for (const issue of issues) {
    if (stale.has(issue)) continue;
    const rel = relPath(issue);
    const path = [...prefix, ...rel];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, rel, valueAt(value, rel));
      for (const key of issue.keys) {
        // `{size:8}` is the key "size:8" to YAML (a colon needs a space after it to split).
        const glued = /^([^:\s]+):(\S.*)$/.exec(key);
        out.push({
          path: [...path, key],
          position: parsed.positionOf([...path, key], "key"),
          message: `unknown option "${key}"`,
          hint: glued && known.includes(glued[1])
            ? `YAML needs a space after the colon: ${glued[1]}: ${glued[2]}`
            : didYouMean(key, known) || undefined,
        });
      }
      continue;
    }
    if (issue.code === "invalid_union") {
      // A union of maps told apart by a tag: say what is wrong with the tag, at the tag,
      // or, when the tag picked a map, what is wrong inside that map.
      const { discriminator, options } = issue as { discriminator?: string; options?: unknown[] };
      if (discriminator !== undefined && options) {
        // z.discriminatedUnion: no map has the tag; zod 4.6 puts the tag on the issue's path.
        const at = rel.at(-1) === discriminator ? rel : [...rel, discriminator];
        const tag = valueAt(value, at);
        out.push({
          path: [...prefix, ...at],
          position: parsed.positionOf([...prefix, ...at], tag === undefined ? "key" : "value"),
          message: unknownTagMessage(discriminator, tag, options),
        });
        continue;
      }
      const tagged = taggedUnion(schemaAt(schema, rel));
      const map = valueAt(value, rel);
      if (tagged && map !== undefined && !isMap(map)) {
        out.push({
          path,
          position: parsed.positionOf(path),
          message: `expected a map, got ${describeValue(map)}`,
        });
        continue;
      }
      if (tagged && isMap(map)) {
        const tag = map[tagged.key];
        const [branch] = branchesFor(tagged, map);
        if (branch === undefined) {
          out.push({
            path: [...path, tagged.key],
            position: parsed.positionOf([...path, tagged.key], tag === undefined ? "key" : "value"),
            message: unknownTagMessage(tagged.key, tag, tagged.values),
          });
          continue;
        }
        if (issue.errors[branch]?.length) {
          out.push(
            ...zodIssuesToRecipeIssues(
              issue.errors[branch],
              tagged.maps[branch],
              map,
              parsed,
              path,
            ),
          );
          continue;
        }
      }
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
        // A union of literals (e.g. 1 | 3).
        const literals = issue.errors.flatMap((branch) =>
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

/**
 * Composes a recipe from layers: the base recipes it `extends`, itself, then
 * command-line overrides (`--set`), keeping for every value the layer and
 * source position that set it.
 *
 * Merge rules, applied layer over layer:
 * - maps merge key by key, except that a map whose `use` names another
 *   implementation than the map below replaces it (its `with` options
 *   would mean nothing to the new implementation);
 * - any other value (a scalar, a list) replaces what was there;
 * - `null` deletes the key (so a default applies again);
 * - `{ $append: [...] }` appends to the list below instead of replacing it.
 *
 * @module
 */
import { parse } from "yaml";
import {
  CapillaryError,
  type RecipeIssue,
  RecipeValidationError,
  type SourcePosition,
} from "../errors.ts";
import { dirname, isAbsolute, relative, resolve } from "../path.ts";
import { STAGE_KINDS } from "../stage.ts";
import { didYouMean } from "../suggest.ts";
import { type KeyPath, type ParsedRecipe, parseRecipeText } from "./parse.ts";
import { recipeSchema } from "./schema.ts";

/** The key that appends to a list instead of replacing it. */
export const APPEND_KEY = "$append";

type Plain = Record<string, unknown>;

function isPlainMap(value: unknown): value is Plain {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isAppend(value: unknown): value is { [APPEND_KEY]: unknown[] } {
  return isPlainMap(value) && Object.keys(value).length === 1 && APPEND_KEY in value;
}

/** Where a merged value came from: a layer and the path of the value inside it. */
interface Origin {
  readonly layer: number;
  readonly path: KeyPath;
  /** Set by a `null`: the key was deleted there, so no file sets it now. */
  readonly deleted?: boolean;
}

const keyOf = (path: KeyPath) => JSON.stringify(path);

/** Removes `$append` wrappers left where there was no list to append to. */
function unwrapAppends(value: unknown): unknown {
  if (isAppend(value)) return value[APPEND_KEY].map(unwrapAppends);
  if (Array.isArray(value)) return value.map(unwrapAppends);
  if (isPlainMap(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapAppends(v)]));
  }
  return value;
}

/**
 * Merges `layers` in order (later ones win) into one parsed recipe whose
 * `positionOf` and `sourceOf` answer with the position in the layer that set
 * each value.
 *
 * @param layers Parsed layers, lowest first; `file` of the result is the last file layer's.
 * @param file The file name the result reports as its own.
 */
export function mergeLayers(layers: readonly ParsedRecipe[], file: string): ParsedRecipe {
  const origins = new Map<string, Origin>();
  const setOrigin = (path: KeyPath, origin: Origin) => {
    const prefix = keyOf(path).slice(0, -1);
    for (const key of [...origins.keys()]) {
      if (key.startsWith(prefix) && key !== keyOf(path)) origins.delete(key);
    }
    origins.set(keyOf(path), origin);
  };
  const merge = (
    below: unknown,
    over: unknown,
    path: KeyPath,
    layer: number,
    rawPath: KeyPath,
  ): unknown => {
    if (isAppend(over) && Array.isArray(below)) {
      const added = over[APPEND_KEY];
      added.forEach((_, i) =>
        origins.set(keyOf([...path, below.length + i]), {
          layer,
          path: [...rawPath, APPEND_KEY, i],
        })
      );
      return [...below, ...added.map(unwrapAppends)];
    }
    // A map naming another implementation (`use`) or kind (`type`, as in
    // `optimizer: {type: adam}`) replaces the one below: the old one's options
    // mean nothing to the new one.
    const switchesOn = (key: string) =>
      isPlainMap(over) && isPlainMap(below) && typeof over[key] === "string" &&
      over[key] !== below[key];
    const switches = switchesOn("use") || switchesOn("type");
    if (isPlainMap(over) && isPlainMap(below) && !isAppend(over) && !switches) {
      const result: Plain = { ...below };
      for (const [key, value] of Object.entries(over)) {
        if (value === null) {
          // A null over nothing deletes nothing, but its key is kept, unset, so that validation
          // still sees it: a default applies to a known key, and an unknown one (a typo, or
          // `{size:8}` without a space, which YAML reads as the key "size:8") is an error.
          if (key in result) delete result[key];
          else result[key] = undefined;
          setOrigin([...path, key], { layer, path: [...rawPath, key], deleted: true });
        } else {
          result[key] = merge(below[key], value, [...path, key], layer, [...rawPath, key]);
        }
      }
      return result;
    }
    setOrigin(path, { layer, path: rawPath });
    if (isAppend(over)) {
      // `$append` with no list below: the items are the list, each where the layer wrote it.
      over[APPEND_KEY].forEach((_, i) =>
        origins.set(keyOf([...path, i]), { layer, path: [...rawPath, APPEND_KEY, i] })
      );
    }
    return unwrapAppends(over);
  };

  // Positions not set by any layer (the root, a missing key) belong to the recipe itself.
  const own = Math.max(0, layers.findLastIndex((l) => l.file === file));
  let value: unknown = {};
  layers.forEach((layer, i) => {
    value = merge(value, layer.value, [], i, []);
  });
  if (!origins.has(keyOf([]))) origins.set(keyOf([]), { layer: own, path: [] });

  /** The deepest recorded origin on `path`, and the rest of the path below it. */
  const originOf = (path: KeyPath): { origin: Origin; rest: KeyPath } => {
    for (let n = path.length; n >= 0; n--) {
      const origin = origins.get(keyOf(path.slice(0, n)));
      if (origin) return { origin, rest: path.slice(n) };
    }
    return { origin: { layer: own, path: [] }, rest: path };
  };
  return {
    file,
    value,
    positionOf(path, part) {
      const { origin, rest } = originOf(path);
      return layers[origin.layer].positionOf([...origin.path, ...rest], part);
    },
    deletedAt(path) {
      const origin = origins.get(keyOf(path));
      return origin?.deleted ? layers[origin.layer].positionOf(origin.path, "key") : undefined;
    },
    sourceOf(path) {
      const { origin, rest } = originOf(path);
      if (origin.deleted) return undefined;
      return layers[origin.layer].sourceOf([...origin.path, ...rest]);
    },
  };
}

/** One `--set path=value`: where it goes and what it sets. */
export interface Override {
  /** As the user wrote it, for messages. */
  readonly text: string;
  /** The full key path in the recipe. */
  readonly path: string[];
  /** The value, parsed as YAML (so `3` is a number, `[a, b]` a list, `null` deletes). */
  readonly value: unknown;
}

const TOP_KEYS = Object.keys(recipeSchema.shape).filter((k) => k !== "stages");

/**
 * Parses `path=value`. A path may start at the top (`seed`,
 * `stages.train.with.epochs`) or at a stage slot, where `with` may be left
 * out: `train.epochs` is `stages.train.with.epochs`, `model.use` is
 * `stages.model.use`.
 *
 * @throws {CapillaryError} When there is no `=`, the path is empty, or it starts with an unknown key.
 */
export function parseOverride(text: string): Override {
  const at = text.indexOf("=");
  const rawPath = at < 0 ? "" : text.slice(0, at).trim();
  if (at < 0 || rawPath === "" || rawPath.split(".").some((p) => p === "")) {
    throw new CapillaryError(
      `--set ${text}: expected key.path=value, e.g. --set train.epochs=3`,
      "E_OVERRIDE",
    );
  }
  let value: unknown;
  try {
    value = parse(text.slice(at + 1));
  } catch (error) {
    throw new CapillaryError(
      `--set ${text}: the value is not valid YAML (${(error as Error).message.split("\n")[0]})`,
      "E_OVERRIDE",
    );
  }
  const path = expandKeyPath(rawPath);
  if (typeof path === "string") throw new CapillaryError(`--set ${text}: ${path}`, "E_OVERRIDE");
  return { text, path, value: value === undefined ? null : value };
}

/**
 * Expands a dotted key path as `--set` and `${...}` references write it: from
 * the top (`seed`, `stages.train.with.epochs`) or from a stage slot, where
 * `with` may be left out (`train.epochs`).
 *
 * @returns The full path, or why the first key is unknown (with a did-you-mean).
 */
export function expandKeyPath(dotted: string): string[] | string {
  const parts = dotted.split(".");
  const [head] = parts;
  if (head === "stages" || TOP_KEYS.includes(head)) return parts;
  if ((STAGE_KINDS as readonly string[]).includes(head)) {
    const [kind, next, ...rest] = parts;
    return next === undefined || next === "use" || next === "with" || next === "from"
      ? ["stages", ...parts]
      : ["stages", kind, "with", next, ...rest];
  }
  return `unknown key "${head}"; ${didYouMean(head, [...TOP_KEYS, ...STAGE_KINDS])}`;
}

/** A layer holding one override; its positions name the override. */
export function overrideLayer(override: Override): ParsedRecipe {
  let value: unknown = override.value;
  for (let i = override.path.length - 1; i >= 0; i--) value = { [override.path[i]]: value };
  const position: SourcePosition = { file: `--set ${override.text}`, line: 0, column: 0 };
  // The override sets its own path and what lies in its value, not the defaults beside them.
  const sets = (path: KeyPath) => {
    let node: unknown = value;
    for (const key of path) {
      if (node === null || typeof node !== "object" || !(String(key) in node)) return false;
      node = (node as Record<string, unknown>)[String(key)];
    }
    return true;
  };
  return {
    file: position.file,
    value,
    positionOf: () => position,
    sourceOf: (path) => sets(path) ? position : undefined,
  };
}

/** Reads and parses one recipe file, with a recipe error when it cannot be read. */
async function readParsed(file: string): Promise<ParsedRecipe> {
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
  return parseRecipeText(text, file);
}

/**
 * Reads a recipe and, recursively, the recipes it `extends` (paths relative
 * to the extending file), returning the layers lowest first with each
 * file's `extends` key removed.
 *
 * @throws {RecipeValidationError} On a missing base, a cycle or a malformed `extends`, at its position.
 */
export async function readRecipeLayers(
  file: string,
  chain: readonly string[] = [],
): Promise<ParsedRecipe[]> {
  const parsed = await readParsed(file);
  const value = parsed.value;
  if (!isPlainMap(value) || !("extends" in value)) return [parsed];
  const raw = value.extends;
  const bases = typeof raw === "string" ? [raw] : raw;
  const fail = (path: KeyPath, message: string, hint?: string): never => {
    const issue: RecipeIssue = { path, position: parsed.positionOf(path), message, hint };
    throw new RecipeValidationError([issue]);
  };
  if (!Array.isArray(bases) || bases.some((b) => typeof b !== "string" || b === "")) {
    fail(["extends"], "expected a recipe path or a list of recipe paths");
  }
  const here = resolve(file);
  const layers: ParsedRecipe[] = [];
  for (const [i, base] of (bases as string[]).entries()) {
    const path: KeyPath = typeof raw === "string" ? ["extends"] : ["extends", i];
    const target = resolve(dirname(here), base);
    // Shown (and read) relative to the working folder when inside it, else absolute.
    const fromHere = relative(Deno.cwd(), target);
    const shown = fromHere.startsWith("..") || isAbsolute(fromHere) ? target : fromHere;
    if (target === here || chain.includes(target)) {
      const names = [...chain, here, target].map((p) => p.split(/[\\/]/).pop());
      fail(path, `extends cycle: ${names.join(" → ")}`, "remove one of these extends");
    }
    try {
      await Deno.stat(target);
    } catch {
      fail(path, `cannot extend "${base}": file not found (looked for ${shown})`);
    }
    layers.push(...await readRecipeLayers(shown, [...chain, here]));
  }
  const { extends: _extends, ...own } = value;
  layers.push({ ...parsed, value: own });
  return layers;
}

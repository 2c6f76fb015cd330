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
  formatPosition,
  type RecipeIssue,
  RecipeValidationError,
  type SourcePosition,
} from "../errors.ts";
import { dirname, isAbsolute, relative, resolve } from "../path.ts";
import { CHAIN_KINDS, STAGE_KINDS, type StageKind } from "../stage.ts";
import { didYouMean } from "../suggest.ts";
import { type KeyPath, type ParsedRecipe, parseRecipeText } from "./parse.ts";
import { resolvePluginSpecifier } from "./plugin_specifier.ts";
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

/** How an override layer names itself, as its `file`: `--set path=value`. */
const SET = "--set ";
const isSet = (layer: ParsedRecipe) => layer.file.startsWith(SET);

/**
 * A `--set` path step that is a number (`augment.1.with.p`): the item of the
 * list below at that index, or, where there is a map below, its key.
 */
class ListItem {
  constructor(readonly index: number, readonly value: unknown) {}
}

/** Whether `path` is a slot that takes a chain of stages (`stages.augment`), a map or a list. */
const isChainSlot = (path: KeyPath) =>
  path.length === 2 && path[0] === "stages" && CHAIN_KINDS.has(path[1] as StageKind);

/** Removes `$append` wrappers left where there was no list to append to. */
function unwrapAppends(value: unknown): unknown {
  if (value instanceof ListItem) return { [String(value.index)]: unwrapAppends(value.value) };
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
  /** Re-keys the origins at and below `from` to `to` (a map that became a list's item). */
  const moveOrigins = (from: KeyPath, to: KeyPath) => {
    for (const [key, origin] of [...origins]) {
      const path = JSON.parse(key) as KeyPath;
      if (path.length < from.length || from.some((step, i) => path[i] !== step)) continue;
      origins.delete(key);
      origins.set(keyOf([...to, ...path.slice(from.length)]), origin);
    }
  };
  const merge = (
    below: unknown,
    over: unknown,
    path: KeyPath,
    layer: number,
    rawPath: KeyPath,
  ): unknown => {
    if (over instanceof ListItem) return mergeItem(below, over, path, layer, rawPath);
    // A chain slot written as one map is a list of one: `$append` adds to it, keeping it.
    if (isAppend(over) && isChainSlot(path) && isPlainMap(below)) {
      // Where the map was written (the nearest origin at or above it), now its item 0's.
      let n = path.length;
      while (n > 0 && !origins.has(keyOf(path.slice(0, n)))) n--;
      const above = origins.get(keyOf(path.slice(0, n)));
      const written = above && { layer: above.layer, path: [...above.path, ...path.slice(n)] };
      moveOrigins(path, [...path, 0]);
      if (written) {
        origins.set(keyOf([...path, 0]), written);
        origins.set(keyOf(path), written);
      }
      below = [below];
    }
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
  const mergeItem = (
    below: unknown,
    over: ListItem,
    path: KeyPath,
    layer: number,
    rawPath: KeyPath,
  ): unknown => {
    const { index, value: item } = over;
    // A chain slot written as one map is a list of one, as `explain` lists it.
    const chain = isChainSlot(path);
    if (chain && isPlainMap(below) && index === 0 && item !== null) {
      return merge(below, item, path, layer, rawPath);
    }
    const list = shortPath(path);
    const fail = (problem: string): never => {
      throw new CapillaryError(`${layers[layer].file}: ${problem}`, "E_OVERRIDE");
    };
    const whole = `--set '${list}=[...]'`;
    // Nothing below: a number there means an item of a list no recipe wrote (a list option left
    // to its default), not the key "0" of a new map.
    if (below === undefined && !chain) {
      fail(`no recipe sets ${list}, so it has no item ${index}; give the list whole: ${whole}`);
    }
    if (!Array.isArray(below) && !chain) {
      return merge(below, { [String(index)]: item }, path, layer, rawPath);
    }
    const items = Array.isArray(below) ? below : isPlainMap(below) ? [below] : [];
    if (item === null) {
      fail(`an item cannot be deleted from ${list}; give the list whole without it: ${whole}`);
    }
    if (index >= items.length) {
      const count = items.length === 0
        ? "no items"
        : items.length === 1
        ? "1 item, numbered 0"
        : `${items.length} items, numbered 0 to ${items.length - 1}`;
      // `$append` extends a list, not a chain slot written as one map.
      const append = Array.isArray(below) ? `--set '${list}={${APPEND_KEY}: [...]}', or ` : "";
      fail(`${list} has ${count}; to add one, ${append}give the list whole: ${whole}`);
    }
    const merged = [...items];
    merged[index] = merge(items[index], item, [...path, index], layer, [...rawPath, index]);
    return merged;
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

/**
 * A hint for a stage or component id whose plugin is not loaded, when a
 * recipe below listed plugins that a later `plugins:` list replaced (a list
 * replaces the one below unless it is `{ $append: [...] }`, and a base's
 * plugins are easily lost that way). Names each such list, its file:line:column
 * and what replaced it.
 *
 * @param layers The layers as read, lowest first (plugin paths as each file writes them).
 * @param plugins The composed recipe's plugins (relative paths: to `recipeDir`).
 * @param recipeDir The recipe's folder.
 * @returns The hint for a plugin name, or `undefined` when no list lost a plugin.
 */
export function replacedPluginsHint(
  layers: readonly ParsedRecipe[],
  plugins: readonly string[],
  recipeDir: string,
): ((plugin: string) => string | undefined) | undefined {
  const resolved = (specifier: unknown, dir: string) => {
    try {
      return resolvePluginSpecifier(String(specifier), dir);
    } catch {
      return String(specifier);
    }
  };
  const kept = new Set(plugins.map((p) => resolved(p, recipeDir)));
  const listOf = (layer: ParsedRecipe) =>
    isPlainMap(layer.value) && "plugins" in layer.value ? layer.value.plugins : undefined;
  const lost: string[] = [];
  layers.forEach((layer, i) => {
    const value = listOf(layer);
    const list = isAppend(value) ? value[APPEND_KEY] : value;
    if (!Array.isArray(list)) return;
    const j = layers.findIndex((later, k) => {
      const next = k > i ? listOf(later) : undefined;
      // `null` deletes the list; `$append` and `--set plugins.0=...` keep the rest of it.
      return next === null ||
        (next !== undefined && !isAppend(next) && !(next instanceof ListItem));
    });
    // A --set's plugin paths are relative to the recipe, as the recipe's own are.
    const dir = isSet(layer) ? recipeDir : dirname(resolve(layer.file));
    const dropped = list.filter((p) => !kept.has(resolved(p, dir)));
    if (j < 0 || !dropped.length) return;
    const by = layers[j];
    const own = listOf(by);
    const set = isSet(by);
    const instead = !Array.isArray(own) || own.length === 0
      ? `to keep them, leave ${set ? "that --set" : "it"} out`
      : set
      ? `to add to them instead, --set 'plugins={${APPEND_KEY}: [${own.join(", ")}]}'`
      : `to add to them instead, write plugins: { ${APPEND_KEY}: [${own.join(", ")}] } there`;
    lost.push(
      `${formatPosition(layer.positionOf(["plugins"]))} lists ${dropped.join(", ")}, but the ` +
        `plugins: ${own === null ? "null " : ""}at ${
          formatPosition(by.positionOf(["plugins"], "key"))
        } ${own === null ? "deletes" : "replaces"} that list; ${instead}`,
    );
  });
  if (!lost.length) return undefined;
  return (plugin) => `no loaded plugin is named "${plugin}": ${lost.join("; ")}`;
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
    // In a chain slot a number picks one of its stages: `augment.1.p` is stages.augment.1.with.p.
    const at = CHAIN_KINDS.has(head as StageKind) && /^\d+$/.test(parts[1] ?? "") ? 2 : 1;
    const [next, ...rest] = parts.slice(at);
    return next === undefined || next === "use" || next === "with" || next === "from"
      ? ["stages", ...parts]
      : ["stages", ...parts.slice(0, at), "with", next, ...rest];
  }
  return `unknown key "${head}"; ${didYouMean(head, [...TOP_KEYS, ...STAGE_KINDS])}`;
}

/**
 * A full key path as `--set` writes it: `stages.` and a stage's `with.` left
 * out (`augment.1.p` for stages.augment.1.with.p, `train.epochs`).
 */
function shortPath(path: KeyPath): string {
  const [top, kind, ...rest] = path.map(String);
  if (top !== "stages" || kind === undefined) return path.join(".");
  const at = /^\d+$/.test(rest[0] ?? "") ? 1 : 0;
  if (rest[at] === "with" && rest.length > at + 1) rest.splice(at, 1);
  return [kind, ...rest].join(".");
}

/**
 * A layer holding one override; its positions name the override. A number in
 * its path sets that item of the list below (where there is a map below, the
 * number is a key of it).
 */
export function overrideLayer(override: Override): ParsedRecipe {
  let value: unknown = override.value;
  for (let i = override.path.length - 1; i >= 0; i--) {
    const step = override.path[i];
    value = /^\d+$/.test(step) ? new ListItem(Number(step), value) : { [step]: value };
  }
  const position: SourcePosition = { file: `${SET}${override.text}`, line: 0, column: 0 };
  // The override sets its own path and what lies in its value, not the defaults beside them.
  const sets = (path: KeyPath) => {
    let node: unknown = value;
    for (const key of path) {
      if (node instanceof ListItem) {
        if (String(key) !== String(node.index)) return false;
        node = node.value;
        continue;
      }
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

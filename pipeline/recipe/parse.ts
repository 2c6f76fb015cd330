/**
 * Parses recipe YAML while keeping where every key and value came from.
 *
 * @module
 */
import {
  type Document,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from "yaml";
import { RecipeSyntaxError, type SourcePosition } from "../errors.ts";

/** A key path into a parsed document. */
export type KeyPath = readonly (string | number)[];

/** A parsed recipe: its plain value and a map back to source positions. */
export interface ParsedRecipe {
  /** The file's path as given. */
  readonly file: string;
  /** The plain JavaScript value of the document. */
  readonly value: unknown;
  /**
   * The position of the node at `path`: its key when `part` is `"key"` (for
   * map entries), else its value. Falls back to the nearest ancestor that exists.
   */
  positionOf(path: KeyPath, part?: "key" | "value"): SourcePosition;
  /**
   * Where the value at `path` was written (its key, for map entries), or
   * `undefined` when the recipe does not write it (a default applies).
   */
  sourceOf(path: KeyPath): SourcePosition | undefined;
  /** Where a composing layer deleted the key at `path` with `null`, if one did. */
  deletedAt?(path: KeyPath): SourcePosition | undefined;
}

const OPENING: Record<string, string> = { "]": "[", "}": "{", '"': '"', "'": "'" };

/**
 * Where a syntax error is best shown: at the bracket or quote left open
 * (the parser notices only at the end of the file or the next key), or at
 * the first character of a misindented line (the parser points at its start).
 */
function errorOffset(doc: Document, text: string, error: YAMLError): number {
  let offset = error.pos[0];
  const close = / end with an? ([\]}])/.exec(error.message)?.[1] ??
    /^Missing closing (["'])quote/.exec(error.message)?.[1];
  if (close) {
    let open: number | undefined;
    visit(doc, {
      Node(_key, node) {
        const range = node.range;
        if (!range || range[0] > offset || text[range[0]] !== OPENING[close]) return;
        if (isCollection(node) && !node.flow) return;
        const source = text.slice(range[0], range[1]).trimEnd();
        if (source.length > 1 && source.endsWith(close)) return;
        if (open === undefined || range[0] > open) open = range[0];
      },
    });
    if (open !== undefined) return open;
  }
  if (error.code === "BAD_INDENT") {
    while (text[offset] === " ") offset++;
  }
  return offset;
}

/** The key repeated at `offset` (a duplicate key error's) and where it first appears in its map. */
function firstOfDuplicateKey(
  doc: Document,
  offset: number,
): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  visit(doc, {
    Map(_key, map) {
      const seen = new Map<unknown, number>();
      for (const pair of map.items) {
        const key = pair.key as Node | null;
        const value = isScalar(key) ? key.value : undefined;
        const start = key?.range?.[0];
        if (value === undefined || start === undefined) continue;
        const earlier = seen.get(value);
        if (earlier !== undefined && start === offset) {
          found = { key: String(value), offset: earlier };
          return visit.BREAK;
        }
        if (earlier === undefined) seen.set(value, start);
      }
    },
  });
  return found;
}

/**
 * Parses YAML text. Duplicate keys, tabs and other syntax faults are errors.
 *
 * @param text The YAML source.
 * @param file The file's path, for positions.
 * @returns The parsed recipe.
 * @throws {RecipeSyntaxError} When the text is not well-formed YAML.
 *
 * @example Usage
 * ```ts
 * import { parseRecipeText } from "./parse.ts";
 * const parsed = parseRecipeText("seed: 1\nstages:\n  load: {use: core/drive}\n", "r.yaml");
 * console.assert(parsed.positionOf(["stages", "load", "use"]).line === 3);
 * ```
 */
export function parseRecipeText(text: string, file: string): ParsedRecipe {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const sourceLines = text.split(/\r?\n/);
  const at = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col };
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const offset = errorOffset(doc, text, firstError);
    const position = at(offset);
    let message = firstError.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    if (firstError.code === "DUPLICATE_KEY") {
      const first = firstOfDuplicateKey(doc, offset);
      if (first) {
        const { line, column } = at(first.offset);
        message = `key "${first.key}" appears twice in one map, first at line ${line}, column ` +
          `${column}; keep one (to override a value, use extends or --set)`;
      }
    }
    throw new RecipeSyntaxError(message, position, sourceLines[position.line - 1] ?? "");
  }
  const value = doc.toJS({ maxAliasCount: 100 }) ?? {};

  const positionOf = (path: KeyPath, part: "key" | "value" = "value"): SourcePosition => {
    let node: Node | null | undefined = doc.contents as Node | null;
    let best = node?.range ? node.range[0] : 0;
    for (let i = 0; i < path.length; i++) {
      const step = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) =>
          isPair(p) && isScalar(p.key) && String(p.key.value) === String(step)
        );
        if (!pair) break;
        const key = pair.key as Node;
        if (last && part === "key" && key.range) return at(key.range[0]);
        node = pair.value as Node | null;
        best = node?.range ? node.range[0] : key.range ? key.range[0] : best;
      } else if (isSeq(node) && typeof step === "number") {
        node = node.items[step] as Node | null;
        if (!node) break;
        if (node.range) best = node.range[0];
      } else break;
    }
    return at(best);
  };
  const sourceOf = (path: KeyPath): SourcePosition | undefined => {
    if (path.length === 0) return at(0);
    const parent = doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) =>
        isPair(p) && isScalar(p.key) && String(p.key.value) === String(last)
      );
      const key = pair?.key as Node | undefined;
      return key?.range ? at(key.range[0]) : undefined;
    }
    if (isSeq(parent) && typeof last === "number") {
      const item = parent.items[last] as Node | undefined;
      return item?.range ? at(item.range[0]) : undefined;
    }
    return undefined;
  };
  return { file, value, positionOf, sourceOf };
}

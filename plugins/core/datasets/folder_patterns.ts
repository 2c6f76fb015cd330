/**
 * `core/folder`'s file patterns with one `{id}`, in the file name
 * (`train/{id}.png`) or in one folder name (`cases/{id}/image.png`): what
 * makes one valid, where its `{id}` stands, and a pattern to suggest for
 * masks beside the images.
 *
 * @module
 */
import { basename, dirname, extname, join } from "node:path";

/** The placeholder of the sample's id in a pattern. */
export const ID = "{id}";

/** One split's file-name patterns, relative to the data folder (`core/folder`'s `train`, `test`). */
export interface SplitPatterns {
  /** The images, e.g. `train/{id}.png` or `cases/{id}/image.png`. */
  readonly images: string;
  /** The truth masks, e.g. `train/{id}_mask.png` or `cases/{id}/mask.png`. */
  readonly masks: string;
  /** The FOV masks, `"estimate"`, or null (the whole image). */
  readonly fov: string | null;
}

/** The regular expression of a name with `{id}`, capturing the id. */
export function regexOf(name: string): RegExp {
  const [before, after] = name.split(ID).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${before}(.+)${after}$`);
}

const ONE_ID = 'in the file name (e.g. "train/{id}.png") or in one folder name (e.g. ' +
  '"cases/{id}/image.png")';

/**
 * What is wrong with a pattern, if anything: it needs exactly one `{id}`,
 * in the file name or in one folder name, and a file name after an `{id}`
 * folder, without `..` there (which would make every case the same file).
 *
 * @param pattern The pattern, e.g. `cases/{id}/image.png`.
 * @param what Which pattern it is, for the message: `image`, `mask` or `FOV`.
 * @returns The problem in words, or undefined when the pattern is fine.
 *
 * @example Usage
 * ```ts
 * import { patternProblem } from "./folder_patterns.ts";
 * console.assert(patternProblem("cases/{id}/image.png", "image") === undefined);
 * console.assert(patternProblem("cases/{id}/{id}.png", "image")!.startsWith("the image pattern has 2 {id}s"));
 * ```
 */
export function patternProblem(pattern: string, what: string): string | undefined {
  const count = pattern.split(ID).length - 1;
  if (count === 0) return `the ${what} pattern needs an {id}, ${ONE_ID}`;
  if (count > 1) return `the ${what} pattern has ${count} {id}s; it needs exactly one, ${ONE_ID}`;
  if (pattern.endsWith("/")) {
    return `the ${what} pattern ends in "/"; it needs a file name (e.g. "cases/{id}/image.png")`;
  }
  const segments = pattern.split("/");
  if (segments.slice(segments.findIndex((s) => s.includes(ID)) + 1).includes("..")) {
    return `the ${what} pattern goes up ("..") from its {id} folder; name the file inside it ` +
      '(e.g. "cases/{id}/image.png")';
  }
  return undefined;
}

/** Where a pattern's `{id}` stands (see {@link patternParts}). */
export interface PatternParts {
  /**
   * The folder, relative to the data folder ("" for itself), that holds the
   * files (`{id}` in the file name) or the case folders (`{id}` in a folder name).
   */
  readonly folder: string;
  /** The name with `{id}`: the file's (`{id}_mask.png`) or the case folder's (`case_{id}`). */
  readonly name: string;
  /**
   * With `{id}` in a folder name, the file's path inside the case folder
   * (`image.png`, `scans/t1.png`); null with `{id}` in the file name.
   */
  readonly inside: string | null;
}

/**
 * Splits a pattern with one `{id}` (see {@link patternProblem}) where its `{id}` stands.
 *
 * @param pattern The pattern.
 * @returns Its parts: `train/{id}.png` is `{ folder: "train", name: "{id}.png", inside: null }`,
 *   `cases/case_{id}/scans/t1.png` is `{ folder: "cases", name: "case_{id}", inside: "scans/t1.png" }`.
 *
 * @example Usage
 * ```ts
 * import { patternParts } from "./folder_patterns.ts";
 * console.assert(patternParts("cases/{id}/image.png").inside === "image.png");
 * console.assert(patternParts("train/{id}.png").inside === null);
 * ```
 */
export function patternParts(pattern: string): PatternParts {
  const segments = pattern.split("/");
  const at = segments.findIndex((s) => s.includes(ID));
  return {
    folder: segments.slice(0, at).join("/"),
    name: segments[at],
    inside: at === segments.length - 1 ? null : segments.slice(at + 1).join("/"),
  };
}

/**
 * A pattern for the files of another role beside the images, for
 * suggestions in messages: with `{id}` in the file name `train/{id}.png`
 * gives `train/{id}_mask.png`; with `{id}` in a folder name
 * `cases/{id}/image.png` gives `cases/{id}/mask.png`.
 *
 * @param images The image pattern.
 * @param word What the files are: `mask`, `fov`.
 * @returns The pattern.
 *
 * @example Usage
 * ```ts
 * import { companionPattern } from "./folder_patterns.ts";
 * console.assert(companionPattern("cases/{id}/image.png", "fov") === "cases/{id}/fov.png");
 * ```
 */
export function companionPattern(images: string, word: string): string {
  if (patternParts(images).inside === null) return images.replace(ID, `{id}_${word}`);
  const name = basename(images);
  const ext = extname(name);
  const own = join(dirname(images), `${word}${ext}`);
  return own === join(images) ? join(dirname(images), `${basename(name, ext)}_${word}${ext}`) : own;
}

/**
 * Errors Capillary raises on purpose. Each carries a stable `code` and a
 * message that says what went wrong and what to do; the CLI prints the
 * message alone (no stack trace unless `--debug`).
 *
 * @module
 */

/** Where in a source file something is: 1-based line and column. */
export interface SourcePosition {
  /** The file's path as the user gave it. */
  readonly file: string;
  /** 1-based line; 0 when the value did not come from a file (`--set`). */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/**
 * Formats a position as `file:line:column`, or just `file` when the line is
 * 0: a value from the command line (`--set key=value`) has no line.
 */
export function formatPosition(position: SourcePosition): string {
  return position.line ? `${position.file}:${position.line}:${position.column}` : position.file;
}

/**
 * Base class of every error Capillary raises on purpose.
 *
 * @example Usage
 * ```ts
 * import { CapillaryError } from "./errors.ts";
 * const error = new CapillaryError("Cannot run: nothing to do", "E_EXAMPLE");
 * console.assert(error.code === "E_EXAMPLE");
 * ```
 */
export class CapillaryError extends Error {
  /** A stable machine-readable code. */
  readonly code: string;
  /**
   * @param message What went wrong and what to do.
   * @param code A stable machine-readable code.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, code = "E_CAPILLARY", options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A recipe that is not well-formed YAML. */
export class RecipeSyntaxError extends CapillaryError {
  /** Where the parser stopped. */
  readonly position: SourcePosition;
  /** The offending source line. */
  readonly snippet: string;
  /**
   * @param message The parser's message.
   * @param position Where the parser stopped.
   * @param snippet The offending source line.
   */
  constructor(message: string, position: SourcePosition, snippet = "") {
    super(
      `${formatPosition(position)}: ${message}${snippet ? `\n  ${snippet}` : ""}`,
      "E_RECIPE_SYNTAX",
    );
    this.position = position;
    this.snippet = snippet;
  }
}

/** One problem found while validating a recipe. */
export interface RecipeIssue {
  /** The key path, e.g. `["stages", "train", "with", "epochs"]`. */
  readonly path: readonly (string | number)[];
  /** Where the offending value (or its parent, if the key is missing) is. */
  readonly position: SourcePosition;
  /** What is wrong, with what was expected. */
  readonly message: string;
  /** What to do about it, e.g. a did-you-mean. */
  readonly hint?: string;
  /** The error behind it (a plugin's code that threw), whose stack `--debug` shows. */
  readonly cause?: unknown;
}

/** Formats one issue as `file:line:column: key: message (hint)`. */
export function formatIssue(issue: RecipeIssue): string {
  const key = issue.path.length ? `${issue.path.join(".")}: ` : "";
  return `${formatPosition(issue.position)}: ${key}${issue.message}${
    issue.hint ? `\n    ${issue.hint}` : ""
  }`;
}

/** A recipe that parsed but does not validate; holds every issue found. */
export class RecipeValidationError extends CapillaryError {
  /** All problems, in source order. */
  readonly issues: readonly RecipeIssue[];
  /** @param issues All problems found, in any order (they are sorted by position). */
  constructor(issues: readonly RecipeIssue[]) {
    const sorted = [...issues].sort((a, b) =>
      a.position.line - b.position.line || a.position.column - b.position.column
    );
    const head = sorted.length === 1 ? "1 problem" : `${sorted.length} problems`;
    const cause = sorted.find((i) => i.cause !== undefined)?.cause;
    super(
      `Cannot use recipe: ${head}\n${sorted.map((i) => `  ${formatIssue(i)}`).join("\n")}`,
      "E_RECIPE_INVALID",
      cause === undefined ? undefined : { cause },
    );
    this.issues = sorted;
  }
}

/** A plugin module that cannot be loaded or does not export a plugin. */
export class PluginLoadError extends CapillaryError {
  /**
   * @param message What went wrong.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "E_PLUGIN_LOAD", options);
  }
}

/** A stage that failed while running; wraps the cause and names the stage. */
export class StageError extends CapillaryError {
  /** The id of the stage that failed, e.g. `core/train`. */
  readonly stage: string;
  /**
   * @param stage The failing stage's id.
   * @param message What went wrong and what to do.
   * @param options Standard error options (`cause`).
   */
  constructor(stage: string, message: string, options?: ErrorOptions) {
    super(`Stage "${stage}" failed: ${message}`, "E_STAGE", options);
    this.stage = stage;
  }
}

/** Input data that is missing, unreadable or inconsistent; names the file. */
export class DataError extends CapillaryError {
  /**
   * @param message What is wrong with which file, and what to do.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "E_DATA", options);
  }
}

/** A tensor backend that cannot be loaded or cannot do what was asked. */
export class BackendError extends CapillaryError {
  /**
   * @param message What is missing and how to install it.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "E_BACKEND", options);
  }
}

/**
 * A thrown value as a message for the user: `Name: message`, and for an
 * Error that is not Capillary's own, where it was thrown, as the first frame
 * of its stack in a `file:` module outside `node_modules` (a plugin's line,
 * or the line that called into a library), so that a plugin author sees the
 * line without `--debug`.
 *
 * @param thrown What was thrown.
 * @returns The message.
 *
 * @example Usage
 * ```ts
 * import { describeThrown } from "./errors.ts";
 * const error = new TypeError("x is undefined");
 * error.stack = "TypeError: x is undefined\n    at f (file:///tmp/my_plugin.ts:3:57)\n    at g (file:///app/node_modules/tfjs/index.js:1:1)";
 * console.assert(describeThrown(error) === "TypeError: x is undefined (at /tmp/my_plugin.ts:3:57)");
 * console.assert(describeThrown("a string") === "a string");
 * ```
 */
export function describeThrown(thrown: unknown): string {
  if (!(thrown instanceof Error)) return String(thrown);
  if (thrown instanceof CapillaryError) return thrown.message;
  // A plain Error's name says nothing; a TypeError's or RangeError's does.
  const text = thrown.name === "Error" ? thrown.message : `${thrown.name}: ${thrown.message}`;
  const frame = (thrown.stack ?? "").split("\n").slice(1)
    .map((line) => /(file:\/\/[^\s)]+:\d+:\d+)/.exec(line)?.[1])
    .find((url) => url !== undefined && !url.includes("/node_modules/"));
  if (!frame) return text;
  let where = frame;
  try {
    const [, path, position] = /^(file:\/\/.+?)(:\d+:\d+)$/.exec(frame)!;
    where = decodeURIComponent(new URL(path).pathname) + position;
  } catch {
    // keep the URL as it is
  }
  return `${text} (at ${where})`;
}

/**
 * Imports the plugin modules a recipe lists and registers them.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { describeThrown, PluginLoadError, type RecipeIssue } from "../errors.ts";
import { type Plugin, pluginProblems } from "../plugin.ts";
import type { Registry } from "../registry.ts";
import type { ParsedRecipe } from "./parse.ts";
import { resolvePluginSpecifier } from "./plugin_specifier.ts";

/** The export a plugin module offers (`default`, else `plugin`), and its key. */
function pluginExport(module: Record<string, unknown>): { key: string; value: unknown } {
  // As `module.default ?? module.plugin`.
  const key = module.default == null && module.plugin != null ? "plugin" : "default";
  return { key, value: module[key] };
}

/** What to tell about a plugin that failed: the issue's message and what to do. */
export interface PluginFailure {
  /** What went wrong, naming the plugin as the recipe wrote it. */
  readonly message: string;
  /** What to do, naming the file to fix; absent when there is nothing to add. */
  readonly hint?: string;
  /** What the plugin's own code threw, kept for its stack (`--debug`). */
  readonly cause?: unknown;
}

/** Terminal colour codes, which Deno puts around the positions of some load errors. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
/** `at file:///…:line:column`, where Deno's module loader says a load error is. */
const AT = /\s*\bat (file:\/\/\S+?):(\d+):(\d+)/;
/** Problem lines nest under the issue line, below which the hint sits at 4 spaces. */
const NEST = "\n      ";

/** A `file:` URL as a path; any other specifier as it is. */
function readable(url: string): string {
  if (!url.startsWith("file:")) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

/**
 * The extension that, added to a `file:` URL that names no file, names one
 * (`./noise` for `noise.ts`): Deno imports a path only as written.
 */
function missingExtension(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  for (const extension of [".ts", ".js", ".mts", ".mjs", ".tsx"]) {
    try {
      if (Deno.statSync(new URL(url + extension)).isFile) return extension;
    } catch {
      // not there, or not readable: no hint
    }
  }
  return undefined;
}

/**
 * Turns what `import()` of a plugin threw into a message that says where
 * (the file, with line:column when Deno gives them) and what to do, without
 * the engine's stack. Deno reports a module that does not parse, or does not
 * resolve, as a TypeError whose message carries the position (`at
 * file:///…:4:3`) and, for a syntax error, the offending source line; code
 * that throws while the module runs has its position in the stack instead.
 * A module that links against a missing export is a SyntaxError with the
 * position at the end of its message. A path that names no file but would
 * with `.ts` (or `.js`, ...) added gets a did-you-mean.
 *
 * @param error What `import()` threw.
 * @param specifier The plugin as the recipe wrote it.
 * @param url What was imported (from {@link resolvePluginSpecifier}).
 * @returns The message and hint of the recipe issue.
 *
 * @example Usage
 * ```ts
 * import { describeImportFailure } from "./load_plugins.ts";
 * const error = new TypeError("SyntaxError: Unexpected token\n    at file:///p/noise.ts:4:3");
 * const { message, hint } = describeImportFailure(error, "./noise.ts", "file:///p/noise.ts");
 * console.assert(message === 'plugin "./noise.ts" has a syntax error: Unexpected token (at /p/noise.ts:4:3)');
 * console.assert(hint === "fix the syntax at /p/noise.ts:4:3");
 * ```
 */
export function describeImportFailure(
  error: unknown,
  specifier: string,
  url: string,
): PluginFailure {
  const text = String(error instanceof Error ? error.message : error).replace(ANSI, "");
  const lines = text.split("\n");
  const at = AT.exec(text);
  const where = at ? `${readable(at[1])}:${at[2]}:${at[3]}` : undefined;
  const inPlugin = !at || at[1] === url;
  // The position may close the first line (a missing export) as well as stand on its own.
  const head = lines[0].replace(AT, "").trim();
  const denoHint = lines.map((line) => /^\s*hint:\s*(.+)$/.exec(line)?.[1]).find(Boolean);
  const plugin = `plugin "${specifier}"`;
  // Deno's loader sets this code on every module it cannot resolve or parse; a module whose
  // code threw (reading a missing file, say) gets no code and must not read as a missing module.
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (!at && code !== "ERR_MODULE_NOT_FOUND") {
    return {
      message: `${plugin} threw while loading: ${describeThrown(error)}`,
      hint: "a plugin's module code runs when a recipe loads it; fix the code that threw",
      cause: error,
    };
  }

  const syntax = /^SyntaxError: (.*)$/.exec(head);
  if (syntax) {
    // Deno's excerpt: the numbered source line and the marker under it.
    const excerpt = lines.filter((line) => /^\s*\d+ \|/.test(line) || /^\s*\|\s*[~^]/.test(line));
    return {
      message: `${plugin} ${inPlugin ? "has" : "imports a module with"} a syntax error: ${
        syntax[1]
      }${where ? ` (at ${where})` : ""}${excerpt.map((line) => NEST + line).join("")}`,
      hint: where ? `fix the syntax at ${where}` : `fix the syntax of ${readable(url)}`,
    };
  }

  const notFound = /Module not found "([^"]+)"/.exec(head);
  if (notFound && notFound[1] !== url) {
    return {
      message: `${plugin} imports a module that cannot be found: ${readable(notFound[1])}${
        where ? ` (at ${where})` : ""
      }`,
      hint: `fix the import${where ? ` at ${where}` : ` in ${readable(url)}`}`,
    };
  }
  if (notFound || (!at && /not found|No such file|does not exist/i.test(head))) {
    const extension = missingExtension(url);
    return {
      message: `cannot load ${plugin}: module not found`,
      hint: `looked for ${readable(url)}${notFound ? "" : ` (${head})`}${
        extension ? `; did you mean ${specifier.trim()}${extension}?` : ""
      }`,
    };
  }
  // Anything else the loader refused (a bare import outside the import map, a missing export).
  return {
    message: `${plugin} cannot be loaded: ${head}${where ? ` (at ${where})` : ""}`,
    hint: `${where ? `fix the import at ${where}` : `fix ${readable(url)}`}${
      denoHint ? ` (Deno's hint: ${denoHint})` : ""
    }`,
  };
}

/**
 * Loads every plugin in `specifiers` into `registry`; failures become issues
 * positioned at the recipe's plugin entry.
 *
 * @param specifiers As written under `plugins:`.
 * @param recipeDir The recipe's folder.
 * @param registry Where to register them.
 * @param parsed The recipe, for positions.
 * @returns The issues found (empty when all loaded).
 */
export async function loadPlugins(
  specifiers: readonly string[],
  recipeDir: string,
  registry: Registry,
  parsed: ParsedRecipe,
): Promise<RecipeIssue[]> {
  const issues: RecipeIssue[] = [];
  for (const [i, specifier] of specifiers.entries()) {
    const path = ["plugins", i];
    const fail = (message: string, hint?: string, cause?: unknown) =>
      issues.push({
        path,
        position: parsed.positionOf(path),
        message,
        hint,
        ...(cause === undefined ? {} : { cause }),
      });
    let url: string;
    try {
      url = resolvePluginSpecifier(specifier, recipeDir);
    } catch (error) {
      fail((error as Error).message);
      continue;
    }
    let module: Record<string, unknown>;
    try {
      module = await import(url);
    } catch (error) {
      const { message, hint, cause } = describeImportFailure(error, specifier, url);
      fail(message, hint, cause);
      continue;
    }
    const contract = 'PLUGINS.md, "The contract", lists every field';
    const exported = pluginExport(module);
    if (typeof exported.value === "function") {
      // A factory (`export default () => definePlugin(...)`): the engine takes no arguments to call it with.
      fail(
        `plugin "${specifier}" exports a function${
          exported.key === "default" ? "" : ` as "${exported.key}"`
        }, not a plugin`,
        `in ${
          readable(url)
        }, export the plugin object itself: \`export default definePlugin({ ... })\`, not a function that returns it (${contract})`,
      );
      continue;
    }
    if (!exported.value || typeof exported.value !== "object") {
      fail(
        `plugin "${specifier}" exports no plugin`,
        `in ${readable(url)}, export one as \`export default definePlugin({ ... })\` (${contract})`,
      );
      continue;
    }
    const plugin = exported.value as Plugin;
    // Every problem at once, in words; the registry's own check stops at the first.
    const problems = pluginProblems(plugin);
    if (problems.length) {
      fail(
        `plugin "${specifier}" exports a plugin that does not fit the contract:${
          problems.map((problem) => NEST + problem).join("")
        }`,
        `fix the default export of ${
          readable(url)
        }: \`export default definePlugin({ name, version, stages })\`, each stage made with \`defineStage\` (${contract})`,
      );
      continue;
    }
    try {
      registry.register(plugin, specifier);
    } catch (error) {
      if (!(error instanceof PluginLoadError)) throw error;
      fail(error.message);
    }
  }
  return issues;
}

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

/** Whether `value` looks like a plugin object or a factory, for a hint about a named export. */
function looksLikePlugin(value: unknown): boolean {
  if (!value || typeof value !== "object") return false;
  const record = value as Record<string, unknown>;
  return typeof record.name === "string" && Array.isArray(record.stages);
}

/** The export in words: `the default export`, `the export named "plugin"`. */
function exportWords(key: string): string {
  return key === "default" ? "the default export" : `the export named "${key}"`;
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
 * The file in a plugin folder to import (`mod.ts` in `./noise/`): the one its
 * `package.json` names (`exports`, `module`, `main`), else a `mod` or `index`
 * file; relative to the folder, or undefined when there is none.
 */
function folderEntry(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  const folder = url.endsWith("/") ? url : `${url}/`;
  const exists = (relative: string) => {
    try {
      return Deno.statSync(new URL(relative, folder)).isFile;
    } catch {
      return false;
    }
  };
  const named: unknown[] = [];
  try {
    const manifest = JSON.parse(Deno.readTextFileSync(new URL("package.json", folder)));
    const root = typeof manifest.exports === "object" && manifest.exports !== null
      ? manifest.exports["."] ?? manifest.exports
      : manifest.exports;
    named.push(root, root?.import, root?.default, manifest.module, manifest.main);
  } catch {
    // no package.json, or not JSON: look for the usual names
  }
  const candidates = named.filter((name): name is string => typeof name === "string")
    .concat(["mod.ts", "mod.js", "index.ts", "index.js"]);
  return candidates.map((name) => name.replace(/^\.\//, "")).find(exists);
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

  if (/ERR_UNSUPPORTED_DIR_IMPORT|^Directory import/.test(head)) {
    const entry = folderEntry(url);
    const folder = specifier.trim().replace(/\/+$/, "");
    return {
      message: `cannot load ${plugin}: it names a folder (${readable(url)}), and a folder cannot ` +
        "be imported, package.json or not",
      hint: `name the plugin's entry file${
        entry ? ` (${folder}/${entry})` : ", e.g. " + `${folder}/mod.ts`
      } in \`plugins:\`, or list a package published on npm as npm:name@version`,
    };
  }

  // A bare name (`lodash`, or one the plugin's own deno.json maps): the engine's import map
  // resolves the plugin's imports, and Deno's hint (`deno add npm:lodash`) would change the
  // engine's deno.json, not the plugin.
  const bare = /^Import "([^"]+)" not a dependency/.exec(head) ??
    /^Relative import path "([^"]+)" not prefixed with/.exec(head);
  if (bare && where) {
    const name = bare[1];
    const npm = /^(@[^/]+\/)?[^/@][^/]*/.exec(name)?.[0] ?? name;
    return {
      message: `${plugin} imports "${name}" by a bare name, which does not resolve (at ${where})`,
      hint: `at ${where}, import it by full specifier (\`npm:${npm}@<version>\`, \`jsr:\`, ` +
        "`https:`) or, for a file of the plugin, by relative path (`./name.ts`): a plugin " +
        "loaded by a recipe resolves bare names through the engine's deno.json, not its own " +
        "deno.json or package.json",
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

/** A remote module whose source is not the one the lock file recorded. */
export interface ChangedSource {
  /** The module that changed: the plugin's URL, or one it imports. */
  readonly specifier: string;
  /** The SHA-256 the lock file holds for it. */
  readonly expected?: string;
  /** The SHA-256 of what Deno got. */
  readonly actual?: string;
}

/** The folder Deno found the running program's deno.json (and deno.lock) from. */
function programDir(): string {
  try {
    if (Deno.mainModule.startsWith("file:")) return fileURLToPath(new URL(".", Deno.mainModule));
  } catch {
    // no main module to read: the working folder
  }
  return Deno.cwd();
}

/**
 * The flags of the running `deno` that change what a module load reads
 * (`--reload`, `--lock`, `--no-lock`, `--config`, `--cached-only`), where the
 * system shows its command line (`/proc/self/cmdline`); none elsewhere.
 */
function loadFlags(): string[] {
  let args: string[];
  try {
    args = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  } catch {
    return [];
  }
  const flags: string[] = [];
  // Deno's own flags stand between the subcommand and the program.
  for (const arg of args.slice(2)) {
    if (!arg.startsWith("-")) break;
    if (/^(--reload|-r|--lock|--config|-c)(=.*)?$|^--no-lock$|^--cached-only$/.test(arg)) {
      flags.push(arg);
    }
  }
  return flags;
}

/**
 * Whether importing `url` would fail Deno's lock-file integrity check: a
 * remote module whose source changed since `deno.lock` recorded its hash.
 * Deno does not throw that to `import()` but ends the process (exit code
 * 10, even from a worker), so this asks a child `deno info` first, run in
 * `dir` (whose `deno.json` and lock it finds as the program did) with
 * `--frozen`, so that it never writes the lock, and with the program's own
 * `--reload`, `--lock` or `--config` where it can read them. Without permission to run
 * Deno, or with a child that fails otherwise, it answers undefined and the
 * import goes ahead as before.
 *
 * @param url A plugin's `https:` or `http:` URL.
 * @param dir Where the child runs; by default the main module's folder.
 * @returns The module whose source changed, or undefined.
 */
export async function changedRemoteSource(
  url: string,
  dir: string = programDir(),
): Promise<ChangedSource | undefined> {
  let deno: string;
  try {
    deno = Deno.execPath();
    const run = await Deno.permissions.query({ name: "run", command: deno });
    if (run.state !== "granted") return undefined;
  } catch {
    return undefined;
  }
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(deno, {
      args: ["info", "--frozen", "--json", ...loadFlags(), url],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch {
    return undefined;
  }
  if (output.success) return undefined;
  const text = new TextDecoder().decode(output.stderr).replace(ANSI, "");
  if (!/Integrity check failed for remote specifier/.test(text)) return undefined;
  const field = (name: string) => new RegExp(`^\\s*${name}: (\\S+)`, "m").exec(text)?.[1];
  return {
    specifier: field("Specifier") ?? url,
    expected: field("Expected"),
    actual: field("Actual"),
  };
}

/**
 * What to say about a plugin whose remote source changed since the lock file
 * recorded it (see {@link changedRemoteSource}).
 *
 * @param changed The module that changed.
 * @param specifier The plugin as the recipe wrote it.
 * @param url What was to be imported.
 * @returns The message and hint of the recipe issue.
 *
 * @example Usage
 * ```ts
 * import { describeChangedSource } from "./load_plugins.ts";
 * const url = "https://example.org/noise/mod.ts";
 * const { hint } = describeChangedSource({ specifier: url }, url, url);
 * console.assert(hint.includes(`deno cache --reload=${url} ${url}`));
 * ```
 */
export function describeChangedSource(
  changed: ChangedSource,
  specifier: string,
  url: string,
): { message: string; hint: string } {
  const module = changed.specifier;
  const what = module === url ? `the file at ${url}` : `${module}, which it imports,`;
  const hashes = changed.expected && changed.actual
    ? `: deno.lock holds sha256 ${changed.expected}, the file now has ${changed.actual}`
    : "";
  return {
    message: `cannot load plugin "${specifier}": ${what} changed since deno.lock recorded it, ` +
      `and Deno refuses it (integrity check failed${hashes})`,
    hint: "the file at a URL must not change: publish each version at its own URL " +
      "(…/v1.2.0/mod.ts) and list the new one; or, to take the changed file at this URL, " +
      `remove "${module}" from the "remote" section of deno.lock and run ` +
      `\`deno cache --reload=${module} ${module}\` there`,
  };
}

/** How {@link loadPlugins} loads. */
export interface LoadPluginsOptions {
  /**
   * The folder whose `deno.json` and `deno.lock` the integrity check of URL
   * plugins reads ({@link changedRemoteSource}); by default the main module's.
   */
  readonly lockDir?: string;
}

/** What an author writes to make the plugin, for the hints. */
const FACTORY = "`export default (capillary) => capillary.definePlugin({ ... })`";

/** What {@link pluginFromModule} made of a module: the plugin, or why there is none. */
export type ModulePlugin =
  | { readonly plugin: Plugin; readonly failure?: undefined }
  | { readonly plugin?: undefined; readonly failure: PluginFailure };

/**
 * The plugin an imported module offers, as a recipe loads it: its default
 * export (or export named `plugin`) is the plugin, or a factory that is
 * called with the engine's API (`pipeline/mod.ts`, `z` included) and returns
 * the plugin or a promise of it; the plugin must fit the contract
 * (`pluginProblems`). {@link loadPlugins} and the data-parallel workers,
 * which build a plugin's loss again in their own threads, both make their
 * plugins with it.
 *
 * @param module What `import()` gave.
 * @param specifier The plugin as the recipe wrote it, for messages.
 * @param url What was imported, for messages.
 * @returns The plugin, or the failure to report (nothing is thrown).
 *
 * @example Usage
 * ```ts
 * import { pluginFromModule } from "./load_plugins.ts";
 * const made = await pluginFromModule(
 *   { default: (capillary: typeof import("../mod.ts")) =>
 *     capillary.definePlugin({ name: "p", version: "1.0.0", stages: [] }) },
 *   "./p.ts",
 * );
 * console.assert(made.plugin?.name === "p");
 * const none = await pluginFromModule({ answer: 42 }, "./q.ts");
 * console.assert(none.failure?.message === 'plugin "./q.ts" exports no plugin');
 * ```
 */
export async function pluginFromModule(
  module: Record<string, unknown>,
  specifier: string,
  url: string = specifier,
): Promise<ModulePlugin> {
  const failure = (message: string, hint?: string, cause?: unknown): ModulePlugin => ({
    failure: {
      message,
      ...(hint === undefined ? {} : { hint }),
      ...(cause === undefined ? {} : { cause }),
    },
  });
  const contract = 'PLUGINS.md, "The contract", lists every field';
  const exported = pluginExport(module);
  const where = `${exportWords(exported.key)} of ${readable(url)}`;
  let value = exported.value;
  if (typeof value === "function") {
    // A factory: it gets the engine's API (and its `z`), which an npm or URL plugin cannot import.
    try {
      const capillary = await import("../mod.ts");
      value = await value(capillary);
    } catch (error) {
      return failure(
        `plugin "${specifier}" threw while making its plugin: ${describeThrown(error)}`,
        `${where} is a factory the engine calls with its API when a recipe loads it; ` +
          "fix the code that threw",
        error,
      );
    }
    if (!value || typeof value !== "object") {
      return failure(
        `plugin "${specifier}" exports a factory that returned ${
          typeof value === "function" ? "a function" : String(value)
        }, not a plugin`,
        `${where} must return the plugin: ${FACTORY} (${contract})`,
      );
    }
  }
  if (!value || typeof value !== "object") {
    const named = Object.entries(module).find(([key, v]) =>
      key !== "default" && looksLikePlugin(v)
    );
    if (named) {
      return failure(
        `plugin "${specifier}" has no default export; its export named "${named[0]}" ` +
          "looks like the plugin, and the engine reads the default export",
        `in ${readable(url)}, make it the default export: \`export default ${
          named[0]
        }\` (${contract})`,
      );
    }
    return failure(
      `plugin "${specifier}" exports no plugin`,
      `in ${
        readable(url)
      }, export one as \`export default definePlugin({ ... })\`, or as ${FACTORY} (${contract})`,
    );
  }
  const plugin = value as Plugin;
  // Every problem at once, in words; the registry's own check stops at the first.
  const problems = pluginProblems(plugin);
  if (problems.length) {
    return failure(
      `plugin "${specifier}" exports a plugin that does not fit the contract:${
        problems.map((problem) => NEST + problem).join("")
      }`,
      `fix ${where}${
        typeof exported.value === "function" ? " (what the factory returns)" : ""
      }: \`export default definePlugin({ name, version, stages })\`, each stage made with \`defineStage\` (${contract})`,
    );
  }
  return { plugin };
}

/**
 * Loads every plugin in `specifiers` into `registry`; failures become issues
 * positioned at the recipe's plugin entry. A module's default export (or
 * export named `plugin`) is the plugin, or a factory that the engine calls
 * with its API (`pipeline/mod.ts`, `z` included) and that returns the plugin
 * or a promise of it.
 *
 * @param specifiers As written under `plugins:`.
 * @param recipeDir The recipe's folder.
 * @param registry Where to register them.
 * @param parsed The recipe, for positions.
 * @param options Where the integrity check of URL plugins looks.
 * @returns The issues found (empty when all loaded).
 */
export async function loadPlugins(
  specifiers: readonly string[],
  recipeDir: string,
  registry: Registry,
  parsed: ParsedRecipe,
  options: LoadPluginsOptions = {},
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
    if (/^https?:/i.test(url)) {
      // Deno ends the process on a failed integrity check rather than throw it to `import()`.
      const changed = await changedRemoteSource(url, options.lockDir);
      if (changed) {
        const { message, hint } = describeChangedSource(changed, specifier, url);
        fail(message, hint);
        continue;
      }
    }
    let module: Record<string, unknown>;
    try {
      module = await import(url);
    } catch (error) {
      const { message, hint, cause } = describeImportFailure(error, specifier, url);
      fail(message, hint, cause);
      continue;
    }
    const made = await pluginFromModule(module, specifier, url);
    if (!made.plugin) {
      fail(made.failure.message, made.failure.hint, made.failure.cause);
      continue;
    }
    const plugin = made.plugin;
    try {
      registry.register(plugin, specifier);
    } catch (error) {
      if (!(error instanceof PluginLoadError)) throw error;
      fail(error.message);
    }
  }
  return issues;
}

/**
 * What the data cache's key records of a plugin that is not built in: its
 * specifier, and for a local plugin a digest of its source files.
 *
 * @module
 */
import { resolvePluginSpecifier } from "../recipe/plugin_specifier.ts";
import { sha256 } from "./sha256.ts";

/** Where a plugin's code came from, as the cache key records it. */
export interface PluginSource {
  /** The module imported: a `file:` URL, or an `npm:`, `jsr:` or `https:` specifier. */
  readonly specifier: string;
  /**
   * For a local (`file:`) plugin, the SHA-256 of its modules' URLs and contents: the entry
   * module and every local module it imports; absent for a remote one.
   */
  readonly digest?: string;
}

/** `import ... from "x"`, `export ... from "x"`, `import "x"` and `import("x")` with a literal. */
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["']([^"'\n]+)["']/g;

/**
 * What the cache key records of the plugin a recipe loaded from `origin`.
 *
 * A local plugin (a path or `file:` URL) is recorded with a digest of its
 * source, so that editing a stage's code (not only its `version`) makes new
 * entries: the entry module and, recursively, every module it imports by a
 * relative path, absolute path or `file:` URL (static imports, re-exports and
 * `import()` of a string literal). Imports by a bare name (an import map
 * entry, `@capillary/capillary`), computed `import()`s and files the code
 * reads at run time are not followed: list data files a load stage reads in
 * its `fingerprint`. A remote plugin (`npm:`, `jsr:`, `https:`) is recorded by
 * its specifier, version and all: Deno caches and locks remote code, so the
 * same specifier is the same code.
 *
 * @param origin The plugin as the recipe wrote it (`RegisteredStage.origin`).
 * @param pluginDir The folder a plugin path is relative to (the recipe's).
 * @returns The record; undefined when the origin does not resolve or the
 * entry module cannot be read (the data then goes uncached).
 *
 * @example Usage
 * ```ts
 * import { pluginSource } from "./plugin_source.ts";
 * const remote = await pluginSource("npm:capillary-noise@1.2.0", "/r");
 * console.assert(remote?.specifier === "npm:capillary-noise@1.2.0" && !remote.digest);
 * ```
 */
export async function pluginSource(
  origin: string,
  pluginDir: string,
): Promise<PluginSource | undefined> {
  let specifier: string;
  try {
    specifier = resolvePluginSpecifier(origin, pluginDir);
  } catch {
    return undefined;
  }
  if (!specifier.startsWith("file:")) return { specifier };
  const modules: [string, string][] = [];
  const seen = new Set<string>();
  const pending = [new URL(specifier)];
  while (pending.length) {
    const url = pending.pop()!;
    url.search = url.hash = "";
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(url);
    } catch {
      // The entry module must be there; an "import" the scan found in a comment or a string
      // need not.
      if (url.href === specifier) return undefined;
      continue;
    }
    modules.push([url.href, await sha256(bytes)]);
    for (const [, imported] of new TextDecoder().decode(bytes).matchAll(IMPORT)) {
      if (!/^(\.{1,2}\/|\/|file:)/.test(imported)) continue;
      try {
        const next = new URL(imported, url);
        if (next.protocol === "file:") pending.push(next);
      } catch {
        // not a URL: not a module
      }
    }
  }
  modules.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    specifier,
    digest: await sha256(new TextEncoder().encode(JSON.stringify(modules))),
  };
}

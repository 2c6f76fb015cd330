/**
 * Resolves the plugin specifiers a recipe lists to importable URLs.
 *
 * @module
 */
import { isAbsolute, resolve, toFileUrl } from "../path.ts";

/**
 * Turns a recipe's plugin entry into a URL or specifier `import()` accepts:
 * `npm:`, `jsr:`, `https:`, `http:` and `file:` pass through; a path
 * (relative to the recipe's folder, or absolute) becomes a `file:` URL.
 *
 * @param specifier As written in the recipe.
 * @param recipeDir The recipe file's folder.
 * @returns What to import.
 * @throws {TypeError} For an empty specifier or an unsupported scheme.
 *
 * @example Usage
 * ```ts
 * import { resolvePluginSpecifier } from "./plugin_specifier.ts";
 * console.assert(resolvePluginSpecifier("npm:capillary-noise@1", "/r") === "npm:capillary-noise@1");
 * console.assert(resolvePluginSpecifier("./p.ts", "/r") === "file:///r/p.ts");
 * ```
 */
export function resolvePluginSpecifier(specifier: string, recipeDir: string): string {
  const s = specifier.trim();
  if (!s) throw new TypeError("Cannot load plugin: the specifier is empty");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
  if (scheme && scheme.length > 1) {
    if (["npm", "jsr", "https", "http", "file"].includes(scheme)) return s;
    throw new TypeError(
      `Cannot load plugin "${s}": unsupported scheme "${scheme}:"; use a relative path, npm:, https: or file:`,
    );
  }
  const path = isAbsolute(s) ? s : resolve(recipeDir, s);
  return toFileUrl(path).href;
}

/**
 * The few path helpers the engine needs, from Node's path module (JSR's
 * `@std/path` is not reachable here).
 *
 * @module
 */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export { dirname, isAbsolute, join, relative, resolve };

/** A `file:` URL for an absolute path. */
export function toFileUrl(path: string): URL {
  return pathToFileURL(path);
}

/**
 * Path helpers for the core plugin (JSR's `@std/path` is not reachable).
 *
 * @module
 */
export { dirname, isAbsolute, join, resolve } from "node:path";
export { fileURLToPath as fromFileUrl } from "node:url";

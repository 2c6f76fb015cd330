/**
 * A value that a plugin's code gave, in the words its author would use in an
 * error: what the engine expected, then `got 1`, `got a function`, `got a
 * promise`.
 *
 * @module
 */
import { z } from "zod";

/**
 * Describes `value` as a plugin author wrote it: a string quoted, a number as
 * it is, otherwise its kind (`a function`, `an array`, `a promise`, `a zod
 * schema`, `an object`).
 *
 * @example Usage
 * ```ts
 * import { describeCodeValue } from "./code_value.ts";
 * console.assert(describeCodeValue("none") === '"none"');
 * console.assert(describeCodeValue(Promise.resolve(1)) === "a promise");
 * console.assert(describeCodeValue(NaN) === "NaN");
 * ```
 */
export function describeCodeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  // An async create or schedule: the engine needs the value itself, at once.
  if (value instanceof Promise) return "a promise";
  if (value instanceof z.ZodType) return "a zod schema";
  // zod 4 schemas pass `instanceof` across copies; an older major's do not.
  if (isObject(value) && typeof value.safeParse === "function") {
    return "a schema of another zod major version (Capillary reads zod 4: import { z } from " +
      '"@capillary/capillary")';
  }
  if (value !== null && typeof value === "object") return "an object";
  return String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

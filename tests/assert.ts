/**
 * Tiny hand-written assertions for the test suite (JSR, and with it
 * `@std/assert`, is not reachable from here).
 *
 * @module
 */

/** Thrown by every assertion here when it fails. */
export class AssertionError extends Error {
  /** @param message What did not hold. */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value as unknown as ArrayLike<number | bigint>);
    const head = items.slice(0, 20).map(String).join(", ");
    return `${value.constructor.name}(${items.length}) [${head}${
      items.length > 20 ? ", ..." : ""
    }]`;
  }
  try {
    return Deno.inspect(value, { depth: 4, colors: false });
  } catch {
    return String(value);
  }
}

function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equal(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * Asserts that two values are deeply equal (arrays, typed arrays, plain
 * objects, maps, sets; `NaN` equals `NaN`).
 *
 * @param actual The value the code produced.
 * @param expected The value it should be.
 * @param message Extra context for the failure message.
 * @throws {AssertionError} When the values differ.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "./assert.ts";
 * assertEquals([1, { a: 2 }], [1, { a: 2 }]);
 * ```
 */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  if (!equal(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}values differ\n  actual:   ${show(actual)}\n  expected: ${
        show(expected)
      }`,
    );
  }
}

/**
 * Asserts that `condition` holds.
 *
 * @param condition What must be true.
 * @param message What did not hold, for the failure message.
 * @throws {AssertionError} When `condition` is falsy.
 *
 * @example Usage
 * ```ts
 * import { assert } from "./assert.ts";
 * assert(1 < 2, "one is less than two");
 * ```
 */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * Asserts that two numbers differ by at most `tolerance`.
 *
 * @param actual The number the code produced.
 * @param expected The number it should be close to.
 * @param tolerance The largest allowed absolute difference (default `1e-7`).
 * @param message Extra context for the failure message.
 * @throws {AssertionError} When the difference is larger, or either is `NaN`.
 *
 * @example Usage
 * ```ts
 * import { assertAlmostEquals } from "./assert.ts";
 * assertAlmostEquals(0.1 + 0.2, 0.3, 1e-12);
 * ```
 */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-7,
  message?: string,
): void {
  if (Object.is(actual, expected)) return;
  const delta = Math.abs(actual - expected);
  if (!(delta <= tolerance)) {
    throw new AssertionError(
      `${
        message ? `${message}: ` : ""
      }expected ${actual} to be within ${tolerance} of ${expected} (off by ${delta})`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = new (...args: any[]) => E;

function checkError<E extends Error>(
  error: unknown,
  errorClass?: ErrorClass<E>,
  includes?: string,
): E {
  if (errorClass && !(error instanceof errorClass)) {
    throw new AssertionError(
      `expected a ${errorClass.name} but got ${
        error instanceof Error ? `${error.name}: ${error.message}` : show(error)
      }`,
    );
  }
  if (includes !== undefined) {
    const message = error instanceof Error ? error.message : String(error);
    if (!message.includes(includes)) {
      throw new AssertionError(
        `expected the error message to include ${show(includes)} but it is ${show(message)}`,
      );
    }
  }
  return error as E;
}

/**
 * Asserts that `fn` throws, optionally an instance of `errorClass` whose
 * message includes `includes`; returns the error for further checks.
 *
 * @param fn The code that should throw.
 * @param errorClass The class the error should be an instance of.
 * @param includes Text the error message should contain.
 * @returns The thrown error.
 * @throws {AssertionError} When `fn` does not throw, or throws something else.
 *
 * @example Usage
 * ```ts
 * import { assertThrows } from "./assert.ts";
 * const error = assertThrows(() => JSON.parse("{"), SyntaxError);
 * assertThrows(() => assertThrows(() => {}), Error, "expected the function to throw");
 * if (error.name !== "SyntaxError") throw new Error("unreachable");
 * ```
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClass?: ErrorClass<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, errorClass, includes);
  }
  throw new AssertionError("expected the function to throw but it returned");
}

/**
 * Asserts that the promise `fn` returns rejects, optionally with an instance
 * of `errorClass` whose message includes `includes`; resolves to the error.
 *
 * @param fn The code whose promise should reject.
 * @param errorClass The class the error should be an instance of.
 * @param includes Text the error message should contain.
 * @returns The rejection reason.
 * @throws {AssertionError} When the promise resolves, or rejects with something else.
 *
 * @example Usage
 * ```ts
 * import { assertRejects } from "./assert.ts";
 * await assertRejects(() => Promise.reject(new TypeError("no")), TypeError, "no");
 * ```
 */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  errorClass?: ErrorClass<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, errorClass, includes);
  }
  throw new AssertionError("expected the promise to reject but it resolved");
}

/**
 * `${...}` in recipe strings, resolved after composition and before
 * validation:
 *
 * - `${env:VAR}`: the environment variable (an error names it when unset);
 *   `${env:VAR:-fallback}` uses `fallback` when unset or empty;
 * - `${train.batchSize}`: another value of the recipe, by the same paths as
 *   `--set` (`with` may be left out after a stage slot). Defaults are not
 *   visible: the value must be written in the recipe, a base or a `--set`;
 * - `$${` is a literal `${`.
 *
 * A string that is exactly one `${...}` takes the referenced value's type
 * (`batchSize: ${train.batchSize}` stays a number); otherwise the parts are
 * joined as text. Missing values and reference cycles are errors at the
 * string's position.
 *
 * @module
 */
import { type RecipeIssue, RecipeValidationError } from "../errors.ts";
import { expandKeyPath } from "./compose.ts";
import type { KeyPath, ParsedRecipe } from "./parse.ts";

const PATTERN = /\$(\$?)\{([^}]*)\}/g;

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function valueAt(root: unknown, path: KeyPath): { found: boolean; value?: unknown } {
  let node = root;
  for (const step of path) {
    if (Array.isArray(node) && /^\d+$/.test(String(step))) node = node[Number(step)];
    else if (isPlainMap(node) && Object.hasOwn(node, String(step))) node = node[String(step)];
    else return { found: false };
  }
  return { found: node !== undefined, value: node };
}

class InterpolationError extends Error {
  constructor(readonly path: KeyPath, message: string, readonly hint?: string) {
    super(message);
  }
}

/**
 * Resolves every `${...}` in `parsed`'s strings.
 *
 * @param parsed The composed recipe.
 * @param env Reads an environment variable (default `Deno.env.get`).
 * @returns The recipe with the strings replaced; positions unchanged.
 * @throws {RecipeValidationError} Listing each unresolvable string at its position.
 */
export function interpolateRecipe(
  parsed: ParsedRecipe,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): ParsedRecipe {
  const issues: RecipeIssue[] = [];
  const done = new Map<string, unknown>();

  /** The resolved value of the string at `path`; `stack` holds the references being followed. */
  const resolveString = (text: string, path: KeyPath, stack: string[]): unknown => {
    const key = JSON.stringify(path);
    if (done.has(key)) return done.get(key);
    if (stack.includes(key)) {
      const cycle = [...stack.slice(stack.indexOf(key)), key].map((k) => JSON.parse(k).join("."));
      throw new InterpolationError(path, `\${...} cycle: ${cycle.join(" → ")}`);
    }
    const inner = [...stack, key];
    const whole = /^\$\{([^}]*)\}$/.exec(text);
    const result = whole
      ? lookup(whole[1], path, inner)
      : text.replace(PATTERN, (_match, escaped: string, body: string) => {
        if (escaped) return `\${${body}}`;
        const value = lookup(body, path, inner);
        return typeof value === "string" ? value : JSON.stringify(value);
      });
    done.set(key, result);
    return result;
  };

  const lookup = (body: string, path: KeyPath, stack: string[]): unknown => {
    const trimmed = body.trim();
    if (trimmed.startsWith("env:")) {
      const [name, fallback] = splitFallback(trimmed.slice(4));
      const value = env(name);
      if (value !== undefined && value !== "") return value;
      if (fallback !== undefined) return fallback;
      throw new InterpolationError(
        path,
        `environment variable ${name} is not set`,
        `set it, or give a fallback: \${env:${name}:-value}`,
      );
    }
    const target = expandKeyPath(trimmed);
    if (typeof target === "string") throw new InterpolationError(path, `\${${trimmed}}: ${target}`);
    const { found, value } = valueAt(parsed.value, target);
    if (!found) {
      throw new InterpolationError(
        path,
        `\${${trimmed}}: ${target.join(".")} is not set in the recipe`,
        "only values written in the recipe, its bases or a --set can be referenced, not defaults",
      );
    }
    return typeof value === "string" ? resolveString(value, target, stack) : value;
  };

  const walk = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === "string") {
      if (!value.includes("${")) return value;
      try {
        return resolveString(value, path, []);
      } catch (error) {
        if (!(error instanceof InterpolationError)) throw error;
        issues.push({
          path,
          position: parsed.positionOf(path),
          message: error.message,
          hint: error.hint,
        });
        return value;
      }
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (isPlainMap(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return value;
  };
  const value = walk(parsed.value, []);
  if (issues.length) throw new RecipeValidationError(issues);
  return { ...parsed, value };
}

/** `NAME:-fallback` → [NAME, fallback]; `NAME` → [NAME, undefined]. */
function splitFallback(text: string): [string, string | undefined] {
  const at = text.indexOf(":-");
  return at < 0 ? [text.trim(), undefined] : [text.slice(0, at).trim(), text.slice(at + 2)];
}

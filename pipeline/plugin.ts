/**
 * The plugin contract: a plugin is a plain object naming a set of stages.
 *
 * @module
 */
import { COMPONENT_KINDS, type ComponentDefinition, type ComponentKind } from "./component.ts";
import { STAGE_KINDS, type StageDefinition, type StageKind } from "./stage.ts";
import { describeCodeValue } from "./code_value.ts";
import { didYouMean } from "./suggest.ts";
import { z } from "zod";

/** The plugin API version this engine implements. */
export const PLUGIN_API_VERSION = 1;

/** A named bundle of stage implementations. */
export interface Plugin {
  /** The scope recipes write before each stage name: `core` in `core/train`. Lower case, digits, `-` and `_`. */
  readonly name: string;
  /** The plugin's own version, stamped into each run's resolved recipe. */
  readonly version: string;
  /** The plugin API version it was written for (default {@link PLUGIN_API_VERSION}). */
  readonly apiVersion?: number;
  /** One line on what it offers. */
  readonly description?: string;
  /** Its stages. */
  // deno-lint-ignore no-explicit-any
  readonly stages: readonly StageDefinition<StageKind, z.ZodType<any, any>>[];
  /** Its components (learning-rate schedules, ...), which stage options refer to by id. */
  // deno-lint-ignore no-explicit-any
  readonly components?: readonly ComponentDefinition<ComponentKind, z.ZodType<any, any>>[];
}

/**
 * Declares a plugin; an identity function, there for type checking.
 *
 * @example Usage
 * ```ts
 * import { definePlugin } from "./plugin.ts";
 * const plugin = definePlugin({ name: "demo", version: "1.0.0", stages: [] });
 * console.assert(plugin.name === "demo");
 * ```
 */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}

/**
 * The engine's public API, as a plugin factory receives it: everything
 * `pipeline/mod.ts` (and so `mod.ts`) exports, `definePlugin`, `defineStage`
 * and the engine's own `z` among them. A plugin published on npm, which
 * cannot import Capillary, types its factory's parameter with it (`import
 * type`, which leaves no import in the code that runs).
 */
export type CapillaryApi = typeof import("./mod.ts");

/**
 * A plugin module's default export that makes the plugin: the engine calls
 * it with {@link CapillaryApi} when a recipe loads the module, and uses what
 * it returns (or the promise resolves to) as the plugin.
 *
 * @example Usage
 * ```ts
 * import type { PluginFactory } from "./plugin.ts";
 * const factory: PluginFactory = (capillary) =>
 *   capillary.definePlugin({ name: "demo", version: "1.0.0", stages: [] });
 * const capillary = await import("./mod.ts");
 * console.assert((await factory(capillary)).name === "demo");
 * ```
 */
export type PluginFactory = (capillary: CapillaryApi) => Plugin | Promise<Plugin>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const isString = (value: unknown) => typeof value === "string";
const isFunction = (value: unknown) => typeof value === "function";
const isSchema = (value: unknown) => value instanceof z.ZodType;
// Plugin and stage names, as recipes write them in `use: plugin/name`.
const NAME = /^[a-z][a-z0-9_-]*$/;

/** How one field of the contract is checked and described. */
interface Field {
  /** The type in words: `a string`. */
  expected: string;
  /** Whether a value fits. */
  check: (value: unknown) => boolean;
  /** Whether it may be left out. */
  optional?: boolean;
  /** Said after `expected` when the field is missing: what it is for, an example. */
  missing?: string;
}

/** Adds `prefix + key: what is wrong` to `problems` when `owner[key]` misses `spec`. */
function checkField(
  problems: string[],
  owner: Record<string, unknown>,
  prefix: string,
  key: string,
  spec: Field,
): void {
  const value = owner[key];
  if (value === undefined) {
    if (!spec.optional) {
      problems.push(`${prefix}${key}: missing; expected ${spec.expected}${spec.missing ?? ""}`);
    }
  } else if (!spec.check(value)) {
    problems.push(`${prefix}${key}: expected ${spec.expected}, got ${describeCodeValue(value)}`);
  }
}

/** The check of a name: a plugin's scope, or a stage's or component's name in it. */
function checkName(problems: string[], owner: Record<string, unknown>, prefix: string): void {
  if (typeof owner.name === "string" && !NAME.test(owner.name)) {
    problems.push(
      `${prefix}name: expected lower case letters, digits, - or _, starting with a letter, got ${
        describeCodeValue(owner.name)
      }`,
    );
  } else {
    checkField(problems, owner, prefix, "name", {
      expected: "a string",
      check: isString,
      missing: " of lower case letters, digits, - or _",
    });
  }
}

/** The check of a stage's or component's `kind`, with a did-you-mean for a misspelling. */
function checkKind(
  problems: string[],
  part: Record<string, unknown>,
  prefix: string,
  what: string,
  kinds: readonly string[],
): void {
  const kind = part.kind;
  const all = kinds.map((k) => JSON.stringify(k)).join(", ");
  if (kind === undefined) problems.push(`${prefix}kind: missing; expected one of ${all}`);
  else if (typeof kind !== "string") {
    problems.push(`${prefix}kind: expected one of ${all}, got ${describeCodeValue(kind)}`);
  } else if (!kinds.includes(kind)) {
    problems.push(
      `${prefix}kind: unknown ${what} kind ${describeCodeValue(kind)}; ${didYouMean(kind, kinds)}`,
    );
  }
}

/**
 * The checks of a stage or component (`prefix` locates it, e.g. `stages.0.`):
 * what they share, then their functions (`run`, `plan`, ... or `create`).
 * One of the other list's kinds (a schedule under `stages:`) is said as
 * that alone: its missing `run` or `create` would only mislead.
 */
function checkPart(
  problems: string[],
  part: Record<string, unknown>,
  prefix: string,
  what: "stage" | "component",
  kinds: readonly string[],
  functions: Record<string, boolean>,
): void {
  const [list, other, otherKinds] = what === "stage"
    ? ["stages", "components", COMPONENT_KINDS as readonly string[]]
    : ["components", "stages", STAGE_KINDS as readonly string[]];
  if (typeof part.kind === "string" && otherKinds.includes(part.kind)) {
    const otherWhat = what === "stage" ? "component" : "stage";
    problems.push(
      `${prefix}kind: ${
        describeCodeValue(part.kind)
      } is a ${otherWhat} kind, not a ${what} kind; put this ${
        what === "stage" ? part.kind : "stage"
      } under \`${other}:\` instead of \`${list}:\``,
    );
    return;
  }
  checkName(problems, part, prefix);
  checkKind(problems, part, prefix, what, kinds);
  checkField(problems, part, prefix, "description", {
    expected: "a string",
    check: isString,
    missing: " (one line, shown in errors and editors)",
  });
  checkField(problems, part, prefix, "options", {
    expected: "a zod schema",
    check: isSchema,
    missing: ` of its \`with:\` options, such as z.object({}).strict()`,
  });
  for (const [key, optional] of Object.entries(functions)) {
    checkField(problems, part, prefix, key, {
      expected: "a function",
      check: isFunction,
      optional,
    });
  }
}

/** The checks of each item of a plugin's `stages` or `components`, when it is an array. */
function checkList(
  problems: string[],
  list: unknown,
  key: string,
  maker: string,
  each: (item: Record<string, unknown>, prefix: string) => void,
): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => {
    if (isObject(item)) each(item, `${key}.${i}.`);
    else {problems.push(
        `${key}.${i}: expected an object made with ${maker}, got ${describeCodeValue(item)}`,
      );}
  });
}

/**
 * A part of `list` whose name an earlier one has, said at the later one:
 * recipes name a stage `plugin/name` whatever its kind, a component by its
 * kind and `plugin/name`, so only the first would be found.
 */
function checkUnique(
  problems: string[],
  list: unknown,
  key: string,
  idOf: (part: Record<string, unknown>) => string,
): void {
  if (!Array.isArray(list)) return;
  const seen = new Map<string, number>();
  list.forEach((part, i) => {
    if (!isObject(part) || typeof part.name !== "string") return;
    const id = idOf(part);
    const first = seen.get(id);
    if (first === undefined) seen.set(id, i);
    else if (list[first] === part) {
      problems.push(`${key}.${i}: the same object as ${key}.${first}, listed twice; remove one`);
    } else {
      problems.push(
        `${key}.${i}.name: ${describeCodeValue(part.name)} is also the name of ${key}.${first}, ` +
          "and recipes could not tell them apart; rename one",
      );
    }
  });
}

/**
 * Every way `value` misses the plugin contract (see {@link Plugin}), each as
 * `key.path: what is wrong` in plain words, so that an author fixes them in
 * one go; empty when it fits. The plugin alone: the API version and a name
 * another plugin has are the registry's to check.
 *
 * @param value A plugin module's default export.
 * @returns The problems, in the order of the contract's fields.
 *
 * @example Usage
 * ```ts
 * import { pluginProblems } from "./plugin.ts";
 * const problems = pluginProblems({ name: "demo", version: 1, stages: [] });
 * console.assert(problems[0] === "version: expected a string, got 1");
 * ```
 */
export function pluginProblems(value: unknown): string[] {
  if (!isObject(value)) {
    return [`expected an object made with definePlugin, got ${describeCodeValue(value)}`];
  }
  const problems: string[] = [];
  checkName(problems, value, "");
  checkField(problems, value, "", "version", {
    expected: "a string",
    check: isString,
    missing: ' such as "1.0.0"',
  });
  if (value.version === "") problems.push('version: expected a version such as "1.0.0", got ""');
  checkField(problems, value, "", "apiVersion", {
    expected: "an integer",
    check: Number.isInteger,
    optional: true,
  });
  checkField(problems, value, "", "description", {
    expected: "a string",
    check: isString,
    optional: true,
  });
  checkField(problems, value, "", "stages", {
    expected: "an array of stages",
    check: Array.isArray,
    missing: " made with defineStage (it may be empty)",
  });
  checkList(
    problems,
    value.stages,
    "stages",
    "defineStage",
    (stage, prefix) =>
      checkPart(problems, stage, prefix, "stage", STAGE_KINDS, {
        run: false,
        plan: true,
        fingerprint: true,
      }),
  );
  checkUnique(problems, value.stages, "stages", (stage) => String(stage.name));
  checkField(problems, value, "", "components", {
    expected: "an array of components",
    check: Array.isArray,
    optional: true,
  });
  checkList(
    problems,
    value.components,
    "components",
    "defineSchedule, defineLoss or defineOptimizer",
    (component, prefix) =>
      checkPart(problems, component, prefix, "component", COMPONENT_KINDS, { create: false }),
  );
  checkUnique(
    problems,
    value.components,
    "components",
    (component) => `${component.kind}:${component.name}`,
  );
  return problems;
}

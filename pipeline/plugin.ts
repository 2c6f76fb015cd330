/**
 * The plugin contract: a plugin is a plain object naming a set of stages.
 *
 * @module
 */
import type { ComponentDefinition, ComponentKind } from "./component.ts";
import type { StageDefinition, StageKind } from "./stage.ts";
import type { z } from "zod";

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

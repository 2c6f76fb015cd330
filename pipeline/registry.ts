/**
 * The registry maps `plugin/stage` ids to stage implementations.
 *
 * @module
 */
import { z } from "zod";
import { PluginLoadError } from "./errors.ts";
import { type Plugin, PLUGIN_API_VERSION } from "./plugin.ts";
import { STAGE_KINDS, type StageDefinition } from "./stage.ts";

/** A registered stage with where it came from. */
export interface RegisteredStage {
  /** `plugin/name`. */
  readonly id: string;
  /** The implementation. */
  readonly stage: StageDefinition;
  /** The plugin that registered it. */
  readonly plugin: Plugin;
  /** The module the plugin came from (a path, URL or specifier), for error messages. */
  readonly origin: string;
}

const pluginShape = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/, "must be lower case letters, digits, - or _"),
  version: z.string().min(1),
  apiVersion: z.number().int().optional(),
  description: z.string().optional(),
  stages: z.array(
    z.object({
      name: z.string().regex(/^[a-z][a-z0-9_-]*$/, "must be lower case letters, digits, - or _"),
      kind: z.enum(STAGE_KINDS),
      description: z.string(),
      options: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "must be a zod schema"),
      run: z.custom<(...args: unknown[]) => unknown>(
        (v) => typeof v === "function",
        "must be a function",
      ),
      plan: z.custom<(...args: unknown[]) => unknown>(
        (v) => typeof v === "function",
        "must be a function",
      ).optional(),
    }).loose(),
  ),
}).loose();

/**
 * Stage implementations by id. Registering the same id twice is an error that
 * names both modules.
 *
 * @example Usage
 * ```ts
 * import { Registry } from "./registry.ts";
 * import { definePlugin } from "./plugin.ts";
 * const registry = new Registry();
 * registry.register(definePlugin({ name: "demo", version: "1.0.0", stages: [] }), "demo.ts");
 * console.assert(registry.plugins().length === 1);
 * ```
 */
export class Registry {
  readonly #stages = new Map<string, RegisteredStage>();
  readonly #plugins = new Map<string, { plugin: Plugin; origin: string }>();

  /**
   * Adds a plugin's stages.
   *
   * @param plugin The plugin object.
   * @param origin Where it came from, for error messages.
   * @throws {PluginLoadError} On a malformed plugin, an incompatible API version or a duplicate id.
   */
  register(plugin: Plugin, origin: string): void {
    const shape = pluginShape.safeParse(plugin);
    if (!shape.success) {
      const first = shape.error.issues[0];
      throw new PluginLoadError(
        `Cannot load plugin from "${origin}": ${first.path.join(".") || "export"} ${first.message}`,
      );
    }
    const api = plugin.apiVersion ?? PLUGIN_API_VERSION;
    if (api !== PLUGIN_API_VERSION) {
      throw new PluginLoadError(
        `Cannot load plugin "${plugin.name}" from "${origin}": it needs plugin API ${api}, this Capillary offers ${PLUGIN_API_VERSION}; use a version of the plugin written for API ${PLUGIN_API_VERSION}`,
      );
    }
    const earlier = this.#plugins.get(plugin.name);
    if (earlier) {
      if (earlier.plugin === plugin) return;
      throw new PluginLoadError(
        `Cannot load plugin "${plugin.name}" from "${origin}": "${earlier.origin}" already registered a plugin of that name; rename one of them`,
      );
    }
    const ids = new Set<string>();
    for (const stage of plugin.stages) {
      const id = `${plugin.name}/${stage.name}`;
      if (ids.has(id)) {
        throw new PluginLoadError(
          `Cannot load plugin "${plugin.name}" from "${origin}": it defines stage "${id}" twice`,
        );
      }
      ids.add(id);
    }
    this.#plugins.set(plugin.name, { plugin, origin });
    for (const stage of plugin.stages) {
      const id = `${plugin.name}/${stage.name}`;
      this.#stages.set(id, { id, stage: stage as StageDefinition, plugin, origin });
    }
  }

  /** The stage registered under `id`, if any. */
  get(id: string): RegisteredStage | undefined {
    return this.#stages.get(id);
  }

  /** Every registered stage id. */
  ids(): string[] {
    return [...this.#stages.keys()];
  }

  /** Every registered plugin with its origin. */
  plugins(): { plugin: Plugin; origin: string }[] {
    return [...this.#plugins.values()];
  }
}

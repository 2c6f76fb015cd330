/**
 * The registry maps `plugin/stage` ids to stage implementations.
 *
 * @module
 */
import { PluginLoadError } from "./errors.ts";
import {
  checkedComponent,
  type ComponentDefinition,
  type ComponentKind,
  type ComponentOutput,
  type ComponentRef,
  recordComponentSource,
} from "./component.ts";
import { resolvePluginSpecifier } from "./recipe/plugin_specifier.ts";
import { type Plugin, PLUGIN_API_VERSION, pluginProblems } from "./plugin.ts";
import type { StageDefinition } from "./stage.ts";

/** The origin the built-in plugins are registered with (`registry.register(core, BUILT_IN)`). */
export const BUILT_IN = "(built in)";

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

/** A component in the registry, with where it came from. */
export interface RegisteredComponent {
  /** `plugin/name`. */
  readonly id: string;
  /** The implementation. */
  readonly component: ComponentDefinition;
  /** The plugin that registered it. */
  readonly plugin: Plugin;
  /** The module the plugin came from, as the recipe wrote it, or {@link BUILT_IN}. */
  readonly origin: string;
}

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
  readonly #components = new Map<string, RegisteredComponent>();
  readonly #plugins = new Map<string, { plugin: Plugin; origin: string }>();

  /**
   * Adds a plugin's stages.
   *
   * @param plugin The plugin object.
   * @param origin Where it came from, for error messages.
   * @throws {PluginLoadError} On a malformed plugin (one that defines a stage id twice
   * among them), an incompatible API version or a name another plugin has.
   */
  register(plugin: Plugin, origin: string): void {
    // One contract check for the registry and the recipe loader (plugin.ts), all problems at once.
    const problems = pluginProblems(plugin);
    if (problems.length) {
      throw new PluginLoadError(`Cannot load plugin from "${origin}": ${problems.join("; ")}`);
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
        earlier.origin === BUILT_IN
          ? `Cannot load plugin "${plugin.name}" from "${origin}": "${plugin.name}" is the name of a built-in plugin; choose another name for yours`
          : `Cannot load plugin "${plugin.name}" from "${origin}": "${earlier.origin}" already registered a plugin of that name; rename one of them`,
      );
    }
    this.#plugins.set(plugin.name, { plugin, origin });
    for (const stage of plugin.stages) {
      const id = `${plugin.name}/${stage.name}`;
      this.#stages.set(id, { id, stage: stage as StageDefinition, plugin, origin });
    }
    for (const component of plugin.components ?? []) {
      const id = `${plugin.name}/${component.name}`;
      this.#components.set(`${component.kind}:${id}`, { id, component, plugin, origin });
    }
  }

  /** The component of `kind` registered under `id`, if any. */
  component(kind: ComponentKind, id: string): RegisteredComponent | undefined {
    return this.#components.get(`${kind}:${id}`);
  }

  /** Every registered component id of `kind`. */
  componentIds(kind: ComponentKind): string[] {
    return [...this.#components.values()].filter((c) => c.component.kind === kind).map((c) => c.id);
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

/**
 * The `createComponent` a stage's context offers: builds a component that
 * validation resolved (`ResolvedRecipe.components`, keyed `kind:plugin/name`),
 * checked against its kind's contract (`checkedComponent`), so that a
 * plugin's faulty component is named, not the stage that uses it. A
 * component of a plugin loaded from a module (not a built-in one) records
 * where it came from ({@link componentSource}), so that a worker thread can
 * build it again.
 *
 * @param components The recipe's resolved components.
 * @param pluginDir The folder the recipe's plugin paths are relative to (its file's).
 * @throws {Error} For a reference validation did not resolve (a stage bug).
 * @throws {CapillaryError} `E_COMPONENT` when the component's `create` throws
 * or gives the wrong thing; the schedule it gives throws it when a call fails.
 */
export function componentCreator(
  components: ReadonlyMap<string, RegisteredComponent>,
  pluginDir = ".",
): <C extends ComponentKind>(kind: C, ref: ComponentRef) => ComponentOutput[C] {
  return <C extends ComponentKind>(kind: C, ref: ComponentRef) => {
    const found = components.get(`${kind}:${ref.use}`);
    if (!found) throw new Error(`no ${kind} "${ref.use}" was resolved for this recipe`);
    const made = checkedComponent(kind, found.id, () => found.component.create(ref.with));
    if (found.origin !== BUILT_IN) {
      recordComponentSource(made, {
        kind,
        id: found.id,
        specifier: resolvePluginSpecifier(found.origin, pluginDir),
        name: found.component.name,
        options: ref.with,
      });
    }
    return made;
  };
}

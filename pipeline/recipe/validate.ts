/**
 * Validates a parsed recipe against the registry: the top level, then every
 * stage's implementation and options. Collects all problems before failing.
 *
 * @module
 */
import { type RecipeIssue, RecipeValidationError, type SourcePosition } from "../errors.ts";
import { componentOptions, type ComponentRef } from "../component.ts";
import type { RegisteredComponent, RegisteredStage, Registry } from "../registry.ts";
import { CHAIN_KINDS, OPTIONAL_KINDS, STAGE_KINDS, type StageKind } from "../stage.ts";
import { closest, didYouMean } from "../suggest.ts";
import type { KeyPath, ParsedRecipe } from "./parse.ts";
import { recipeSchema, type RecipeTop, stageEntrySchema } from "./schema.ts";
import { describeValue, strippedKeyIssues, zodIssuesToRecipeIssues } from "./zod_issues.ts";

/** One stage of a resolved recipe: its implementation and fully defaulted options. */
export interface ResolvedStage {
  /** `plugin/name`. */
  readonly id: string;
  /** Its slot. */
  readonly kind: StageKind;
  /** Options after defaults. */
  readonly options: Record<string, unknown>;
  /** The implementation. */
  readonly registered: RegisteredStage;
  /** Model stage only: the earlier run whose weights to start from, as written, and where. */
  readonly from?: { readonly path: string; readonly position: SourcePosition };
}

/** A recipe with every default filled in: exactly what will run. */
export interface ResolvedRecipe extends Omit<RecipeTop, "stages" | "name"> {
  /** The run's name. */
  readonly name: string;
  /** The recipe file. */
  readonly file: string;
  /** Stages by kind, in run order; chain kinds may hold several, others one. */
  readonly stages: ReadonlyMap<StageKind, readonly ResolvedStage[]>;
  /** The components the stages' options refer to, by `kind:plugin/name`. */
  readonly components: ReadonlyMap<string, RegisteredComponent>;
}

/** "an" before a vowel ("an augment stage"), else "a". */
const article = (word: string) => /^[aeiou]/i.test(word) ? "an" : "a";

/**
 * The hint for a stage id written without its plugin (`flip_rotate`): the
 * registered ids of that name, else a did-you-mean over all ids.
 */
function bareIdHint(use: string, ids: readonly string[]): string {
  const nameOf = (id: string) => id.slice(id.indexOf("/") + 1);
  let named = ids.filter((id) => nameOf(id) === use);
  if (!named.length) {
    const near = new Set(closest(use, ids.map(nameOf)));
    named = ids.filter((id) => near.has(nameOf(id)));
  }
  return named.length
    ? `stage ids carry their plugin: did you mean ${named.map((id) => `"${id}"`).join(" or ")}?`
    : `stage ids carry their plugin (plugin/name); ${didYouMean(use, ids)}`;
}

/** The name of a recipe that writes none: its file's, without `.yaml`. */
export function defaultRecipeName(file: string): string {
  return file.split(/[\\/]/).pop()!.replace(/\.ya?ml$/i, "");
}

/**
 * Validates the top level of a parsed recipe (everything except stage options).
 *
 * @returns The defaulted top level, or the issues found. When only keys other
 * than `stages` and `plugins` are at fault, `partial` is the top level without
 * them, so that the stages can still be checked and every problem reported at once.
 */
export function validateTop(
  parsed: ParsedRecipe,
): { top?: RecipeTop; partial?: RecipeTop; issues: RecipeIssue[] } {
  if (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
    return {
      issues: [{
        path: [],
        position: parsed.positionOf([]),
        message: `a recipe must be a map of keys (name, seed, stages, ...), got ${
          describeValue(parsed.value)
        }`,
      }],
    };
  }
  const result = recipeSchema.safeParse(parsed.value);
  if (result.success) return { top: result.data, issues: [] };
  const issues = zodIssuesToRecipeIssues(
    result.error.issues,
    recipeSchema,
    parsed.value,
    parsed,
    [],
  );
  const faulty = new Set(
    result.error.issues.flatMap((i) =>
      i.code === "unrecognized_keys" && i.path.length === 0 ? i.keys : [String(i.path[0])]
    ),
  );
  if (faulty.has("stages") || faulty.has("plugins")) return { issues };
  const rest = Object.fromEntries(Object.entries(parsed.value).filter(([k]) => !faulty.has(k)));
  const retry = recipeSchema.safeParse(rest);
  return { partial: retry.success ? retry.data : undefined, issues };
}

function validateStage(
  kind: StageKind,
  raw: unknown,
  path: KeyPath,
  parsed: ParsedRecipe,
  registry: Registry,
  issues: RecipeIssue[],
  components: Map<string, RegisteredComponent>,
  missingPlugin: (id: string) => string | undefined,
): ResolvedStage | undefined {
  const entry = stageEntrySchema.safeParse(raw);
  if (!entry.success) {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      issues.push({
        path,
        position: parsed.positionOf(path),
        message: `expected a map with "use" (and optional "with"), got ${describeValue(raw)}`,
        hint: `e.g. ${kind}: { use: core/..., with: { ... } }`,
      });
    } else {
      issues.push(
        ...zodIssuesToRecipeIssues(entry.error.issues, stageEntrySchema, raw, parsed, path),
      );
    }
    return undefined;
  }
  const { use } = entry.data;
  const registered = registry.get(use);
  if (!registered) {
    const hint = missingPlugin(use) ??
      (use.includes("/") ? didYouMean(use, registry.ids()) : bareIdHint(use, registry.ids()));
    issues.push({
      path: [...path, "use"],
      position: parsed.positionOf([...path, "use"]),
      message: `unknown stage "${use}"`,
      hint,
    });
    return undefined;
  }
  if (registered.stage.kind !== kind) {
    const same = registry.ids().filter((id) => registry.get(id)!.stage.kind === kind);
    issues.push({
      path: [...path, "use"],
      position: parsed.positionOf([...path, "use"]),
      message: `"${use}" is ${article(registered.stage.kind)} ${registered.stage.kind} stage ` +
        `and cannot fill the ${kind} slot`,
      hint: same.length ? `${kind} stages: ${same.join(", ")}` : undefined,
    });
    return undefined;
  }
  const options = entry.data.with ?? {};
  const result = registered.stage.options.safeParse(options);
  // zod drops the keys a non-strict object does not know; the recipe must not.
  const stripped = strippedKeyIssues(registered.stage.options, options);
  if (!result.success || stripped.length) {
    issues.push(
      ...zodIssuesToRecipeIssues(
        [...stripped, ...(result.error?.issues ?? [])],
        registered.stage.options,
        options,
        parsed,
        [...path, "with"],
      ),
    );
    return undefined;
  }
  const resolved = result.data as Record<string, unknown>;
  const before = issues.length;
  for (const [key, componentKind] of componentOptions(registered.stage.options)) {
    const ref = resolved[key] as ComponentRef | undefined;
    // Null, or another choice of a union the reference is one of (a built-in optimizer).
    if (!ref || typeof ref.use !== "string") continue;
    const refPath = [...path, "with", key];
    const found = registry.component(componentKind, ref.use);
    if (!found) {
      issues.push({
        path: [...refPath, "use"],
        position: parsed.positionOf([...refPath, "use"]),
        message: `unknown ${componentKind} "${ref.use}"`,
        hint: missingPlugin(ref.use) ?? didYouMean(ref.use, registry.componentIds(componentKind)),
      });
      continue;
    }
    const checked = found.component.options.safeParse(ref.with);
    const strippedRef = strippedKeyIssues(found.component.options, ref.with);
    if (!checked.success || strippedRef.length) {
      issues.push(
        ...zodIssuesToRecipeIssues(
          [...strippedRef, ...(checked.error?.issues ?? [])],
          found.component.options,
          ref.with,
          parsed,
          [...refPath, "with"],
        ),
      );
      continue;
    }
    // With the stage's own settings beside `use` and `with` (`componentRefWith`), if any.
    resolved[key] = { ...ref, with: checked.data };
    components.set(`${componentKind}:${ref.use}`, found);
  }
  const from = entry.data.from;
  if (from !== undefined && kind !== "model") {
    issues.push({
      path: [...path, "from"],
      position: parsed.positionOf([...path, "from"], "key"),
      message: `"from" belongs to the model stage, not ${kind}`,
      hint: "to start from an earlier run's weights, write it under stages.model",
    });
  }
  if (issues.length > before) return undefined;
  return {
    id: use,
    kind,
    options: resolved,
    registered,
    ...(from === undefined
      ? {}
      : { from: { path: from, position: parsed.positionOf([...path, "from"]) } }),
  };
}

/**
 * Validates a whole recipe against the registered stages.
 *
 * @param parsed The parsed recipe.
 * @param registry Registered stages (core and the recipe's plugins).
 * @param top The top level, if already validated.
 * @param earlier Problems already found (in the top level), to report with the rest.
 * @param pluginHint For an id whose plugin is not registered, why it may be missing
 * (a base's plugins that a later list replaced), by plugin name.
 * @returns The resolved recipe.
 * @throws {RecipeValidationError} Listing every problem, each with its position.
 */
export function validateRecipe(
  parsed: ParsedRecipe,
  registry: Registry,
  top?: RecipeTop,
  earlier: readonly RecipeIssue[] = [],
  pluginHint?: (plugin: string) => string | undefined,
): ResolvedRecipe {
  const loaded = new Set(registry.plugins().map((p) => p.plugin.name));
  const missingPlugin = (id: string) => {
    const plugin = id.split("/")[0];
    return id.includes("/") && !loaded.has(plugin) ? pluginHint?.(plugin) : undefined;
  };
  const issues: RecipeIssue[] = [...earlier];
  if (!top) {
    const checked = validateTop(parsed);
    issues.push(...checked.issues);
    top = checked.top ?? checked.partial;
  }
  if (!top) throw new RecipeValidationError(issues);
  const stages = new Map<StageKind, ResolvedStage[]>();
  const components = new Map<string, RegisteredComponent>();
  for (const [kind, raw] of Object.entries(top.stages)) {
    const path = ["stages", kind];
    if (!(STAGE_KINDS as readonly string[]).includes(kind)) {
      issues.push({
        path,
        position: parsed.positionOf(path, "key"),
        message: `unknown stage kind "${kind}"`,
        hint: didYouMean(kind, STAGE_KINDS),
      });
      continue;
    }
    const k = kind as StageKind;
    if (Array.isArray(raw)) {
      if (!CHAIN_KINDS.has(k)) {
        issues.push({
          path,
          position: parsed.positionOf(path),
          message: `"${kind}" takes one stage, not a list`,
          hint: `lists are allowed for ${[...CHAIN_KINDS].join(" and ")}`,
        });
        continue;
      }
      const list = raw.map((r, i) =>
        validateStage(k, r, [...path, i], parsed, registry, issues, components, missingPlugin)
      );
      stages.set(k, list.filter((s): s is ResolvedStage => s !== undefined));
    } else {
      const stage = validateStage(
        k,
        raw,
        path,
        parsed,
        registry,
        issues,
        components,
        missingPlugin,
      );
      stages.set(k, stage ? [stage] : []);
    }
  }
  for (const kind of STAGE_KINDS) {
    if (!OPTIONAL_KINDS.has(kind) && !(kind in top.stages)) {
      issues.push({
        path: ["stages", kind],
        position: parsed.deletedAt?.(["stages", kind]) ?? parsed.positionOf(["stages"], "key"),
        message: `missing stage "${kind}"`,
        hint: `add "${kind}: { use: ... }" under stages; ${
          registry.ids().filter((id) => registry.get(id)!.stage.kind === kind).join(", ") ||
          "no plugin offers one"
        }`,
      });
    }
  }
  if (issues.length) {
    issues.sort((a, b) =>
      a.position.line - b.position.line || a.position.column - b.position.column
    );
    throw new RecipeValidationError(issues);
  }
  const ordered = new Map<StageKind, ResolvedStage[]>();
  for (const kind of STAGE_KINDS) if (stages.has(kind)) ordered.set(kind, stages.get(kind)!);
  const name = top.name ?? defaultRecipeName(parsed.file);
  const { stages: _raw, ...rest } = top;
  return { ...rest, name, file: parsed.file, stages: ordered, components };
}

/**
 * Components: small named parts a stage's options refer to by id, as a
 * recipe refers to stages — `schedule: { use: core/cosine, with: { ... } }`.
 * Plugins register them beside their stages; the recipe is validated against
 * each component's own zod schema, with positions, before anything runs.
 *
 * A component is a factory: `create(options)` gives the object the stage
 * uses (for a learning-rate schedule, a function of training progress), so
 * its options stay plain, serialisable data in the resolved recipe.
 *
 * @module
 */
import { z } from "zod";

/** Kinds of component. */
export const COMPONENT_KINDS = ["schedule"] as const;

/** One of {@link COMPONENT_KINDS}. */
export type ComponentKind = typeof COMPONENT_KINDS[number];

/**
 * The learning rate at `epoch` (fractional; 0 at the start) of `epochs`, from
 * the base rate. A schedule that reacts to validation (reduce on plateau)
 * also has `observe`, which the training loop calls after each epoch with
 * the validation loss, and `state`/`restore` so that checkpoints keep it.
 */
export type LearningRateSchedule = ((epoch: number, base: number, epochs: number) => number) & {
  /** Called after epoch `epoch` (from 1) with its validation loss. */
  observe?(epoch: number, validationLoss: number): void;
  /** JSON state, for checkpoints. */
  state?(): unknown;
  /** Restores what `state` gave. */
  restore?(state: unknown): void;
};

/** What `create` gives, per kind. */
export interface ComponentOutput {
  schedule: LearningRateSchedule;
}

/** A component implementation: named, with a zod schema for its options. */
export interface ComponentDefinition<
  K extends ComponentKind = ComponentKind,
  S extends z.ZodType = z.ZodType,
> {
  /** The name within its plugin (recipes write `plugin/name`). */
  readonly name: string;
  /** What it is. */
  readonly kind: K;
  /** One line on what it does. */
  readonly description: string;
  /** Its options' schema: the single source of their types, defaults and docs. */
  readonly options: S;
  /** Builds the component from its validated options. */
  create(options: z.output<S>): ComponentOutput[K];
}

/**
 * Declares a learning-rate schedule.
 *
 * @example Usage
 * ```ts
 * import { z } from "zod";
 * import { defineSchedule } from "./component.ts";
 * const halving = defineSchedule({
 *   name: "halving",
 *   description: "Halves the rate every epoch.",
 *   options: z.object({}).strict(),
 *   create: () => (epoch, base) => base * 0.5 ** Math.floor(epoch),
 * });
 * console.assert(halving.create({})(2.5, 1, 5) === 0.25);
 * ```
 */
export function defineSchedule<S extends z.ZodType>(
  definition: Omit<ComponentDefinition<"schedule", S>, "kind">,
): ComponentDefinition<"schedule", S> {
  return { ...definition, kind: "schedule" };
}

/** A reference to a component in a stage's options, as a recipe writes it. */
export interface ComponentRef {
  /** `plugin/name`. */
  readonly use: string;
  /** The component's options (validated against its schema when the recipe loads). */
  readonly with: Record<string, unknown>;
}

const REF_MARK = "capillaryComponent";

/**
 * The zod schema of a component reference of `kind` in a stage's options.
 * The engine finds these in a stage's options schema, checks `use` against
 * the registered components of that kind and `with` against the one named.
 *
 * @param kind The component kind.
 * @param fallback The default reference, when the option may be left out.
 */
export function componentRef(kind: ComponentKind, fallback?: ComponentRef) {
  const ref = z.object({
    use: z.string().describe(`The ${kind}, as \`plugin/name\`.`),
    with: z.record(z.string(), z.unknown()).nullable().default({})
      .transform((v) => v ?? {})
      .describe(`The ${kind}'s options.`),
  }).strict().meta({ [REF_MARK]: kind });
  return fallback ? ref.default(fallback) : ref;
}

/**
 * The component references among a stage's top-level options: option name
 * to kind. Only top-level options are searched.
 */
export function componentOptions(options: z.ZodType): Map<string, ComponentKind> {
  const found = new Map<string, ComponentKind>();
  const shape = (options as unknown as { shape?: Record<string, z.ZodType> }).shape;
  if (!shape) return found;
  for (const [key, schema] of Object.entries(shape)) {
    let inner: z.ZodType | undefined = schema;
    // Look through .default() / .optional() wrappers for the mark.
    for (let depth = 0; inner && depth < 4; depth++) {
      const kind = z.globalRegistry.get(inner)?.[REF_MARK] as ComponentKind | undefined;
      if (kind) {
        found.set(key, kind);
        break;
      }
      inner = (inner as unknown as { def?: { innerType?: z.ZodType } }).def?.innerType;
    }
  }
  return found;
}

/**
 * The JSON Schema of recipes, generated from the zod schemas (the single
 * source of truth): the top level from `recipeSchema`, and for each stage
 * slot one alternative per registered stage of that kind, its `with` options
 * from the stage's own schema. Editors that speak JSON Schema (VS Code's YAML
 * extension, via the `yaml-language-server` modeline each recipe carries)
 * then complete and check recipes as they are typed.
 *
 * @module
 */
import { z } from "zod";
import { COMPONENT_REF_MARK, type ComponentKind, componentOptions } from "../component.ts";
import type { Registry } from "../registry.ts";
import { CHAIN_KINDS, OPTIONAL_KINDS, STAGE_KINDS } from "../stage.ts";
import { recipeSchema, stageEntrySchema } from "./schema.ts";

/** A JSON Schema document, as plain data. */
export type JsonSchema = Record<string, unknown>;

/** The modeline that points an editor at the schema; `path` is relative to the recipe. */
export function schemaModeline(path: string): string {
  return `# yaml-language-server: $schema=${path}`;
}

function toJsonSchema(schema: z.ZodType): JsonSchema {
  // "input": what a user may write (defaults make keys optional); transforms
  // and custom checks have no JSON Schema form, so they accept anything.
  const json = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    // zod strips the keys a plain z.object does not know, but validation reports them
    // (`strippedKeyIssues`): editors must flag them too.
    override: ({ zodSchema, jsonSchema }) => {
      const def = (zodSchema as unknown as { _zod: { def: { type: string; catchall?: unknown } } })
        ._zod.def;
      if (def.type === "object" && def.catchall === undefined) {
        jsonSchema.additionalProperties = false;
      }
      // A plugin's own copy of zod (another zod 4 version) keeps `.describe()` and `.meta()`
      // in its own registry, which this zod does not read; the schema itself still tells them.
      if (!z.globalRegistry.has(zodSchema)) {
        const meta = (zodSchema as { meta?: () => unknown }).meta;
        const foreign = typeof meta === "function" ? meta.call(zodSchema) : undefined;
        if (foreign && typeof foreign === "object") {
          for (const [key, value] of Object.entries(foreign)) {
            if (key !== "id" && jsonSchema[key] === undefined) jsonSchema[key] = value;
          }
        }
      }
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

/**
 * A reference to one of the registered components of `kind`: `{ use, with }`,
 * and the other settings `ref` (the reference's own JSON Schema) has beside them.
 */
function componentAlternatives(
  kind: ComponentKind,
  registry: Registry,
  ref: JsonSchema = {},
): JsonSchema[] {
  const { use: _use, with: _with, ...extra } = (ref.properties ?? {}) as Record<
    string,
    JsonSchema
  >;
  const required = Array.isArray(ref.required) ? ref.required : ["use"];
  return registry.componentIds(kind).map((id) => {
    const { component } = registry.component(kind, id)!;
    return {
      type: "object",
      description: component.description,
      properties: {
        use: { const: id, description: component.description },
        with: { anyOf: [toJsonSchema(component.options), { type: "null" }] },
        ...extra,
      },
      required,
      additionalProperties: false,
    };
  });
}

/**
 * The default of `schema` (through `.describe()`d, optional and nullable
 * wrappers), for the JSON Schema: zod leaves out a default in front of a
 * transform (a component reference's `with` has one) from the input schema.
 */
function zodDefault(schema: z.ZodType | undefined): unknown {
  let s = schema;
  for (let depth = 0; s && depth < 8; depth++) {
    const def = (s as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })
      ._zod.def;
    if (def.type === "default") return (def as unknown as { defaultValue: unknown }).defaultValue;
    s = def.innerType;
  }
  return undefined;
}

/**
 * A stage's options, with each component reference narrowed to the registered
 * components: the option itself, or the choices of its union that are one
 * (`core/train`'s optimizer: its built-in kinds stay as they are).
 */
function optionsSchema(options: z.ZodType, registry: Registry): JsonSchema {
  const json = toJsonSchema(options);
  const properties = json.properties as Record<string, JsonSchema> | undefined;
  const isRef = (choice: unknown) =>
    typeof choice === "object" && choice !== null && COMPONENT_REF_MARK in choice;
  for (const [key, kind] of componentOptions(options)) {
    if (!properties?.[key]) continue;
    const { default: fallback, description, anyOf } = properties[key];
    // A reference that may be null (`componentRef(kind).nullable()`) keeps null as one choice,
    // and one in a union its other choices.
    const choices = isRef(properties[key])
      ? componentAlternatives(kind, registry, properties[key])
      : (Array.isArray(anyOf) ? anyOf as JsonSchema[] : []).flatMap((choice) =>
        isRef(choice) ? componentAlternatives(kind, registry, choice) : [choice]
      );
    const shape = (options as unknown as { shape?: Record<string, z.ZodType> }).shape;
    const given = fallback ?? zodDefault(shape?.[key]);
    properties[key] = {
      anyOf: choices,
      ...(description ? { description } : {}),
      ...(given !== undefined ? { default: given } : {}),
    };
  }
  return json;
}

/**
 * Builds the recipe JSON Schema for every stage in `registry`.
 *
 * @param registry The registered stages (the core plugin and any others).
 * @returns A JSON Schema (draft 2020-12) document.
 *
 * @example Usage
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { recipeJsonSchema } from "./json_schema.ts";
 * const schema = recipeJsonSchema(new Registry());
 * console.assert(schema.type === "object");
 * ```
 */
export function recipeJsonSchema(registry: Registry): JsonSchema {
  const top = toJsonSchema(recipeSchema);
  const fromSchema = toJsonSchema(stageEntrySchema.shape.from);
  const stageProperties: Record<string, JsonSchema> = {};
  for (const kind of STAGE_KINDS) {
    const entries = registry.ids()
      .map((id) => registry.get(id)!)
      .filter((r) => r.stage.kind === kind)
      .map((r): JsonSchema => ({
        type: "object",
        description: r.stage.description,
        properties: {
          use: { const: r.id, description: `${r.stage.description} (plugin ${r.plugin.name})` },
          // An empty `with:` is null in YAML, and allowed.
          with: {
            anyOf: [optionsSchema(r.stage.options, registry), { type: "null" }],
            description: `Options of ${r.id}.`,
          },
          ...(kind === "model" ? { from: fromSchema } : {}),
        },
        required: ["use"],
        additionalProperties: false,
      }));
    const entry: JsonSchema = entries.length
      ? { anyOf: entries }
      : { type: "object", properties: { use: { type: "string" } }, required: ["use"] };
    stageProperties[kind] = CHAIN_KINDS.has(kind)
      ? { anyOf: [entry, { type: "array", items: entry }], description: `The ${kind} stage(s).` }
      : { ...entry, description: `The ${kind} stage.` };
  }
  const properties = top.properties as Record<string, JsonSchema>;
  properties.stages = {
    type: "object",
    description: (properties.stages as JsonSchema)?.description,
    properties: stageProperties,
    additionalProperties: false,
  };
  // A recipe that extends another may leave out what its base gives; one that
  // does not must name every required stage.
  const required = (top.required as string[] | undefined ?? []).filter((k) => k !== "stages");
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "Capillary recipe",
    ...top,
    required,
    if: { required: ["extends"] },
    else: {
      required: ["stages"],
      properties: {
        stages: { required: STAGE_KINDS.filter((k) => !OPTIONAL_KINDS.has(k)) },
      },
    },
  };
}

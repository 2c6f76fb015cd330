import { assertEquals } from "../../tests/assert.ts";
import loose from "../../tests/fixtures/loose_options_plugin.ts";
import { Registry } from "../registry.ts";
import { type JsonSchema, recipeJsonSchema } from "./json_schema.ts";

Deno.test("recipeJsonSchema() flags the keys a plain z.object does not know, as validation does", () => {
  const registry = new Registry();
  registry.register(loose, "loose_options_plugin.ts");
  const schema = recipeJsonSchema(registry);
  const stages = (schema.properties as Record<string, JsonSchema>).stages;
  const augment = (stages.properties as Record<string, JsonSchema>).augment;
  const entries = (augment.anyOf as JsonSchema[])[0].anyOf as JsonSchema[];
  const optionsOf = (id: string) => {
    const entry = entries.find((e) =>
      (e.properties as Record<string, JsonSchema>).use.const === id
    )!;
    return ((entry.properties as Record<string, JsonSchema>).with.anyOf as JsonSchema[])[0];
  };
  const noise = optionsOf("loose/noise");
  assertEquals(noise.additionalProperties, false);
  assertEquals((noise.properties as Record<string, JsonSchema>).jitter.additionalProperties, false);
  // z.looseObject: its author accepts any other key.
  assertEquals(optionsOf("loose/anything").additionalProperties, {});
});

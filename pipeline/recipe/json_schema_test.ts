import { assertEquals } from "../../tests/assert.ts";
import loose from "../../tests/fixtures/loose_options_plugin.ts";
import { Registry } from "../registry.ts";
import { type JsonSchema, recipeJsonSchema } from "./json_schema.ts";
import { componentRef, defineLoss } from "../component.ts";
import { definePlugin } from "../plugin.ts";
import { defineStage } from "../stage.ts";
import { z } from "zod";

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

Deno.test("recipeJsonSchema() keeps null as a choice of a nullable component reference", () => {
  const registry = new Registry();
  const flat = defineLoss({
    name: "flat",
    description: "Zero everywhere.",
    options: z.object({ scale: z.number().default(1) }).strict(),
    create: () => (_yTrue, yPred) => yPred,
  });
  registry.register(
    definePlugin({
      name: "p",
      version: "1.0.0",
      stages: [defineStage({
        name: "t",
        kind: "train",
        description: "Trains with an optional loss.",
        options: z.object({
          loss: componentRef("loss").nullable().default(null).describe("The loss; null: BCE."),
        }).strict(),
        run: () => {
          throw new Error("not run");
        },
      })],
      components: [flat],
    }),
    "p.ts",
  );
  const schema = recipeJsonSchema(registry);
  const stages = (schema.properties as Record<string, JsonSchema>).stages;
  const entry = ((stages.properties as Record<string, JsonSchema>).train.anyOf as JsonSchema[])[0];
  const withSchema = (entry.properties as Record<string, JsonSchema>).with;
  const options = (withSchema.anyOf as JsonSchema[])[0];
  const loss = (options.properties as Record<string, JsonSchema>).loss;
  const choices = loss.anyOf as JsonSchema[];
  assertEquals(choices.length, 2);
  assertEquals((choices[0].properties as Record<string, JsonSchema>).use, {
    const: "p/flat",
    description: "Zero everywhere.",
  });
  assertEquals(choices[1], { type: "null" });
  assertEquals(loss.description, "The loss; null: BCE.");
});

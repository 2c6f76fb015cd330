/**
 * `core/train`'s `optimizer` option: the built-in kinds, or a plugin's
 * optimizer component `{ use, with, learningRate }`, found by the engine (to
 * validate its `with`) and offered in the recipe JSON Schema beside the
 * built-in kinds. Whole recipes are in tests/optimizer_plugin_test.ts.
 */
import { assertEquals } from "../../../tests/assert.ts";
import { componentOptions, defineOptimizer, Registry, tf, z } from "../../../mod.ts";
import { type JsonSchema, recipeJsonSchema } from "../../../pipeline/recipe/json_schema.ts";
import core from "../mod.ts";
import { trainOptions } from "./train_options.ts";

Deno.test("trainOptions: optimizer is core's SGD by default, or a plugin's with its base rate", () => {
  assertEquals(trainOptions.parse({}).optimizer, {
    type: "sgd",
    learningRate: 0.01,
    momentum: 0.9,
    nesterov: false,
    weightDecay: 0,
    decayExclude: [],
  });
  assertEquals(
    trainOptions.parse({ optimizer: { learningRate: 0.1 } }).optimizer.learningRate,
    0.1,
  );
  assertEquals(
    trainOptions.parse({ optimizer: { use: "p/lion", learningRate: 1e-4 } }).optimizer,
    { use: "p/lion", with: {}, learningRate: 1e-4 },
  );
  // The engine finds the reference among the union's choices, to validate its `with`.
  assertEquals(componentOptions(trainOptions).get("optimizer"), "optimizer");
  // A plugin's optimizer has no default rate: it is its own.
  const missing = trainOptions.safeParse({ optimizer: { use: "p/lion" } });
  assertEquals(missing.error?.issues.map((i) => i.path), [["optimizer", "learningRate"]]);
});

Deno.test("trainOptions refuses weightDecay and decayExclude beside a plugin's optimizer", () => {
  for (const [key, value] of [["weightDecay", 0.01], ["decayExclude", ["*/bias"]]] as const) {
    const result = trainOptions.safeParse({
      optimizer: { use: "p/lion", learningRate: 1e-4, [key]: value },
    });
    assertEquals(result.success, false);
    assertEquals(result.error!.issues.map((i) => i.path), [["optimizer", key]]);
    assertEquals(
      result.error!.issues[0].message,
      `${key} belongs to the built-in sgd and adamw, not the plugin's optimizer p/lion: leave ` +
        "it out, and give the optimizer its decay in its own options (under `with`)",
    );
  }
});

Deno.test("recipeJsonSchema() offers each plugin optimizer beside core's built-in kinds", () => {
  const registry = new Registry();
  registry.register(core, "(built in)");
  registry.register({
    name: "p",
    version: "1.0.0",
    stages: [],
    components: [defineOptimizer({
      name: "rmsprop",
      description: "RMSProp from tfjs.",
      options: z.object({ decay: z.number().default(0.9) }).strict(),
      create: ({ decay }) => (rate) => tf.train.rmsprop(rate, decay),
    })],
  }, "p.ts");
  const schema = recipeJsonSchema(registry);
  const stages = (schema.properties as Record<string, JsonSchema>).stages;
  const entry = ((stages.properties as Record<string, JsonSchema>).train.anyOf as JsonSchema[])
    .find((e) => (e.properties as Record<string, JsonSchema>).use.const === "core/train")!;
  const withSchema = (entry.properties as Record<string, JsonSchema>).with;
  const options = (withSchema.anyOf as JsonSchema[])[0];
  const optimizer = (options.properties as Record<string, JsonSchema>).optimizer;
  const choices = optimizer.anyOf as JsonSchema[];
  // sgd, adam/adamw, then the plugin's, with the settings beside `use` and `with`.
  assertEquals(choices.length, 3);
  assertEquals((choices[0].properties as Record<string, JsonSchema>).type.default, "sgd");
  const plugin = choices[2];
  const properties = plugin.properties as Record<string, JsonSchema>;
  assertEquals(properties.use, { const: "p/rmsprop", description: "RMSProp from tfjs." });
  assertEquals(Object.keys(properties), [
    "use",
    "with",
    "learningRate",
    "weightDecay",
    "decayExclude",
  ]);
  assertEquals(properties.learningRate.type, "number");
  // Refused there: an editor flags them.
  assertEquals(properties.weightDecay.not, {});
  assertEquals(plugin.required, ["use"]);
  assertEquals(plugin.additionalProperties, false);
  assertEquals("capillaryComponent" in plugin, false);
  assertEquals(JSON.stringify(schema).includes("capillaryComponent"), false);
  assertEquals(optimizer.default, trainOptions.parse({}).optimizer);
});

import { z } from "zod";
import { assertEquals, assertThrows } from "../tests/assert.ts";
import { CapillaryError, PluginLoadError } from "./errors.ts";
import { definePlugin, type Plugin, PLUGIN_API_VERSION } from "./plugin.ts";
import { BUILT_IN, componentCreator, type RegisteredComponent, Registry } from "./registry.ts";
import { defineStage } from "./stage.ts";
import { type ComponentDefinition, componentSource, defineSchedule } from "./component.ts";

const flip = defineStage({
  name: "flip",
  kind: "augment",
  description: "Returns the batch unchanged.",
  options: z.object({ p: z.number().default(0.5) }).strict(),
  run: () => (batch) => batch,
});
const net = defineStage({
  name: "net",
  kind: "model",
  description: "No network at all.",
  options: z.object({}).strict(),
  run: () => ({ name: "none", build: () => undefined as never }),
});

Deno.test("Registry.register() registers each stage under plugin/name with its origin", () => {
  const plugin = definePlugin({ name: "demo", version: "1.0.0", stages: [flip, net] });
  const registry = new Registry();
  registry.register(plugin, "./demo.ts");
  assertEquals(registry.ids(), ["demo/flip", "demo/net"]);
  const registered = registry.get("demo/flip")!;
  assertEquals(registered.id, "demo/flip");
  assertEquals(registered.stage, flip);
  assertEquals(registered.plugin, plugin);
  assertEquals(registered.origin, "./demo.ts");
  assertEquals(registry.get("demo/missing"), undefined);
  assertEquals(registry.get("flip"), undefined);
  assertEquals(registry.plugins(), [{ plugin, origin: "./demo.ts" }]);
});

Deno.test("Registry.register() accepts the same plugin object twice", () => {
  const plugin = definePlugin({ name: "demo", version: "1.0.0", stages: [flip] });
  const registry = new Registry();
  registry.register(plugin, "./demo.ts");
  registry.register(plugin, "npm:demo");
  assertEquals(registry.plugins(), [{ plugin, origin: "./demo.ts" }]);
  assertEquals(registry.ids(), ["demo/flip"]);
});

Deno.test("Registry.register() rejects a second plugin of the same name, naming both modules", () => {
  const registry = new Registry();
  registry.register(definePlugin({ name: "demo", version: "1.0.0", stages: [flip] }), "./a.ts");
  const second = definePlugin({ name: "demo", version: "2.0.0", stages: [net] });
  const error = assertThrows(() => registry.register(second, "npm:demo@2"), PluginLoadError);
  assertEquals(
    error.message,
    'Cannot load plugin "demo" from "npm:demo@2": "./a.ts" already registered a plugin of that name; rename one of them',
  );
  assertEquals(error.code, "E_PLUGIN_LOAD");
  assertEquals(registry.ids(), ["demo/flip"]);
});

Deno.test("Registry.register() says a plugin named as a built-in one is built in", () => {
  const registry = new Registry();
  registry.register(definePlugin({ name: "core", version: "0.1.0", stages: [flip] }), BUILT_IN);
  const mine = definePlugin({ name: "core", version: "1", stages: [net] });
  const error = assertThrows(() => registry.register(mine, "./core.ts"), PluginLoadError);
  assertEquals(
    error.message,
    'Cannot load plugin "core" from "./core.ts": "core" is the name of a built-in plugin; choose another name for yours',
  );
  assertEquals(registry.ids(), ["core/flip"]);
});

Deno.test("Registry.register() rejects a stage id defined twice, registering nothing", () => {
  const registry = new Registry();
  // Of another kind too: recipes name a stage plugin/name, so one would hide the other.
  const netNamedFlip = { ...net, name: "flip" };
  const plugin = definePlugin({
    name: "demo",
    version: "1.0.0",
    stages: [flip, net, netNamedFlip],
  });
  assertThrows(
    () => registry.register(plugin, "./demo.ts"),
    PluginLoadError,
    'Cannot load plugin from "./demo.ts": stages.2.name: "flip" is also the name of stages.0, ' +
      "and recipes could not tell them apart; rename one",
  );
  assertEquals(registry.ids(), []);
  assertEquals(registry.plugins(), []);
});

Deno.test("Registry.register() rejects a plugin written for another API version", () => {
  for (const apiVersion of [PLUGIN_API_VERSION + 1, PLUGIN_API_VERSION - 1]) {
    const registry = new Registry();
    const plugin = definePlugin({ name: "old", version: "0.1.0", apiVersion, stages: [flip] });
    assertThrows(
      () => registry.register(plugin, "https://example.com/old.ts"),
      PluginLoadError,
      `Cannot load plugin "old" from "https://example.com/old.ts": it needs plugin API ${apiVersion}, this Capillary offers ${PLUGIN_API_VERSION}`,
    );
    assertEquals(registry.ids(), []);
  }
  const registry = new Registry();
  registry.register(
    definePlugin({ name: "now", version: "1.0.0", apiVersion: PLUGIN_API_VERSION, stages: [] }),
    "./now.ts",
  );
  assertEquals(registry.plugins().length, 1);
});

Deno.test("Registry.register() rejects malformed plugins, naming the module and the field", () => {
  const { run: _run, ...noRun } = flip;
  const cases: [string, unknown, string][] = [
    [
      "a stage without run",
      { name: "p", version: "1", stages: [noRun] },
      "stages.0.run: missing; expected a function",
    ],
    [
      "run that is not a function",
      { name: "p", version: "1", stages: [{ ...flip, run: "go" }] },
      'stages.0.run: expected a function, got "go"',
    ],
    [
      "options that are not a zod schema",
      { name: "p", version: "1", stages: [net, { ...flip, options: { p: 0.5 } }] },
      "stages.1.options: expected a zod schema, got an object",
    ],
    [
      "an unknown stage kind",
      { name: "p", version: "1", stages: [{ ...flip, kind: "postprocess" }] },
      "stages.0.kind",
    ],
    [
      "a stage name with capitals",
      { name: "p", version: "1", stages: [{ ...flip, name: "Flip" }] },
      'stages.0.name: expected lower case letters, digits, - or _, starting with a letter, got "Flip"',
    ],
    [
      "a plugin name with a slash",
      { name: "my/plugin", version: "1", stages: [] },
      'name: expected lower case letters, digits, - or _, starting with a letter, got "my/plugin"',
    ],
    ["no version", { name: "p", stages: [] }, "version"],
    ["no stages", { name: "p", version: "1" }, "stages"],
    ["not an object", "core", 'expected an object made with definePlugin, got "core"'],
  ];
  for (const [what, plugin, says] of cases) {
    const registry = new Registry();
    const error = assertThrows(
      () => registry.register(plugin as Plugin, "./bad.ts"),
      PluginLoadError,
      says,
    );
    assertEquals(error.message.startsWith('Cannot load plugin from "./bad.ts": '), true, what);
    assertEquals(registry.ids(), [], what);
  }
});

Deno.test("componentCreator() builds a schedule checked under its id, from its options", () => {
  const scaled = defineSchedule({
    name: "scaled",
    description: "The base rate times `by`.",
    options: z.object({ by: z.number() }).strict(),
    create: ({ by }) => (_epoch, base) => base * by,
  });
  const plugin = definePlugin({ name: "demo", version: "1", stages: [], components: [scaled] });
  const components = new Map<string, RegisteredComponent>([
    ["schedule:demo/scaled", {
      id: "demo/scaled",
      component: scaled as ComponentDefinition,
      plugin,
      origin: "./demo.ts",
    }],
  ]);
  const create = componentCreator(components, "/recipes");
  const half = create("schedule", { use: "demo/scaled", with: { by: 0.5 } });
  assertEquals(half(0, 0.1, 3), 0.05);
  // Where it came from, for a worker thread to build it again.
  assertEquals(componentSource(half), {
    kind: "schedule",
    id: "demo/scaled",
    specifier: "file:///recipes/demo.ts",
    name: "scaled",
    options: { by: 0.5 },
  });
  const builtIn = componentCreator(
    new Map([["schedule:demo/scaled", {
      ...components.get("schedule:demo/scaled")!,
      origin: BUILT_IN,
    }]]),
  );
  assertEquals(
    componentSource(builtIn("schedule", { use: "demo/scaled", with: { by: 1 } })),
    undefined,
  );
  const negative = create("schedule", { use: "demo/scaled", with: { by: -1 } });
  assertThrows(
    () => negative(1, 0.1, 3),
    CapillaryError,
    'Schedule "demo/scaled" returned -0.1 when called with epoch 1, base 0.1, epochs 3',
  );
  assertThrows(
    () => create("schedule", { use: "demo/other", with: {} }),
    Error,
    'no schedule "demo/other" was resolved for this recipe',
  );
});

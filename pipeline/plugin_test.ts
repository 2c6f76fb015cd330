import { z } from "zod";
import { assertEquals } from "../tests/assert.ts";
import { definePlugin, pluginProblems } from "./plugin.ts";
import { defineStage } from "./stage.ts";

const flip = defineStage({
  name: "flip",
  kind: "augment",
  description: "Returns the batch unchanged.",
  options: z.object({}).strict(),
  run: () => (batch) => batch,
});
const constant = {
  name: "constant",
  kind: "schedule",
  description: "The base rate.",
  options: z.object({}).strict(),
  create: () => (_epoch: number, base: number) => base,
};

Deno.test("pluginProblems() finds nothing wrong with a plugin that fits the contract", () => {
  assertEquals(pluginProblems(definePlugin({ name: "demo", version: "1.0.0", stages: [] })), []);
  assertEquals(
    pluginProblems({
      name: "demo-2_x",
      version: "0.1.0",
      apiVersion: 1,
      description: "Demo.",
      stages: [{ ...flip, plan: () => ({}), fingerprint: () => "" }],
      components: [constant],
      extra: "kept for the plugin's own use",
    }),
    [],
  );
});

Deno.test("pluginProblems() names every problem with its key path, in the contract's order", () => {
  assertEquals(pluginProblems({}), [
    "name: missing; expected a string of lower case letters, digits, - or _",
    'version: missing; expected a string such as "1.0.0"',
    "stages: missing; expected an array of stages made with defineStage (it may be empty)",
  ]);
  assertEquals(
    pluginProblems({
      name: 3,
      version: "",
      apiVersion: 1.5,
      description: ["x"],
      stages: [
        7,
        { name: "Flip", kind: 2, description: "d", options: { p: 0.5 }, run: "go", plan: 1 },
        { ...flip, kind: "postprocess" },
        {
          name: "bare",
          kind: undefined,
          options: undefined,
          run: undefined,
          description: undefined,
        },
      ],
      components: [{ ...constant, kind: "shedule", create: null }, "core/step"],
    }),
    [
      "name: expected a string, got 3",
      'version: expected a version such as "1.0.0", got ""',
      "apiVersion: expected an integer, got 1.5",
      "description: expected a string, got an array",
      "stages.0: expected an object made with defineStage, got 7",
      'stages.1.name: expected lower case letters, digits, - or _, starting with a letter, got "Flip"',
      'stages.1.kind: expected one of "load", "preprocess", "augment", "model", "train", "evaluate", got 2',
      "stages.1.options: expected a zod schema, got an object",
      'stages.1.run: expected a function, got "go"',
      "stages.1.plan: expected a function, got 1",
      'stages.2.kind: unknown stage kind "postprocess"; did you mean "preprocess"?',
      'stages.3.kind: missing; expected one of "load", "preprocess", "augment", "model", "train", "evaluate"',
      "stages.3.description: missing; expected a string (one line, shown in errors and editors)",
      "stages.3.options: missing; expected a zod schema of its `with:` options, such as z.object({}).strict()",
      "stages.3.run: missing; expected a function",
      'components.0.kind: unknown component kind "shedule"; did you mean "schedule"?',
      "components.0.create: expected a function, got null",
      'components.1: expected an object made with defineSchedule, defineLoss or defineOptimizer, got "core/step"',
    ],
  );
});

Deno.test("pluginProblems() lists the kinds when a misspelling is close to none", () => {
  assertEquals(pluginProblems({ name: "p", version: "1", stages: [{ ...flip, kind: "xyz" }] }), [
    'stages.0.kind: unknown stage kind "xyz"; expected one of "load", "preprocess", "augment", "model", "train", "evaluate"',
  ]);
});

Deno.test("pluginProblems() rejects what is not an object, and a list of stages that is not an array", () => {
  assertEquals(pluginProblems("core"), ['expected an object made with definePlugin, got "core"']);
  assertEquals(pluginProblems(null), ["expected an object made with definePlugin, got null"]);
  assertEquals(pluginProblems([]), ["expected an object made with definePlugin, got an array"]);
  assertEquals(pluginProblems({ name: "p", version: "1", stages: flip, components: {} }), [
    "stages: expected an array of stages, got an object",
    "components: expected an array of components, got an object",
  ]);
});

Deno.test("pluginProblems() tells a schema of another zod major version from a plain object", () => {
  const zod3 = { safeParse: () => ({ success: true }), parse: (v: unknown) => v };
  assertEquals(pluginProblems({ name: "p", version: "1", stages: [{ ...flip, options: zod3 }] }), [
    "stages.0.options: expected a zod schema, got a schema of another zod major version " +
    '(Capillary reads zod 4: import { z } from "@capillary/capillary")',
  ]);
});

Deno.test("pluginProblems() names a stage or schedule id defined twice among the other problems", () => {
  const netNamedFlip = { ...flip, kind: "model", run: () => ({}) };
  assertEquals(
    pluginProblems({
      name: "p",
      version: 1,
      stages: [flip, netNamedFlip, flip, { ...flip, name: 3 }],
      components: [constant, { ...constant }, { ...constant, kind: "shedule" }],
    }),
    [
      "version: expected a string, got 1",
      "stages.3.name: expected a string, got 3",
      // A stage id is plugin/name whatever the kind.
      'stages.1.name: "flip" is also the name of stages.0, and recipes could not tell them apart; rename one',
      "stages.2: the same object as stages.0, listed twice; remove one",
      'components.2.kind: unknown component kind "shedule"; did you mean "schedule"?',
      'components.1.name: "constant" is also the name of components.0, and recipes could not tell them apart; rename one',
    ],
  );
});

Deno.test("pluginProblems() says where a schedule among the stages, or a stage among the components, belongs", () => {
  assertEquals(
    pluginProblems({ name: "p", version: "1", stages: [constant], components: [flip] }),
    [
      'stages.0.kind: "schedule" is a component kind, not a stage kind; put this schedule under `components:` instead of `stages:`',
      'components.0.kind: "augment" is a stage kind, not a component kind; put this stage under `stages:` instead of `components:`',
    ],
  );
});

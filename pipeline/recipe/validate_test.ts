import { z } from "zod";
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { formatPosition, RecipeValidationError } from "../errors.ts";
import { componentRef, defineSchedule } from "../component.ts";
import { definePlugin } from "../plugin.ts";
import { Registry } from "../registry.ts";
import { defineStage } from "../stage.ts";
import { parseRecipeText } from "./parse.ts";
import { validateRecipe, validateTop } from "./validate.ts";

const never = (): never => {
  throw new Error("not run in these tests");
};

/** A plugin `t` with one small stage of each kind. */
const plugin = definePlugin({
  name: "t",
  version: "1.2.3",
  stages: [
    defineStage({
      name: "load",
      kind: "load",
      description: "Loads.",
      options: z.object({ limit: z.number().int().min(1).nullable().default(null) }).strict(),
      run: never,
    }),
    defineStage({
      name: "pre",
      kind: "preprocess",
      description: "Preprocesses.",
      options: z.object({ gamma: z.number().positive().default(1.2) }).strict(),
      run: never,
    }),
    defineStage({
      name: "flip",
      kind: "augment",
      description: "Flips.",
      options: z.object({ p: z.number().min(0).max(1).default(0.5) }).strict(),
      run: never,
    }),
    defineStage({
      name: "net",
      kind: "model",
      description: "A network.",
      options: z.object({ width: z.number().int().min(1).default(64) }).strict(),
      run: never,
    }),
    defineStage({
      name: "fit",
      kind: "train",
      description: "Trains.",
      options: z.object({
        epochs: z.number().int().min(1).default(5),
        patches: z.object({
          size: z.number().int().multipleOf(8).default(48),
          count: z.number().int().min(2).default(100),
        }).strict().default({ size: 48, count: 100 }),
      }).strict(),
      run: never,
    }),
    defineStage({
      name: "score",
      kind: "evaluate",
      description: "Scores.",
      options: z.object({ threshold: z.number().gt(0).lt(1).default(0.5) }).strict(),
      run: never,
    }),
  ],
});

function registry(): Registry {
  const r = new Registry();
  r.register(plugin, "t.ts");
  return r;
}

function validate(text: string) {
  return validateRecipe(parseRecipeText(text, "dir/demo.yaml"), registry());
}

function issuesOf(text: string) {
  return assertThrows(() => validate(text), RecipeValidationError).issues.map((i) => ({
    at: formatPosition(i.position),
    path: i.path.join("."),
    message: i.message,
    hint: i.hint,
  }));
}

Deno.test("validateRecipe() fills defaults and orders stages by kind", () => {
  const recipe = validate([
    "stages:",
    "  evaluate: { use: t/score }",
    "  train: { use: t/fit, with: { patches: { size: 32 } } }",
    "  model: { use: t/net, with: { width: 4 } }",
    "  augment: [{ use: t/flip }, { use: t/flip, with: { p: 1 } }]",
    "  preprocess: { use: t/pre }",
    "  load: { use: t/load, with: }",
    "",
  ].join("\n"));
  assertEquals(recipe.name, "demo");
  assertEquals(recipe.file, "dir/demo.yaml");
  assertEquals(recipe.seed, 42);
  assertEquals(recipe.backend, "auto");
  assertEquals(recipe.inferenceBackend, "auto");
  assertEquals(recipe.output, "runs");
  assertEquals(recipe.plugins, []);
  assertEquals([...recipe.stages.keys()], [
    "load",
    "preprocess",
    "augment",
    "model",
    "train",
    "evaluate",
  ]);
  const options = Object.fromEntries(
    [...recipe.stages].map(([kind, list]) => [kind, list.map((s) => [s.id, s.options])]),
  );
  assertEquals(options, {
    load: [["t/load", { limit: null }]],
    preprocess: [["t/pre", { gamma: 1.2 }]],
    augment: [["t/flip", { p: 0.5 }], ["t/flip", { p: 1 }]],
    model: [["t/net", { width: 4 }]],
    train: [["t/fit", { epochs: 5, patches: { size: 32, count: 100 } }]],
    evaluate: [["t/score", { threshold: 0.5 }]],
  });
  const fit = recipe.stages.get("train")![0];
  assertEquals(fit.kind, "train");
  assertEquals(fit.registered.plugin, plugin);
  assertEquals(fit.registered.origin, "t.ts");
});

Deno.test("validateRecipe() leaves out optional kinds and keeps the recipe's name", () => {
  const recipe = validate([
    "name: my-run",
    "seed: 7",
    "stages:",
    "  load: { use: t/load }",
    "  augment: []",
    "  model: { use: t/net }",
    "  train: { use: t/fit }",
    "  evaluate: { use: t/score }",
  ].join("\n"));
  assertEquals(recipe.name, "my-run");
  assertEquals(recipe.seed, 7);
  assertEquals(recipe.stages.has("preprocess"), false);
  assertEquals(recipe.stages.get("augment"), []);
});

const OK = [
  "seed: 1", // 1
  "stages:", // 2
  "  load: { use: t/load }", // 3
  "  model: { use: t/net }", // 4
  "  train: { use: t/fit }", // 5
  "  evaluate: { use: t/score }", // 6
  "",
].join("\n");

Deno.test("validateRecipe() reports each kind of fault at its position", () => {
  const cases: { name: string; text: string; issue: Record<string, unknown> }[] = [
    {
      name: "unknown top-level key",
      text: OK.replace("seed: 1", "sed: 1"),
      issue: {
        at: "dir/demo.yaml:1:1",
        path: "sed",
        message: 'unknown option "sed"',
        hint: 'did you mean "seed"?',
      },
    },
    {
      name: "unknown stage kind",
      text: OK + "  trian: { use: t/fit }\n",
      issue: {
        at: "dir/demo.yaml:7:3",
        path: "stages.trian",
        message: 'unknown stage kind "trian"',
        hint: 'did you mean "train"?',
      },
    },
    {
      name: "missing stage",
      text: OK.replace("  evaluate: { use: t/score }\n", ""),
      issue: {
        at: "dir/demo.yaml:2:1",
        path: "stages.evaluate",
        message: 'missing stage "evaluate"',
        hint: 'add "evaluate: { use: ... }" under stages; t/score',
      },
    },
    {
      name: "unknown stage id",
      text: OK.replace("use: t/fit", "use: t/fitt"),
      issue: {
        at: "dir/demo.yaml:5:17",
        path: "stages.train.use",
        message: 'unknown stage "t/fitt"',
        hint: 'did you mean "t/fit"?',
      },
    },
    {
      name: "unscoped stage id",
      text: OK.replace("use: t/fit", "use: fit"),
      issue: {
        at: "dir/demo.yaml:5:17",
        path: "stages.train.use",
        message: 'unknown stage "fit"',
        hint: 'stage ids carry their plugin: did you mean "t/fit"?',
      },
    },
    {
      name: "unscoped stage id, misspelt",
      text: OK.replace("use: t/fit", "use: fitt"),
      issue: {
        at: "dir/demo.yaml:5:17",
        path: "stages.train.use",
        message: 'unknown stage "fitt"',
        hint: 'stage ids carry their plugin: did you mean "t/fit"?',
      },
    },
    {
      name: "an augment stage in another slot",
      text: OK.replace("use: t/net", "use: t/flip"),
      issue: {
        at: "dir/demo.yaml:4:17",
        path: "stages.model.use",
        message: '"t/flip" is an augment stage and cannot fill the model slot',
        hint: "model stages: t/net",
      },
    },
    {
      name: "stage in the wrong slot",
      text: OK.replace("use: t/net", "use: t/fit"),
      issue: {
        at: "dir/demo.yaml:4:17",
        path: "stages.model.use",
        message: '"t/fit" is a train stage and cannot fill the model slot',
        hint: "model stages: t/net",
      },
    },
    {
      name: "list for a kind that takes one stage",
      text: OK.replace("model: { use: t/net }", "model: [{ use: t/net }]"),
      issue: {
        at: "dir/demo.yaml:4:10",
        path: "stages.model",
        message: '"model" takes one stage, not a list',
        hint: "lists are allowed for preprocess and augment",
      },
    },
    {
      name: "stage entry that is not a map",
      text: OK + "  augment: [t/flip]\n",
      issue: {
        at: "dir/demo.yaml:7:13",
        path: "stages.augment.0",
        message: 'expected a map with "use" (and optional "with"), got "t/flip"',
        hint: "e.g. augment: { use: core/..., with: { ... } }",
      },
    },
    {
      name: "unknown option",
      text: OK.replace("use: t/fit }", "use: t/fit, with: { epoch: 3 } }"),
      issue: {
        at: "dir/demo.yaml:5:32",
        path: "stages.train.with.epoch",
        message: 'unknown option "epoch"',
        hint: 'did you mean "epochs"?',
      },
    },
    {
      name: "unknown nested option",
      text: OK.replace("use: t/fit }", "use: t/fit, with: { patches: { cont: 3 } } }"),
      issue: {
        at: "dir/demo.yaml:5:43",
        path: "stages.train.with.patches.cont",
        message: 'unknown option "cont"',
        hint: 'did you mean "count"?',
      },
    },
    {
      name: "option out of range",
      text: OK.replace("use: t/fit }", "use: t/fit, with: { epochs: 0 } }"),
      issue: {
        at: "dir/demo.yaml:5:40",
        path: "stages.train.with.epochs",
        message: "expected a value >= 1, got 0",
        hint: undefined,
      },
    },
  ];
  for (const { name, text, issue } of cases) {
    assertEquals(issuesOf(text), [issue], name);
  }
});

Deno.test("validateRecipe() reports every problem at once, in source order", () => {
  const text = [
    "stages:", // 1
    "  load: { use: t/load, with: { limit: 0 } }", // 2
    "  model: { use: t/nett }", // 3
    "  train: { use: t/fit, with: { epochs: ten } }", // 4
    "  evaluate: { use: t/score }", // 5
    "backend: webgp", // 6
    "sed: 1", // 7
    "",
  ].join("\n");
  assertEquals(issuesOf(text).map((i) => `${i.at} ${i.path}`), [
    "dir/demo.yaml:2:39 stages.load.with.limit",
    "dir/demo.yaml:3:17 stages.model.use",
    "dir/demo.yaml:4:40 stages.train.with.epochs",
    "dir/demo.yaml:6:10 backend",
    "dir/demo.yaml:7:1 sed",
  ]);
});

Deno.test("validateTop() keeps checking the stages when only other top-level keys are wrong", () => {
  const cases: [string, boolean][] = [
    [OK.replace("seed: 1", "sed: 1"), true],
    [OK.replace("seed: 1", "seed: x"), true],
    [OK + "plugins: 3\n", false],
    ["seed: 1\nstages: [1]\n", false],
    ["- a\n", false],
  ];
  for (const [text, partial] of cases) {
    const checked = validateTop(parseRecipeText(text, "r.yaml"));
    assertEquals(checked.top, undefined, text);
    assertEquals(checked.issues.length, 1, text);
    assertEquals(checked.partial !== undefined, partial, text);
  }
  const { partial } = validateTop(parseRecipeText(OK.replace("seed: 1", "seed: x"), "r.yaml"));
  assertEquals(partial?.seed, 42);
});

Deno.test("validateRecipe() rejects a recipe that is not a map", () => {
  const cases: [string, string][] = [
    ["- use: t/fit\n", "got a list"],
    ["just text\n", 'got "just text"'],
    ["42\n", "got 42"],
  ];
  for (const [text, got] of cases) {
    const [issue] = issuesOf(text);
    assertEquals(issue.at, "dir/demo.yaml:1:1", text);
    assertEquals(issue.message, `a recipe must be a map of keys (name, seed, stages, ...), ${got}`);
  }
});

/**
 * A plugin `u` whose train stage has a union of maps told apart by `kind`, a
 * cross-field check, and a schedule whose options are a discriminated union.
 */
const tagged = definePlugin({
  name: "u",
  version: "1.0.0",
  stages: [
    defineStage({
      name: "fit",
      kind: "train",
      description: "Trains.",
      options: z.object({
        size: z.number().int().min(1).default(8),
        shards: z.number().int().min(1).default(1),
        loss: z.union([
          z.object({ kind: z.literal("bce").default("bce"), weight: z.number().default(1) })
            .strict(),
          z.object({ kind: z.enum(["dice", "focal"]), smooth: z.number().default(1) }).strict(),
        ]).default({ kind: "bce", weight: 1 }),
        schedule: componentRef("schedule", { use: "u/flat", with: {} }),
      }).strict().superRefine((o, context) => {
        if (o.size < o.shards) {
          context.addIssue({ code: "custom", path: ["shards"], message: "more shards than size" });
        }
      }),
      run: never,
    }),
  ],
  components: [
    defineSchedule({
      name: "flat",
      description: "Keeps the rate, or warms it up.",
      options: z.object({
        warmup: z.discriminatedUnion("curve", [
          z.object({ curve: z.literal("linear"), epochs: z.number().default(1) }).strict(),
          z.object({ curve: z.literal("cosine"), epochs: z.number().default(1) }).strict(),
        ]).optional(),
      }).strict(),
      create: () => (_epoch, base) => base,
    }),
  ],
});

function taggedIssuesOf(train: string) {
  const r = registry();
  r.register(tagged, "u.ts");
  const text = OK.replace("use: t/fit }", `use: u/fit, with: { ${train} } }`);
  return assertThrows(
    () => validateRecipe(parseRecipeText(text, "dir/demo.yaml"), r),
    RecipeValidationError,
  ).issues.map((i) => `${formatPosition(i.position)} ${i.path.join(".")}: ${i.message}`);
}

Deno.test("validateRecipe() reports an unknown tag of a union of maps at the tag", () => {
  // The options start at column 32 of line 5.
  assertEquals(taggedIssuesOf("loss: { kind: focl }"), [
    'dir/demo.yaml:5:46 stages.train.with.loss.kind: unknown kind "focl"; did you mean "focal"? ' +
    '(one of "bce", "dice", "focal")',
  ]);
  assertEquals(taggedIssuesOf("loss: { kind: focal, smooth: x }"), [
    'dir/demo.yaml:5:61 stages.train.with.loss.smooth: expected a number, got "x"',
  ]);
  assertEquals(taggedIssuesOf("schedule: { use: u/flat, with: { warmup: { curve: cosin } } }"), [
    "dir/demo.yaml:5:82 stages.train.with.schedule.with.warmup.curve: " +
    'unknown curve "cosin"; did you mean "cosine"? (one of "linear", "cosine")',
  ]);
});

Deno.test("validateRecipe() leaves out a cross-field check of a value that is already wrong", () => {
  assertEquals(taggedIssuesOf("size: 0"), [
    "dir/demo.yaml:5:38 stages.train.with.size: expected a value >= 1, got 0",
  ]);
  assertEquals(taggedIssuesOf("size: 2, shards: 3"), [
    "dir/demo.yaml:5:49 stages.train.with.shards: more shards than size, got 3",
  ]);
});

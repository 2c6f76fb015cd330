/**
 * A recipe that loads a local plugin (`fixtures/invert_plugin.ts`) beside the
 * core plugin, and the resolution of plugin specifiers.
 */
import { assertEquals, assertThrows } from "./assert.ts";
import {
  type Augmentation,
  CapillaryError,
  loadRecipe,
  type PatchBatch,
  planRecipe,
  type Progress,
  Random,
  RecipeValidationError,
  runRecipe,
  type StageContext,
  StageError,
} from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";
import { resolvePluginSpecifier } from "../pipeline/recipe/plugin_specifier.ts";
import { renderResolvedRecipe, resolvedRecipeObject } from "../pipeline/recipe/render.ts";
import core from "../plugins/core/mod.ts";
import fixture, { invert, usage } from "./fixtures/invert_plugin.ts";

const RECIPE = new URL("./fixtures/recipes/with_plugin.yaml", import.meta.url).pathname;

/** `count` 2×2 one-channel patches with distinct values in [0, 1]. */
function batch(count: number): PatchBatch {
  const images = new Float32Array(count * 4).map((_, i) => (i % 5) / 4);
  const masks = new Float32Array(count * 4).map((_, i) => i % 2);
  return { images, masks, count, size: 2, channels: 1 };
}

/** The augmentation `fixture/invert` builds (it needs nothing from the context). */
function augmentation(p: number): Augmentation {
  return invert.run({ p }, undefined, {} as StageContext) as Augmentation;
}

Deno.test("loadRecipe() resolves a stage from a plugin the recipe lists", async () => {
  const { recipe, registry } = await loadRecipe(RECIPE, { builtins: [core] });
  assertEquals(recipe.name, "with-plugin");
  assertEquals(recipe.plugins, ["../invert_plugin.ts"]);
  const augment = recipe.stages.get("augment")!;
  assertEquals(augment.map((s) => s.id), ["core/flip_rotate", "fixture/invert"]);
  assertEquals(augment[0].registered.plugin, core);
  assertEquals(augment[0].options, { flip: 0.5, rotate90: 0.5 });
  const registered = augment[1].registered;
  // The very module the test imports: one instance, not a copy.
  assertEquals(registered.plugin === fixture, true);
  assertEquals(registered.stage === invert, true);
  assertEquals(registered.origin, "../invert_plugin.ts");
  assertEquals(augment[1].options, { p: 1 });
  assertEquals(registry.plugins().map((p) => [p.plugin.name, p.origin]), [
    ["core", "(built in)"],
    ["fixture", "../invert_plugin.ts"],
  ]);
  assertEquals(registry.get("fixture/invert")?.stage.kind, "augment");
});

Deno.test("fixture/invert fills its default and checks its option", async () => {
  assertEquals(invert.options.parse({}), { p: 0.5 });
  assertEquals(invert.options.parse({ p: 0.25 }), { p: 0.25 });
  // Through a recipe: a default p, then an out-of-range one.
  const dir = await Deno.makeTempDir();
  try {
    const text = (await Deno.readTextFile(RECIPE))
      .replace("../invert_plugin.ts", new URL("./fixtures/invert_plugin.ts", import.meta.url).href);
    await Deno.writeTextFile(`${dir}/a.yaml`, text.replace(", with: { p: 1 }", ""));
    const { recipe } = await loadRecipe(`${dir}/a.yaml`, { builtins: [core] });
    assertEquals(recipe.stages.get("augment")![1].options, { p: 0.5 });
    await Deno.writeTextFile(`${dir}/b.yaml`, text.replace("p: 1", "p: 2"));
    const error = await loadRecipe(`${dir}/b.yaml`, { builtins: [core] }).catch((e) => e);
    assertEquals(error instanceof RecipeValidationError, true, String(error));
    const [issue] = (error as RecipeValidationError).issues;
    assertEquals(issue.path, ["stages", "augment", 1, "with", "p"]);
    assertEquals([issue.position.line, issue.position.column], [15, 41]);
    assertEquals(issue.message, "expected a value <= 1, got 2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fixture/invert inverts every patch at p = 1 and none at p = 0", () => {
  const input = batch(3);
  const before = input.images.slice();
  const inverted = augmentation(1)(input, new Random(1));
  assertEquals(inverted.images, before.map((v) => 1 - v));
  assertEquals(inverted.masks, input.masks);
  assertEquals([inverted.count, inverted.size, inverted.channels], [3, 2, 1]);
  assertEquals(input.images, before, "the input batch is left alone");
  const kept = augmentation(0)(input, new Random(1));
  assertEquals(kept.images, before);
});

Deno.test("fixture/invert inverts whole patches with probability p", () => {
  const count = 400;
  const input = batch(count);
  const out = augmentation(0.3)(input, new Random(7));
  let inverted = 0;
  for (let i = 0; i < count; i++) {
    const a = [...input.images.subarray(i * 4, i * 4 + 4)];
    const b = [...out.images.subarray(i * 4, i * 4 + 4)];
    const flipped = b.every((v, j) => v === 1 - a[j]);
    assertEquals(flipped || b.every((v, j) => v === a[j]), true, `patch ${i} changed in part`);
    if (flipped) inverted++;
  }
  // 400 draws at p = 0.3: 120 expected, sd 9.2.
  assertEquals(inverted > 90 && inverted < 150, true, `${inverted} of ${count} inverted`);
});

Deno.test("renderResolvedRecipe() of a plugin recipe loads again from another folder", async () => {
  const { recipe } = await loadRecipe(RECIPE, { builtins: [core] });
  const dir = await Deno.makeTempDir();
  try {
    const text = renderResolvedRecipe(recipe, "0.0.0");
    assertEquals(text.split("\n")[1], "# plugins: core 0.1.0, fixture 0.0.1");
    await Deno.writeTextFile(`${dir}/resolved.yaml`, text);
    const again = await loadRecipe(`${dir}/resolved.yaml`, { builtins: [core] });
    assertEquals(resolvedRecipeObject(again.recipe), resolvedRecipeObject(recipe));
    assertEquals(again.recipe.stages.get("augment")![1].registered.plugin === fixture, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolvePluginSpecifier() turns paths into file URLs and passes URLs through", () => {
  const cases: [string, string, string][] = [
    ["./p.ts", "/r", "file:///r/p.ts"],
    ["p.ts", "/r", "file:///r/p.ts"],
    ["../plugins/p.ts", "/r/recipes", "file:///r/plugins/p.ts"],
    ["  ./p.ts  ", "/r", "file:///r/p.ts"],
    ["./my plugin.ts", "/r", "file:///r/my%20plugin.ts"],
    ["/abs/p.ts", "/r", "file:///abs/p.ts"],
    ["npm:capillary-noise@1.2.0", "/r", "npm:capillary-noise@1.2.0"],
    ["jsr:@capillary/noise", "/r", "jsr:@capillary/noise"],
    ["https://example.com/p.ts", "/r", "https://example.com/p.ts"],
    ["HTTP://example.com/p.ts", "/r", "HTTP://example.com/p.ts"],
    ["file:///x/p.ts", "/r", "file:///x/p.ts"],
  ];
  for (const [specifier, recipeDir, expected] of cases) {
    assertEquals(resolvePluginSpecifier(specifier, recipeDir), expected, specifier);
  }
});

Deno.test("resolvePluginSpecifier() rejects an empty specifier and unsupported schemes", () => {
  const cases: [string, string][] = [
    ["", "the specifier is empty"],
    ["   ", "the specifier is empty"],
    [
      "ftp://example.com/p.ts",
      'Cannot load plugin "ftp://example.com/p.ts": unsupported scheme "ftp:"',
    ],
    ["node:fs", 'unsupported scheme "node:"'],
    ["data:text/javascript,export default {}", 'unsupported scheme "data:"'],
  ];
  for (const [specifier, says] of cases) {
    assertThrows(() => resolvePluginSpecifier(specifier, "/r"), TypeError, says);
  }
});

Deno.test({
  name: "runRecipe() trains through a plugin's augmentation listed in the recipe",
  // Reads DRIVE (../shared/data/DRIVE or $CAPILLARY_DRIVE).
  async fn() {
    const { recipe } = await loadRecipe(RECIPE, { builtins: [core] });
    const output = await Deno.makeTempDir({ prefix: "capillary-plugin-run-" });
    const silent: Progress = { info() {}, task: () => ({ update() {}, done() {} }) };
    const before = usage.batches;
    try {
      const result = await runRecipe(recipe, { outputRoot: output, progress: silent });
      // 40 patches of the one training image (the other validates), batches of 8: 5 steps × 2 epochs.
      assertEquals(usage.batches - before, 10);
      assertEquals(Object.keys(result.evaluation.metrics).length, 10);
    } finally {
      await Deno.remove(output, { recursive: true });
    }
  },
});

Deno.test("a plugin augmentation's fault is blamed on its stage, with what differs or where it threw", async () => {
  const faulty = new URL("./fixtures/faulty_augment_plugin.ts", import.meta.url).href;
  const output = await Deno.makeTempDir({ prefix: "capillary-faulty-" });
  const silent: Progress = { info() {}, task: () => ({ update() {}, done() {} }) };
  try {
    for (const fault of ["short", "throw"]) {
      const { recipe } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: [
          `plugins=[${faulty}]`,
          `stages.augment=[{use: faulty/augment, with: {fault: ${fault}}}]`,
          ...TINY_SYNTHETIC,
          "backend=cpu",
          "inferenceBackend=cpu",
        ],
      });
      const error = await runRecipe(recipe, { outputRoot: output, progress: silent })
        .then(() => undefined, (e) => e);
      assertEquals(error instanceof StageError, true, String(error));
      assertEquals((error as StageError).stage, "faulty/augment");
      assertEquals(
        (error as StageError).message,
        fault === "short"
          ? 'Stage "faulty/augment" failed: its augmentation returned images of 10 values (1024 ' +
            "expected) for a batch of 4 patches of 16 × 16 × 1; an augmentation must return a batch " +
            "of the same patches (count, size, channels), values in Float32Arrays"
          : 'Stage "faulty/augment" failed: its augmentation threw: TypeError: Cannot read ' +
            `properties of undefined (reading 'images') (at ${new URL(faulty).pathname}:21:40)`,
      );
    }
  } finally {
    await Deno.remove(output, { recursive: true });
  }
});

/** The synthetic recipe cut down to seconds, trained with `faulty_schedule/rate` at `fault`. */
function withFaultySchedule(fault: string) {
  const faulty = new URL("./fixtures/faulty_schedule_plugin.ts", import.meta.url).href;
  return loadRecipe(SYNTHETIC, {
    builtins: BUILTIN_PLUGINS,
    overrides: [
      `plugins=[${faulty}]`,
      `train.schedule={use: faulty_schedule/rate, with: {fault: ${fault}}}`,
      ...TINY_SYNTHETIC,
      "backend=cpu",
      "inferenceBackend=cpu",
    ],
  });
}

Deno.test("a plugin schedule's wrong rate or create is blamed on the schedule when planning", async () => {
  const cases: [string, string][] = [
    [
      "negative",
      'Schedule "faulty_schedule/rate" returned -0.003 when called with epoch 0, base 0.003, ' +
      "epochs 2; a schedule must return a finite learning rate >= 0 at every epoch; fix the " +
      "function its create(options) returns",
    ],
    [
      "number",
      'Cannot create schedule "faulty_schedule/rate": its create(options) returned 0.01; it must ' +
      "return a function (epoch, base, epochs) => learning rate, e.g. create: () => (epoch, base) => base",
    ],
  ];
  for (const [fault, message] of cases) {
    const { recipe } = await withFaultySchedule(fault);
    const error = await planRecipe(recipe).then(() => undefined, (e) => e);
    assertEquals(error instanceof CapillaryError, true, String(error));
    assertEquals((error as CapillaryError).message, message);
    assertEquals((error as CapillaryError).code, "E_COMPONENT");
  }
});

Deno.test("a plugin schedule's NaN stops training at the step that asks for it, naming the schedule", async () => {
  const { recipe } = await withFaultySchedule("nan");
  const output = await Deno.makeTempDir({ prefix: "capillary-faulty-schedule-" });
  const silent: Progress = { info() {}, task: () => ({ update() {}, done() {} }) };
  try {
    const error = await runRecipe(recipe, { outputRoot: output, progress: silent })
      .then(() => undefined, (e) => e);
    assertEquals(error instanceof StageError, true, String(error));
    assertEquals(
      (error as StageError).message,
      'Stage "core/train" failed: Schedule "faulty_schedule/rate" returned NaN when called with ' +
        "epoch 0.5, base 0.003, epochs 2; a schedule must return a finite learning rate >= 0 at " +
        "every epoch; fix the function its create(options) returns",
    );
  } finally {
    await Deno.remove(output, { recursive: true });
  }
});

/**
 * `deno task explain`: each resolved value beside the file and line, the
 * `--set` or the default that gave it, for a recipe that extends a base.
 */
import { assertEquals } from "./assert.ts";
import { loadRecipe } from "../mod.ts";
import { explainRecipe, explainValues } from "../pipeline/recipe/explain.ts";
import core from "../plugins/core/mod.ts";

const BASE = `seed: 1
stages:
  load: {use: core/drive, with: {trainLimit: 2}}
  model: {use: core/bcdunet, with: {width: 4}}
  train: {use: core/train, with: {epochs: 1, batchSize: 8}}
  evaluate: {use: core/segmentation_metrics}
`;
const CHILD = `extends: base.yaml
name: child
stages:
  augment: {use: core/flip_rotate, with: {flip: 0.25}}
  train:
    with:
      epochs: 2
      batchSize: null
`;

Deno.test("explain names the file and line, --set or default behind every value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/base.yaml`, BASE);
    await Deno.writeTextFile(`${dir}/child.yaml`, CHILD);
    const { recipe, parsed } = await loadRecipe(`${dir}/child.yaml`, {
      builtins: [core],
      overrides: ["model.width=6", "evaluate.flips=[horizontal]"],
    });
    const sources = Object.fromEntries(
      explainValues(recipe, parsed).map((v) => [
        v.path.join("."),
        [
          v.value,
          v.source ? `${v.source.file.replace(`${dir}/`, "")}:${v.source.line}` : "default",
        ],
      ]),
    );
    assertEquals(sources["name"], ["child", "child.yaml:2"]);
    assertEquals(sources["seed"], [1, "base.yaml:1"]);
    assertEquals(sources["backend"], ["auto", "default"]);
    assertEquals(sources["stages.load.with.trainLimit"], [2, "base.yaml:3"]);
    assertEquals(sources["stages.model.with.width"], [6, "--set model.width=6:0"]);
    // A --set that makes a stage's `with` sets its own key, not the defaults beside it.
    assertEquals(sources["stages.evaluate.with.flips"], [
      ["horizontal"],
      "--set evaluate.flips=[horizontal]:0",
    ]);
    assertEquals(sources["stages.evaluate.with.threshold"], [0.5, "default"]);
    assertEquals(sources["stages.train.with.epochs"], [2, "child.yaml:7"]);
    // Deleted with null: the default applies again.
    assertEquals(sources["stages.train.with.batchSize"], [16, "default"]);
    // A chain slot written as one map is listed as item 0.
    assertEquals(sources["stages.augment.0.with.flip"], [0.25, "child.yaml:4"]);
    assertEquals(sources["stages.augment.0.with.rotate90"], [0.5, "default"]);
    const text = explainRecipe(recipe, parsed);
    const line = text.split("\n").find((l) => l.startsWith("stages.model.with.width:"))!;
    assertEquals(line.replace(/ +/g, " "), "stages.model.with.width: 6 # --set model.width=6");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("explain names the line of a $append item when no recipe below has the list", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/base.yaml`, BASE);
    await Deno.writeTextFile(
      `${dir}/child.yaml`,
      "extends: base.yaml\nstages:\n  augment: { $append: [{ use: core/flip_rotate }] }\n",
    );
    const { recipe, parsed } = await loadRecipe(`${dir}/child.yaml`, { builtins: [core] });
    const use = explainValues(recipe, parsed).find((v) =>
      v.path.join(".") === "stages.augment.0.use"
    );
    assertEquals([use?.value, use?.source?.line, use?.source?.column], ["core/flip_rotate", 3, 26]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("explain shows a list of values item by item where several files wrote it", async () => {
  const dir = await Deno.makeTempDir();
  const exclude = "stages.train.with.optimizer.decayExclude";
  try {
    await Deno.writeTextFile(
      `${dir}/base.yaml`,
      BASE.replace(
        "batchSize: 8}",
        "batchSize: 8, optimizer: {weightDecay: 0.001, decayExclude: ['*/bias', '*/beta']}}",
      ),
    );
    const child = "extends: base.yaml\nstages:\n  train:\n    with:\n      optimizer:\n" +
      "        decayExclude: { $append: ['*/gamma'] }\n";
    await Deno.writeTextFile(`${dir}/child.yaml`, child);
    const rows = async (file: string) => {
      const { recipe, parsed } = await loadRecipe(`${dir}/${file}`, { builtins: [core] });
      return explainValues(recipe, parsed)
        .filter((v) => v.path.join(".").startsWith(exclude))
        .map((v) => [v.path.slice(4).join("."), v.value, v.source?.file.split("/").pop()]);
    };
    assertEquals(await rows("child.yaml"), [
      ["decayExclude.0", "*/bias", "base.yaml"],
      ["decayExclude.1", "*/beta", "base.yaml"],
      ["decayExclude.2", "*/gamma", "child.yaml"],
    ]);
    // One file's list stays one row.
    assertEquals(await rows("base.yaml"), [["decayExclude", ["*/bias", "*/beta"], "base.yaml"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a recipe that extends a base and names no run is named after its own file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/base.yaml`,
      `name: base-runs\ndescription: \${name} on two images\n${BASE}`,
    );
    await Deno.writeTextFile(`${dir}/child.yaml`, "extends: base.yaml\nseed: 2\n");
    const { recipe, parsed } = await loadRecipe(`${dir}/child.yaml`, { builtins: [core] });
    // Its runs go to runs/child, not into its base's runs/base-runs.
    assertEquals(recipe.name, "child");
    const name = explainValues(recipe, parsed).find((v) => v.path.join(".") === "name");
    assertEquals([name?.value, name?.source], ["child", undefined]);
    // A name the recipe or a --set writes wins, and a base's ${name} reads it.
    await Deno.writeTextFile(`${dir}/named.yaml`, "extends: base.yaml\nname: mine\n");
    const named = await loadRecipe(`${dir}/named.yaml`, { builtins: [core] });
    assertEquals([named.recipe.name, named.recipe.description], ["mine", "mine on two images"]);
    const set = await loadRecipe(`${dir}/child.yaml`, { builtins: [core], overrides: ["name=x"] });
    assertEquals(set.recipe.name, "x");
    // The base loaded by itself keeps its own name.
    assertEquals(
      (await loadRecipe(`${dir}/base.yaml`, { builtins: [core] })).recipe.name,
      "base-runs",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { formatIssue, RecipeValidationError } from "../errors.ts";
import { interpolateRecipe } from "./interpolate.ts";
import { parseRecipeText } from "./parse.ts";

const ENV: Record<string, string> = { DRIVE_ROOT: "/data/DRIVE", EMPTY: "" };
const env = (name: string) => ENV[name];

Deno.test("interpolateRecipe fills in environment variables and recipe values", () => {
  const parsed = parseRecipeText(
    [
      "name: run-${env:USER_TAG:-anon}",
      "seed: 5",
      "stages:",
      "  load: {use: core/drive, with: {root: '${env:DRIVE_ROOT}'}}",
      "  train: {use: core/train, with: {batchSize: 12, patches: {count: '${train.batchSize}'}}}",
      "  evaluate:",
      "    use: core/segmentation_metrics",
      "    with:",
      "      batchSize: ${stages.train.with.batchSize}",
      "      note: seed ${seed}, bs ${train.batchSize}, literal $${seed}",
      "      fallbackWhenEmpty: ${env:EMPTY:-x}",
      "",
    ].join("\n"),
    "r.yaml",
  );
  const value = interpolateRecipe(parsed, env).value as {
    name: string;
    stages: Record<string, { with: Record<string, Record<string, unknown> | unknown> }>;
  };
  const withOf = (kind: string) => value.stages[kind].with as Record<string, unknown>;
  assertEquals(value.name, "run-anon");
  assertEquals(withOf("load").root, "/data/DRIVE");
  // A string that is one reference takes the value's type.
  assertEquals((withOf("train").patches as Record<string, unknown>).count, 12);
  assertEquals(withOf("evaluate").batchSize, 12);
  assertEquals(withOf("evaluate").note, "seed 5, bs 12, literal ${seed}");
  assertEquals(withOf("evaluate").fallbackWhenEmpty, "x");
});

Deno.test("interpolateRecipe follows references through other references", () => {
  const parsed = parseRecipeText(
    "name: ${description}\ndescription: d-${seed}\nseed: 3\n",
    "r.yaml",
  );
  assertEquals((interpolateRecipe(parsed, env).value as { name: string }).name, "d-3");
});

Deno.test("interpolateRecipe reports each unresolvable string at its position", () => {
  const parsed = parseRecipeText(
    [
      "name: ${env:NOT_SET}", // 1
      "description: ${sed}", // 2
      "output: ${train.epochs}", // 3
      "a: ${b}", // 4 (unknown keys are the validator's business; these only cycle)
      "",
    ].join("\n"),
    "r.yaml",
  );
  const error = assertThrows(() => interpolateRecipe(parsed, env), RecipeValidationError);
  assertEquals(error.issues.map(formatIssue), [
    "r.yaml:1:7: name: environment variable NOT_SET is not set\n    set it, or give a fallback: ${env:NOT_SET:-value}",
    'r.yaml:2:14: description: ${sed}: unknown key "sed"; did you mean "seed"?',
    "r.yaml:3:9: output: ${train.epochs}: stages.train.with.epochs is not set in the recipe\n    only values written in the recipe, its bases or a --set can be referenced, not defaults",
    'r.yaml:4:4: a: ${b}: unknown key "b"; expected one of "name", "description", "extends", "seed", "backend", "inferenceBackend", "output", "relativeTo", "plugins", "load", "preprocess", "augment", "model", "train", "evaluate"',
  ]);
});

Deno.test("interpolateRecipe rejects a reference cycle", () => {
  const parsed = parseRecipeText("name: ${description}\ndescription: ${name}\n", "r.yaml");
  const error = assertThrows(() => interpolateRecipe(parsed, env), RecipeValidationError);
  assertEquals(
    formatIssue(error.issues[0]),
    "r.yaml:1:7: name: ${...} cycle: name → description → name",
  );
});

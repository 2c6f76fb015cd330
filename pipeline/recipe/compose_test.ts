import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { CapillaryError, formatPosition } from "../errors.ts";
import { mergeLayers, overrideLayer, parseOverride, readRecipeLayers } from "./compose.ts";
import { parseRecipeText } from "./parse.ts";

const where = (p: { file: string; line: number; column: number } | undefined) =>
  p ? formatPosition(p) : "default";

Deno.test("mergeLayers merges maps, replaces lists and scalars, deletes on null", () => {
  const base = parseRecipeText(
    [
      "seed: 1", // 1
      "tags: [a, b]", // 2
      "train:", // 3
      "  epochs: 5", // 4
      "  batchSize: 16", // 5
      "  patches: {size: 48, count: 100}", // 6
      "",
    ].join("\n"),
    "base.yaml",
  );
  const child = parseRecipeText(
    [
      "tags: [c]", // 1
      "train:", // 2
      "  epochs: 2", // 3
      "  batchSize: null", // 4
      "  patches: {count: 7}", // 5
      "",
    ].join("\n"),
    "child.yaml",
  );
  const merged = mergeLayers([base, child], "child.yaml");
  assertEquals(merged.value, {
    seed: 1,
    tags: ["c"],
    train: { epochs: 2, patches: { size: 48, count: 7 } },
  });
  assertEquals(where(merged.sourceOf(["seed"])), "base.yaml:1:1");
  assertEquals(where(merged.sourceOf(["tags"])), "child.yaml:1:1");
  assertEquals(where(merged.sourceOf(["train", "epochs"])), "child.yaml:3:3");
  assertEquals(where(merged.sourceOf(["train", "batchSize"])), "default");
  assertEquals(where(merged.deletedAt!(["train", "batchSize"])), "child.yaml:4:3");
  assertEquals(where(merged.sourceOf(["train", "patches", "size"])), "base.yaml:6:13");
  assertEquals(where(merged.sourceOf(["train", "patches", "count"])), "child.yaml:5:13");
  assertEquals(where(merged.sourceOf(["train", "missing"])), "default");
  // A value's position, as errors report it, is in the layer that set it.
  assertEquals(where(merged.positionOf(["train", "patches", "size"])), "base.yaml:6:19");
});

Deno.test("mergeLayers appends with $append and points at the appended items", () => {
  const base = parseRecipeText("augment:\n  - {use: a}\n", "base.yaml");
  const child = parseRecipeText("augment:\n  $append:\n    - {use: b}\n", "child.yaml");
  const merged = mergeLayers([base, child], "child.yaml");
  assertEquals(merged.value, { augment: [{ use: "a" }, { use: "b" }] });
  assertEquals(where(merged.sourceOf(["augment", 0, "use"])), "base.yaml:2:6");
  assertEquals(where(merged.sourceOf(["augment", 1, "use"])), "child.yaml:3:8");
  // With nothing to append to, the items are the list.
  const alone = mergeLayers([child], "child.yaml");
  assertEquals(alone.value, { augment: [{ use: "b" }] });
});

Deno.test("mergeLayers appends to a chain slot written as one map, keeping that map first", () => {
  const base = parseRecipeText(
    "stages:\n  preprocess:\n    use: a\n    with: {k: 1}\n  model: {use: m}\n",
    "base.yaml",
  );
  const child = parseRecipeText(
    "stages:\n  preprocess:\n    $append:\n      - {use: b}\n",
    "child.yaml",
  );
  const merged = mergeLayers([base, child], "child.yaml");
  assertEquals(merged.value, {
    stages: { preprocess: [{ use: "a", with: { k: 1 } }, { use: "b" }], model: { use: "m" } },
  });
  assertEquals(where(merged.sourceOf(["stages", "preprocess", 0, "use"])), "base.yaml:3:5");
  assertEquals(where(merged.sourceOf(["stages", "preprocess", 0, "with", "k"])), "base.yaml:4:12");
  assertEquals(where(merged.sourceOf(["stages", "preprocess", 1, "use"])), "child.yaml:4:10");
  // Outside the stage chains a map under $append is replaced, as before: no list to extend.
  const other = mergeLayers([
    parseRecipeText("plugins: {a: 1}\n", "base.yaml"),
    parseRecipeText("plugins:\n  $append: [x]\n", "child.yaml"),
  ], "child.yaml");
  assertEquals(other.value, { plugins: ["x"] });
});

Deno.test("parseOverride reads typed values and fills in stages and with", () => {
  const cases: [string, string[], unknown][] = [
    ["train.epochs=3", ["stages", "train", "with", "epochs"], 3],
    ["model.with.width=32", ["stages", "model", "with", "width"], 32],
    ["model.use=core/bcdunet", ["stages", "model", "use"], "core/bcdunet"],
    ["stages.train.with.patches.size=64", ["stages", "train", "with", "patches", "size"], 64],
    ["seed=7", ["seed"], 7],
    ["backend=wasm", ["backend"], "wasm"],
    ["train.optimizer.nesterov=true", ["stages", "train", "with", "optimizer", "nesterov"], true],
    ["plugins=[./a.ts, npm:b]", ["plugins"], ["./a.ts", "npm:b"]],
    ["train.batchSize=null", ["stages", "train", "with", "batchSize"], null],
    ["description=", ["description"], null],
    // In a chain slot a number is one of its stages, and `with` may still be left out.
    ["augment.1.p=1", ["stages", "augment", "1", "with", "p"], 1],
    ["augment.1.with.p=1", ["stages", "augment", "1", "with", "p"], 1],
    ["preprocess.0.use=core/x", ["stages", "preprocess", "0", "use"], "core/x"],
    ["augment.1=null", ["stages", "augment", "1"], null],
    ["train.unfreeze.0.epoch=2", ["stages", "train", "with", "unfreeze", "0", "epoch"], 2],
  ];
  for (const [text, path, value] of cases) {
    const override = parseOverride(text);
    assertEquals([override.path, override.value], [path, value], text);
  }
});

Deno.test("parseOverride rejects a missing =, an empty key and an unknown first key", () => {
  assertThrows(() => parseOverride("train.epochs"), CapillaryError, "expected key.path=value");
  assertThrows(() => parseOverride("train..epochs=1"), CapillaryError, "expected key.path=value");
  assertThrows(() => parseOverride("=1"), CapillaryError, "expected key.path=value");
  assertThrows(
    () => parseOverride("sede=1"),
    CapillaryError,
    '--set sede=1: unknown key "sede"; did you mean "seed"?',
  );
  assertThrows(() => parseOverride("seed=[1"), CapillaryError, "the value is not valid YAML");
});

Deno.test("an override layer wins and names itself as the source", () => {
  const recipe = parseRecipeText("seed: 1\nstages:\n  train: {use: core/train}\n", "r.yaml");
  const merged = mergeLayers(
    [recipe, overrideLayer(parseOverride("train.epochs=4"))],
    "r.yaml",
  );
  assertEquals(merged.value, {
    seed: 1,
    stages: { train: { use: "core/train", with: { epochs: 4 } } },
  });
  assertEquals(
    where(merged.sourceOf(["stages", "train", "with", "epochs"])),
    "--set train.epochs=4",
  );
  assertEquals(where(merged.sourceOf(["stages", "train", "use"])), "r.yaml:3:11");
  // Positions of the recipe as a whole stay in the recipe, not in the override.
  assertEquals(where(merged.positionOf([])), "r.yaml:1:1");
});

Deno.test("readRecipeLayers follows extends depth first, bases before the recipe", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/shared`);
    await Deno.writeTextFile(`${dir}/shared/root.yaml`, "seed: 1\n");
    await Deno.writeTextFile(`${dir}/shared/data.yaml`, "extends: root.yaml\nseed: 2\n");
    await Deno.writeTextFile(`${dir}/other.yaml`, "seed: 3\n");
    await Deno.writeTextFile(
      `${dir}/main.yaml`,
      "extends: [shared/data.yaml, other.yaml]\nname: main\n",
    );
    const layers = await readRecipeLayers(`${dir}/main.yaml`);
    assertEquals(
      layers.map((l) => [l.file.replace(dir, ""), l.value]),
      [
        ["/shared/root.yaml", { seed: 1 }],
        ["/shared/data.yaml", { seed: 2 }],
        ["/other.yaml", { seed: 3 }],
        ["/main.yaml", { name: "main" }],
      ],
    );
    const merged = mergeLayers(layers, `${dir}/main.yaml`);
    assertEquals(merged.value, { seed: 3, name: "main" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mergeLayers replaces a map that names another implementation instead of merging", () => {
  const base = parseRecipeText("model: {use: a/net, with: {x: 1, y: 2}}\n", "base.yaml");
  const same = parseRecipeText("model: {with: {x: 3}}\n", "same.yaml");
  const other = parseRecipeText("model: {use: b/net, with: {z: 4}}\n", "other.yaml");
  assertEquals(mergeLayers([base, same], "same.yaml").value, {
    model: { use: "a/net", with: { x: 3, y: 2 } },
  });
  const switched = mergeLayers([base, other], "other.yaml");
  assertEquals(switched.value, { model: { use: "b/net", with: { z: 4 } } });
  assertEquals(where(switched.sourceOf(["model", "with", "x"])), "default");
});

Deno.test("mergeLayers replaces a map whose type changes (another optimizer), merges one that keeps it", () => {
  const base = parseRecipeText(
    "optimizer: {type: sgd, learningRate: 0.01, momentum: 0.99}\n",
    "base.yaml",
  );
  const adam = parseRecipeText("optimizer: {type: adam, learningRate: 0.001}\n", "adam.yaml");
  const sgd = parseRecipeText("optimizer: {type: sgd, learningRate: 0.1}\n", "sgd.yaml");
  assertEquals(mergeLayers([base, adam], "adam.yaml").value, {
    optimizer: { type: "adam", learningRate: 0.001 },
  });
  assertEquals(mergeLayers([base, sgd], "sgd.yaml").value, {
    optimizer: { type: "sgd", learningRate: 0.1, momentum: 0.99 },
  });
});

Deno.test("an override with a number in its path sets that item of the list below", () => {
  const recipe = parseRecipeText(
    [
      "stages:", // 1
      "  augment:", // 2
      "    - {use: a, with: {p: 0.5}}", // 3
      "    - {use: b, with: {p: 0.5, q: 2}}", // 4
      "  train: {use: t, with: {unfreeze: [{epoch: 1, layers: [x]}]}}", // 5
      "",
    ].join("\n"),
    "r.yaml",
  );
  const merged = mergeLayers(
    [
      recipe,
      overrideLayer(parseOverride("augment.1.p=1")),
      overrideLayer(parseOverride("train.unfreeze.0.epoch=3")),
    ],
    "r.yaml",
  );
  assertEquals(merged.value, {
    stages: {
      augment: [{ use: "a", with: { p: 0.5 } }, { use: "b", with: { p: 1, q: 2 } }],
      train: { use: "t", with: { unfreeze: [{ epoch: 3, layers: ["x"] }] } },
    },
  });
  const at = (...path: (string | number)[]) => where(merged.sourceOf(["stages", ...path]));
  assertEquals(at("augment", 1, "with", "p"), "--set augment.1.p=1");
  assertEquals(at("augment", 1, "with", "q"), "r.yaml:4:31");
  assertEquals(at("augment", 1, "use"), "r.yaml:4:8");
  assertEquals(at("augment", 0, "with", "p"), "r.yaml:3:23");
  assertEquals(at("train", "with", "unfreeze", 0, "epoch"), "--set train.unfreeze.0.epoch=3");
  assertEquals(at("train", "with", "unfreeze", 0, "layers"), "r.yaml:5:48");
  // A new `use` replaces the item, as it replaces a stage, and only that item.
  const swapped = mergeLayers([recipe, overrideLayer(parseOverride("augment.0.use=c"))], "r.yaml");
  assertEquals((swapped.value as { stages: { augment: unknown[] } }).stages.augment, [
    { use: "c" },
    { use: "b", with: { p: 0.5, q: 2 } },
  ]);
});

Deno.test("an override with a number in its path: a chain slot of one map, a map below", () => {
  const recipe = parseRecipeText(
    "stages:\n  augment: {use: a, with: {p: 0.5}}\n  evaluate: {with: {refs: {1: x}}}\n",
    "r.yaml",
  );
  const merged = mergeLayers(
    [
      recipe,
      overrideLayer(parseOverride("augment.0.p=1")),
      overrideLayer(parseOverride("evaluate.refs.2=y")),
    ],
    "r.yaml",
  );
  // A chain slot written as one map is a list of one; over a map, a number is a key.
  assertEquals(merged.value, {
    stages: {
      augment: { use: "a", with: { p: 1 } },
      evaluate: { with: { refs: { 1: "x", 2: "y" } } },
    },
  });
  // Over nothing, a number is an item of a list left to its default, which has none.
  assertThrows(
    () => mergeLayers([recipe, overrideLayer(parseOverride("evaluate.other.3=z"))], "r.yaml"),
    CapillaryError,
    "--set evaluate.other.3=z: no recipe sets evaluate.other, so it has no item 3; give the " +
      "list whole: --set 'evaluate.other=[...]'",
  );
  assertThrows(
    () => mergeLayers([recipe, overrideLayer(parseOverride("augment.1.p=1"))], "r.yaml"),
    CapillaryError,
    "--set augment.1.p=1: augment has 1 item, numbered 0; to add one, give the list whole: " +
      "--set 'augment=[...]'",
  );
});

import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { CapillaryError, RecipeSyntaxError } from "../errors.ts";
import { parseRecipeText } from "./parse.ts";

const TEXT = [
  "name: demo", // 1
  "stages:", // 2
  "  train:", // 3
  "    use: core/train", // 4
  "    with:", // 5
  "      epochs: 3", // 6
  "      patches: { size: 32, count: 40 }", // 7
  "  augment:", // 8
  "    - use: core/flip_rotate", // 9
  "    - { use: fixture/invert, with: { p: 1 } }", // 10
  "plugins: [./a.ts, ./b.ts]", // 11
  "",
].join("\n");

Deno.test("parseRecipeText() gives the plain value of the document", () => {
  assertEquals(parseRecipeText(TEXT, "r.yaml").value, {
    name: "demo",
    stages: {
      train: { use: "core/train", with: { epochs: 3, patches: { size: 32, count: 40 } } },
      augment: [{ use: "core/flip_rotate" }, { use: "fixture/invert", with: { p: 1 } }],
    },
    plugins: ["./a.ts", "./b.ts"],
  });
});

Deno.test("parseRecipeText() positions keys and values in nested maps and lists", () => {
  const parsed = parseRecipeText(TEXT, "r.yaml");
  const cases: [(string | number)[], "key" | "value", number, number][] = [
    [[], "value", 1, 1],
    [["name"], "key", 1, 1],
    [["name"], "value", 1, 7],
    [["stages"], "key", 2, 1],
    [["stages"], "value", 3, 3],
    [["stages", "train"], "key", 3, 3],
    [["stages", "train"], "value", 4, 5],
    [["stages", "train", "use"], "key", 4, 5],
    [["stages", "train", "use"], "value", 4, 10],
    [["stages", "train", "with", "epochs"], "key", 6, 7],
    [["stages", "train", "with", "epochs"], "value", 6, 15],
    [["stages", "train", "with", "patches"], "value", 7, 16],
    [["stages", "train", "with", "patches", "size"], "key", 7, 18],
    [["stages", "train", "with", "patches", "size"], "value", 7, 24],
    [["stages", "train", "with", "patches", "count"], "key", 7, 28],
    [["stages", "train", "with", "patches", "count"], "value", 7, 35],
    [["stages", "augment"], "value", 9, 5],
    [["stages", "augment", 0], "value", 9, 7],
    [["stages", "augment", 0, "use"], "key", 9, 7],
    [["stages", "augment", 0, "use"], "value", 9, 12],
    [["stages", "augment", 1], "value", 10, 7],
    [["stages", "augment", 1, "with", "p"], "key", 10, 38],
    [["stages", "augment", 1, "with", "p"], "value", 10, 41],
    [["plugins", 0], "value", 11, 11],
    [["plugins", 1], "value", 11, 19],
  ];
  for (const [path, part, line, column] of cases) {
    assertEquals(
      parsed.positionOf(path, part),
      { file: "r.yaml", line, column },
      `${path.join(".")} (${part})`,
    );
  }
});

Deno.test("parseRecipeText() positions a missing path at its nearest existing ancestor", () => {
  const parsed = parseRecipeText(TEXT, "r.yaml");
  const cases: [(string | number)[], "key" | "value", number, number][] = [
    [["stages", "train", "with", "missing"], "key", 6, 7],
    [["stages", "train", "with", "missing", "deeper"], "value", 6, 7],
    [["stages", "evaluate"], "key", 3, 3],
    [["stages", "augment", 5], "value", 9, 5],
    [["stages", "augment", 5, "use"], "key", 9, 5],
    [["name", "inside"], "value", 1, 7],
    [["plugins", "x"], "value", 11, 10],
    [["nothing"], "key", 1, 1],
  ];
  for (const [path, part, line, column] of cases) {
    assertEquals(
      parsed.positionOf(path, part),
      { file: "r.yaml", line, column },
      `${path.join(".")} (${part})`,
    );
  }
});

Deno.test("parseRecipeText() positions an empty value just after its key's colon", () => {
  const parsed = parseRecipeText("seed: 1\nstages:\n  load:\n", "r.yaml");
  assertEquals(parsed.value, { seed: 1, stages: { load: null } });
  assertEquals(parsed.positionOf(["stages", "load"], "key"), {
    file: "r.yaml",
    line: 3,
    column: 3,
  });
  assertEquals(parsed.positionOf(["stages", "load"]), { file: "r.yaml", line: 3, column: 8 });
});

Deno.test("parseRecipeText() counts lines of CRLF files", () => {
  const parsed = parseRecipeText("seed: 1\r\nstages:\r\n  load: x\r\n", "r.yaml");
  assertEquals(parsed.value, { seed: 1, stages: { load: "x" } });
  assertEquals(parsed.positionOf(["stages", "load"]), { file: "r.yaml", line: 3, column: 9 });
});

Deno.test("parseRecipeText() reads an empty or comment-only file as an empty map", () => {
  for (const text of ["", "\n", "# only a comment\n"]) {
    const parsed = parseRecipeText(text, "r.yaml");
    assertEquals(parsed.value, {}, JSON.stringify(text));
    assertEquals(parsed.positionOf(["stages"], "key"), { file: "r.yaml", line: 1, column: 1 });
  }
});

Deno.test("parseRecipeText() reports syntax errors with line, column and snippet", () => {
  const cases: {
    name: string;
    text: string;
    at: [number, number];
    snippet: string;
    says: string;
  }[] = [
    {
      name: "bad indentation",
      text: "seed: 1\nstages:\n  load:\n    use: core/drive\n   with: {}\n",
      at: [5, 4],
      snippet: "   with: {}",
      says: "All mapping items must start at the same column",
    },
    {
      name: "unclosed bracket",
      text: "plugins: [a, b\nseed: 1\n",
      at: [1, 10],
      snippet: "plugins: [a, b",
      says: "end with a ]",
    },
    {
      name: "unclosed bracket at the end of the file",
      text: "seed: 1\nstages: { load: [1, 2\n",
      at: [2, 17],
      snippet: "stages: { load: [1, 2",
      says: "end with a ]",
    },
    {
      name: "unclosed brace",
      text: "seed: 1\nstages: { load: x\nname: y\n",
      at: [2, 9],
      snippet: "stages: { load: x",
      says: "end with a }",
    },
    {
      name: "unclosed quote",
      text: 'seed: 1\nname: "demo\nstages: {}\n',
      at: [2, 7],
      snippet: 'name: "demo',
      says: 'Missing closing "quote',
    },
    {
      name: "duplicate key",
      text: "seed: 1\nname: x\nseed: 2\n",
      at: [3, 1],
      snippet: "seed: 2",
      says: 'key "seed" appears twice in one map, first at line 1, column 1; keep one',
    },
    {
      name: "duplicate nested key",
      text: "stages:\n  train:\n    use: core/train\n    use: core/evaluate\n",
      at: [4, 5],
      snippet: "    use: core/evaluate",
      says: 'key "use" appears twice in one map, first at line 3, column 5; keep one',
    },
    {
      name: "duplicate key in a flow map",
      text: "with: {epochs: 1, epochs: 3}\n",
      at: [1, 19],
      snippet: "with: {epochs: 1, epochs: 3}",
      says: 'key "epochs" appears twice in one map, first at line 1, column 8; keep one',
    },
    {
      name: "tab indentation",
      text: "seed: 1\nstages:\n\tload: { use: core/drive }\n",
      at: [3, 1],
      snippet: "\tload: { use: core/drive }",
      says: "Tabs are not allowed as indentation",
    },
    {
      name: "a second colon",
      text: "seed: 1: 2\n",
      at: [1, 7],
      snippet: "seed: 1: 2",
      says: "Nested mappings are not allowed in compact mappings",
    },
  ];
  for (const { name, text, at: [line, column], snippet, says } of cases) {
    const error = assertThrows(() => parseRecipeText(text, "dir/r.yaml"), RecipeSyntaxError);
    assertEquals(error instanceof CapillaryError, true, name);
    assertEquals(error.code, "E_RECIPE_SYNTAX", name);
    assertEquals(error.position, { file: "dir/r.yaml", line, column }, name);
    assertEquals(error.snippet, snippet, name);
    assertEquals(error.message.startsWith(`dir/r.yaml:${line}:${column}: `), true, name);
    assertEquals(error.message.split("\n")[0].includes(says), true, name);
    assertEquals(error.message.endsWith(`\n  ${snippet}`), true, name);
  }
});

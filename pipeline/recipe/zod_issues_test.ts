import { z } from "zod";
import { assertEquals } from "../../tests/assert.ts";
import { formatPosition } from "../errors.ts";
import { parseRecipeText } from "./parse.ts";
import { knownKeys, strippedKeyIssues, zodIssuesToRecipeIssues } from "./zod_issues.ts";

// Names unlike any stage's options: the engine must read unions from the schema alone.
const circle = z.object({
  shape: z.literal("circle").default("circle"),
  radius: z.number().positive().default(1),
}).strict();
const box = z.object({
  shape: z.enum(["square", "rectangle"]),
  side: z.number().positive().default(1),
}).strict();
const options = z.object({
  form: z.union([circle, box]).default({ shape: "circle", radius: 1 }),
  mark: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("dot"), size: z.number() }).strict(),
    z.object({ kind: z.literal("cross"), arms: z.number().int() }).strict(),
  ]).optional(),
  low: z.number().min(0).default(0),
  high: z.number().min(0).default(1),
  range: z.tuple([z.number().min(0), z.number().min(0)]).default([0, 1])
    .refine(([a, b]) => a <= b, "the first value must not exceed the second"),
}).strict().superRefine((o, context) => {
  if (o.low > o.high) {
    context.addIssue({ code: "custom", path: ["low"], message: `low is above high ${o.high}` });
  }
  if (o.high > 10) {
    context.addIssue({ code: "custom", path: ["high"], message: "high is at most 10" });
  }
});

function issuesOf(text: string) {
  const parsed = parseRecipeText(text, "r.yaml");
  const result = options.safeParse(parsed.value);
  if (result.success) return [];
  return zodIssuesToRecipeIssues(result.error.issues, options, parsed.value, parsed, [])
    .map((i) => ({
      at: formatPosition(i.position),
      path: i.path.join("."),
      message: i.message,
      ...(i.hint ? { hint: i.hint } : {}),
    }));
}

Deno.test("zodIssuesToRecipeIssues() reports an unknown tag of a union of maps at the tag", () => {
  const cases: [string, unknown[]][] = [
    ["form: { shape: sqare }", [{
      at: "r.yaml:1:16",
      path: "form.shape",
      message:
        'unknown shape "sqare"; did you mean "square"? (one of "circle", "square", "rectangle")',
    }]],
    ["form: { shape: hexagon, side: 2 }", [{
      at: "r.yaml:1:16",
      path: "form.shape",
      message: 'unknown shape "hexagon" (one of "circle", "square", "rectangle")',
    }]],
    ["low: 1\nform:\n  side: 2\n  shape: 3\n", [{
      at: "r.yaml:4:10",
      path: "form.shape",
      message: 'unknown shape 3 (one of "circle", "square", "rectangle")',
    }]],
    ["form: { shape: [square] }", [{
      at: "r.yaml:1:16",
      path: "form.shape",
      message: 'expected one of "circle", "square", "rectangle", got a list',
    }]],
    ["mark: { kind: dott, size: 1 }", [{
      at: "r.yaml:1:15",
      path: "mark.kind",
      message: 'unknown kind "dott"; did you mean "dot"? (one of "dot", "cross")',
    }]],
    ["mark: { size: 1 }", [{
      at: "r.yaml:1:7",
      path: "mark.kind",
      message: 'missing required option (expected one of "dot", "cross")',
    }]],
  ];
  for (const [text, expected] of cases) assertEquals(issuesOf(text), expected, text);
});

Deno.test("zodIssuesToRecipeIssues() reports inside the map that a union's tag picks", () => {
  const cases: [string, unknown[]][] = [
    ["form: { shape: square, side: x }", [{
      at: "r.yaml:1:30",
      path: "form.side",
      message: 'expected a number, got "x"',
    }]],
    // No tag: the map whose tag has a default is meant, and only its names are offered.
    ["form: { side: 2 }", [{
      at: "r.yaml:1:9",
      path: "form.side",
      message: 'unknown option "side"',
      hint: 'expected one of "shape", "radius"',
    }]],
    ["form: [circle]", [{
      at: "r.yaml:1:7",
      path: "form",
      message: "expected a map, got a list",
    }]],
  ];
  for (const [text, expected] of cases) assertEquals(issuesOf(text), expected, text);
});

Deno.test("knownKeys() picks the map of a union by its tag, or the one that defaults it", () => {
  assertEquals(knownKeys(options, ["form"], { shape: "square" }), ["shape", "side"]);
  assertEquals(knownKeys(options, ["form"], {}), ["shape", "radius"]);
  assertEquals(knownKeys(options, ["form"], { shape: "oval" }), ["shape", "radius", "side"]);
  assertEquals(knownKeys(options, ["mark"], { kind: "cross" }), ["kind", "arms"]);
});

Deno.test("zodIssuesToRecipeIssues() leaves out a refinement of a value with faults of its own", () => {
  const cases: [string, string[]][] = [
    // high's own fault, not the cross-field check that compared it.
    ["low: 5\nhigh: -1\n", ["high: expected a value >= 0, got -1"]],
    ["range: [2, -1]", ["range.1: expected a value >= 0, got -1"]],
    ["high: 20\nrange: [-1, 1]\n", ["range.0: expected a value >= 0, got -1"]],
    // Without such faults, every refinement speaks, siblings included.
    ["low: 5\nhigh: 1\n", ["low: low is above high 1, got 5"]],
    ["low: 20\nhigh: 15\n", [
      "low: low is above high 15, got 20",
      "high: high is at most 10, got 15",
    ]],
    ["range: [2, 1]", ["range: the first value must not exceed the second, got a list"]],
    // A field's own refinement is not judged by faults elsewhere.
    ["range: [2, 1]\nform: { shape: sqare }\n", [
      'form.shape: unknown shape "sqare"; did you mean "square"? (one of "circle", "square", "rectangle")',
      "range: the first value must not exceed the second, got a list",
    ]],
  ];
  for (const [text, expected] of cases) {
    assertEquals(issuesOf(text).map((i) => `${i.path}: ${i.message}`), expected, text);
  }
});

// As a plugin author may write them: plain z.object, which zod strips of unknown keys.
const plain = z.object({
  p: z.number().default(0.5),
  inner: z.object({ sigma: z.number().default(1) }).default({ sigma: 1 }),
  steps: z.array(z.object({ at: z.number() })).default([]),
  named: z.record(z.string(), z.object({ weight: z.number() })).default({}),
  tagged: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("dot"), size: z.number() }),
    z.object({ kind: z.literal("cross"), arms: z.number() }),
  ]).optional(),
  either: z.union([z.object({ low: z.number() }), z.object({ high: z.number() })]).optional(),
  loose: z.looseObject({ a: z.number().default(1) }).default({ a: 1 }),
  numbers: z.object({}).catchall(z.number()).default({}),
  strict: z.object({ b: z.number().default(1) }).strict().default({ b: 1 }),
});

/** The recipe issues of parsing `text` against `plain`, stripped keys included. */
function strippedOf(text: string) {
  const parsed = parseRecipeText(text, "r.yaml");
  const result = plain.safeParse(parsed.value);
  const issues = [
    ...strippedKeyIssues(plain, parsed.value),
    ...(result.success ? [] : result.error.issues),
  ];
  return zodIssuesToRecipeIssues(issues, plain, parsed.value, parsed, [])
    .map((i) =>
      `${formatPosition(i.position)}: ${i.path.join(".")}: ${i.message}${
        i.hint ? `; ${i.hint}` : ""
      }`
    );
}

Deno.test("strippedKeyIssues() reports the keys a non-strict map would drop, as a strict one does", () => {
  const cases: [string, string[]][] = [
    ["pp: 0.3", ['r.yaml:1:1: pp: unknown option "pp"; did you mean "p"?']],
    ["inner: { sigm: 2 }", [
      'r.yaml:1:10: inner.sigm: unknown option "sigm"; did you mean "sigma"?',
    ]],
    ["steps: [{ at: 1 }, { at: 2, ta: 3 }]", [
      'r.yaml:1:29: steps.1.ta: unknown option "ta"; did you mean "at"?',
    ]],
    ["named: { a: { weigth: 1, weight: 2 } }", [
      'r.yaml:1:15: named.a.weigth: unknown option "weigth"; did you mean "weight"?',
    ]],
    // The tag picks the map whose names count.
    ["tagged: { kind: cross, arms: 2, size: 1 }", [
      'r.yaml:1:33: tagged.size: unknown option "size"; expected one of "kind", "arms"',
    ]],
    // Without a tag, only a key that no map of the union names.
    ["either: { low: 1, high: 2, hihg: 3 }", [
      'r.yaml:1:28: either.hihg: unknown option "hihg"; did you mean "high"?',
    ]],
    // The author's choice: any key (looseObject), keys of a type (catchall).
    ["loose: { b: 2 }\nnumbers: { x: 1 }\n", []],
    // A strict map reports its own, once.
    ["strict: { c: 1 }", ['r.yaml:1:11: strict.c: unknown option "c"; did you mean "b"?']],
    // The stripped key is reported beside the value's other faults.
    ["pp: 1\np: x\n", [
      'r.yaml:1:1: pp: unknown option "pp"; did you mean "p"?',
      'r.yaml:2:4: p: expected a number, got "x"',
    ]],
  ];
  for (const [text, expected] of cases) assertEquals(strippedOf(text), expected, text);
});

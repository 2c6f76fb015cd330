import { z } from "zod";
import { assertEquals } from "../../tests/assert.ts";
import { formatPosition } from "../errors.ts";
import { parseRecipeText } from "./parse.ts";
import { knownKeys, zodIssuesToRecipeIssues } from "./zod_issues.ts";

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

/**
 * The recipe JSON Schema (`deno task schema`): the committed file is current,
 * every recipe names it in its modeline and conforms to it, and it rejects
 * what the loader rejects (typos, wrong types, out-of-range values).
 */
import Ajv2020 from "ajv/dist/2020.js";
import { parse } from "yaml";
import { assertEquals } from "./assert.ts";
import { Registry } from "../mod.ts";
import { recipeJsonSchema, schemaModeline } from "../pipeline/recipe/json_schema.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { DEFAULT_SCHEMA_FILE } from "../cli/usage.ts";

const ROOT = new URL("..", import.meta.url);
const SCHEMA_FILE = new URL(DEFAULT_SCHEMA_FILE, ROOT);

function coreSchema() {
  const registry = new Registry();
  for (const plugin of BUILTIN_PLUGINS) registry.register(plugin, "(built in)");
  return recipeJsonSchema(registry);
}

function validator() {
  // deno-lint-ignore no-explicit-any
  const ajv = new (Ajv2020 as any)({ allErrors: true, strict: false });
  return ajv.compile(coreSchema()) as ((data: unknown) => boolean) & {
    errors?: { instancePath: string; message: string }[];
  };
}

async function recipeFiles(): Promise<URL[]> {
  const files: URL[] = [];
  for await (const entry of Deno.readDir(new URL("recipes/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".yaml")) {
      files.push(new URL(`recipes/${entry.name}`, ROOT));
    }
  }
  return files.sort((a, b) => a.href.localeCompare(b.href));
}

Deno.test("the committed schema is what `deno task schema` writes now", async () => {
  const committed = await Deno.readTextFile(SCHEMA_FILE);
  assertEquals(
    committed,
    `${JSON.stringify(coreSchema(), null, 2)}\n`,
    "schema/recipe.schema.json is stale: run `deno task schema` and commit it",
  );
});

Deno.test("every recipe starts with the modeline and conforms to the schema", async () => {
  const validate = validator();
  const files = await recipeFiles();
  assertEquals(files.length >= 2, true);
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    assertEquals(
      text.split("\n")[0],
      schemaModeline("../schema/recipe.schema.json"),
      `${file.pathname} lacks the modeline`,
    );
    const ok = validate(parse(text));
    assertEquals(ok, true, `${file.pathname}: ${JSON.stringify(validate.errors)}`);
  }
});

Deno.test("the schema rejects a typo, a wrong type, a bad range and a stage in the wrong slot", () => {
  const validate = validator();
  const base = {
    stages: {
      load: { use: "core/drive" },
      model: { use: "core/bcdunet", with: { width: 8 } },
      train: { use: "core/train", with: { epochs: 2 } },
      evaluate: { use: "core/segmentation_metrics" },
    },
  };
  assertEquals(validate(base), true, JSON.stringify(validate.errors));
  const stepSchedule = {
    ...base,
    stages: {
      ...base.stages,
      train: { use: "core/train", with: { schedule: { use: "core/step", with: { every: 1 } } } },
    },
  };
  assertEquals(validate(stepSchedule), true, JSON.stringify(validate.errors));
  const variants: [string, (r: typeof base) => unknown][] = [
    [
      "typo in an option",
      (r) => ({ ...r, stages: { ...r.stages, train: { use: "core/train", with: { epochz: 2 } } } }),
    ],
    [
      "wrong type",
      (r) => ({
        ...r,
        stages: { ...r.stages, train: { use: "core/train", with: { epochs: "two" } } },
      }),
    ],
    [
      "out of range",
      (r) => ({ ...r, stages: { ...r.stages, train: { use: "core/train", with: { epochs: 0 } } } }),
    ],
    ["wrong slot", (r) => ({ ...r, stages: { ...r.stages, train: { use: "core/drive" } } })],
    ["unknown top-level key", (r) => ({ ...r, sed: 1 })],
    [
      "unknown schedule",
      (r) => ({
        ...r,
        stages: {
          ...r.stages,
          train: { use: "core/train", with: { schedule: { use: "core/cosin" } } },
        },
      }),
    ],
    [
      "schedule option of another schedule",
      (r) => ({
        ...r,
        stages: {
          ...r.stages,
          train: {
            use: "core/train",
            with: { schedule: { use: "core/cosine", with: { every: 2 } } },
          },
        },
      }),
    ],
    ["missing stage", (r) => ({ stages: { ...r.stages, load: undefined } })],
  ];
  for (const [what, change] of variants) {
    const recipe = JSON.parse(JSON.stringify(change(base)));
    assertEquals(validate(recipe), false, what);
  }
});

Deno.test("the schema asks for every required stage unless the recipe extends a base", () => {
  const validate = validator();
  const partial = { stages: { model: { use: "core/bcdunet", from: "runs/x" } } };
  assertEquals(validate(partial), false);
  assertEquals(
    validate({ extends: "drive.yaml", ...partial }),
    true,
    JSON.stringify(validate.errors),
  );
  // `from` is the model slot's only.
  assertEquals(
    validate({ extends: "d.yaml", stages: { train: { use: "core/train", from: "x" } } }),
    false,
  );
});

// A second zod 4 (as a plugin that brings its own would load), where node_modules holds one.
const OTHER_ZOD = new URL("node_modules/.deno/zod@4.1.5/node_modules/zod/v4/index.js", ROOT);
const otherZod = await Deno.stat(OTHER_ZOD).then(() => true, () => false);

Deno.test({
  name: "the schema keeps the descriptions of options built with another copy of zod",
  ignore: !otherZod,
  fn: async () => {
    const { z } = await import(OTHER_ZOD.href);
    const registry = new Registry();
    registry.register({
      name: "other",
      version: "1.0.0",
      stages: [{
        name: "noise",
        kind: "augment",
        description: "Adds noise.",
        options: z.object({ sigma: z.number().min(0).default(0.1).describe("The noise SD.") })
          .strict(),
        run: () => (batch: unknown) => batch,
      }],
    } as never, "other.ts");
    // deno-lint-ignore no-explicit-any
    const stages = (recipeJsonSchema(registry).properties as Record<string, any>).stages;
    // deno-lint-ignore no-explicit-any
    const entry = stages.properties.augment.anyOf[0].anyOf.find((e: any) =>
      e.properties.use.const === "other/noise"
    );
    assertEquals(entry.properties.with.anyOf[0].properties.sigma, {
      default: 0.1,
      type: "number",
      minimum: 0,
      description: "The noise SD.",
    });
  },
});

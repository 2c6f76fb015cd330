/**
 * What a recipe's load says about a plugin that does not load: a syntax
 * error with its file, line and column, an import that cannot be found, and
 * a default export that misses the contract (every problem at once), each
 * with what to do and no stack trace.
 */
import { assertEquals, assertRejects } from "./assert.ts";
import { MINIMAL_RECIPE } from "./tiny_runs.ts";
import { formatIssue, loadRecipe, RecipeValidationError } from "../mod.ts";
import core from "../plugins/core/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/plugin_errors/", import.meta.url).pathname;

/** A recipe that validates without plugins; `plugins:` goes on line 7, its first entry at column 11. */
const OK = MINIMAL_RECIPE;

// A module that does not parse breaks `deno lint` wherever it sits in the repo, so the
// plugins that fail at import are written here, to a temporary folder, and not kept as fixtures.
const dir = await Deno.makeTempDir({ prefix: "capillary-plugin-errors-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const modules: Record<string, string> = {
  "syntax_error.ts": [
    "export default {",
    '  name: "syntax",',
    '  version: "1.0.0"',
    "  stages: [],",
    "};",
    "",
  ].join("\n"),
  "imports_syntax_error.ts": 'import "./syntax_error.ts";\nexport default {};\n',
  "imports_missing.ts": 'import { noise } from "./absent.ts";\nexport default noise;\n',
};
for (const [name, text] of Object.entries(modules)) {
  await Deno.writeTextFile(`${dir}/${name}`, text);
}

/** The one issue loading a recipe that lists `plugin` raises, formatted as the CLI prints it. */
async function issueFor(plugin: string): Promise<{ recipe: string; text: string }> {
  const recipe = `${dir}/recipe-${crypto.randomUUID()}.yaml`;
  await Deno.writeTextFile(recipe, `${OK}plugins: [${plugin}]\n`);
  const error = await assertRejects(
    () => loadRecipe(recipe, { builtins: [core] }),
    RecipeValidationError,
  );
  assertEquals(error.issues.length, 1, error.message);
  return { recipe, text: formatIssue(error.issues[0]) };
}

Deno.test("a plugin with a syntax error is reported at its file:line:column", async () => {
  const { recipe, text } = await issueFor("./syntax_error.ts");
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: plugin "./syntax_error.ts" has a syntax error: ` +
      `Expected ',', got 'stages' (at ${dir}/syntax_error.ts:4:3)\n` +
      "      4 |   stages: [],\n" +
      "        |   ~~~~~~\n" +
      `    fix the syntax at ${dir}/syntax_error.ts:4:3`,
  );
});

Deno.test("a syntax error in a module a plugin imports names that module", async () => {
  const { recipe, text } = await issueFor("./imports_syntax_error.ts");
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: plugin "./imports_syntax_error.ts" imports a module with a ` +
      `syntax error: Expected ',', got 'stages' (at ${dir}/syntax_error.ts:4:3)\n` +
      "      4 |   stages: [],\n" +
      "        |   ~~~~~~\n" +
      `    fix the syntax at ${dir}/syntax_error.ts:4:3`,
  );
});

Deno.test("an import a plugin makes that cannot be found names the import, not the plugin", async () => {
  const { recipe, text } = await issueFor("./imports_missing.ts");
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: plugin "./imports_missing.ts" imports a module that cannot be ` +
      `found: ${dir}/absent.ts (at ${dir}/imports_missing.ts:1:23)\n` +
      `    fix the import at ${dir}/imports_missing.ts:1:23`,
  );
});

const HINT = (file: string) =>
  `    fix the default export of ${file}: \`export default definePlugin({ name, version, stages })\`, ` +
  'each stage made with `defineStage` (PLUGINS.md, "The contract", lists every field)';

Deno.test("a default export of the wrong shape gets every problem in words", async () => {
  const file = `${FIXTURES}wrong_shape.ts`;
  const { recipe, text } = await issueFor(file);
  assertEquals(
    text,
    [
      `${recipe}:7:11: plugins.0: plugin "${file}" exports a plugin that does not fit the contract:`,
      '      name: expected lower case letters, digits, - or _, starting with a letter, got "Wrong"',
      "      version: expected a string, got 1",
      '      stages: expected an array of stages, got "none"',
      HINT(file),
    ].join("\n"),
  );
});

Deno.test("a misspelled stage kind gets a did-you-mean beside the missing options", async () => {
  const file = `${FIXTURES}misspelled_kind.ts`;
  const { recipe, text } = await issueFor(file);
  assertEquals(
    text,
    [
      `${recipe}:7:11: plugins.0: plugin "${file}" exports a plugin that does not fit the contract:`,
      '      stages.0.kind: unknown stage kind "augmnt"; did you mean "augment"?',
      "      stages.0.options: missing; expected a zod schema of its `with:` options, " +
      "such as z.object({}).strict()",
      HINT(file),
    ].join("\n"),
  );
});

Deno.test("a default export that makes the plugin says to export the plugin itself", async () => {
  const file = `${FIXTURES}factory.ts`;
  const { recipe, text } = await issueFor(file);
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: plugin "${file}" exports a function, not a plugin\n` +
      `    in ${file}, export the plugin object itself: \`export default definePlugin({ ... })\`, ` +
      'not a function that returns it (PLUGINS.md, "The contract", lists every field)',
  );
});

Deno.test("a plugin path without its .ts gets a did-you-mean", async () => {
  const file = `${FIXTURES}factory`;
  const { recipe, text } = await issueFor(file);
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: cannot load plugin "${file}": module not found\n` +
      `    looked for ${file}; did you mean ${file}.ts?`,
  );
});

Deno.test("a plugin named as the built-in core is told to choose another name", async () => {
  const file = `${FIXTURES}named_core.ts`;
  const { recipe, text } = await issueFor(file);
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: Cannot load plugin "core" from "${file}": "core" is the name of ` +
      "a built-in plugin; choose another name for yours",
  );
});

Deno.test("cli validate prints a plugin's syntax error without a stack trace", async () => {
  const plugin = `${dir}/syntax_error.ts`;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "cli.ts", "validate", "recipes/synthetic.yaml", "--set"].concat(
      `plugins=[${plugin}]`,
    ),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  assertEquals(code, 1);
  assertEquals(new TextDecoder().decode(stdout), "");
  assertEquals(
    new TextDecoder().decode(stderr),
    [
      "error: Cannot use recipe: 1 problem",
      `  --set plugins=[${plugin}]: plugins.0: plugin "${plugin}" has a syntax error: ` +
      `Expected ',', got 'stages' (at ${plugin}:4:3)`,
      "      4 |   stages: [],",
      "        |   ~~~~~~",
      `    fix the syntax at ${plugin}:4:3`,
      "",
    ].join("\n"),
  );
});

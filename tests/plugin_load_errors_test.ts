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
import { changedRemoteSource, describeChangedSource } from "../pipeline/recipe/load_plugins.ts";

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
  // As an npm package would be written: no import of Capillary, its API comes as the argument.
  "factory.js": [
    "export default (capillary) => capillary.definePlugin({",
    '  name: "made",',
    '  version: "1.0.0",',
    "  stages: [capillary.defineStage({",
    '    name: "noise",',
    '    kind: "augment",',
    '    description: "Adds nothing.",',
    "    options: capillary.z.object({ sigma: capillary.z.number().default(0.1) }).strict(),",
    "    run: () => (batch) => batch,",
    "  })],",
    "});",
    "",
  ].join("\n"),
  "async_factory.js": 'export default async ({ definePlugin }) => definePlugin({ name: "later", ' +
    'version: "1.0.0", stages: [] });\n',
  "factory_throws.js": 'export default () => {\n  throw new Error("no GPU here");\n};\n',
  "factory_returns_nothing.js": "export default () => {};\n",
  "named_export.js": 'export const noise = { name: "noise", version: "1.0.0", stages: [] };\n',
  "named_plugin_wrong.js": 'export const plugin = { name: "noise", version: 1, stages: [] };\n',
  "bare_import.ts": 'import _ from "lodash";\nexport default _;\n',
  "npmpkg/package.json": '{ "name": "npmpkg", "version": "1.0.0", "main": "./mod.js" }\n',
  "npmpkg/mod.js": 'export default { name: "npmpkg", version: "1.0.0", stages: [] };\n',
};
await Deno.mkdir(`${dir}/npmpkg`);
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

Deno.test("a default export that is a factory is called with the engine's API", async () => {
  const recipe = `${dir}/factory.yaml`;
  await Deno.writeTextFile(
    recipe,
    `${OK}plugins: [./factory.js, ./async_factory.js, ${FIXTURES}factory.ts]\n`,
  );
  const { registry } = await loadRecipe(recipe, { builtins: [core] });
  assertEquals(registry.plugins().map((p) => [p.plugin.name, p.origin]), [
    ["core", "(built in)"],
    ["made", "./factory.js"],
    ["later", "./async_factory.js"],
    ["factory", `${FIXTURES}factory.ts`],
  ]);
  // Its options are the engine's zod: defaults filled, and read by the JSON Schema.
  assertEquals(registry.get("made/noise")?.stage.options.parse({}), { sigma: 0.1 });
});

Deno.test("a factory that throws, or returns no plugin, is said so at its file", async () => {
  const throws = await issueFor("./factory_throws.js");
  assertEquals(
    throws.text,
    `${throws.recipe}:7:11: plugins.0: plugin "./factory_throws.js" threw while making its ` +
      `plugin: no GPU here (at ${dir}/factory_throws.js:2:9)\n` +
      `    the default export of ${dir}/factory_throws.js is a factory the engine calls with its ` +
      "API when a recipe loads it; fix the code that threw",
  );
  const nothing = await issueFor("./factory_returns_nothing.js");
  assertEquals(
    nothing.text,
    `${nothing.recipe}:7:11: plugins.0: plugin "./factory_returns_nothing.js" exports a factory ` +
      "that returned undefined, not a plugin\n" +
      `    the default export of ${dir}/factory_returns_nothing.js must return the plugin: ` +
      "`export default (capillary) => capillary.definePlugin({ ... })` " +
      '(PLUGINS.md, "The contract", lists every field)',
  );
});

Deno.test("a plugin under another named export is told to make it the default", async () => {
  const { recipe, text } = await issueFor("./named_export.js");
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: plugin "./named_export.js" has no default export; its export ` +
      'named "noise" looks like the plugin, and the engine reads the default export\n' +
      `    in ${dir}/named_export.js, make it the default export: \`export default noise\` ` +
      '(PLUGINS.md, "The contract", lists every field)',
  );
  const named = await issueFor("./named_plugin_wrong.js");
  assertEquals(
    named.text.split("\n").at(-1)!.startsWith(
      `    fix the export named "plugin" of ${dir}/named_plugin_wrong.js: `,
    ),
    true,
    named.text,
  );
});

Deno.test("a plugin folder is told to name its entry file", async () => {
  const { recipe, text } = await issueFor("./npmpkg");
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: cannot load plugin "./npmpkg": it names a folder ` +
      `(${dir}/npmpkg), and a folder cannot be imported, package.json or not\n` +
      "    name the plugin's entry file (./npmpkg/mod.js) in `plugins:`, or list a package " +
      "published on npm as npm:name@version",
  );
});

Deno.test("a bare import in a plugin is told to use a full specifier, not deno add", async () => {
  const { recipe, text } = await issueFor("./bare_import.ts");
  assertEquals(
    text,
    `${recipe}:7:11: plugins.0: plugin "./bare_import.ts" imports "lodash" by a bare name, ` +
      `which does not resolve (at ${dir}/bare_import.ts:1:15)\n` +
      `    at ${dir}/bare_import.ts:1:15, import it by full specifier (\`npm:lodash@<version>\`, ` +
      "`jsr:`, `https:`) or, for a file of the plugin, by relative path (`./name.ts`): a plugin " +
      "loaded by a recipe resolves bare names through the engine's deno.json, not its own " +
      "deno.json or package.json",
  );
});

Deno.test("a URL plugin whose file changed since deno.lock recorded it is caught before Deno exits", async () => {
  // A project of its own (deno.json, deno.lock), so that the engine's lock stays as it is; the
  // plugin itself is never imported here: Deno would end the test process (exit code 10).
  const project = await Deno.makeTempDir({ prefix: "capillary-lock-" });
  const source = 'export default { name: "served", version: "1.0.0", stages: [] };\n';
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(source, { headers: { "content-type": "application/typescript" } }),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/${crypto.randomUUID()}/mod.ts`;
    const recorded = "0".repeat(64);
    await Deno.writeTextFile(`${project}/deno.json`, "{}\n");
    await Deno.writeTextFile(
      `${project}/deno.lock`,
      JSON.stringify({ version: "5", remote: { [url]: recorded } }, null, 2),
    );
    const changed = await changedRemoteSource(url, project);
    const actual = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(source));
    const hex = [...new Uint8Array(actual)].map((b) => b.toString(16).padStart(2, "0")).join("");
    assertEquals(changed, { specifier: url, expected: recorded, actual: hex });
    const { message, hint } = describeChangedSource(changed!, url, url);
    assertEquals(
      message,
      `cannot load plugin "${url}": the file at ${url} changed since deno.lock recorded it, and ` +
        `Deno refuses it (integrity check failed: deno.lock holds sha256 ${recorded}, the file ` +
        `now has ${hex})`,
    );
    assertEquals(hint.endsWith(`run \`deno cache --reload=${url} ${url}\` there`), true, hint);
    // Recorded as served: nothing to say, and the lock is left as it was.
    const lock = JSON.stringify({ version: "5", remote: { [url]: hex } }, null, 2);
    await Deno.writeTextFile(`${project}/deno.lock`, lock);
    assertEquals(await changedRemoteSource(url, project), undefined);
    assertEquals(await Deno.readTextFile(`${project}/deno.lock`), lock);
  } finally {
    await server.shutdown();
    await Deno.remove(project, { recursive: true });
  }
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

Deno.test("cli schema says a --plugin that fails as the option, not as a file:line", async () => {
  const plugin = `${dir}/named_export.js`;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "cli.ts",
      "schema",
      "--output",
      `${dir}/x.json`,
      "--plugin",
      plugin,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  assertEquals(code, 1);
  const lines = new TextDecoder().decode(stderr).split("\n");
  assertEquals(
    lines[1],
    `  --plugin ${plugin}: plugin "${plugin}" has no default export; its export named "noise" ` +
      "looks like the plugin, and the engine reads the default export",
  );
});

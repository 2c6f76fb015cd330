import { assertEquals } from "../../tests/assert.ts";
import { describeImportFailure } from "./load_plugins.ts";

const URL_ = "file:///p/noise.ts";
/** Deno's module loader: a TypeError whose message carries the position. */
function loaderError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: "ERR_MODULE_NOT_FOUND" });
}
/** How Deno colours a position when its output is a terminal. */
const coloured = (url: string, line: number, column: number) =>
  `\x1b[0m\x1b[36m${url}\x1b[0m:\x1b[0m\x1b[33m${line}\x1b[0m:\x1b[0m\x1b[33m${column}\x1b[0m`;

Deno.test("describeImportFailure() gives a syntax error's file:line:column and source line", () => {
  const error = loaderError(
    "SyntaxError: Expected ',', got 'stages'\n  |\n4 |   stages: [],\n  |   ~~~~~~\n" +
      `    at ${URL_}:4:3`,
  );
  assertEquals(describeImportFailure(error, "./noise.ts", URL_), {
    message: "plugin \"./noise.ts\" has a syntax error: Expected ',', got 'stages' " +
      "(at /p/noise.ts:4:3)\n      4 |   stages: [],\n        |   ~~~~~~",
    hint: "fix the syntax at /p/noise.ts:4:3",
  });
  // Without a position, the file at least.
  assertEquals(describeImportFailure(loaderError("SyntaxError: Unexpected eof"), "n", URL_), {
    message: 'plugin "n" has a syntax error: Unexpected eof',
    hint: "fix the syntax of /p/noise.ts",
  });
});

Deno.test("describeImportFailure() tells a missing plugin from a missing import, colours removed", () => {
  assertEquals(
    describeImportFailure(loaderError(`Module not found "${URL_}".`), "./noise.ts", URL_),
    {
      message: 'cannot load plugin "./noise.ts": module not found',
      hint: "looked for /p/noise.ts",
    },
  );
  const error = loaderError(
    `Module not found "file:///p/absent.ts".\n    at ${coloured(URL_, 1, 19)}`,
  );
  assertEquals(describeImportFailure(error, "./noise.ts", URL_), {
    message:
      'plugin "./noise.ts" imports a module that cannot be found: /p/absent.ts (at /p/noise.ts:1:19)',
    hint: "fix the import at /p/noise.ts:1:19",
  });
  const npm = loaderError("npm package 'capillary-nois' does not exist.");
  assertEquals(describeImportFailure(npm, "npm:capillary-nois@1", "npm:capillary-nois@1"), {
    message: 'cannot load plugin "npm:capillary-nois@1": module not found',
    hint: "looked for npm:capillary-nois@1 (npm package 'capillary-nois' does not exist.)",
  });
});

Deno.test("describeImportFailure() passes on where the loader failed and Deno's hint", () => {
  const bare = loaderError(
    'Import "zodd" not a dependency\n  \x1b[0m\x1b[36mhint:\x1b[0m If you want to use the npm ' +
      `package, try running \`deno add npm:zodd\`\n    at ${coloured(URL_, 1, 19)}`,
  );
  // Deno's `deno add` would change the engine's deno.json; the plugin must name it in full.
  assertEquals(describeImportFailure(bare, "./noise.ts", URL_), {
    message: 'plugin "./noise.ts" imports "zodd" by a bare name, which does not resolve ' +
      "(at /p/noise.ts:1:19)",
    hint: "at /p/noise.ts:1:19, import it by full specifier (`npm:zodd@<version>`, `jsr:`, " +
      "`https:`) or, for a file of the plugin, by relative path (`./name.ts`): a plugin loaded " +
      "by a recipe resolves bare names through the engine's deno.json, not its own deno.json " +
      "or package.json",
  });
  // A URL plugin's bare import, a scoped package's subpath: the package named.
  const remote = "https://example.org/noise/mod.ts";
  const scoped = loaderError(
    'Relative import path "@scope/pkg/sub" not prefixed with / or ./ or ../\n' +
      `    at file:///x.ts:1:1\n`,
  );
  assertEquals(
    describeImportFailure(scoped, remote, remote).hint?.startsWith(
      "at /x.ts:1:1, import it by full specifier (`npm:@scope/pkg@<version>`",
    ),
    true,
  );
  const link = new SyntaxError(
    `The requested module './a.ts' does not provide an export named 'noise' at ${URL_}:1:10`,
  );
  assertEquals(describeImportFailure(link, "./noise.ts", URL_), {
    message: "plugin \"./noise.ts\" cannot be loaded: The requested module './a.ts' does not " +
      "provide an export named 'noise' (at /p/noise.ts:1:10)",
    hint: "fix the import at /p/noise.ts:1:10",
  });
});

Deno.test("describeImportFailure() names the line of the plugin's code that threw", () => {
  const error = new TypeError("Cannot read properties of undefined (reading 'y')");
  error.stack = `TypeError: ${error.message}\n    at ${URL_}:2:47`;
  assertEquals(describeImportFailure(error, "./noise.ts", URL_), {
    message: 'plugin "./noise.ts" threw while loading: TypeError: Cannot read properties of ' +
      "undefined (reading 'y') (at /p/noise.ts:2:47)",
    hint: "a plugin's module code runs when a recipe loads it; fix the code that threw",
    cause: error, // its stack is what --debug shows
  });
  assertEquals(
    describeImportFailure("a string", "./noise.ts", URL_).message,
    'plugin "./noise.ts" threw while loading: a string',
  );
});

Deno.test("describeImportFailure() does not take a file the plugin's code misses for the plugin", () => {
  const error = new Deno.errors.NotFound(
    "No such file or directory (os error 2): readfile '/w.bin'",
  );
  error.stack = `NotFound: ${error.message}\n    at ${URL_}:3:14`;
  assertEquals(
    describeImportFailure(error, "./noise.ts", URL_).message,
    "plugin \"./noise.ts\" threw while loading: NotFound: No such file or directory (os error 2): readfile '/w.bin' (at /p/noise.ts:3:14)",
  );
});

Deno.test("describeImportFailure() offers the path with .ts when only that names a file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capillary-load-plugins-" });
  try {
    await Deno.writeTextFile(`${dir}/noise.ts`, "export default {};\n");
    const url = `file://${dir}/noise`;
    assertEquals(describeImportFailure(loaderError(`Module not found "${url}".`), "./noise", url), {
      message: 'cannot load plugin "./noise": module not found',
      hint: `looked for ${dir}/noise; did you mean ./noise.ts?`,
    });
    // No such file with any extension: nothing to offer.
    const other = `file://${dir}/other`;
    assertEquals(
      describeImportFailure(loaderError(`Module not found "${other}".`), "./other", other).hint,
      `looked for ${dir}/other`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

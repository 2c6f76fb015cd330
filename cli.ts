/**
 * The `capillary` command line: `run` and `validate` a recipe.
 *
 * ```sh
 * deno task run recipes/drive.yaml
 * deno task validate recipes/drive.yaml
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import {
  CapillaryError,
  formatMetricsTable,
  loadRecipe,
  renderResolvedRecipe,
  runRecipe,
  VERSION,
} from "./mod.ts";
import core from "./plugins/core/mod.ts";

const USAGE = `Capillary ${VERSION}: declarative segmentation pipelines

Usage:
  deno task run <recipe.yaml> [--output DIR] [--threads N] [--debug]
  deno task validate <recipe.yaml> [--debug]

Options:
  --output DIR  write the run under DIR instead of the recipe's "output"
  --threads N   CPU threads for the wasm backend (default: CAPILLARY_THREADS, else every core);
                results do not depend on it
  --debug       print stack traces of errors
  --help        show this help`;

/**
 * Runs the command line with `args` and returns the exit code.
 *
 * @param args Arguments after the program name.
 * @returns 0 on success, 1 on a recipe, data or run error, 2 on a usage error.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        debug: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        output: { type: "string" },
        threads: { type: "string" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, file, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (!["run", "validate"].includes(command) || !file || rest.length) {
    console.error(
      !["run", "validate"].includes(command)
        ? `Unknown command "${command}"\n\n${USAGE}`
        : !file
        ? `Missing recipe file\n\n${USAGE}`
        : `Unexpected arguments: ${rest.join(" ")}\n\n${USAGE}`,
    );
    return 2;
  }
  if (values.threads !== undefined) {
    if (!/^[1-9][0-9]*$/.test(values.threads)) {
      console.error(
        `--threads must be a whole number of at least 1, not "${values.threads}"\n\n${USAGE}`,
      );
      return 2;
    }
    // Read by the wasm backend when it loads (pipeline/backend/wasm_threads.ts).
    Deno.env.set("CAPILLARY_THREADS", values.threads);
  }
  try {
    const { recipe } = await loadRecipe(file, { builtins: [core] });
    if (command === "validate") {
      console.log(renderResolvedRecipe(recipe, VERSION));
      return 0;
    }
    const result = await runRecipe(recipe, { outputRoot: values.output });
    console.log(`\n${formatMetricsTable(result.evaluation)}\n`);
    console.log(`Results: ${result.folder}`);
    console.log(stringify({ seconds: result.summary.seconds }).trim());
    return 0;
  } catch (error) {
    if (error instanceof CapillaryError && !values.debug) {
      console.error(`error: ${error.message}`);
      const cause = error.cause;
      if (cause instanceof Error && !(cause instanceof CapillaryError)) {
        console.error("  (run with --debug for the stack trace)");
      }
    } else {
      console.error(
        values.debug
          ? error
          : `error: ${
            (error as Error)?.message ?? error
          }\n  (run with --debug for the stack trace)`,
      );
    }
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

/**
 * The `capillary` command line: `run`, `validate`, `explain` or `plan` a
 * recipe (with `--set` overrides), write the recipe JSON Schema (`schema`).
 *
 * ```sh
 * deno task run recipes/drive.yaml
 * deno task validate recipes/drive.yaml
 * ```
 *
 * Its parts are in `cli/`: the options each command takes (`usage.ts`), why a
 * command line is refused (`refusal.ts`) and the `predict` command.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import {
  augmentPreview,
  CapillaryError,
  formatMetricsTable,
  formatPlan,
  isInterruption,
  loadRecipe,
  loadResumable,
  parseRecipeText,
  planRecipe,
  RecipeValidationError,
  Registry,
  renderResolvedRecipe,
  runRecipe,
  VERSION,
  writeFileAtomic,
} from "./mod.ts";
import { explainRecipe } from "./pipeline/recipe/explain.ts";
import { recipeJsonSchema } from "./pipeline/recipe/json_schema.ts";
import { loadPlugins } from "./pipeline/recipe/load_plugins.ts";
import { hasCheckpoint, interruptedAdvice } from "./pipeline/run/failure.ts";
import { BUILTIN_PLUGINS } from "./plugins/builtins.ts";
import { predict } from "./cli/predict.ts";
import { refusal } from "./cli/refusal.ts";
import { DEFAULT_SCHEMA_FILE, OPTIONS, USAGE, usageOf } from "./cli/usage.ts";

/**
 * Whether a stack trace could help with `error`: one Capillary raised on purpose says all in
 * its message, unless it wraps an error that is neither Capillary's nor the system's answer
 * (file not found, permission denied), which the message already names.
 */
function traceHelps(error: unknown): boolean {
  if (!(error instanceof CapillaryError)) return true;
  const cause = error.cause;
  if (!(cause instanceof Error) || cause instanceof CapillaryError) return false;
  const system = Object.values(Deno.errors).some((E) => cause instanceof E) ||
    // Node's (from npm packages): ENOENT and the like, with the call that failed.
    (typeof (cause as { code?: unknown }).code === "string" && "syscall" in cause);
  return !system;
}

/** The built-in plugins and the plugin modules given with `--plugin`. */
async function registryWith(plugins: string[]): Promise<Registry> {
  const registry = new Registry();
  for (const plugin of BUILTIN_PLUGINS) registry.register(plugin, "(built in)");
  if (!plugins.length) return registry;
  const issues = [];
  for (const plugin of plugins) {
    const parsed = parseRecipeText(stringify({ plugins: [plugin] }), "--plugin");
    // Said as the option that named it (`--plugin ./x.ts: ...`), not as a file and line.
    const file = `--plugin ${plugin}`;
    for (const issue of await loadPlugins([plugin], Deno.cwd(), registry, parsed)) {
      issues.push({ ...issue, path: [], position: { file, line: 0, column: 0 } });
    }
  }
  if (issues.length) throw new RecipeValidationError(issues);
  return registry;
}

/**
 * Runs the command line with `args` and returns the exit code.
 *
 * @param args Arguments after the program name.
 * @returns 0 on success, 1 on a recipe, data or run error, 2 on a usage error.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  let loose;
  try {
    parsed = parseArgs({ args, allowPositionals: true, tokens: true, options: OPTIONS });
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      console.error(
        `${(error as Error).message}\n\n${usageOf(args.find((a) => !a.startsWith("-")))}`,
      );
      return 2;
    }
    // Parsed again, leniently, for the option to refuse and the recipe to search, below.
    loose = parseArgs({
      args,
      allowPositionals: true,
      tokens: true,
      options: OPTIONS,
      strict: false,
    });
  }
  const general = loose ?? parsed!;
  if (general.values.help) {
    console.log(USAGE);
    return 0;
  }
  const refused = await refusal(general);
  if (refused !== undefined) {
    console.error(refused);
    return 2;
  }
  const { values, positionals } = parsed!;
  const [command, file, ...rest] = positionals;
  if (!command) {
    console.log(USAGE);
    return 2;
  }
  const needsFile = command !== "schema" && !(command === "run" && values.resume !== undefined);
  const extra = command === "predict"
    ? []
    : needsFile
    ? rest
    : [file, ...rest].filter((a) => a !== undefined);
  if ((needsFile && !file) || extra.length) {
    console.error(
      needsFile && !file
        ? `Missing ${command === "predict" ? "image" : "recipe"} file\n\n${usageOf(command)}`
        : `Unexpected arguments: ${extra.join(" ")}\n\n${usageOf(command)}`,
    );
    return 2;
  }
  if (values.threads !== undefined) {
    if (!/^[1-9][0-9]*$/.test(values.threads)) {
      console.error(
        `--threads must be a whole number of at least 1, not "${values.threads}"\n\n${
          usageOf(command)
        }`,
      );
      return 2;
    }
    // Read by the wasm backend when it loads (pipeline/backend/wasm_threads.ts).
    Deno.env.set("CAPILLARY_THREADS", values.threads);
  }
  try {
    if (command === "predict") return await predict(values, [file, ...rest]);
    if (command === "schema") {
      const output = values.output ?? DEFAULT_SCHEMA_FILE;
      const registry = await registryWith(values.plugin ?? []);
      await writeFileAtomic(output, `${JSON.stringify(recipeJsonSchema(registry), null, 2)}\n`);
      console.log(`Wrote ${output} (${registry.ids().length} stages)`);
      return 0;
    }
    const { recipe, parsed } = values.resume !== undefined
      ? await loadResumable(values.resume, {
        builtins: BUILTIN_PLUGINS,
        overrides: values.set ?? [],
      })
      : await loadRecipe(file, {
        builtins: BUILTIN_PLUGINS,
        overrides: values.set ?? [],
      });
    if (command === "validate") {
      console.log(renderResolvedRecipe(recipe, VERSION));
      return 0;
    }
    if (command === "explain") {
      console.log(explainRecipe(recipe, parsed));
      return 0;
    }
    if (command === "augment-preview") {
      const count = (name: "rows" | "columns" | "size", fallback: number) => {
        const text = values[name];
        if (text === undefined) return fallback;
        if (!/^[1-9][0-9]*$/.test(text)) {
          throw new CapillaryError(`--${name} must be a whole number of at least 1, not "${text}"`);
        }
        return Number(text);
      };
      const preview = await augmentPreview(recipe, {
        rows: count("rows", 6),
        columns: count("columns", 4),
        size: count("size", 64),
      });
      const output = values.output ?? join(recipe.output, recipe.name, "augment-preview.png");
      await writeFileAtomic(output, preview.png);
      console.log(
        `Wrote ${output} (${preview.width}×${preview.height}): per row the original image and ` +
          "mask, then each augmented image and mask",
      );
      return 0;
    }
    if (command === "plan") {
      console.log(formatPlan(recipe, await planRecipe(recipe)));
      return 0;
    }
    // Ctrl-C: the first asks the run to stop at its next safe point (between training steps,
    // after a checkpoint being written), a second quits at once; either way what the run wrote
    // is complete (files are written atomically). Then say how to go on.
    let runFolder: string | undefined;
    const stop = new AbortController();
    const interrupted = async () => {
      const checkpointed = runFolder !== undefined && await hasCheckpoint(runFolder);
      console.error(`\n${interruptedAdvice(runFolder, checkpointed)}`);
    };
    const onSigint = async () => {
      if (stop.signal.aborted) {
        await interrupted();
        Deno.exit(130);
      }
      stop.abort();
      console.error(
        "\nStopping at the next safe point (core/train after its training step or the checkpoint " +
          "it is writing, an evaluation after its image, any other stage when it ends); Ctrl-C " +
          "again to quit at once.",
      );
    };
    Deno.addSignalListener("SIGINT", onSigint);
    let result;
    try {
      result = await runRecipe(recipe, {
        outputRoot: values.output,
        cache: !values["no-cache"],
        resume: values.resume,
        resumedWith: values.resume !== undefined ? values.set ?? [] : undefined,
        onFolder: (path) => runFolder = path,
        signal: stop.signal,
      });
    } catch (error) {
      if (!isInterruption(error)) throw error;
      await interrupted();
      return 130;
    } finally {
      Deno.removeSignalListener("SIGINT", onSigint);
    }
    console.log(`\n${formatMetricsTable(result.evaluation)}\n`);
    for (const caveat of result.caveats) console.log(`caveat: ${caveat}`);
    console.log(`Results: ${result.folder}`);
    console.log(stringify({ seconds: result.summary.seconds }).trim());
    return 0;
  } catch (error) {
    console.error(
      values.debug
        ? error
        : `error: ${(error as Error)?.message ?? error}${
          traceHelps(error) ? "\n  (run with --debug for the stack trace)" : ""
        }`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

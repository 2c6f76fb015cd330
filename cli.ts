/**
 * The `capillary` command line: `run`, `validate`, `explain` or `plan` a
 * recipe (with `--set` overrides), write the recipe JSON Schema (`schema`).
 *
 * ```sh
 * deno task run recipes/drive.yaml
 * deno task validate recipes/drive.yaml
 * ```
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import {
  augmentPreview,
  CapillaryError,
  consoleProgress,
  formatMetricsTable,
  formatPlan,
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
import { setText, settingPathsNamed } from "./pipeline/recipe/setting_paths.ts";
import { RESUMABLE_SETTINGS } from "./pipeline/run/resume.ts";
import { didYouMean } from "./pipeline/suggest.ts";
import { BUILTIN_PLUGINS } from "./plugins/builtins.ts";
import { predictImages } from "./plugins/core/predict.ts";

const USAGE = `Capillary ${VERSION}: declarative segmentation pipelines

Usage:
  deno task run <recipe.yaml> [--set key.path=value ...] [--output DIR] [--threads N] [--no-cache]
                [--debug]
  deno task run --resume <run folder> [--set evaluate.key=value ...] [--threads N]
  deno task validate <recipe.yaml> [--set key.path=value ...] [--debug]
  deno task explain <recipe.yaml> [--set key.path=value ...]
  deno task plan <recipe.yaml> [--set key.path=value ...]
  deno task predict --model runs/<name>/<run>/model <image> [<image> ...] [--output DIR]
                [--threshold 0.5] [--fov estimate|none] [--window N|image] [--stride N]
                [--batch-size N] [--threads N]
  deno task augment-preview <recipe.yaml> [--output FILE.png] [--rows 6] [--columns 4] [--size 64]
  deno task schema [--output schema/recipe.schema.json] [--plugin MODULE ...]

Options:
  --set K=V     override a recipe value, typed by the schema: --set train.epochs=3,
                --set model.with.width=32, --set seed=7 (repeatable; null deletes a key)
  --output DIR  write the run under DIR instead of the recipe's "output"
                (schema: the JSON Schema file; augment-preview: the PNG)
  --rows, --columns, --size
                augment-preview: patches, augmented draws per patch, patch side
  --plugin M    schema: also cover the stages of plugin module M (a path, npm: or https:)
  --threads N   CPU threads for the wasm backend (default: CAPILLARY_THREADS, else every core);
                results do not depend on it
  --no-cache    load and preprocess the data even when .cache/capillary (or CAPILLARY_CACHE)
                holds them for the same files and options
  --model DIR   predict: a run's model/ folder (its run folder holds the recipe it ran)
  --threshold T predict: probability at or above which a pixel is foreground (default 0.5)
  --fov F       predict: "estimate" (default) zeroes the binary map outside each image's field
                of view, found as core/folder's fov: estimate does; "none" keeps it all
  --window W    predict: windows of W × W (a multiple of 8) or "image" (each image whole),
                instead of the run's evaluate.window; smaller windows need less memory
  --stride S    predict: the step between windows (default: the run's, or half --window)
  --batch-size B
                predict: windows per prediction (default: the run's evaluate.batchSize);
                fewer need less memory
  --resume RUN  continue a killed or failed run from its last checkpoint (epoch); its final
                weights equal those of an uninterrupted run. --set may change only how it is
                evaluated (stages.evaluate, inferenceBackend), e.g. after its evaluation failed
  --debug       print stack traces of errors
  --help        show this help`;

/** Where `deno task schema` writes the recipe JSON Schema that recipes' modelines name. */
export const DEFAULT_SCHEMA_FILE = "schema/recipe.schema.json";

/** The options parsed; which command takes which is {@link COMMAND_OPTIONS}. */
const OPTIONS = {
  debug: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  output: { type: "string" },
  threads: { type: "string" },
  plugin: { type: "string", multiple: true },
  set: { type: "string", multiple: true },
  "no-cache": { type: "boolean", default: false },
  resume: { type: "string" },
  model: { type: "string" },
  threshold: { type: "string" },
  fov: { type: "string" },
  window: { type: "string" },
  stride: { type: "string" },
  "batch-size": { type: "string" },
  rows: { type: "string" },
  columns: { type: "string" },
  size: { type: "string" },
} as const;

/** The options every command takes. */
const COMMON_OPTIONS: readonly string[] = ["debug", "help", "threads"];

/**
 * The commands, each with the options it takes besides {@link COMMON_OPTIONS}. Another
 * command's option is refused rather than ignored: `run --batch-size 4` would otherwise
 * train with the recipe's batch size, silently.
 */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  run: ["set", "output", "no-cache", "resume"],
  validate: ["set"],
  explain: ["set"],
  plan: ["set"],
  "augment-preview": ["set", "output", "rows", "columns", "size"],
  schema: ["output", "plugin"],
  predict: ["model", "output", "threshold", "fov", "window", "stride", "batch-size"],
};

/** "a", "a and b", "a, b and c". */
function listed(words: readonly string[]): string {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/**
 * The one-line error for an option that `command` does not take: that it is unknown (or
 * which commands take it), and, when a recipe setting has its name, the `--set` for it.
 *
 * @param option The option as given (`--epochs`), its name, and the value after it, if any.
 * @param file The recipe whose settings are searched; with `--resume`, the run's instead.
 */
async function unknownOption(
  option: { rawName: string; name: string; value?: string },
  command: string | undefined,
  file: string | undefined,
  values: { set?: string[]; resume?: string },
): Promise<string> {
  const takers = Object.keys(COMMAND_OPTIONS).filter((c) =>
    COMMAND_OPTIONS[c].includes(option.name)
  );
  const head = takers.length && command
    ? `Unknown option ${option.rawName} for ${command} (${listed(takers)} ${
      takers.length > 1 ? "take" : "takes"
    } it)`
    : `Unknown option ${option.rawName}`;
  const recipeCommand = command !== undefined && command !== "schema" && command !== "predict";
  const resuming = command === "run" && values.resume !== undefined;
  // A resumed run's recipe, as it ran: loadResumable would refuse a run that finished.
  const recipe = resuming ? join(values.resume!, "recipe.resolved.yaml") : file;
  const settings = !recipeCommand || recipe === undefined ? [] : await settingPathsNamed(
    option.name,
    (overrides) => loadRecipe(recipe, { builtins: BUILTIN_PLUGINS, overrides }),
    values.set ?? [],
    resuming ? RESUMABLE_SETTINGS : undefined,
  );
  if (!settings.length) return `${head}; see --help`;
  const examples = settings.map(({ path, value }) =>
    `--set ${path}=${option.value ?? (value === null ? "<value>" : setText(value))}`
  );
  return `${head}; recipe settings go through --set, e.g. ${examples.join(" or ")}`;
}

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

/** A token of node:util's `parseArgs`, as {@link refusal} reads it. */
type ArgToken =
  | { kind: "option"; name: string; rawName: string; index: number; value?: string }
  | { kind: "positional"; index: number; value: string }
  | { kind: "option-terminator"; index: number };

/**
 * Why the command line is refused before anything runs, on one line: an unknown command
 * (with a did-you-mean), or the first option its command does not take. Undefined when
 * neither.
 *
 * @param parsed `parseArgs`' result, with tokens; lenient (`strict: false`) when an option
 * is unknown to it.
 */
async function refusal(parsed: {
  values: Record<string, unknown>;
  positionals: string[];
  tokens: ArgToken[];
}): Promise<string | undefined> {
  const { values, tokens } = parsed;
  // An option unknown to parseArgs leaves the argument after it (`--epochs 3`) a positional:
  // it is the option's value, not the command or the recipe.
  let positionals = parsed.positionals;
  const unknown = tokens.find((t) => t.kind === "option" && !Object.hasOwn(OPTIONS, t.name));
  const next = unknown && tokens.find((t) => t.index === unknown.index + 1);
  let value = unknown?.kind === "option" ? unknown.value : undefined;
  if (unknown && value === undefined && next?.kind === "positional") {
    value = next.value;
    positionals = tokens.flatMap((t) => t.kind === "positional" && t !== next ? [t.value] : []);
  }
  const [command, file]: (string | undefined)[] = positionals;
  if (command !== undefined && !Object.hasOwn(COMMAND_OPTIONS, command)) {
    return `Unknown command "${command}": ${didYouMean(command, Object.keys(COMMAND_OPTIONS))}`;
  }
  // No command: the usage follows, unless an option is unknown to every command.
  const taken = command === undefined
    ? Object.keys(OPTIONS)
    : [...COMMON_OPTIONS, ...COMMAND_OPTIONS[command]];
  const stray = tokens.find((t) => t.kind === "option" && !taken.includes(t.name));
  if (stray?.kind !== "option") return undefined;
  if (stray !== unknown) value = stray.value;
  const set = Array.isArray(values.set) ? values.set.filter((s) => typeof s === "string") : [];
  const resume = typeof values.resume === "string" ? values.resume : undefined;
  return await unknownOption(
    { rawName: stray.rawName, name: stray.name, value },
    command,
    file,
    { set, resume },
  );
}

/** The built-in plugins and the plugin modules given with `--plugin`. */
async function registryWith(plugins: string[]): Promise<Registry> {
  const registry = new Registry();
  for (const plugin of BUILTIN_PLUGINS) registry.register(plugin, "(built in)");
  if (!plugins.length) return registry;
  const parsed = parseRecipeText(stringify({ plugins }), "--plugin");
  const issues = await loadPlugins(plugins, Deno.cwd(), registry, parsed);
  if (issues.length) throw new RecipeValidationError(issues);
  return registry;
}

/** `deno task predict`: the options checked, the run's recipe loaded, the images predicted. */
async function predict(
  values: {
    model?: string;
    output?: string;
    threshold?: string;
    fov?: string;
    window?: string;
    stride?: string;
    "batch-size"?: string;
  },
  images: string[],
): Promise<number> {
  if (!values.model) {
    throw new CapillaryError("predict needs --model runs/<name>/<run>/model", "E_USAGE");
  }
  const threshold = values.threshold === undefined ? 0.5 : Number(values.threshold);
  if (!(threshold > 0 && threshold < 1)) {
    throw new CapillaryError(`--threshold must be between 0 and 1, not "${values.threshold}"`);
  }
  if (values.fov !== undefined && values.fov !== "estimate" && values.fov !== "none") {
    throw new CapillaryError(`--fov must be "estimate" or "none", not "${values.fov}"`);
  }
  const window = values.window === undefined || values.window === "image"
    ? values.window
    : Number(values.window);
  if (
    typeof window === "number" && !(Number.isInteger(window) && window >= 8 && window % 8 === 0)
  ) {
    throw new CapillaryError(
      `--window must be "image" or a multiple of 8 (the network pools three times), not "${values.window}"`,
    );
  }
  const count = (name: "stride" | "batch-size") => {
    const text = values[name];
    if (text === undefined) return undefined;
    if (!/^[1-9][0-9]*$/.test(text)) {
      throw new CapillaryError(`--${name} must be a whole number of at least 1, not "${text}"`);
    }
    return Number(text);
  };
  const stride = count("stride");
  const batchSize = count("batch-size");
  const missing = await Deno.stat(values.model).then(
    () => false,
    (error) => error instanceof Deno.errors.NotFound,
  );
  if (missing) throw new CapillaryError(`--model ${values.model} does not exist`, "E_USAGE");
  // The run folder given for its model/ folder: say which to give.
  const inRun = join(values.model, "model");
  const isRun = await Promise.all([
    Deno.stat(join(values.model, "recipe.resolved.yaml")).then((s) => s.isFile, () => false),
    Deno.stat(inRun).then((s) => s.isDirectory, () => false),
  ]);
  if (isRun.every(Boolean)) {
    throw new CapillaryError(
      `--model ${values.model} is a run folder; give its model folder, --model ${inRun}`,
      "E_USAGE",
    );
  }
  const runDir = dirname(resolve(values.model));
  const recipeFile = join(runDir, "recipe.resolved.yaml");
  try {
    await Deno.stat(join(values.model, "model.json"));
    await Deno.stat(recipeFile);
  } catch {
    throw new CapillaryError(
      `Cannot predict with "${values.model}": give a run's model/ folder, beside the run's ` +
        "recipe.resolved.yaml (e.g. runs/drive/2026-11-27T10-00-00Z/model)",
      "E_USAGE",
    );
  }
  const { recipe } = await loadRecipe(recipeFile, { builtins: BUILTIN_PLUGINS });
  const written = await predictImages(recipe, values.model, images, {
    output: values.output,
    threshold,
    fov: (values.fov ?? "estimate") as "estimate" | "none",
    window,
    stride,
    batchSize,
    progress: consoleProgress(),
  });
  for (const w of written) console.log(`${w.file} → ${w.probability}, ${w.binary}`);
  return 0;
}

/**
 * The usage lines of `command` (all commands' when it is not one), and where
 * the rest is: what a usage error prints under its one-line message, rather
 * than the whole help.
 */
function usageOf(command: string | undefined): string {
  const lines = USAGE.split("\n");
  const from = lines.indexOf("Usage:") + 1;
  const block = lines.slice(from, lines.indexOf("", from));
  const own: string[] = [];
  for (const line of block) {
    const starts = /^ {2}deno task (\S+)/.exec(line)?.[1];
    if (starts !== undefined) own.push(starts === command ? line : "");
    else if (own.at(-1)) own.push(line); // a continuation of the command's line
  }
  const mine = own.filter(Boolean);
  return `${mine.length ? mine.join("\n") : block.join("\n")}\n(add --help for every option)`;
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
    // Ctrl-C: what the run wrote is complete (files are written atomically); say how to go on.
    let runFolder: string | undefined;
    const interrupted = () => {
      console.error(
        runFolder === undefined
          ? "\nInterrupted before the run folder was made; nothing was written."
          : `\nInterrupted. What the run wrote stays in ${runFolder}; ` +
            `\`deno task run --resume ${runFolder}\` continues it from its last checkpoint.`,
      );
      Deno.exit(130);
    };
    Deno.addSignalListener("SIGINT", interrupted);
    let result;
    try {
      result = await runRecipe(recipe, {
        outputRoot: values.output,
        cache: !values["no-cache"],
        resume: values.resume,
        resumedWith: values.resume !== undefined ? values.set ?? [] : undefined,
        onFolder: (path) => runFolder = path,
      });
    } finally {
      Deno.removeSignalListener("SIGINT", interrupted);
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

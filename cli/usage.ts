/**
 * What the command line takes: the help text, the options `parseArgs` reads,
 * and which command takes which.
 *
 * @module
 */
import { VERSION } from "../mod.ts";

/** The help text: every command and option. */
export const USAGE = `Capillary ${VERSION}: declarative segmentation pipelines

Usage:
  deno task run <recipe.yaml> [--set key.path=value ...] [--output DIR] [--threads N] [--no-cache]
  deno task run --resume <run folder> [--set evaluate.key=value ...] [--threads N]
  deno task validate <recipe.yaml> [--set key.path=value ...]
  deno task explain <recipe.yaml> [--set key.path=value ...]
  deno task plan <recipe.yaml> [--set key.path=value ...]
  deno task predict --model runs/<name>/<run> <image> [<image> ...] [--output DIR]
                [--threshold 0.5] [--fov estimate|none] [--window N|image] [--stride N]
                [--batch-size N] [--threads N]
  deno task augment-preview <recipe.yaml> [--set key.path=value ...] [--output FILE.png] [--rows 6]
                [--columns 4] [--size 64]
  deno task schema [--output schema/recipe.schema.json] [--plugin MODULE ...]

Options:
  --set K=V     override a recipe value, typed by the schema: --set train.epochs=3,
                --set model.with.width=32, --set seed=7 (repeatable; null deletes a key)
  --output DIR  write the run under DIR instead of the recipe's "output"
                (predict: the folder for its maps; schema: the JSON Schema file;
                augment-preview: the PNG)
  --rows, --columns, --size
                augment-preview: patches, augmented draws per patch, patch side
  --plugin M    schema: also cover the stages of plugin module M (a path, npm: or https:)
  --threads N   CPU threads for the wasm backend (default: CAPILLARY_THREADS, else every core);
                results do not depend on it
  --no-cache    load and preprocess the data even when .cache/capillary (or CAPILLARY_CACHE)
                holds them for the same files and options
  --model DIR   predict: a run folder, or its model/ folder (the run folder holds the recipe
                it ran)
  --threshold T predict: probability at or above which a pixel is foreground (default 0.5)
  --fov F       predict: "estimate" zeroes the binary map outside each image's field of view,
                found as core/folder's fov: estimate does; "none" keeps it all (default: "none"
                where the run's load stage had fov: null, else "estimate")
  --window W    predict: windows of W × W (a multiple of 8) or "image" (each image whole),
                instead of the run's evaluate.window; smaller windows need less memory
  --stride S    predict: the step between windows (default: the run's, or half --window)
  --batch-size B
                predict: windows per prediction (default: the run's evaluate.batchSize);
                fewer need less memory
  --resume RUN  continue a killed or failed run from its last checkpoint (epoch); its final
                weights equal those of an uninterrupted run. --set may change only how it is
                evaluated (stages.evaluate, inferenceBackend), e.g. after its evaluation failed
  --debug       print stack traces of errors (every command)
  --help        show this help (every command)`;

/** Where `deno task schema` writes the recipe JSON Schema that recipes' modelines name. */
export const DEFAULT_SCHEMA_FILE = "schema/recipe.schema.json";

/** The options parsed; which command takes which is {@link COMMAND_OPTIONS}. */
export const OPTIONS = {
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
export const COMMON_OPTIONS: readonly string[] = ["debug", "help", "threads"];

/**
 * The commands, each with the options it takes besides {@link COMMON_OPTIONS}. Another
 * command's option is refused rather than ignored: `run --batch-size 4` would otherwise
 * train with the recipe's batch size, silently.
 */
export const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  run: ["set", "output", "no-cache", "resume"],
  validate: ["set"],
  explain: ["set"],
  plan: ["set"],
  "augment-preview": ["set", "output", "rows", "columns", "size"],
  schema: ["output", "plugin"],
  predict: ["model", "output", "threshold", "fov", "window", "stride", "batch-size"],
};

/**
 * The usage lines of `command` (all commands' when it is not one), and where
 * the rest is: what a usage error prints under its one-line message, rather
 * than the whole help.
 */
export function usageOf(command: string | undefined): string {
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

/**
 * Why a command line is refused before anything runs: an unknown command, or
 * an option its command does not take, with what was meant (`--set` for a
 * recipe setting of that name).
 *
 * @module
 */
import { join } from "node:path";
import { loadRecipe } from "../mod.ts";
import { setText, settingPathsNamed } from "../pipeline/recipe/setting_paths.ts";
import { RESUMABLE_SETTINGS } from "../pipeline/run/resume.ts";
import { didYouMean } from "../pipeline/suggest.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { COMMAND_OPTIONS, COMMON_OPTIONS, OPTIONS } from "./usage.ts";

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
export async function refusal(parsed: {
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

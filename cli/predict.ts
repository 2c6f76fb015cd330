/**
 * `deno task predict`: probability and binary maps of new images from a
 * trained run's model.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { CapillaryError, consoleProgress, loadRecipe } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { predictImages, unfinishedRunError } from "../plugins/core/predict.ts";

/** `deno task predict`: the options checked, the run's recipe loaded, the images predicted. */
export async function predict(
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
    throw new CapillaryError("predict needs --model runs/<name>/<run>", "E_USAGE");
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
  // A run folder stands for its model/ folder, as stages.model.from takes it.
  const inRun = join(values.model, "model");
  const isRun = await Promise.all([
    Deno.stat(join(values.model, "recipe.resolved.yaml")).then((s) => s.isFile, () => false),
    Deno.stat(inRun).then((s) => s.isDirectory, () => false),
  ]);
  if (isRun[0] && !isRun[1]) {
    // A run folder without model/: stopped (or still) in training.
    const file = join(values.model, "recipe.resolved.yaml");
    const ran = await loadRecipe(file, { builtins: BUILTIN_PLUGINS }).catch(() => undefined);
    throw await unfinishedRunError(values.model, values.model, ran?.recipe);
  }
  const modelDir = isRun.every(Boolean) ? inRun : values.model;
  const runDir = dirname(resolve(modelDir));
  const recipeFile = join(runDir, "recipe.resolved.yaml");
  try {
    await Deno.stat(join(modelDir, "model.json"));
    await Deno.stat(recipeFile);
  } catch {
    throw new CapillaryError(
      `Cannot predict with "${values.model}": give a run folder, or its model/ folder beside ` +
        "the run's recipe.resolved.yaml (e.g. runs/drive/2026-11-27T10-00-00Z)",
      "E_USAGE",
    );
  }
  const { recipe } = await loadRecipe(recipeFile, { builtins: BUILTIN_PLUGINS });
  const written = await predictImages(recipe, modelDir, images, {
    output: values.output,
    threshold,
    fov: values.fov as "estimate" | "none" | undefined,
    window,
    stride,
    batchSize,
    progress: consoleProgress(),
  });
  for (const w of written) console.log(`${w.file} → ${w.probability}, ${w.binary}`);
  return 0;
}

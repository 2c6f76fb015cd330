/**
 * Writes what `bench/drive_trials.py` trains on: a recipe's training images
 * after its load and preprocess stages, with their vessel and FOV masks, and
 * the names of the images its `core/train` stage holds out for validation.
 * The test images are not written, so the trials cannot look at them.
 *
 * ```sh
 * deno run -A bench/drive_trials_data.ts [recipes/drive.yaml] [.cache/trials] [--set path=value …]
 * ```
 *
 * The folder gets `train.f32` (per image: image, mask and FOV planes of
 * height × width float32, one channel) and `meta.json` (ids, validation ids,
 * width, height).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadRecipe } from "../mod.ts";
import { stageRandom } from "../pipeline/random.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { splitByImage } from "../plugins/core/train/validation.ts";
import { runDataStages } from "./recipe_data.ts";

// `--set path=value` overrides the recipe, as on the command line.
const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { set: { type: "string", multiple: true } },
  allowPositionals: true,
});
const file = positionals[0] ?? new URL("../recipes/drive.yaml", import.meta.url).pathname;
const out = positionals[1] ?? ".cache/trials";
const { recipe } = await loadRecipe(file, {
  builtins: BUILTIN_PLUGINS,
  overrides: values.set ?? [],
});
const stage = (kind: string) => recipe.stages.get(kind as never) ?? [];
const data = await runDataStages(recipe, file);
const single = data.train.find((s) => s.image.channels !== 1);
if (single) {
  throw new Error(`${single.id} has ${single.image.channels} channels; the trials take 1`);
}

// core/train's first fork of its stage's stream splits off the validation images.
const trainOptions = stage("train")[0].options as { validation: { images: number } };
const { validation } = splitByImage(
  data.train,
  trainOptions.validation.images,
  stageRandom(recipe.seed, "train").fork(),
);

const { width, height } = data.train[0].image;
const plane = width * height;
const all = new Float32Array(data.train.length * 3 * plane);
data.train.forEach((s, i) => {
  all.set(s.image.data, (3 * i) * plane);
  all.set(s.mask.data, (3 * i + 1) * plane);
  all.set(s.roi.data, (3 * i + 2) * plane);
});
await Deno.mkdir(out, { recursive: true });
await Deno.writeFile(`${out}/train.f32`, new Uint8Array(all.buffer));
const meta = {
  recipe: file,
  ids: data.train.map((s) => s.id),
  validation: validation.map((s) => s.id),
  width,
  height,
};
await Deno.writeTextFile(`${out}/meta.json`, JSON.stringify(meta, null, 2) + "\n");
console.log(`${out}: ${meta.ids.length} training images, validation ${meta.validation.join(", ")}`);

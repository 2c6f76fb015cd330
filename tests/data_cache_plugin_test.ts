/**
 * The data cache and a local plugin's data stages: data a load stage draws
 * from its `context.random` comes back only to runs with the same seed (data
 * drawn without it serves every seed), and editing the plugin's code (not its
 * version) makes the next run recompute its data.
 */
import { assert, assertEquals } from "./assert.ts";
import { loadRecipe, type Progress, runRecipe } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent } from "./tiny_runs.ts";
import { TINY_TRAINING_STAGES } from "./folder_fixture.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

/**
 * `cached/stripes`: 32×32 stripes (noise drawn from `context.random` added when `noisy`), its
 * fingerprint `marker.txt`; `cached/scale`: multiplies images by `scale.ts`'s factor.
 */
const PLUGIN = `
import { definePlugin, defineStage, z } from "${MOD}";
import { factor } from "./scale.ts";

const raster = (data: Float32Array) => ({ width: 32, height: 32, channels: 1, data });
const stripes = defineStage({
  name: "stripes",
  kind: "load",
  description: "Stripes, with noise from the run's seed if noisy.",
  options: z.object({ noisy: z.boolean().default(false) }).strict(),
  fingerprint: (_options, context) => [context.recipeDir + "/marker.txt"],
  run: ({ noisy }, _input, context) => {
    const sample = (id: string, shift: number) => {
      const on = (i: number) => (i % 32 + shift) % 6 === 0;
      const image = Float32Array.from({ length: 1024 }, (_, i) =>
        (on(i) ? 0.8 : 0.2) + (noisy ? 0.1 * context.random.next() : 0));
      const mask = Float32Array.from({ length: 1024 }, (_, i) => (on(i) ? 1 : 0));
      return { id, image: raster(image), mask: raster(mask), roi: raster(new Float32Array(1024).fill(1)) };
    };
    return { name: "stripes", train: [sample("a", 0), sample("b", 1)], test: [sample("c", 2)] };
  },
});
const scale = defineStage({
  name: "scale",
  kind: "preprocess",
  description: "Scales the images.",
  options: z.object({}).strict(),
  run: (_options, data) => {
    const each = (s) => ({ ...s, image: { ...s.image, data: s.image.data.map(factor) } });
    return { ...data, train: data.train.map(each), test: data.test.map(each) };
  },
});
export default definePlugin({ name: "cached", version: "1.0.0", stages: [stripes, scale] });
`;

const recipe = (noisy: boolean) =>
  [
    "seed: 1",
    "plugins: [./plugin.ts]",
    "stages:",
    `  load: { use: cached/stripes, with: { noisy: ${noisy} } }`,
    "  preprocess: { use: cached/scale }",
    ...TINY_TRAINING_STAGES,
    "",
  ].join("\n");

/** A fresh folder with the plugin and `CAPILLARY_CACHE` in it, for `body`. */
async function withPlugin(body: (root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "capillary_data_cache_plugin_" });
  const cache = Deno.env.get("CAPILLARY_CACHE");
  Deno.env.set("CAPILLARY_CACHE", `${root}/cache`);
  try {
    await Deno.writeTextFile(`${root}/plugin.ts`, PLUGIN);
    await Deno.writeTextFile(`${root}/scale.ts`, "export const factor = (v: number) => v * 0.5;\n");
    await Deno.writeTextFile(`${root}/marker.txt`, "the data");
    await body(root);
  } finally {
    if (cache === undefined) Deno.env.delete("CAPILLARY_CACHE");
    else Deno.env.set("CAPILLARY_CACHE", cache);
    await Deno.remove(root, { recursive: true });
  }
}

/** Runs `root/<file>` with `overrides`: whether its data came from the cache, and its digest. */
async function run(root: string, file: string, overrides: string[] = []) {
  const { recipe } = await loadRecipe(`${root}/${file}`, { builtins: BUILTIN_PLUGINS, overrides });
  const lines: string[] = [];
  const progress: Progress = { info: (l) => lines.push(l), task: silent.task };
  const { folder } = await runRecipe(recipe, { outputRoot: `${root}/runs`, progress });
  return {
    cached: lines.some((l) => l.includes("load + preprocess: cached")),
    digest: await Deno.readTextFile(`${folder}/data_digest.json`),
    lines,
  };
}

Deno.test({
  name: "data a load stage drew from its random generator is cached for its seed alone",
  ...sanitizers,
  async fn() {
    await withPlugin(async (root) => {
      await Deno.writeTextFile(`${root}/noisy.yaml`, recipe(true));
      const one = await run(root, "noisy.yaml");
      assert(!one.cached, one.lines.join("\n"));
      const two = await run(root, "noisy.yaml", ["seed=2"]);
      assert(!two.cached, `seed 2 got seed 1's data:\n${two.lines.join("\n")}`);
      assert(two.digest !== one.digest, "other seeds, other noise");
      // Seed 2's entry went beside seed 1's, not over it.
      const again = await run(root, "noisy.yaml");
      assert(again.cached, again.lines.join("\n"));
      assert(again.lines.some((l) => l.includes("made with seed 1")), again.lines.join("\n"));
      assertEquals(again.digest, one.digest);
      assertEquals((await run(root, "noisy.yaml", ["seed=2"])).digest, two.digest);
    });
  },
});

Deno.test({
  name: "data the stages made without their random generators serves every seed",
  ...sanitizers,
  async fn() {
    await withPlugin(async (root) => {
      await Deno.writeTextFile(`${root}/quiet.yaml`, recipe(false));
      const one = await run(root, "quiet.yaml");
      assert(!one.cached, one.lines.join("\n"));
      const two = await run(root, "quiet.yaml", ["seed=2"]);
      assert(two.cached, two.lines.join("\n"));
      assert(!two.lines.some((l) => l.includes("made with seed")), two.lines.join("\n"));
      assertEquals(two.digest, one.digest);
    });
  },
});

Deno.test({
  name: "editing a local plugin's module makes the next run recompute its data",
  ...sanitizers,
  async fn() {
    await withPlugin(async (root) => {
      await Deno.writeTextFile(`${root}/quiet.yaml`, recipe(false));
      assert(!(await run(root, "quiet.yaml")).cached);
      assert((await run(root, "quiet.yaml")).cached);
      // The module the preprocess stage imports, edited on disk; the version stays 1.0.0. (This
      // process keeps the module it imported, so only the key is checked here, not the data.)
      await Deno.writeTextFile(
        `${root}/scale.ts`,
        "export const factor = (v: number) => v * 0.05;\n",
      );
      const edited = await run(root, "quiet.yaml");
      assert(!edited.cached, `the edit went unnoticed:\n${edited.lines.join("\n")}`);
      assert((await run(root, "quiet.yaml")).cached);
    });
  },
});

/**
 * What the preprocessing cache saves on `recipes/drive.yaml`'s data: the
 * load and preprocess stages against hashing the files and reading a cache
 * entry (in a temporary cache folder), twice each.
 *
 * ```sh
 * deno run -A bench/data_cache.ts
 * ```
 *
 * @module
 */
import { loadRecipe } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { dataCacheKey, readCachedData, writeCachedData } from "../pipeline/run/data_cache.ts";
import { quietStageContext } from "../tests/stage_context.ts";
import { runDataStages } from "./recipe_data.ts";

const cache = await Deno.makeTempDir({ prefix: "capillary-cache-bench-" });
Deno.env.set("CAPILLARY_CACHE", cache);
const file = new URL("../recipes/drive.yaml", import.meta.url).pathname;
const { recipe } = await loadRecipe(file, { builtins: BUILTIN_PLUGINS });
const load = recipe.stages.get("load")![0], preprocess = recipe.stages.get("preprocess") ?? [];
const context = (id: string) => quietStageContext(id, file.replace(/\/[^/]*$/, ""));
for (let round = 1; round <= 2; round++) {
  let t0 = performance.now();
  const data = await runDataStages(recipe, file);
  const stages = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const files = await load.registered.stage.fingerprint!(load.options as never, context(load.id));
  const key = await dataCacheKey([load, ...preprocess], files);
  if (key === undefined) throw new Error(`a file of ${load.id} cannot be read`);
  const hashing = (performance.now() - t0) / 1000;
  if (round === 1) await writeCachedData(key, data);
  t0 = performance.now();
  await readCachedData(key);
  const reading = (performance.now() - t0) / 1000;
  console.log(
    `round ${round}: load + preprocess ${stages.toFixed(2)} s; cached: hash ${files.length} files ${
      hashing.toFixed(2)
    } s + read ${reading.toFixed(2)} s = ${(hashing + reading).toFixed(2)} s`,
  );
}
await Deno.remove(cache, { recursive: true });

/**
 * Damaged and leftover files: a truncated or corrupt cache entry is said and
 * recomputed, an unwritable cache costs only the cache, a damaged checkpoint
 * or model names its file and says how to go on, two runs never share a run
 * folder (`run.lock`), killed writes' `.partial` leftovers are removed, and
 * predict tells a run stopped in training from a folder that is no run.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import {
  CapillaryError,
  checkpointStore,
  loadLayersModel,
  loadRecipe,
  type Progress,
  runRecipe,
  tf,
} from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { predictImages } from "../plugins/core/predict.ts";
import { predict } from "../cli/predict.ts";
import {
  dataCachePath,
  readCachedData,
  readCachedEntry,
  writeCachedData,
} from "../pipeline/run/data_cache.ts";
import { removeStalePartials, RunFolder } from "../pipeline/run/run_folder.ts";
import { loadResumable } from "../pipeline/run/resume.ts";
import type { SegmentationData } from "../pipeline/data.ts";
import { sanitizers, silent } from "./tiny_runs.ts";
import { stripeRecipe, writeStripeData } from "./folder_fixture.ts";

/** No process has this id: Linux's largest is 2^22. */
const GONE = 4194305;

/** Runs `body` with `CAPILLARY_CACHE` set to `cache`, restoring it after. */
async function withCache<T>(cache: string, body: () => Promise<T>): Promise<T> {
  const before = Deno.env.get("CAPILLARY_CACHE");
  Deno.env.set("CAPILLARY_CACHE", cache);
  try {
    return await body();
  } finally {
    if (before === undefined) Deno.env.delete("CAPILLARY_CACHE");
    else Deno.env.set("CAPILLARY_CACHE", before);
  }
}

/** A progress that keeps its lines. */
function recording(): { lines: string[]; progress: Progress } {
  const lines: string[] = [];
  return { lines, progress: { info: (l) => lines.push(l), task: silent.task } };
}

const raster = (n: number, seed: number) => ({
  width: n,
  height: n,
  channels: 1,
  data: Float32Array.from({ length: n * n }, (_, i) => Math.sin(seed + i)),
});

const DATA: SegmentationData = {
  name: "d",
  train: [{ id: "21_training", image: raster(100, 1), mask: raster(100, 2), roi: raster(100, 3) }],
  test: [],
};

Deno.test("a truncated or zeroed cache entry is said, naming it, and removed to be recomputed", async () => {
  const root = await Deno.makeTempDir({ prefix: "capillary_damaged_cache_" });
  try {
    await withCache(root, async () => {
      const damages: [string, (bytes: Uint8Array) => Uint8Array][] = [
        ["truncated past its header", (b) => b.slice(0, b.length - 20_000)],
        ["truncated to its header", (b) => b.slice(0, 400)],
        ["zeroed inside", (b) => b.fill(0, 40_000, 80_000)],
        ["its seal cut", (b) => b.slice(0, b.length - 8)],
      ];
      for (const [what, damage] of damages) {
        await writeCachedData("k", DATA);
        const path = dataCachePath("k");
        await Deno.writeFile(path, damage(await Deno.readFile(path)));
        const warnings: string[] = [];
        assertEquals(await readCachedEntry("k", 1, (l) => warnings.push(l)), undefined, what);
        assertEquals(warnings.length, 1, what);
        assert(warnings[0].includes(path) && warnings[0].includes("recomputing"), warnings[0]);
        assert(!await Deno.stat(path).then(() => true, () => false), `${what}: removed`);
      }
      // A sound entry reads back without a word.
      await writeCachedData("k", DATA);
      const warnings: string[] = [];
      const back = await readCachedData("k", (l) => warnings.push(l));
      assertEquals(warnings, []);
      assertEquals(Array.from(back!.train[0].mask.data), Array.from(DATA.train[0].mask.data));
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("writing a cache entry removes the .partial files that killed writes left there", async () => {
  const root = await Deno.makeTempDir({ prefix: "capillary_cache_partials_" });
  try {
    await withCache(root, async () => {
      const dead = `${root}/k.bin.${GONE}-0a1b2c3d.partial`;
      const old = `${root}/k.bin.0a1b2c3d.partial`; // written before partials named their writer
      const young = `${root}/j.bin.0a1b2c3e.partial`;
      const running = `${root}/j.bin.${Deno.pid}-0a1b2c3f.partial`;
      for (const path of [dead, old, young, running]) await Deno.writeTextFile(path, "half");
      const hours = new Date(Date.now() - 2 * 3600_000);
      await Deno.utime(old, hours, hours);
      await writeCachedData("k", DATA);
      const left = [...Deno.readDirSync(root)].map((e) => e.name).sort();
      assertEquals(left, ["j.bin.0a1b2c3e.partial", `j.bin.${Deno.pid}-0a1b2c3f.partial`, "k.bin"]);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** The stripe data set and recipe (with `core/folder`, which the cache keeps) in `root`. */
async function stripeRun(root: string, overrides: string[] = []) {
  await writeStripeData(root, [
    { split: "train", id: "1" },
    { split: "train", id: "2" },
    { split: "test", id: "3" },
  ]);
  await Deno.writeTextFile(`${root}/recipe.yaml`, stripeRecipe("damaged"));
  return (await loadRecipe(`${root}/recipe.yaml`, { builtins: BUILTIN_PLUGINS, overrides }))
    .recipe;
}

Deno.test({
  name: "a run recomputes a damaged cache entry and rewrites it; an unwritable cache is skipped",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_damaged_run_" });
    try {
      const recipe = await stripeRun(root);
      await withCache(`${root}/cache`, async () => {
        await runRecipe(recipe, { outputRoot: `${root}/runs`, progress: silent });
        const [entry] = [...Deno.readDirSync(`${root}/cache`)].filter((e) =>
          e.name.endsWith(".bin")
        );
        const path = `${root}/cache/${entry.name}`;
        const bytes = await Deno.readFile(path);
        await Deno.writeFile(path, bytes.fill(0, 2000, 6000));
        const { lines, progress } = recording();
        await runRecipe(recipe, { outputRoot: `${root}/runs`, progress });
        const said = lines.filter((l) => l.startsWith("warning: ") && l.includes(path));
        assertEquals(said.length, 1, lines.join("\n"));
        assert(!lines.some((l) => l.includes("load + preprocess: cached")), lines.join("\n"));
        // Rewritten: the next run takes it without a word.
        const again = recording();
        await runRecipe(recipe, { outputRoot: `${root}/runs`, progress: again.progress });
        assert(again.lines.some((l) => l.includes("load + preprocess: cached")));
        assert(!again.lines.some((l) => l.includes(path)), again.lines.join("\n"));
      });
      // CAPILLARY_CACHE naming a file: said, and the run goes on.
      await Deno.writeTextFile(`${root}/afile`, "");
      await withCache(`${root}/afile`, async () => {
        const { lines, progress } = recording();
        const run = await runRecipe(recipe, { outputRoot: `${root}/runs`, progress });
        assert(await Deno.stat(`${run.folder}/metrics.json`).then(() => true), "finished");
        const said = lines.filter((l) => l.startsWith("warning: cannot write the preprocessing"));
        assertEquals(said.length, 1, lines.join("\n"));
        for (const part of [`"${root}/afile"`, "CAPILLARY_CACHE", "--no-cache"]) {
          assert(said[0].includes(part), said[0]);
        }
      });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "a damaged checkpoint or model names its file and says how to go on",
  ...sanitizers,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capillary_damaged_checkpoint_" });
    try {
      const input = tf.input({ shape: [4, 4, 1] });
      const output = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: "c" }).apply(input);
      const model = tf.model({ inputs: input, outputs: output as tf.SymbolicTensor });
      const optimizer = [{ name: "m", tensor: tf.ones([3, 3, 1, 4]) }];
      const store = checkpointStore(dir, true);
      for (
        const [file, size] of Object.entries({
          "weights.bin": 100,
          "optimizer.bin": 100,
          "state.json": 5,
          "model.json": 100,
          "optimizer.json": 10,
        })
      ) {
        await store.save("checkpoint", {
          model,
          optimizer,
          state: { epoch: 3, note: "x".repeat(50) },
        });
        await store.save("checkpoint-best", { model, optimizer, state: { epoch: 2 } });
        await Deno.truncate(`${dir}/checkpoint/${file}`, size);
        const error = await assertRejects(() => store.load("checkpoint"), CapillaryError);
        assertEquals(error.code, "E_CHECKPOINT", error.message);
        assert(error.message.includes(`${dir}/checkpoint/${file} is damaged`), error.message);
        assert(error.message.includes("cannot be resumed"), error.message);
        assert(error.message.includes(`--set model.from=${dir}/checkpoint-best`), error.message);
      }
      // A model folder (as predict reads one): the same words.
      await Deno.truncate(`${dir}/checkpoint-best/weights.bin`, 100);
      const error = await assertRejects(() => loadLayersModel(`${dir}/checkpoint-best`));
      assert(
        (error as Error).message.startsWith(
          `${dir}/checkpoint-best/weights.bin is damaged: it has 100 bytes`,
        ),
        (error as Error).message,
      );
      model.dispose();
      optimizer[0].tensor.dispose();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("RunFolder.lock() refuses a running holder, takes over a dead one's, releases", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capillary_lock_" });
  try {
    const folder = new RunFolder(dir);
    const release = await folder.lock();
    const error = await assertRejects(() => folder.lock(), CapillaryError);
    assertEquals(error.code, "E_RUN_LOCKED");
    assert(error.message.includes(`pid ${Deno.pid}`), error.message);
    await release();
    assert(!await Deno.stat(`${dir}/run.lock`).then(() => true, () => false), "released");
    await Deno.writeTextFile(`${dir}/run.lock`, JSON.stringify({ pid: GONE, startedAt: "then" }));
    await Deno.mkdir(`${dir}/predictions`);
    await Deno.writeTextFile(`${dir}/predictions/01.png.0a1b2c3d.partial`, "half");
    const notes: string[] = [];
    const again = await folder.lock((l) => notes.push(l));
    assert(notes[0].includes(`process ${GONE}`) && notes[0].includes("taken over"), notes[0]);
    assert(notes[1].includes("predictions/01.png.0a1b2c3d.partial"), notes[1]);
    await again();
    assertEquals(await removeStalePartials(dir, { recursive: true, all: true }), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a killed run: locked against a second resume, partials cleaned, predict says what it is",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_killed_" });
    try {
      const recipe = await stripeRun(root, ["train.epochs=2"]);
      const { folder } = await runRecipe(recipe, {
        outputRoot: `${root}/runs`,
        progress: silent,
        cache: false,
      });
      // As a run killed in its second epoch leaves it.
      await Deno.remove(`${folder}/metrics.json`);
      await Deno.remove(`${folder}/model`, { recursive: true });
      const state = JSON.parse(await Deno.readTextFile(`${folder}/checkpoint/state.json`));
      state.epoch = 1;
      state.history = state.history.slice(0, 1);
      await Deno.writeTextFile(`${folder}/checkpoint/state.json`, JSON.stringify(state));
      const checkpoint = `${folder}/checkpoint`;
      const leftovers = [`${folder}/predictions/3.png.${GONE}-0a1b2c3d.partial`];
      await Deno.writeTextFile(leftovers[0], "half");
      leftovers.push(`${folder}/checkpoint.0a1b2c3d.partial`);
      await Deno.mkdir(leftovers[1]);
      await Deno.writeTextFile(`${leftovers[1]}/weights.bin`, "half");

      // predict: the run has no model/ yet; its checkpoint predicts with a warning.
      const refused = await assertRejects(
        () => predict({ model: folder }, [`${root}/data/test/3.png`]),
        CapillaryError,
      );
      assert(refused.message.includes("the run has no model/ yet"), refused.message);
      assert(refused.message.includes("epoch 1 of 2"), refused.message);
      assert(refused.message.includes(`--model ${checkpoint}`), refused.message);
      const ran = await loadResumable(folder, { builtins: BUILTIN_PLUGINS });
      const said = recording();
      await predictImages(ran.recipe, checkpoint, [`${root}/data/test/3.png`], {
        output: `${root}/predicted`,
        progress: said.progress,
      });
      assert(
        said.lines.some((l) =>
          l.startsWith("warning: ") && l.includes("epoch 1 of 2") && l.includes("unfinished")
        ),
        said.lines.join("\n"),
      );

      // A second process runs the folder: refused before anything is written.
      const holder = new Deno.Command("sleep", { args: ["60"] }).spawn();
      await Deno.writeTextFile(
        `${folder}/run.lock`,
        JSON.stringify({ pid: holder.pid, startedAt: "now" }),
      );
      try {
        const locked = await assertRejects(
          () => runRecipe(ran.recipe, { resume: folder, progress: silent, cache: false }),
          CapillaryError,
        );
        assertEquals(locked.code, "E_RUN_LOCKED", locked.message);
        assert(locked.message.includes(`pid ${holder.pid}`), locked.message);
      } finally {
        holder.kill();
        await holder.status;
      }

      // A damaged checkpoint: named, no advice to resume it again, the lock released.
      const weights = await Deno.readFile(`${checkpoint}/weights.bin`);
      await Deno.truncate(`${checkpoint}/weights.bin`, 100);
      const damaged = recording();
      const error = await assertRejects(() =>
        runRecipe(ran.recipe, { resume: folder, progress: damaged.progress, cache: false })
      );
      const message = (error as Error).message;
      assert(message.includes(`${checkpoint}/weights.bin is damaged`), message);
      assert(message.includes("cannot be resumed"), message);
      assert(!damaged.lines.some((l) => l.includes("continues it from")), damaged.lines.join("\n"));
      assert(!await Deno.stat(`${folder}/run.lock`).then(() => true, () => false), "released");
      assert(damaged.lines.some((l) => l.includes(`process ${holder.pid}`)), "taken over");
      assert(
        damaged.lines.some((l) => l.startsWith("note: removed 2 half-written files")),
        damaged.lines.join("\n"),
      );
      for (const path of leftovers) {
        assert(!await Deno.stat(path).then(() => true, () => false), `${path} removed`);
      }

      // Repaired, it resumes and finishes; then its model, damaged, is named by predict.
      await Deno.writeFile(`${checkpoint}/weights.bin`, weights);
      await runRecipe(ran.recipe, { resume: folder, progress: silent, cache: false });
      assert(!await Deno.stat(`${folder}/run.lock`).then(() => true, () => false), "released");
      await Deno.truncate(`${folder}/model/weights.bin`, 100);
      const unreadable = await assertRejects(
        () =>
          predictImages(ran.recipe, `${folder}/model`, [`${root}/data/test/3.png`], {
            output: `${root}/predicted`,
            progress: silent,
          }),
        CapillaryError,
      );
      assert(unreadable.message.includes("its model files are damaged"), unreadable.message);
      assert(unreadable.message.includes(`${folder}/model/weights.bin`), unreadable.message);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/**
 * `deno task predict`: a drive-smoke run's network applied to DRIVE test
 * images from their files gives the probability maps the run's own
 * evaluation wrote, and binary maps at the threshold, inside the FOV.
 */
import { Image } from "imagescript";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { CapillaryError, encodeGrayPng, loadRecipe, type Progress, runRecipe } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { predictImages } from "../plugins/core/predict.ts";
import { main } from "../cli.ts";
import { DRIVE_ROOT } from "./drive_root.ts";
import { sanitizers, silent, SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";

const SMOKE = new URL("../recipes/drive-smoke.yaml", import.meta.url).pathname;
const DRIVE = `${DRIVE_ROOT}/test/images/`;

async function grey(path: string): Promise<Uint8Array> {
  const image = await Image.decode(await Deno.readFile(path));
  return Uint8Array.from({ length: image.width * image.height }, (_, i) => image.bitmap[i * 4]);
}

Deno.test({
  name: "predictImages() reproduces the run's own test predictions from the image files",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_predict_" });
    try {
      const { recipe } = await loadRecipe(SMOKE, {
        builtins: BUILTIN_PLUGINS,
        // Hardly trained, so that the maps vary with the input rather than sit at the prior.
        overrides: ["model.width=4", "train.epochs=1", "train.optimizer.learningRate=1e-6"],
      });
      const run = await runRecipe(recipe, { outputRoot: root, progress: silent });
      const { recipe: ran } = await loadRecipe(`${run.folder}/recipe.resolved.yaml`, {
        builtins: BUILTIN_PLUGINS,
      });
      const written = await predictImages(
        ran,
        `${run.folder}/model`,
        [`${DRIVE}01_test.tif`, `${DRIVE}02_test.tif`],
        { output: `${root}/out`, threshold: 0.4, progress: silent },
      );
      assertEquals(written.map((w) => w.probability), [
        `${root}/out/01_test_probability.png`,
        `${root}/out/02_test_probability.png`,
      ]);
      for (const id of ["01_test", "02_test"]) {
        const ours = await grey(`${root}/out/${id}_probability.png`);
        const theirs = await grey(`${run.folder}/predictions/${id}.png`);
        assertEquals(ours.length, 565 * 584);
        // A near-untrained network: a few grey levels, but not one (a map that can differ).
        assert(new Set(theirs).size >= 3, `a map worth comparing: ${new Set(theirs).size} levels`);
        // The same network and windows on the same pixels; the preprocessing's
        // statistics differ (these images, not the training set) only in rounding.
        let differ = 0;
        for (let i = 0; i < ours.length; i++) {
          assert(
            Math.abs(ours[i] - theirs[i]) <= 1,
            `${id} pixel ${i}: ${ours[i]} vs ${theirs[i]}`,
          );
          if (ours[i] !== theirs[i]) differ++;
        }
        assert(differ / ours.length < 0.001, `${differ} pixels differ`);
        const binary = await grey(`${root}/out/${id}_binary.png`);
        assert(binary.every((v) => v === 0 || v === 255), "binary map");
        // Foreground exactly where the probability reaches 0.4, except outside the FOV.
        const on = binary.reduce((n, v) => n + (v ? 1 : 0), 0);
        const above = ours.reduce((n, v) => n + (v / 255 >= 0.4 ? 1 : 0), 0);
        assert(on <= above + ours.length * 0.001, `${on} on, ${above} above`);
      }
      // Other windows than the run's (128 at stride 96): the same network, borders elsewhere.
      await predictImages(ran, `${run.folder}/model`, [`${DRIVE}01_test.tif`], {
        output: `${root}/windows`,
        window: 48,
        progress: silent,
      });
      const run128 = await grey(`${root}/out/01_test_probability.png`);
      const run48 = await grey(`${root}/windows/01_test_probability.png`);
      const moved = run48.filter((v, i) => v !== run128[i]).length;
      assert(moved > 0, "windows of 48 predicted every pixel as windows of 128 did");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("deno task predict explains a missing --model, and a bad threshold, window, stride or batch size", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (message: string) => errors.push(message);
  try {
    assertEquals(await main(["predict", "x.png"]), 1);
    assertEquals(await main(["predict", "--model", "/nonexistent/model", "x.png"]), 1);
    assertEquals(await main(["predict", "--model", "m", "--threshold", "2", "x.png"]), 1);
    assertEquals(await main(["predict", "--model", "m", "--window", "100", "x.png"]), 1);
    assertEquals(await main(["predict", "--model", "m", "--stride", "0", "x.png"]), 1);
    assertEquals(await main(["predict", "--model", "m", "--batch-size", "1.5", "x.png"]), 1);
  } finally {
    console.error = original;
  }
  assertEquals(
    errors[3],
    'error: --window must be "image" or a multiple of 8 (the network pools three times), not "100"',
  );
  assertEquals(errors[4], 'error: --stride must be a whole number of at least 1, not "0"');
  assertEquals(errors[5], 'error: --batch-size must be a whole number of at least 1, not "1.5"');
  assert(errors[0].includes("predict needs --model"), errors[0]);
  assertEquals(errors[1], "error: --model /nonexistent/model does not exist");
  assert(errors[2].includes("--threshold must be between 0 and 1"), errors[2]);
});

/**
 * A run folder as `deno task predict` expects one, but whose model/model.json
 * is no network: a test that gets the error it expects shows that the model
 * was never loaded. `a/01.png` and `b/01.png` are readable images.
 */
async function unloadableRun(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/run/model`, { recursive: true });
  await Deno.copyFile(SYNTHETIC, `${dir}/run/recipe.resolved.yaml`);
  await Deno.writeTextFile(`${dir}/run/model/model.json`, "no network");
  const png = encodeGrayPng({ width: 8, height: 8, channels: 1, data: new Float32Array(64) });
  for (const folder of ["a", "b"]) {
    await Deno.mkdir(`${dir}/${folder}`);
    await Deno.writeFile(`${dir}/${folder}/01.png`, png);
  }
  await Deno.writeTextFile(`${dir}/file`, "kept");
}

async function entries(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

Deno.test("predictImages() refuses images of one name, and an output that is a file, before any work", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capillary_predict_" });
  try {
    await unloadableRun(dir);
    const { recipe } = await loadRecipe(`${dir}/run/recipe.resolved.yaml`, {
      builtins: BUILTIN_PLUGINS,
    });
    // Every line the run would print (its backend first), to show that none was.
    const said: string[] = [];
    const progress: Progress = {
      info: (line) => said.push(line),
      task: (name) => (said.push(name), { update() {}, done() {} }),
    };
    const refused = (files: string[], output: string) =>
      assertRejects(
        () => predictImages(recipe, `${dir}/run/model`, files, { output, progress }),
        CapillaryError,
      );
    const twice = await refused([`${dir}/a/01.png`, `${dir}/b/01.png`], `${dir}/out`);
    assertEquals(
      twice.message,
      `Cannot predict: ${dir}/a/01.png and ${dir}/b/01.png would both write 01_probability.png ` +
        "and 01_binary.png; predict them into different --output folders",
    );
    assertEquals(twice.code, "E_USAGE");
    assertEquals(
      (await refused([`${dir}/a/01.png`, `${dir}/a/01.png`], `${dir}/out`)).message,
      `Cannot predict: ${dir}/a/01.png is given twice; give it once`,
    );
    const file = await refused([`${dir}/a/01.png`, `${dir}/b/02.png`], `${dir}/file`);
    assertEquals(
      file.message,
      `Cannot write the predictions under "${dir}/file": it is a file; give a folder (--output DIR)`,
    );
    assertEquals(file.code, "E_OUTPUT");
    assertEquals(said, []);
    // No output folder made, the file in the way untouched.
    assertEquals(await entries(dir), ["a", "b", "file", "run"]);
    assertEquals(await Deno.readTextFile(`${dir}/file`), "kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task predict refuses images of one name, and an --output that is a file, before predicting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capillary_predict_" });
  const errors: string[] = [];
  const logs: string[] = [];
  const original = { error: console.error, log: console.log };
  try {
    await unloadableRun(dir);
    console.error = (message: string) => errors.push(message);
    console.log = (message: string) => logs.push(message);
    const model = ["predict", "--model", `${dir}/run/model`];
    assertEquals(
      await main([...model, `${dir}/a/01.png`, `${dir}/b/01.png`, "--output", `${dir}/out`]),
      1,
    );
    assertEquals(await main([...model, `${dir}/a/01.png`, "--output", `${dir}/file`]), 1);
    // Where the predictions go by default, beside the model: the same check.
    await Deno.writeTextFile(`${dir}/run/predict`, "kept");
    assertEquals(await main([...model, `${dir}/a/01.png`]), 1);
  } finally {
    Object.assign(console, original);
  }
  try {
    assertEquals(errors, [
      `error: Cannot predict: ${dir}/a/01.png and ${dir}/b/01.png would both write ` +
      "01_probability.png and 01_binary.png; predict them into different --output folders",
      `error: Cannot write the predictions under "${dir}/file": it is a file; ` +
      "give a folder (--output DIR)",
      `error: Cannot write the predictions under "${dir}/run/predict": it is a file; ` +
      "give a folder (--output DIR)",
    ]);
    assertEquals(logs, []);
    assertEquals(await entries(dir), ["a", "b", "file", "run"]);
    assertEquals(await entries(`${dir}/run`), ["model", "predict", "recipe.resolved.yaml"]);
    assertEquals(await Deno.readTextFile(`${dir}/file`), "kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "deno task predict takes a run folder for its model folder, and names a missing image in one line",
  ...sanitizers,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capillary_predict_" });
    const errors: string[] = [];
    const original = { error: console.error, log: console.log };
    try {
      await unloadableRun(dir);
      console.error = (message: string) => errors.push(message);
      console.log = () => {};
      // A file not found is no bug: no stack trace to offer. (The images are read before the
      // model, which here would not load.) The run folder stands for its model/ folder.
      const missing = `${dir}/a/02.png`;
      for (const model of [`${dir}/run`, `${dir}/run/model`]) {
        assertEquals(
          await main(["predict", "--model", model, missing, "--output", `${dir}/out`]),
          1,
        );
      }
      const notFound =
        `error: Cannot read image "${missing}": file not found; check the path and the data folder`;
      assertEquals(errors, [notFound, notFound]);
    } finally {
      Object.assign(console, original);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "predict widens grey images for a colour network, says its field of view and logs each call",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_predict_" });
    try {
      // Generated colour retinas, no preprocessing: the network takes 3 channels.
      const { recipe } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: [...TINY_SYNTHETIC, "preprocess=null"],
      });
      const run = await runRecipe(recipe, { outputRoot: root, progress: silent });
      const { recipe: ran } = await loadRecipe(`${run.folder}/recipe.resolved.yaml`, {
        builtins: BUILTIN_PLUGINS,
      });
      const values = Float32Array.from({ length: 40 * 48 }, (_, i) => (i * 7) % 256);
      await Deno.writeFile(
        `${root}/grey.png`,
        encodeGrayPng({ width: 40, height: 48, channels: 1, data: values.map((v) => v / 255) }),
      );
      const lines: string[] = [];
      const progress: Progress = { info: (l) => lines.push(l), task: silent.task };
      const predict = (fov?: "none") =>
        predictImages(ran, `${run.folder}/model`, [`${root}/grey.png`], {
          output: `${root}/out`,
          fov,
          progress,
        });
      await predict();
      // The generated retinas were evaluated inside their field of view: so are new images.
      assert(
        lines.includes(
          "field of view: estimated in each image (the run evaluated inside a field of view; " +
            "--fov none keeps each image whole)",
        ),
        lines.join("\n"),
      );
      assertEquals((await grey(`${root}/out/grey_probability.png`)).length, 40 * 48);
      await predict("none");
      assert(lines.includes("field of view: each image whole (--fov none)"), lines.join("\n"));
      const log = (await Deno.readTextFile(`${root}/out/predict.jsonl`)).trim().split("\n")
        .map((l) => JSON.parse(l));
      assertEquals(log.map((e) => [e.fov, e.threshold, e.files]), [
        ["estimate", 0.5, [`${root}/grey.png`]],
        ["none", 0.5, [`${root}/grey.png`]],
      ]);
      assertEquals(log[0].model, `${run.folder}/model`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

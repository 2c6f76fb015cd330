/**
 * `deno task augment-preview`: the grid's layout, that its first tiles are
 * the untouched patches, that masks stay binary, the PNG it writes, and that
 * a faulty augmentation is refused in the run's words.
 */
import { Image } from "imagescript";
import { assertEquals, assertRejects } from "./assert.ts";
import { augmentPreview, CapillaryError, loadRecipe, StageError } from "../mod.ts";
import { OUTSIDE_ROI } from "../pipeline/run/augment_preview.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import core from "../plugins/core/mod.ts";
import { SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";

const SMOKE = new URL("../recipes/drive-smoke.yaml", import.meta.url).pathname;
const quiet = { info() {}, task: () => ({ update() {}, done() {} }) };

Deno.test("augment-preview lays out originals and draws of drive-smoke's augmentations", async () => {
  const { recipe } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: ["augment=[{use: core/augment, with: {rotate: {p: 1}, elastic: {p: 1}}}]"],
  });
  const rows = 2, columns = 3, size = 32;
  const preview = await augmentPreview(recipe, { rows, columns, size, progress: quiet });
  // 2 tiles (image, mask) for the original and each draw, 2-pixel gaps between tiles.
  const tiles = 2 * (1 + columns);
  assertEquals(preview.width, tiles * size + (tiles - 1) * 2);
  assertEquals(preview.height, rows * size + (rows - 1) * 2);
  const { data, width } = preview.raster;
  const tile = (row: number, column: number) =>
    Array.from(
      { length: size * size },
      (_, p) =>
        data[(row * (size + 2) + Math.floor(p / size)) * width + column * (size + 2) + (p % size)],
    );
  for (let row = 0; row < rows; row++) {
    for (let k = 0; k <= columns; k++) {
      const mask = tile(row, 2 * k + 1);
      // Vessels 1, background 0, outside the FOV grey: the FOV moved with the mask.
      assertEquals(
        mask.every((v) => v === 0 || v === 1 || v === OUTSIDE_ROI),
        true,
        `row ${row} mask ${k}`,
      );
      // Images after core/retina_preprocess are in [0, 1].
      assertEquals(tile(row, 2 * k).every((v) => v >= 0 && v <= 1), true);
    }
    // Rotation with p 1 moves every draw away from the original.
    assertEquals(tile(row, 2).join() === tile(row, 0).join(), false);
  }
  const decoded = await Image.decode(preview.png);
  assertEquals([decoded.width, decoded.height], [preview.width, preview.height]);
});

Deno.test("augment-preview needs an augment stage", async () => {
  const { recipe } = await loadRecipe(SMOKE, { builtins: [core], overrides: ["augment=null"] });
  await assertRejects(
    () => augmentPreview(recipe, { progress: quiet }),
    CapillaryError,
    "has no augment stage",
  );
});

Deno.test("augment-preview refuses a faulty augmentation as the run does, naming its stage", async () => {
  const faulty = new URL("./fixtures/faulty_augment_plugin.ts", import.meta.url).href;
  const wrong = new URL("./fixtures/faulty_outputs_plugin.ts", import.meta.url).href;
  const says = {
    // The run's words (tests/plugin_fixture_test.ts, tests/faulty_outputs_test.ts), not a
    // TypeError without a stage, a PNG encoder's NaN, or a PNG of halved masks.
    "{use: faulty/augment, with: {fault: throw}}": 'Stage "faulty/augment" failed: its ' +
      "augmentation threw: TypeError: Cannot read properties of undefined (reading 'images') " +
      `(at ${new URL(faulty).pathname}:21:`,
    "{use: faulty/augment, with: {fault: short}}": 'Stage "faulty/augment" failed: its ' +
      "augmentation returned images of 10 values (512 expected) for a batch of 2 patches of " +
      "16 × 16 × 1",
    "{use: wrong/values, with: {fault: halfMasks}}": 'Stage "wrong/values" failed: its ' +
      "augmentation returned masks holding 0.5",
  };
  for (const [stage, message] of Object.entries(says)) {
    const { recipe } = await loadRecipe(SYNTHETIC, {
      builtins: BUILTIN_PLUGINS,
      overrides: [`plugins=[${faulty}, ${wrong}]`, ...TINY_SYNTHETIC, `stages.augment=[${stage}]`],
    });
    const error = await assertRejects(
      () => augmentPreview(recipe, { rows: 2, columns: 1, size: 16, progress: quiet }),
      StageError,
    );
    assertEquals(error.message.startsWith(message), true, error.message);
  }
});

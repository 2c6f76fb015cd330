/**
 * `deno task augment-preview`: the grid's layout, that its first tiles are
 * the untouched patches, that masks stay binary, and the PNG it writes.
 */
import { Image } from "imagescript";
import { assertEquals, assertRejects } from "./assert.ts";
import { augmentPreview, CapillaryError, loadRecipe } from "../mod.ts";
import { OUTSIDE_ROI } from "../pipeline/run/augment_preview.ts";
import core from "../plugins/core/mod.ts";

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

import { readImage } from "./read_image.ts";
import { toGray } from "./to_gray.ts";
import { meanStd, minMaxScale, zScore } from "./normalize.ts";
import { clahe } from "./clahe.ts";
import { gammaCorrect } from "./gamma.ts";
import type { Raster } from "../../../pipeline/data.ts";
import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";

const DRIVE = `${DRIVE_ROOT}/`;

function stats(values: ArrayLike<number>, keep: (i: number) => boolean = () => true) {
  let n = 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    if (!keep(i)) continue;
    n++;
    sum += values[i];
    squares += values[i] * values[i];
  }
  const mean = sum / n;
  return { mean, std: Math.sqrt(squares / n - mean * mean) };
}

Deno.test("gray -> zScore(train stats) -> minMax 0..255 -> clahe -> gamma 1.2 -> /255 on DRIVE 21_training", async () => {
  // Reference figures from an independent float64 NumPy/Pillow/OpenCV 4.6
  // version of the same chain (rounding before CLAHE with floor(v + 0.5)).
  const train: Raster[] = [];
  for (let i = 21; i <= 40; i++) {
    train.push(toGray(await readImage(`${DRIVE}training/images/${i}_training.tif`)));
  }
  const { mean, std } = meanStd(train);
  assertAlmostEquals(mean, 83.15841582964606, 1e-4);
  assertAlmostEquals(std, 57.07514784246859, 1e-4);

  const grey = train[0];
  const before = grey.data.slice();
  const scaled = minMaxScale(zScore(grey, mean, std), 0, 255);
  const out = gammaCorrect(clahe(scaled, { clipLimit: 2, tiles: 8 }), 1.2).data.map((v) => v / 255);

  assertEquals([out.length, out.every(Number.isFinite)], [565 * 584, true]);
  assertEquals(out.every((v) => v >= 0 && v <= 1), true);
  const all = stats(out);
  assertAlmostEquals(all.mean, 0.4577372891960728, 1e-3);
  assertAlmostEquals(all.std, 0.2551900657576442, 1e-3);
  const fov = await readImage(`${DRIVE}training/mask/21_training_mask.gif`);
  const inside = stats(out, (i) => fov.data[i] > 0);
  assertAlmostEquals(inside.mean, 0.6235227945952052, 1e-3);
  assertAlmostEquals(out[292 * 565 + 282], 0.5112545966635433, 1e-3);
  const lo = out.reduce((a, b) => Math.min(a, b));
  const hi = out.reduce((a, b) => Math.max(a, b));
  assertEquals(lo > 0 && hi === 1, true, `range [${lo}, ${hi}]`);
  // The chain leaves its input untouched.
  assertEquals(grey.data, before);
});

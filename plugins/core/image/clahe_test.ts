import { clahe } from "./clahe.ts";
import { readImage } from "./read_image.ts";
import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";

const DRIVE = `${DRIVE_ROOT}/`;

function grey(width: number, height: number, values: readonly number[]): Raster {
  return { width, height, channels: 1, data: Float32Array.from(values) };
}

/**
 * A 4x4 image in 2x2 tiles of 2x2 pixels (no padding: both sides are
 * multiples of 2). Tile pixels:
 *   top-left 0, 10, 20, 30    top-right 50 x4
 *   bottom-left 100 x4        bottom-right 200, 210, 220, 230
 */
const FOUR = grey(4, 4, [0, 10, 50, 50, 20, 30, 50, 50, 100, 100, 200, 210, 100, 100, 220, 230]);

Deno.test("clahe() matches hand-computed tables and interpolation on a 4x4 image without clipping", () => {
  // Tile LUT = round_half_even(cdf * 255 / 4):
  //   TL: 0->64, 10->round(127.5)=128, 20->round(191.25)=191, 30->255, anything >= 30 -> 255
  //   TR: < 50 -> 0, >= 50 -> 255;  BL: < 100 -> 0, >= 100 -> 255
  //   BR: < 200 -> 0, 200->64, 210->128, 220->191, 230->255
  // Weights (tile size 2): f = pos / 2 - 0.5, so positions 0 and 3 use one
  // tile column/row, 1 uses the first with weight 1, 2 is halfway between.
  //   (2,0) = 50: 0.5 * TL[50] + 0.5 * TR[50] = 255;  (0,2) = 100: 0.5 * TL + 0.5 * BL = 255
  //   (2,2) = 200: 0.5 * (0.5 * 255 + 0.5 * 255) + 0.5 * (0.5 * 255 + 0.5 * 64) = 207.25 -> 207
  //   (3,2) = 210: 0.5 * TR[210] + 0.5 * BR[210] = 191.5 -> 192 (half to even)
  //   (2,3) = 220: 0.5 * BL[220] + 0.5 * BR[220] = 223
  // OpenCV 4.6 createCLAHE(1000, (2, 2)) and createCLAHE(0, (2, 2)) agree.
  const expected = [64, 128, 255, 255, 191, 255, 255, 255, 255, 255, 207, 192, 255, 255, 223, 255];
  assertEquals(Array.from(clahe(FOUR, { clipLimit: 0, tiles: 2 }).data), expected);
  assertEquals(Array.from(clahe(FOUR, { clipLimit: 1000, tiles: 2 }).data), expected);
});

Deno.test("clahe() clips and redistributes like OpenCV on a 4x4 image", () => {
  // clipLimit 2: clip = max(1, floor(2 * 4 / 256)) = 1. TR (50 x4) keeps 1 at
  // bin 50 and spreads an excess of 3: batch 0, residual 3 at step
  // floor(256 / 3) = 85 -> bins 0, 85, 170. So TR[50] = round(2 * 63.75) = 128.
  // BL (100 x4) likewise: bins 0, 85, 100, 170 -> BL[100] = round(3 * 63.75) = 191.
  //   (2,0) = 50: 0.5 * 255 + 0.5 * 128 = 191.5 -> 192;  (3,0) = 50: 128
  //   (0,2) = 100: 0.5 * 255 + 0.5 * 191 = 223;  (0,3) = 100: 191
  // OpenCV 4.6 createCLAHE(2.0, (2, 2)) agrees.
  const out = clahe(FOUR, { clipLimit: 2, tiles: 2 });
  assertEquals(
    Array.from(out.data),
    [64, 128, 192, 128, 191, 255, 192, 128, 223, 223, 207, 192, 191, 191, 223, 255],
  );
});

Deno.test("clahe() pads a 7x5 image by reflection like OpenCV (3x3 tiles)", () => {
  // Input and output from OpenCV 4.6: createCLAHE(1.5, (3, 3)).apply(b),
  // b = numpy default_rng(7).integers(0, 256, (5, 7)). The image is extended
  // to 9x6 (BORDER_REFLECT_101), so tiles are 3x2.
  const input = [
    [241, 160, 175, 229, 148, 198, 213],
    [57, 14, 76, 72, 223, 233, 1],
    [127, 210, 33, 204, 30, 119, 209],
    [77, 87, 71, 184, 65, 253, 113],
    [122, 129, 149, 141, 130, 254, 206],
  ].flat();
  const expected = [
    [255, 170, 191, 212, 92, 128, 149],
    [85, 42, 114, 64, 177, 255, 21],
    [170, 234, 38, 191, 21, 88, 170],
    [128, 170, 85, 191, 78, 255, 106],
    [170, 212, 216, 170, 124, 255, 180],
  ].flat();
  assertEquals(Array.from(clahe(grey(7, 5, input), { clipLimit: 1.5, tiles: 3 }).data), expected);
});

Deno.test("clahe() reproduces OpenCV's createCLAHE(2.0, (8, 8)) on DRIVE 21_training's green channel", async () => {
  // Reference: sha256 and samples of
  // cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(green) with
  // OpenCV 4.6 (Debian python3-opencv), green read with Pillow. 565x584 is
  // padded to 568x592 (height gets a full 8 extra rows, as OpenCV does).
  const rgb = await readImage(DRIVE + "training/images/21_training.tif");
  const n = rgb.width * rgb.height;
  const green = new Float32Array(n);
  for (let i = 0; i < n; i++) green[i] = rgb.data[i * 3 + 1];
  const out = clahe({ width: rgb.width, height: rgb.height, channels: 1, data: green });
  const at = (x: number, y: number) => out.data[y * out.width + x];
  assertEquals([at(282, 292), at(100, 300), at(400, 150), at(564, 583)], [102, 150, 111, 4]);
  let sum = 0;
  for (const v of out.data) sum += v;
  assertAlmostEquals(sum / n, 91.83890471572312, 1e-9);
  const digest = await crypto.subtle.digest("SHA-256", Uint8Array.from(out.data));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  assertEquals(hex, "58d74103a23aab6759c998063dcef5312429e76e3314bb9aabff8d6ce5391737");
});

Deno.test("clahe() with one tile and no clipping is plain histogram equalisation", () => {
  const values = Array.from({ length: 13 * 11 }, (_, i) => (i * 37 + (i % 5) * 11) % 256);
  const out = clahe(grey(13, 11, values), { clipLimit: 0, tiles: 1 });
  const hist = new Array(256).fill(0);
  for (const v of values) hist[v]++;
  const cdf: number[] = [];
  hist.reduce((s, h, i) => (cdf[i] = s + h), 0);
  values.forEach((v, i) => {
    assertAlmostEquals(out.data[i], (cdf[v] * 255) / values.length, 0.5 + 1e-6, `pixel ${i}`);
  });
});

Deno.test("clahe() output is integer 0..255 and monotone in the input within one tile", () => {
  const values = Array.from(
    { length: 40 * 30 },
    (_, i) => Math.floor((Math.sin(i * 1.7) + 1) * 127.5),
  );
  const out = clahe(grey(40, 30, values), { clipLimit: 2, tiles: 1 });
  const byInput = new Map<number, number>();
  out.data.forEach((v, i) => {
    assertEquals(Number.isInteger(v) && v >= 0 && v <= 255, true, `value ${v}`);
    const seen = byInput.get(values[i]);
    if (seen !== undefined) assertEquals(v, seen, "same input, same output in one tile");
    byInput.set(values[i], v);
  });
  const pairs = [...byInput].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < pairs.length; i++) {
    assertEquals(pairs[i][1] >= pairs[i - 1][1], true, `at input ${pairs[i][0]}`);
  }
  const multi = clahe(grey(40, 30, values));
  for (const v of multi.data) assertEquals(Number.isInteger(v) && v >= 0 && v <= 255, true);
});

Deno.test("clahe() keeps a constant image constant", () => {
  const out = clahe(grey(37, 23, new Array(37 * 23).fill(90)));
  const first = out.data[0];
  for (const v of out.data) assertEquals(v, first);
});

Deno.test("clahe() rounds its input and does not mutate it", () => {
  const input = grey(4, 4, [
    0.4,
    9.6,
    50,
    50.2,
    20,
    30,
    50,
    49.5,
    100,
    100,
    200,
    210,
    100,
    100,
    220,
    230,
  ]);
  const copy = input.data.slice();
  const out = clahe(input, { clipLimit: 0, tiles: 2 });
  assertEquals(input.data, copy);
  assertEquals(out.data, clahe(FOUR, { clipLimit: 0, tiles: 2 }).data);
});

Deno.test("clahe() rejects multi-channel rasters, out-of-range values and bad options", () => {
  const rgb = { width: 1, height: 1, channels: 3, data: new Float32Array(3) };
  assertThrows(() => clahe(rgb), DataError, "Cannot apply CLAHE: raster has 3 channels");
  assertThrows(() => clahe(grey(2, 1, [0, 256])), DataError, `value "256"`);
  assertThrows(() => clahe(grey(2, 1, [0, NaN])), DataError, `value "NaN"`);
  assertThrows(() => clahe(grey(2, 1, [0, 1]), { tiles: 0 }), RangeError, `tiles "0"`);
  assertThrows(() => clahe(grey(2, 1, [0, 1]), { clipLimit: -1 }), RangeError, `clipLimit "-1"`);
});

import { meanStd, minMaxScale, zScore } from "./normalize.ts";
import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";

function grey(values: readonly number[], width = values.length): Raster {
  return { width, height: values.length / width, channels: 1, data: Float32Array.from(values) };
}

Deno.test("meanStd() pools all pixels of a set into one mean and population std", () => {
  // Values 1..6 pooled: mean 3.5, population variance 35 / 12.
  const stats = meanStd([grey([1, 2, 3]), grey([4, 5, 6, 0, 0, 0].slice(0, 3))]);
  assertAlmostEquals(stats.mean, 3.5, 1e-12);
  assertAlmostEquals(stats.std, Math.sqrt(35 / 12), 1e-12);
  // Multi-channel rasters pool every channel.
  const rgb = { width: 1, height: 1, channels: 3, data: new Float32Array([0, 3, 6]) };
  assertEquals(meanStd([rgb]), { mean: 3, std: Math.sqrt(6) });
});

Deno.test("meanStd() accumulates in float64 over large sets", () => {
  // 2 million values of 1e4 + 0.5 * (+-1): float32 sums would drift.
  const data = new Float32Array(2_000_000).map((_, i) => 1e4 + (i % 2 ? 0.5 : -0.5));
  const stats = meanStd([{ width: 2000, height: 1000, channels: 1, data }]);
  assertAlmostEquals(stats.mean, 1e4, 1e-9);
  assertAlmostEquals(stats.std, 0.5, 1e-9);
});

Deno.test("meanStd() counts only pixels whose mask is above 0", () => {
  const image = grey([10, 20, 30, 1000], 2);
  const mask = grey([1, 255, 1, 0], 2);
  const stats = meanStd([image], [mask]);
  assertAlmostEquals(stats.mean, 20, 1e-12);
  assertAlmostEquals(stats.std, Math.sqrt(200 / 3), 1e-12);
});

Deno.test("meanStd() rejects empty sets, empty masks and mismatched masks", () => {
  assertThrows(() => meanStd([]), DataError, "Cannot compute mean and std: no values to pool");
  assertThrows(() => meanStd([grey([1, 2])], [grey([0, 0])]), DataError, "masks select no pixel");
  assertThrows(() => meanStd([grey([1, 2])], []), DataError, "1 rasters but 0 masks");
  assertThrows(() => meanStd([grey([1, 2])], [grey([1, 1, 1])]), DataError, "mask 0 is 3x1x1");
  assertThrows(() => meanStd([grey([1, NaN])]), DataError, `value "NaN"`);
});

Deno.test("zScore() subtracts the mean and divides by the std without touching its input", () => {
  const input = grey([1, 3, 5, 7]);
  const out = zScore(input, 4, 2);
  assertEquals(Array.from(out.data), [-1.5, -0.5, 0.5, 1.5]);
  assertEquals(Array.from(input.data), [1, 3, 5, 7]);
  const { mean, std } = meanStd([input]);
  const z = meanStd([zScore(input, mean, std)]);
  assertAlmostEquals(z.mean, 0, 1e-7);
  assertAlmostEquals(z.std, 1, 1e-6);
});

Deno.test("zScore() rejects a zero or non-finite std", () => {
  assertThrows(() => zScore(grey([1]), 0, 0), RangeError, `Cannot standardise: std "0"`);
  assertThrows(() => zScore(grey([1]), 0, Infinity), RangeError, `std "Infinity"`);
  assertThrows(() => zScore(grey([1]), NaN, 1), RangeError, `mean "NaN"`);
});

Deno.test("minMaxScale() maps each image's min to lo and max to hi", () => {
  const out = minMaxScale(grey([-3, -1, 1, 5]), 0, 255);
  assertEquals(out.data[0], 0);
  assertEquals(out.data[3], 255);
  assertAlmostEquals(out.data[1], 63.75, 1e-4);
  assertAlmostEquals(out.data[2], 127.5, 1e-4);
  const unit = minMaxScale(grey([0.1, 0.7, 0.3]), -1, 1);
  assertEquals([unit.data[0], unit.data[1]], [-1, 1]);
  assertAlmostEquals(unit.data[2], -1 / 3, 1e-6);
});

Deno.test("minMaxScale() maps a constant image to lo", () => {
  assertEquals(Array.from(minMaxScale(grey([7, 7, 7]), 2, 9).data), [2, 2, 2]);
});

Deno.test("minMaxScale() rejects non-finite values and ranges", () => {
  assertThrows(
    () => minMaxScale(grey([0, Infinity]), 0, 1),
    DataError,
    `value "Infinity" at index 1`,
  );
  assertThrows(() => minMaxScale(grey([0, 1]), 0, NaN), RangeError, "Cannot rescale");
});

import { toGray } from "./to_gray.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";

Deno.test("toGray() weights channels 0.299/0.587/0.114", () => {
  const data = new Float32Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30]);
  const grey = toGray({ width: 2, height: 2, channels: 3, data });
  assertEquals([grey.width, grey.height, grey.channels, grey.data.length], [2, 2, 1, 4]);
  assertAlmostEquals(grey.data[0], 0.299 * 255, 1e-4);
  assertAlmostEquals(grey.data[1], 0.587 * 255, 1e-4);
  assertAlmostEquals(grey.data[2], 0.114 * 255, 1e-4);
  assertAlmostEquals(grey.data[3], 0.299 * 10 + 0.587 * 200 + 0.114 * 30, 1e-4);
});

Deno.test("toGray() keeps grey pixels grey (weights sum to 1)", () => {
  const data = new Float32Array([0, 0, 0, 128, 128, 128, 255, 255, 255]);
  const grey = toGray({ width: 3, height: 1, channels: 3, data });
  assertAlmostEquals(grey.data[0], 0, 1e-6);
  assertAlmostEquals(grey.data[1], 128, 1e-4);
  assertAlmostEquals(grey.data[2], 255, 1e-4);
});

Deno.test("toGray() returns a copy of a one-channel raster and never mutates its input", () => {
  const one = { width: 2, height: 1, channels: 1, data: new Float32Array([3, 4]) };
  const copy = toGray(one);
  assertEquals(copy, one);
  assertEquals(copy.data !== one.data, true);
  copy.data[0] = 99;
  assertEquals(one.data[0], 3);
  const rgb = { width: 1, height: 1, channels: 3, data: new Float32Array([1, 2, 3]) };
  toGray(rgb);
  assertEquals(Array.from(rgb.data), [1, 2, 3]);
});

Deno.test("toGray() rejects channel counts other than 1 and 3, and mismatched sizes", () => {
  const two = { width: 1, height: 1, channels: 2, data: new Float32Array(2) };
  assertThrows(() => toGray(two), DataError, "Cannot convert to grey: raster has 2 channels");
  const short = { width: 2, height: 1, channels: 3, data: new Float32Array(5) };
  assertThrows(() => toGray(short), DataError, "raster is 2x1x3 but holds 5 values");
});

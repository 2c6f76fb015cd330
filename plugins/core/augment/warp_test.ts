import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
import { transformSquare } from "./square_transforms.ts";
import {
  addElastic,
  affineMap,
  gaussianBlurPlane,
  gaussianKernel,
  reflectIndex,
  resample,
} from "./warp.ts";

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

Deno.test("reflectIndex mirrors without repeating the edge", () => {
  assertEquals([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((i) => reflectIndex(i, 4)), [
    3,
    2,
    1,
    0,
    1,
    2,
    3,
    2,
    1,
    0,
  ]);
  assertEquals(reflectIndex(5, 1), 0);
});

Deno.test("a zero rotation at zoom 1 copies the patch exactly, both interpolations", () => {
  const source = ramp(2 * 5 * 5);
  for (const mode of ["bilinear", "nearest"] as const) {
    const out = new Float32Array(source.length);
    resample(source, out, 1, 5, 2, affineMap(5, 0, 1), mode);
    assertEquals(Array.from(out.subarray(50)), Array.from(source.subarray(50)), mode);
  }
});

Deno.test("a 90° rotation equals three clockwise quarter turns", () => {
  const source = ramp(6 * 6);
  const rotated = new Float32Array(36), turned = new Float32Array(36);
  resample(source, rotated, 0, 6, 1, affineMap(6, 90, 1), "nearest");
  transformSquare(source, turned, 0, 6, 1, { flip: false, turns: 3 });
  assertEquals(Array.from(rotated), Array.from(turned));
});

Deno.test("bilinear reads between pixels; zoom 2 spreads the centre", () => {
  // A 2×2 patch [0 1; 2 3]: zoom 2 about the centre (0.5, 0.5) maps output (0, 0) to source
  // (0.25, 0.25): 0·0.5625 + 1·0.1875 + 2·0.1875 + 3·0.0625 = 0.75.
  const out = new Float32Array(4);
  resample(new Float32Array([0, 1, 2, 3]), out, 0, 2, 1, affineMap(2, 0, 2), "bilinear");
  assertAlmostEquals(out[0], 0.75, 1e-6);
  assertAlmostEquals(out[3], 2.25, 1e-6);
});

Deno.test("nearest keeps a mask binary under rotation and elastic warps", () => {
  const mask = Float32Array.from({ length: 16 * 16 }, (_, i) => (i % 16 > 7 ? 1 : 0));
  const map = affineMap(16, 23, 1.1);
  let state = 7;
  addElastic(map, 16, 3, 2, () => (state = (state * 48271) % 2147483647) / 2147483647);
  const out = new Float32Array(mask.length);
  resample(mask, out, 0, 16, 1, map, "nearest");
  assertEquals(out.every((v) => v === 0 || v === 1), true);
  assertEquals(out.some((v) => v === 1) && out.some((v) => v === 0), true);
});

Deno.test("elastic displacements reach alpha and alpha 0 changes nothing", () => {
  const map = affineMap(12, 0, 1), still = affineMap(12, 0, 1);
  addElastic(map, 12, 0, 3, Math.random);
  assertEquals(Array.from(map), Array.from(still));
  addElastic(map, 12, 2.5, 3, Math.random);
  let largest = 0;
  for (let i = 0; i < map.length; i++) largest = Math.max(largest, Math.abs(map[i] - still[i]));
  assertAlmostEquals(largest, 2.5, 1e-5);
});

Deno.test("the Gaussian kernel sums to 1 and blurring a constant keeps it", () => {
  const kernel = gaussianKernel(1);
  assertEquals(kernel.length, 7); // radius ⌈3σ⌉ = 3
  assertAlmostEquals(kernel.reduce((s, v) => s + v, 0), 1, 1e-6);
  // Centre over neighbour: exp(0) / exp(-1/2).
  assertAlmostEquals(kernel[3] / kernel[4], Math.exp(0.5), 1e-5);
  const flat = gaussianBlurPlane(new Float32Array(25).fill(0.4), 5, 1.3);
  assertEquals(flat.every((v) => Math.abs(v - 0.4) < 1e-6), true);
});

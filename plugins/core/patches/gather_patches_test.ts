import { assertEquals } from "../../../tests/assert.ts";
import { gatherPatches } from "./gather_patches.ts";

/** Three 2×2 patches of two channels: patch p's image values are 100p + 10·pixel + channel. */
const images = Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => {
  const p = Math.floor(i / 8), pixel = Math.floor((i % 8) / 2), c = i % 2;
  return 100 * p + 10 * pixel + c;
});
const masks = Float32Array.from({ length: 12 }, (_, i) => (i % 4 === Math.floor(i / 4) ? 1 : 0));
const rois = Float32Array.from({ length: 12 }, (_, i) => Math.floor(i / 4) + 1);
const source = { images, masks, rois, size: 2, channels: 2, count: 3 };

Deno.test("gatherPatches copies the chosen patches, masks and regions in the order asked", () => {
  const picked = gatherPatches(source, [2, 0]);
  assertEquals(picked.count, 2);
  assertEquals([...picked.images], [
    200,
    201,
    210,
    211,
    220,
    221,
    230,
    231,
    0,
    1,
    10,
    11,
    20,
    21,
    30,
    31,
  ]);
  assertEquals([...picked.masks], [0, 0, 1, 0, 1, 0, 0, 0]);
  assertEquals([...picked.rois!], [3, 3, 3, 3, 1, 1, 1, 1]);
  assertEquals([picked.size, picked.channels], [2, 2]);
});

Deno.test("gatherPatches repeats a patch asked twice and leaves the source as it was", () => {
  const before = [...source.images];
  const twice = gatherPatches(source, [1, 1]);
  assertEquals([...twice.masks], [0, 1, 0, 0, 0, 1, 0, 0]);
  assertEquals(twice.images.subarray(0, 8), twice.images.subarray(8, 16));
  twice.images[0] = -1;
  assertEquals([...source.images], before);
});

Deno.test("gatherPatches leaves regions out when the source has none, and takes no indices", () => {
  const { rois: _, ...withoutRois } = source;
  const picked = gatherPatches(withoutRois, [0]);
  assertEquals("rois" in picked, false);
  assertEquals(gatherPatches(source, []).count, 0);
});

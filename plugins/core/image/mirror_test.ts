import { mirrorRaster } from "./mirror.ts";
import { assertEquals } from "../../../tests/assert.ts";

const rgb = {
  width: 2,
  height: 2,
  channels: 3,
  // pixels a b / c d, each (k, k + 0.1, k + 0.2)
  data: new Float32Array([1, 1.1, 1.2, 2, 2.1, 2.2, 3, 3.1, 3.2, 4, 4.1, 4.2]),
};
const pixels = (r: { data: Float32Array }) => [0, 3, 6, 9].map((i) => r.data[i]);

Deno.test("mirrorRaster() moves every channel of a pixel together", () => {
  const h = mirrorRaster(rgb, { horizontal: true, vertical: false });
  assertEquals(pixels(h), [2, 1, 4, 3]);
  assertEquals([...h.data.subarray(0, 3)], [...rgb.data.subarray(3, 6)]);
  assertEquals(pixels(mirrorRaster(rgb, { horizontal: false, vertical: true })), [3, 4, 1, 2]);
  // both axes: a half turn
  assertEquals(pixels(mirrorRaster(rgb, { horizontal: true, vertical: true })), [4, 3, 2, 1]);
});

Deno.test("mirrorRaster() twice gives the raster back and leaves its input alone", () => {
  const image = {
    width: 5,
    height: 3,
    channels: 1,
    data: Float32Array.from({ length: 15 }, (_, i) => i * i),
  };
  const before = [...image.data];
  for (const horizontal of [false, true]) {
    for (const vertical of [false, true]) {
      const once = mirrorRaster(image, { horizontal, vertical });
      assertEquals([...mirrorRaster(once, { horizontal, vertical }).data], before);
      assertEquals(once.data === image.data, false);
    }
  }
  assertEquals([...image.data], before);
});

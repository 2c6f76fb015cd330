import { decodePngIndices } from "./png_palette.ts";
import { decodeImage, decodeImageWithAlpha } from "./read_image.ts";
import { pngChunk, pngFile } from "./png_fixture.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { assertEquals, assertThrows } from "../../../tests/assert.ts";

/** A PLTE chunk of `entries` colours: entry i is (i, 255 − i, 7), so every index has its own colour. */
const plte = (entries: number) =>
  pngChunk("PLTE", Array.from({ length: entries }, (_, i) => [i, 255 - i, 7]).flat());

Deno.test("an 8-bit palette PNG gives its raw indices (maxValue 255) beside its colours", async () => {
  const png = pngFile({
    width: 4,
    height: 1,
    bitDepth: 8,
    colourType: 3,
    scanlines: [0, 0, 1, 255, 2],
    chunks: [plte(256)],
  });
  const decoded = await decodeImageWithAlpha(png, "p8.png");
  assertEquals(Array.from(decoded.indices!.data), [0, 1, 255, 2]);
  assertEquals(decoded.indices!.maxValue, 255);
  // The raster keeps the palette's colours, as imagescript decodes them.
  assertEquals(decoded.raster.channels, 3);
  assertEquals(Array.from(decoded.raster.data.subarray(3, 6)), [1, 254, 7]);
  assertEquals(decoded.alpha, undefined);
  // decodeImage (images) still gives the colours only.
  assertEquals(Array.from((await decodeImage(png, "p8.png")).data.subarray(6, 9)), [255, 0, 7]);
});

Deno.test("4-, 2- and 1-bit palette PNGs unpack their indices, filtered and interlaced", async () => {
  // 3×2 at 4 bits: rows [15, 0, 7] (filter 0) and [1, 2, 3] (Sub: each byte adds the one before).
  const four = pngFile({
    width: 3,
    height: 2,
    bitDepth: 4,
    colourType: 3,
    scanlines: [0, 0xf0, 0x70, 1, 0x12, (0x30 - 0x12) & 0xff],
    chunks: [plte(16)],
  });
  const indices4 = (await decodeImageWithAlpha(four, "p4.png")).indices!;
  assertEquals([Array.from(indices4.data), indices4.maxValue], [[15, 0, 7, 1, 2, 3], 15]);
  // 5×1 at 2 bits: 3, 0, 2, 1, 3.
  const two = pngFile({
    width: 5,
    height: 1,
    bitDepth: 2,
    colourType: 3,
    scanlines: [0, 0b11_00_10_01, 0b11_000000],
    chunks: [plte(4)],
  });
  const indices2 = decodePngIndices(two, "p2.png");
  assertEquals([Array.from(indices2.data), indices2.maxValue], [[3, 0, 2, 1, 3], 3]);
  // 2×2 at 1 bit, Adam7: pass 1 holds (0,0), pass 6 (1,0), pass 7 row 1 (both pixels).
  const one = pngFile({
    width: 2,
    height: 2,
    bitDepth: 1,
    colourType: 3,
    interlace: 1,
    scanlines: [0, 0b1_0000000, 0, 0b0_0000000, 0, 0b01_000000],
    chunks: [plte(2)],
  });
  const indices1 = (await decodeImageWithAlpha(one, "p1.png")).indices!;
  assertEquals([Array.from(indices1.data), indices1.maxValue], [[1, 0, 0, 1], 1]);
});

Deno.test("grey PNGs have no indices; a corrupt palette PNG is a DataError naming the file", async () => {
  const grey = pngFile({ width: 2, height: 1, bitDepth: 8, colourType: 0, scanlines: [0, 0, 9] });
  assertEquals((await decodeImageWithAlpha(grey, "g.png")).indices, undefined);
  assertThrows(() => decodePngIndices(grey, "g.png"), DataError, "colour type 0");
  const png = pngFile({
    width: 2,
    height: 1,
    bitDepth: 8,
    colourType: 3,
    scanlines: [0, 0, 1],
    chunks: [plte(2)],
  });
  assertThrows(
    () => decodePngIndices(png.slice(0, png.length - 20), "cut.png"),
    DataError,
    'Cannot read image "cut.png": palette PNG data is truncated',
  );
});

import { decodePng16, pngBitDepth } from "./png16.ts";
import { decodeImage, decodeImageWithAlpha } from "./read_image.ts";
import { pngChunk, pngFile } from "./png_fixture.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";

/** A 16-bit sample on the rasters' 0..255 scale, as float32: `v · 255 / 65535`. */
const scaled = (v: number) => Math.fround((v * 255) / 65535);

/** Big-endian bytes of 16-bit samples. */
const be = (values: number[]) => values.flatMap((v) => [v >> 8, v & 0xff]);

Deno.test("a 16-bit grey PNG ramp 0..4032 keeps all its 64 levels at full precision", async () => {
  const ramp = Array.from({ length: 64 }, (_, i) => i * 64);
  const png = pngFile({
    width: 64,
    height: 1,
    bitDepth: 16,
    colourType: 0,
    scanlines: [0, ...be(ramp)],
  });
  assertEquals(pngBitDepth(png), 16);
  const raster = await decodeImage(png, "ramp16.png");
  assertEquals([raster.width, raster.height, raster.channels, raster.maxValue], [64, 1, 1, 65535]);
  assertEquals(new Set(raster.data).size, 64);
  assertEquals(Array.from(raster.data), ramp.map(scaled));
  // By hand: 64 · 255 / 65535 = 0.2490272…, 4032 · 255 / 65535 = 15.6887159…
  assertAlmostEquals(raster.data[1], 0.2490272, 1e-6);
  assertAlmostEquals(raster.data[63], 15.6887159, 1e-5);
  // The file's own integers come back as value · maxValue / 255.
  assertEquals(Array.from(raster.data, (v) => Math.round((v * 65535) / 255)), ramp);
});

Deno.test("0..255 stored in a 16-bit PNG reads as small nonzero values (v / 257), not black", async () => {
  const low = [0, 1, 2, 127, 128, 255];
  const png = pngFile({
    width: 6,
    height: 1,
    bitDepth: 16,
    colourType: 0,
    scanlines: [0, ...be(low)],
  });
  const raster = await decodeImage(png, "low16.png");
  assertEquals(Array.from(raster.data), low.map(scaled));
  assertAlmostEquals(raster.data[1], 0.0038911, 1e-7); // 255 / 65535 = 1 / 257
  assertAlmostEquals(raster.data[5], 0.9922179, 1e-6); // 255 / 257
  assertEquals(raster.data.slice(1).every((v) => v > 0), true);
});

Deno.test("decodePng16() undoes all five row filters (bytes filtered by hand)", () => {
  // 2×5 grey, 2 bytes per pixel; row r uses filter r. Filtered bytes computed by hand:
  const scanlines = [
    0,
    0x01,
    0x02,
    0x03,
    0x04, // None: 0x0102, 0x0304
    1,
    0x10,
    0x00,
    0x02,
    0x34, // Sub: 0x1000, 0x1234 (0x12 − 0x10, 0x34 − 0x00)
    2,
    0xef,
    0xff,
    0xee,
    0xcd, // Up: 0xffff, 0x0001 (0xff − 0x10, 0xff − 0x00, 0x00 − 0x12, 0x01 − 0x34)
    3,
    0x01,
    0x81,
    0x00,
    0x20, // Average: 0x8000, 0x4020 (0x80 − ⌊0xff/2⌋, …, 0x40 − ⌊(0x80 + 0)/2⌋, 0x20 − ⌊(0 + 1)/2⌋)
    4,
    0x8a,
    0x0b,
    0x02,
    0xed, // Paeth: 0x0a0b, 0x0c0d (predictors up 0x80, left 0, left 0x0a, up 0x20)
  ];
  const png = pngFile({ width: 2, height: 5, bitDepth: 16, colourType: 0, scanlines });
  const samples = decodePng16(png, "filters.png");
  assertEquals([samples.width, samples.height, samples.samplesPerPixel], [2, 5, 1]);
  assertEquals(Array.from(samples.data), [
    0x0102,
    0x0304,
    0x1000,
    0x1234,
    0xffff,
    0x0001,
    0x8000,
    0x4020,
    0x0a0b,
    0x0c0d,
  ]);
});

Deno.test("decodePng16() reads an Adam7-interlaced PNG into place", () => {
  // 3×3: pass 1 holds (0,0), pass 4 (2,0), pass 5 (0,2) (2,2), pass 6 (1,0) (1,2),
  // pass 7 (0,1) (1,1) (2,1); passes 2 and 3 are empty. Pixel (x, y) = 100·y + 10·x + 1.
  const v = (x: number, y: number) => 100 * y + 10 * x + 1;
  const scanlines = [
    [0, ...be([v(0, 0)])],
    [0, ...be([v(2, 0)])],
    [0, ...be([v(0, 2), v(2, 2)])],
    [0, ...be([v(1, 0)])],
    [0, ...be([v(1, 2)])],
    [0, ...be([v(0, 1), v(1, 1), v(2, 1)])],
  ].flat();
  const png = pngFile({
    width: 3,
    height: 3,
    bitDepth: 16,
    colourType: 0,
    interlace: 1,
    scanlines,
  });
  const samples = decodePng16(png, "adam7.png");
  assertEquals(Array.from(samples.data), [1, 11, 21, 101, 111, 121, 201, 211, 221]);
});

Deno.test("16-bit RGB, RGBA, grey + alpha and a grey colour key decode with their alpha", async () => {
  // RGB with R = G = B reads as one channel; a colour pixel makes it three.
  const greyRgb = pngFile({
    width: 2,
    height: 1,
    bitDepth: 16,
    colourType: 2,
    scanlines: [0, ...be([5, 5, 5, 300, 300, 300])],
  });
  const g = await decodeImage(greyRgb, "g.png");
  assertEquals([g.channels, ...g.data], [1, scaled(5), scaled(300)]);
  const rgba = pngFile({
    width: 2,
    height: 1,
    bitDepth: 16,
    colourType: 6,
    scanlines: [0, ...be([65535, 0, 0, 65535, 65535, 65535, 65535, 0])],
  });
  const colour = await decodeImageWithAlpha(rgba, "rgba16.png");
  assertEquals(colour.raster.channels, 3);
  assertEquals(Array.from(colour.raster.data), [255, 0, 0, 255, 255, 255]);
  assertEquals(Array.from(colour.alpha!), [255, 0]);
  assertEquals((await decodeImage(rgba, "rgba16.png")).channels, 3);
  const greyAlpha = pngFile({
    width: 2,
    height: 1,
    bitDepth: 16,
    colourType: 4,
    scanlines: [0, ...be([0, 32768, 0, 65535])],
  });
  const ga = await decodeImageWithAlpha(greyAlpha, "ga16.png");
  assertEquals([ga.raster.channels, ...ga.raster.data], [1, 0, 0]);
  assertEquals(Array.from(ga.alpha!), [scaled(32768), 255]);
  // An opaque alpha channel is no alpha at all.
  const opaque = pngFile({
    width: 1,
    height: 1,
    bitDepth: 16,
    colourType: 4,
    scanlines: [0, ...be([7, 65535])],
  });
  assertEquals((await decodeImageWithAlpha(opaque, "o.png")).alpha, undefined);
  // tRNS: grey 1000 is transparent.
  const keyed = pngFile({
    width: 2,
    height: 1,
    bitDepth: 16,
    colourType: 0,
    chunks: [pngChunk("tRNS", be([1000]))],
    scanlines: [0, ...be([1000, 1001])],
  });
  assertEquals(Array.from((await decodeImageWithAlpha(keyed, "k.png")).alpha!), [0, 255]);
});

Deno.test("a corrupt or truncated 16-bit PNG is a DataError naming the file", () => {
  const png = pngFile({
    width: 2,
    height: 1,
    bitDepth: 16,
    colourType: 0,
    scanlines: [0, 1, 2, 3, 4],
  });
  assertThrows(
    () => decodePng16(png.slice(0, png.length - 20), "cut.png"),
    DataError,
    'Cannot read image "cut.png": 16-bit PNG data is truncated',
  );
  const flipped = png.slice();
  flipped[40] ^= 0xff; // inside the IDAT chunk
  assertThrows(() => decodePng16(flipped, "crc.png"), DataError, "fails its checksum");
  const short = pngFile({
    width: 2,
    height: 2,
    bitDepth: 16,
    colourType: 0,
    scanlines: [0, 1, 2, 3, 4],
  });
  assertThrows(() => decodePng16(short, "short.png"), DataError, "expected 10 for 2×2");
  const badFilter = pngFile({
    width: 1,
    height: 1,
    bitDepth: 16,
    colourType: 0,
    scanlines: [5, 1, 2],
  });
  assertThrows(() => decodePng16(badFilter, "f.png"), DataError, "row filter 5");
  const palette = pngFile({
    width: 1,
    height: 1,
    bitDepth: 16,
    colourType: 3,
    scanlines: [0, 1, 2],
  });
  assertThrows(() => decodePng16(palette, "p.png"), DataError, "colour type 3");
});

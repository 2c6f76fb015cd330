import { encodeGrayPng, encodeRgbPng } from "./write_png.ts";
import { DataError } from "../errors.ts";
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { Image } from "imagescript";
import { inflateSync } from "node:zlib";

function chunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

Deno.test("encodeGrayPng() writes a PNG that imagescript decodes to the same grey pixels", async () => {
  const width = 37;
  const height = 11;
  const data = new Float32Array(width * height).map((_, i) => ((i * 29) % 256) / 255);
  const png = encodeGrayPng({ width, height, channels: 1, data });
  const image = await Image.decode(png);
  assertEquals([image.width, image.height], [width, height]);
  for (let i = 0; i < width * height; i++) {
    const expected = (i * 29) % 256;
    assertEquals(Array.from(image.bitmap.subarray(i * 4, i * 4 + 4)), [
      expected,
      expected,
      expected,
      255,
    ]);
  }
});

Deno.test("encodeGrayPng() writes an IHDR for 8-bit greyscale and valid chunk CRCs", () => {
  const png = encodeGrayPng({ width: 300, height: 2, channels: 1, data: new Float32Array(600) });
  assertEquals(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const list = chunks(png);
  assertEquals(list.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const ihdr = new DataView(list[0].data.buffer, list[0].data.byteOffset, 13);
  assertEquals([ihdr.getUint32(0), ihdr.getUint32(4)], [300, 2]);
  assertEquals(Array.from(list[0].data.subarray(8)), [8, 0, 0, 0, 0]); // depth 8, grey, no interlace
  // The CRC of an empty IEND chunk is a well-known constant.
  assertEquals(Array.from(png.subarray(png.length - 4)), [0xae, 0x42, 0x60, 0x82]);
  // Each row is a filter byte (0) and 300 samples.
  assertEquals(new Uint8Array(inflateSync(list[1].data)).length, 2 * 301);
});

Deno.test("encodeGrayPng() scales by 255, rounds and clamps", () => {
  const data = new Float32Array([-0.5, 0, 0.5, 1 / 255, 0.9999, 1, 2]);
  const png = encodeGrayPng({ width: 7, height: 1, channels: 1, data });
  const idat = chunks(png).find((c) => c.type === "IDAT")!.data;
  assertEquals(Array.from(new Uint8Array(inflateSync(idat))), [0, 0, 0, 128, 1, 255, 255, 255]);
});

Deno.test("encodeGrayPng() rejects multi-channel rasters, mismatched sizes and non-finite values", () => {
  const rgb = { width: 1, height: 1, channels: 3, data: new Float32Array(3) };
  assertThrows(() => encodeGrayPng(rgb), DataError, "Cannot encode PNG: raster has 3 channels");
  const short = { width: 2, height: 2, channels: 1, data: new Float32Array(3) };
  assertThrows(() => encodeGrayPng(short), DataError, "raster is 2x2 but holds 3 values");
  const nan = { width: 2, height: 1, channels: 1, data: new Float32Array([0, NaN]) };
  assertThrows(() => encodeGrayPng(nan), DataError, `value "NaN" at pixel (1, 0)`);
});

Deno.test("encodeRgbPng() writes a PNG that imagescript decodes to the same colour pixels", async () => {
  const width = 23;
  const height = 9;
  const byte = (i: number, c: number) => (i * 29 + c * 71) % 256;
  const data = new Float32Array(width * height * 3).map((_, k) =>
    byte(Math.floor(k / 3), k % 3) / 255
  );
  const png = encodeRgbPng({ width, height, channels: 3, data });
  const image = await Image.decode(png);
  assertEquals([image.width, image.height], [width, height]);
  for (let i = 0; i < width * height; i++) {
    assertEquals(Array.from(image.bitmap.subarray(i * 4, i * 4 + 4)), [
      byte(i, 0),
      byte(i, 1),
      byte(i, 2),
      255,
    ]);
  }
});

Deno.test("encodeRgbPng() writes an IHDR for 8-bit RGB and rows of a filter byte and 3 samples a pixel", () => {
  const data = new Float32Array([1, 0, 0, 0, 0.5, 1, -1, 2, 1 / 255, 0, 0, 0]);
  const png = encodeRgbPng({ width: 2, height: 2, channels: 3, data });
  const list = chunks(png);
  assertEquals(list.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  assertEquals(Array.from(list[0].data.subarray(8)), [8, 2, 0, 0, 0]); // depth 8, RGB, no interlace
  assertEquals(Array.from(new Uint8Array(inflateSync(list[1].data))), [
    ...[0, 255, 0, 0, 0, 128, 255], // filter 0, red, (0, 128, 255)
    ...[0, 0, 255, 1, 0, 0, 0], // filter 0, clamped (0, 255, 1), black
  ]);
});

Deno.test("encodeRgbPng() rejects grey rasters, mismatched sizes and non-finite values", () => {
  const grey = { width: 1, height: 1, channels: 1, data: new Float32Array(1) };
  assertThrows(() => encodeRgbPng(grey), DataError, "raster has 1 channels, expected 3");
  const short = { width: 2, height: 1, channels: 3, data: new Float32Array(5) };
  assertThrows(() => encodeRgbPng(short), DataError, "raster is 2x1x3 but holds 5 values");
  const nan = { width: 2, height: 1, channels: 3, data: new Float32Array([0, 0, 0, 0, NaN, 0]) };
  assertThrows(() => encodeRgbPng(nan), DataError, `value "NaN" at pixel (1, 0) channel 1`);
});

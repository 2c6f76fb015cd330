import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../mod.ts";
import { decodeNetpbm } from "./netpbm.ts";
import { decodeImage, readImage } from "./read_image.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";

const text = (s: string) => new TextEncoder().encode(s);
const bytes = (header: string, body: number[]) => {
  const h = text(header);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
};

Deno.test("P2 and P3 (ASCII), with comments, scale maxval to 255", () => {
  const grey = decodeNetpbm(text("P2 # grey\n3 1 # size\n4\n0 1 4\n"), "a.pgm");
  assertEquals([grey.width, grey.height, grey.channels], [3, 1, 1]);
  assertEquals(Array.from(grey.data), [0, 63.75, 255]);
  const colour = decodeNetpbm(text("P3\n1 1\n255\n10 20 30\n"), "a.ppm");
  assertEquals([colour.channels, ...colour.data], [3, 10, 20, 30]);
});

Deno.test("P5 and P6 (binary), 8-bit and 16-bit big-endian", () => {
  assertEquals(Array.from(decodeNetpbm(bytes("P5\n2 1\n255\n", [7, 200]), "b.pgm").data), [7, 200]);
  // 16-bit: 0x0100 = 256 and 0xffff of maxval 65535 → 256·255/65535 and 255.
  const wide = decodeNetpbm(bytes("P5\n2 1\n65535\n", [0x01, 0x00, 0xff, 0xff]), "w.pgm");
  assertEquals(Array.from(wide.data), [Math.fround((256 * 255) / 65535), 255]);
  const rgb = decodeNetpbm(bytes("P6\n1 2\n255\n", [1, 2, 3, 4, 5, 6]), "c.ppm");
  assertEquals([rgb.width, rgb.height, rgb.channels, ...rgb.data], [1, 2, 3, 1, 2, 3, 4, 5, 6]);
});

Deno.test("truncated pixels, a bad maxval and a broken header are errors naming the file", () => {
  assertThrows(
    () => decodeNetpbm(bytes("P5\n4 4\n255\n", [1, 2, 3]), "short.pgm"),
    DataError,
    'Cannot read image "short.pgm": P5 pixel data is truncated (3 bytes for 16 samples)',
  );
  assertThrows(() => decodeNetpbm(text("P2\n1 1\n70000\n5\n"), "m.pgm"), DataError, "maxval 70000");
  assertThrows(() => decodeNetpbm(text("P2\n1\n"), "h.pgm"), DataError, "truncated or malformed");
});

Deno.test("a DRIVE image saved as PPM decodes to the same values as its TIFF", async () => {
  const tiff = await readImage(
    `${DRIVE_ROOT}/training/images/21_training.tif`,
  );
  const ppm = bytes(`P6\n${tiff.width} ${tiff.height}\n255\n`, Array.from(tiff.data));
  const decoded = await decodeImage(ppm, "21_training.ppm");
  assertEquals([decoded.width, decoded.height, decoded.channels], [565, 584, 3]);
  assertEquals(decoded.data.every((v, i) => v === tiff.data[i]), true);
});

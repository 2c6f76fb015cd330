import { assertEquals, assertRejects, assertThrows } from "../../../tests/assert.ts";
import { DataError, encodeGrayPng } from "../../../mod.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";
import { Frame, GIF, Image } from "imagescript";
import UTIF from "utif2";
import { imageSize, readImageSize } from "./image_size.ts";
import { decodeImage, readImage } from "./read_image.ts";

/** The header's size, checked against the decoder's. */
async function sizes(bytes: Uint8Array, name: string) {
  const raster = await decodeImage(bytes, name);
  return {
    header: imageSize(bytes, name),
    decoded: { width: raster.width, height: raster.height },
  };
}

Deno.test("imageSize() reads the size every format's header gives, as decoding finds it", async () => {
  const image = new Image(7, 5).fill(0x336699ff);
  const rgba = new Uint8Array(7 * 5 * 4).fill(200);
  const files: Record<string, Uint8Array> = {
    "a.png": encodeGrayPng({ width: 7, height: 5, channels: 1, data: new Float32Array(35) }),
    "a.jpg": await image.encodeJPEG(90), // an APP0 segment before the frame
    // and an 8-byte comment segment (COM) after the start-of-image marker, as cameras add EXIF
    "b.jpg": await image.encodeJPEG(90).then((jpeg) =>
      new Uint8Array([0xff, 0xd8, 0xff, 0xfe, 0, 8, 1, 2, 3, 4, 5, 6, ...jpeg.subarray(2)])
    ),
    "a.gif": await new GIF([Frame.from(image)]).encode(),
    "a.tif": new Uint8Array(UTIF.encodeImage(rgba, 7, 5)),
    "a.pgm": new TextEncoder().encode("P2\n# width then height\n7 5\n255\n" + "0 ".repeat(35)),
  };
  for (const [name, bytes] of Object.entries(files)) {
    const { header, decoded } = await sizes(bytes, name);
    assertEquals(header, { width: 7, height: 5 }, name);
    assertEquals(decoded, header, name);
  }
});

Deno.test("readImageSize() agrees with decoding on DRIVE's TIFF images and GIF masks", async () => {
  for (
    const path of [
      `${DRIVE_ROOT}/training/images/21_training.tif`,
      `${DRIVE_ROOT}/training/1st_manual/21_manual1.gif`,
      `${DRIVE_ROOT}/test/mask/01_test_mask.gif`,
    ]
  ) {
    const raster = await readImage(path);
    assertEquals(await readImageSize(path), { width: 565, height: 584 }, path);
    assertEquals([raster.width, raster.height], [565, 584], path);
  }
});

Deno.test("imageSize() refuses empty, unknown and cut-off headers, naming the file", async () => {
  const png = encodeGrayPng({ width: 7, height: 5, channels: 1, data: new Float32Array(35) });
  assertThrows(() => imageSize(new Uint8Array(), "e.png"), DataError, '"e.png": file is empty');
  assertThrows(
    () => imageSize(new Uint8Array([1, 2, 3]), "x.bmp"),
    DataError,
    '"x.bmp": unsupported format (first bytes 01 02 03); supported formats are TIFF, PNG',
  );
  assertThrows(
    () => imageSize(png.subarray(0, 20), "cut.png"),
    DataError,
    'Cannot read image "cut.png": its PNG header is truncated or corrupt (no image size in it)',
  );
  // Cut inside the APP0 segment that comes before the frame header.
  const jpeg = await new Image(7, 5).encodeJPEG(90);
  assertThrows(() => imageSize(jpeg.subarray(0, 20), "cut.jpg"), DataError, "its JPEG header");
  const tif = new Uint8Array(UTIF.encodeImage(new Uint8Array(140), 7, 5));
  assertThrows(() => imageSize(tif.subarray(0, 8), "cut.tif"), DataError, "its TIFF header");
  assertThrows(
    () => imageSize(new TextEncoder().encode("P5\n7"), "cut.pgm"),
    DataError,
    "its PGM/PPM header",
  );
  await assertRejects(
    () => readImageSize("no/such.png"),
    DataError,
    '"no/such.png": file not found',
  );
});

/**
 * The independent scorer's decoders against figures known without them: DRIVE's published
 * sanity counts (FOV and vessel pixels of the 20 test images, the second observer's scores,
 * from the protocol notes), the GIFs' known grey values, and a PNG built here byte by byte
 * with every row filter. The DRIVE tests are ignored where DRIVE is absent.
 *
 * @module
 */
import { crc32, deflateSync } from "node:zlib";
import { assertAlmostEquals, assertEquals, assertThrows } from "../../tests/assert.ts";
import { decodeGif, decodePng, type GreyImage } from "./decode.ts";
import { defaultDriveRoot, driveFiles, hasDrive, MARKED_ABOVE } from "./drive.ts";

const DRIVE = defaultDriveRoot();
const NO_DRIVE = !hasDrive(DRIVE);
const TEST_IDS = Array.from({ length: 20 }, (_, i) => `${String(i + 1).padStart(2, "0")}_test`);
const TRAINING_IDS = Array.from({ length: 20 }, (_, i) => `${i + 21}_training`);

/** Reads and decodes a DRIVE GIF. */
function gif(path: string): GreyImage {
  return decodeGif(Deno.readFileSync(path));
}

/** The distinct values of an image, ascending. */
function values(image: GreyImage): number[] {
  return [...new Set(image.data)].sort((a, b) => a - b);
}

Deno.test({
  name: "decodeGif(): test image 01's FOV mask is 565×584 with 224,377 FOV pixels",
  ignore: NO_DRIVE,
  fn() {
    const fov = gif(driveFiles(DRIVE, "01_test").fov);
    assertEquals([fov.width, fov.height], [565, 584]);
    assertEquals(fov.data.filter((v) => v > MARKED_ABOVE).length, 224_377);
  },
});

Deno.test({
  name: "decodeGif(): the 20 test images hold 4,538,143 FOV pixels, 577,649 of them vessel",
  ignore: NO_DRIVE,
  fn() {
    let fovPixels = 0, vesselPixels = 0;
    for (const id of TEST_IDS) {
      const files = driveFiles(DRIVE, id);
      const fov = gif(files.fov), truth = gif(files.truth);
      for (let i = 0; i < fov.data.length; i++) {
        if (fov.data[i] <= MARKED_ABOVE) continue;
        fovPixels++;
        if (truth.data[i] > MARKED_ABOVE) vesselPixels++;
      }
    }
    assertEquals(fovPixels, 4_538_143);
    assertEquals(vesselPixels, 577_649);
  },
});

Deno.test({
  name: "decodeGif(): masks and 1st_manual hold 0/255, 2nd_manual 4/254, all 565×584",
  ignore: NO_DRIVE,
  fn() {
    for (const id of [...TEST_IDS, ...TRAINING_IDS]) {
      const files = driveFiles(DRIVE, id);
      for (
        const [path, expected] of [
          [files.fov, [0, 255]],
          [files.truth, [0, 255]],
          ...(files.secondObserver ? [[files.secondObserver, [4, 254]] as const] : []),
        ] as const
      ) {
        const image = gif(path);
        assertEquals([image.width, image.height], [565, 584], path);
        assertEquals(values(image), expected, path);
      }
    }
  },
});

Deno.test({
  name: "decodeGif(): the second observer scores Acc 0.9473, Se 0.7746, Sp 0.9725, " +
    "precision 0.8040, F1 0.7891 against the first (published)",
  ignore: NO_DRIVE,
  fn() {
    let tp = 0, fp = 0, tn = 0, fn = 0;
    for (const id of TEST_IDS) {
      const files = driveFiles(DRIVE, id);
      const fov = gif(files.fov), truth = gif(files.truth), second = gif(files.secondObserver!);
      for (let i = 0; i < fov.data.length; i++) {
        if (fov.data[i] <= MARKED_ABOVE) continue;
        const vessel = truth.data[i] > MARKED_ABOVE, marked = second.data[i] > MARKED_ABOVE;
        if (vessel && marked) tp++;
        else if (vessel) fn++;
        else if (marked) fp++;
        else tn++;
      }
    }
    // Published to 4 decimals: equal once rounded, so within half a unit of the 4th.
    const published = 5e-5;
    assertAlmostEquals((tp + tn) / (tp + fp + tn + fn), 0.9473, published);
    assertAlmostEquals(tp / (tp + fn), 0.7746, published);
    assertAlmostEquals(tn / (tn + fp), 0.9725, published);
    assertAlmostEquals(tp / (tp + fp), 0.8040, published);
    assertAlmostEquals((2 * tp) / (2 * tp + fp + fn), 0.7891, published);
  },
});

/** One PNG chunk: length, type, body, CRC of type and body. */
function chunk(type: string, body: Uint8Array): Uint8Array {
  const typed = new Uint8Array([...new TextEncoder().encode(type), ...body]);
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set(typed, 4);
  view.setUint32(8 + body.length, crc32(typed));
  return out;
}

/** A PNG file of the given header fields and filtered rows, its data split over two IDATs. */
function png(
  width: number,
  height: number,
  colorType: number,
  filtered: readonly number[],
  bitDepth = 8,
): Uint8Array {
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header.set([bitDepth, colorType, 0, 0, 0], 8);
  const data = new Uint8Array(deflateSync(new Uint8Array(filtered)));
  const half = data.length >> 1;
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", header),
    chunk("IDAT", data.subarray(0, half)),
    chunk("IDAT", data.subarray(half)),
    chunk("IEND", new Uint8Array()),
  ];
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

Deno.test("decodePng(): undoes each row filter (none, sub, up, average, Paeth)", () => {
  // Each row: its filter byte, then the filtered bytes; the comments give the pixels, worked
  // out by hand from the PNG specification's filter definitions.
  const filtered = [
    [0, 10, 20, 30], // none: 10 20 30
    [1, 5, 5, 5], // sub (+ left): 5 10 15
    [2, 1, 2, 3], // up (+ above): 6 12 18
    [3, 4, 4, 4], // average (+ ⌊(left + above) / 2⌋): 4+3=7, 4+⌊(7+12)/2⌋=13, 4+⌊(13+18)/2⌋=19
    [4, 0, 0, 250], // Paeth (the above pixel wins each time): 7, 13, (250 + 19) mod 256 = 13
  ].flat();
  const image = decodePng(png(3, 5, 0, filtered));
  assertEquals([image.width, image.height, image.colorType], [3, 5, 0]);
  assertEquals([...image.data], [10, 20, 30, 5, 10, 15, 6, 12, 18, 7, 13, 19, 7, 13, 13]);
});

Deno.test("decodePng(): keeps the first channel of grey+alpha and RGB", () => {
  const greyAlpha = decodePng(png(2, 1, 4, [0, 200, 255, 100, 0]));
  assertEquals([...greyAlpha.data], [200, 100]);
  // Sub on RGB subtracts the same channel of the pixel to the left: red 40, then 40 + 20.
  const rgb = decodePng(png(2, 1, 2, [1, 40, 1, 2, 20, 3, 4]));
  assertEquals([...rgb.data], [40, 60]);
});

Deno.test("decodePng() refuses what it does not decode rather than misread it", () => {
  assertThrows(() => decodePng(new Uint8Array(16)), Error, "not a PNG");
  assertThrows(() => decodePng(png(1, 1, 0, [0, 0, 0], 16)), Error, "bit depth 16");
  assertThrows(() => decodePng(png(1, 1, 3, [0, 0])), Error, "colour type 3");
});

Deno.test("decodeGif() refuses a file that is not a GIF", () => {
  assertThrows(() => decodeGif(new TextEncoder().encode("GIF90a......")), Error, "not a GIF");
});

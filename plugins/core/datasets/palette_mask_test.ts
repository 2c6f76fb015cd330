import { binaryMask, maskIgnoreOption } from "./mask_values.ts";
import { readPairedSample, type SampleFiles } from "./paired_sample.ts";
import { pngChunk, rowsPng8 } from "../image/png_fixture.ts";
import { decodeImageWithAlpha } from "../image/read_image.ts";
import { DataError, encodeGrayPng } from "../../../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../../../tests/assert.ts";
import { join } from "node:path";
import { withFiles } from "../../../tests/with_files.ts";

/** PASCAL VOC style, 8×8: a 4×4 object of 1 inside a ring of 255 (void) on 0. */
const VOC = Array.from({ length: 8 }, (_, y) =>
  Array.from({ length: 8 }, (_, x) => {
    const ring = Math.max(Math.abs(2 * x - 7), Math.abs(2 * y - 7)); // 1, 3, 5, 7 from the centre
    return ring <= 3 ? 1 : ring === 5 ? 255 : 0;
  }));

/** VOC's palette: 0 black, 1 dark red (128, 0, 0), …, 255 the void's light grey (224, 224, 192). */
const VOC_PALETTE = pngChunk(
  "PLTE",
  Array.from(
    { length: 256 },
    (_, i) => i === 0 ? [0, 0, 0] : i === 255 ? [224, 224, 192] : [128, 0, 0],
  )
    .flat(),
);

/** An 8-bit palette PNG of `rows` (indices), with VOC's palette. */
const palette8 = (rows: number[][]) => rowsPng8(rows, 3, [VOC_PALETTE]);

/** An 8-bit grey PNG of `rows`. */
const grey8 = (rows: number[][]) => rowsPng8(rows);

const flat = VOC.flat();

const IMAGE = encodeGrayPng({
  width: 8,
  height: 8,
  channels: 1,
  data: new Float32Array(64).fill(0.5),
});

Deno.test("maskIgnoreOption: [] by default, non-negative integers", () => {
  assertEquals(maskIgnoreOption.parse(undefined), []);
  assertEquals(maskIgnoreOption.parse([255, 0]), [255, 0]);
  assert(!maskIgnoreOption.safeParse([-1]).success);
  assert(!maskIgnoreOption.safeParse([1.5]).success);
});

Deno.test("a VOC palette mask is read by its indices: refused under auto, numbers apply to indices", async () => {
  const decoded = await decodeImageWithAlpha(palette8(VOC), "voc.png");
  // By colour (dark red 128, light grey 224) auto would keep both without a word.
  const error = assertThrows(() => binaryMask(decoded, "auto", "voc.png"), DataError);
  assert(error.message.includes("its values are 0, 1, 255"), error.message);
  // maskForeground 1 keeps the object and its void border, as "nonzero" does.
  const one = binaryMask(decoded, 1, "voc.png");
  assertEquals(Array.from(one.mask.data), flat.map((v) => (v > 0 ? 1 : 0)));
  assert(one.rule.includes("its palette index is 1 or more (of 255)"), one.rule);
  assertEquals(
    Array.from(binaryMask(decoded, "nonzero", "voc.png").mask.data),
    flat.map((v) => (v > 0 ? 1 : 0)),
  );
  // 255 is the void's index (its colour's brightest channel is only 224).
  assertEquals(
    Array.from(binaryMask(decoded, 255, "voc.png").mask.data),
    flat.map((v) => (v === 255 ? 1 : 0)),
  );
});

Deno.test("maskIgnore [255]: a VOC palette mask reads as 0/1, its void band out of the roi", async () => {
  await withFiles({
    "a.png": IMAGE,
    "voc.png": palette8(VOC),
    "fov.png": grey8(VOC.map((r) => r.map((_, x) => (x === 0 ? 0 : 255)))),
  }, async (dir) => {
    const files = (masks: Record<string, string>): SampleFiles => ({
      id: "a",
      image: join(dir, "a.png"),
      masks: Object.fromEntries(Object.entries(masks).map(([k, v]) => [k, join(dir, v)])),
    });
    await assertRejects(
      () => readPairedSample(files({ mask: "voc.png" })),
      DataError,
      "it looks like a label map",
    );
    const sample = await readPairedSample(files({ mask: "voc.png" }), { maskIgnore: [255] });
    assertEquals(Array.from(sample.mask.data), flat.map((v) => (v === 1 ? 1 : 0)));
    assertEquals(Array.from(sample.roi.data), flat.map((v) => (v === 255 ? 0 : 1)));
    // With a FOV mask the roi is the field of view less the ignored pixels.
    const withFov = await readPairedSample(files({ mask: "voc.png", roi: "fov.png" }), {
      maskIgnore: [255],
    });
    assertEquals(
      Array.from(withFov.roi.data),
      flat.map((v, i) => (v === 255 || i % 8 === 0 ? 0 : 1)),
    );
    // maskForeground 1 without maskIgnore: the void band is object too, and in the roi.
    const one = await readPairedSample(files({ mask: "voc.png" }), { maskForeground: 1 });
    assertEquals(Array.from(one.mask.data), flat.map((v) => (v > 0 ? 1 : 0)));
    assertEquals(Array.from(one.roi.data), flat.map(() => 1));
    // maskIgnore applies to the truth only: an extra mask of the same file keeps its 255s.
    const extra = await readPairedSample(files({ mask: "voc.png", void: "voc.png" }), {
      maskIgnore: [1],
      maskForeground: "nonzero",
    });
    assertEquals(Array.from(extra.mask.data), flat.map((v) => (v === 255 ? 1 : 0)));
    assertEquals(Array.from(extra.extra!.void.data), flat.map((v) => (v > 0 ? 1 : 0)));
    assertEquals(Array.from(extra.roi.data), flat.map((v) => (v === 1 ? 0 : 1)));
  });
});

Deno.test("a grey VOC mask: no indices, refused under auto as before, read as 0/1 with maskIgnore [255]", async () => {
  await withFiles({ "a.png": IMAGE, "voc.png": grey8(VOC) }, async (dir) => {
    const path = join(dir, "voc.png");
    const decoded = await decodeImageWithAlpha(await Deno.readFile(path), path);
    assertEquals(decoded.indices, undefined);
    assertThrows(() => binaryMask(decoded, "auto", path), DataError, "values are 0, 1, 255");
    const read = binaryMask(decoded, "auto", path, { ignore: [255] });
    assertEquals(Array.from(read.mask.data), flat.map((v) => (v === 1 ? 1 : 0)));
    assertEquals(Array.from(read.ignored!.data), flat.map((v) => (v === 255 ? 1 : 0)));
    assert(read.rule.includes("1 (a 0/1 mask); values 255 are ignored"), read.rule);
    const sample = await readPairedSample(
      { id: "a", image: join(dir, "a.png"), masks: { mask: path } },
      { maskIgnore: [255] },
    );
    assertEquals(Array.from(sample.roi.data), flat.map((v) => (v === 255 ? 0 : 1)));
  });
});

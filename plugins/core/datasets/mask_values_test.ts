import { autoFloor, autoThreshold, binaryMask } from "./mask_values.ts";
import { readBinaryMask } from "./paired_sample.ts";
import { pngFile } from "../image/png_fixture.ts";
import { decodeImageWithAlpha } from "../image/read_image.ts";
import { DataError, type Raster } from "../../../mod.ts";
import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { Image } from "imagescript";
import { join } from "node:path";

/** A grey raster of `rows` on the 0..255 scale, as a decoder gives for a file of `maxValue`. */
const raster = (rows: number[][], maxValue = 255): Raster => ({
  width: rows[0].length,
  height: rows.length,
  channels: 1,
  data: Float32Array.from(rows.flat(), (v) => (v * 255) / maxValue),
  maxValue,
});

/** Big-endian bytes of 16-bit samples. */
const be = (values: number[]) => values.flatMap((v) => [v >> 8, v & 0xff]);

/** A grey PNG of `rows`, 8 or 16 bits. */
const greyPng = (rows: number[][], bits: 8 | 16) =>
  pngFile({
    width: rows[0].length,
    height: rows.length,
    bitDepth: bits,
    colourType: 0,
    scanlines: rows.flatMap((r) => [0, ...(bits === 16 ? be(r) : r)]),
  });

/**
 * An uncompressed little-endian 8-bit grey+alpha TIFF (unassociated alpha),
 * built byte by byte: header, one directory, the pixels.
 */
function greyAlphaTiff(width: number, height: number, samples: number[]): Uint8Array {
  const entries = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 8 | (8 << 16)], // BitsPerSample 8, 8, inline
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0], // patched below
    [277, 3, 2],
    [278, 4, height],
    [279, 4, samples.length],
    [338, 3, 2],
  ];
  const pixelsAt = 8 + 2 + 12 * entries.length + 4;
  entries[5][2] = pixelsAt;
  const out = new Uint8Array(pixelsAt + samples.length);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, 8, true);
  view.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, value], k) => {
    const at = 10 + 12 * k;
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, tag === 258 ? 2 : 1, true);
    view.setUint32(at + 8, value, true);
  });
  out.set(samples, pixelsAt);
  return out;
}

/** 48×48: two diagonal bands and a 10×10 square, 1 inside. */
const SHAPE = Array.from(
  { length: 48 },
  (_, y) =>
    Array.from(
      { length: 48 },
      (_, x) =>
        Math.abs(x - y) < 4 || Math.abs(x + y - 47) < 3 || (x >= 30 && x < 40 && y >= 5 && y < 15)
          ? 1
          : 0,
    ),
);

/** 8×8: a 4×4 square of 1 in the middle. */
const SQUARE = Array.from(
  { length: 8 },
  (_, y) => Array.from({ length: 8 }, (_, x) => (x >= 2 && x < 6 && y >= 2 && y < 6 ? 1 : 0)),
);

const scaled = (rows: number[][], v: number) => rows.map((r) => r.map((m) => m * v));

const read = (rows: number[][], maxValue = 255) =>
  Array.from(binaryMask({ raster: raster(rows, maxValue) }, "auto", "m.png").mask.data);

Deno.test("autoThreshold(): half the largest value, never below 32 (1/8 of 255), 1 for a 0/1 mask", () => {
  assertEquals([autoFloor(255), autoFloor(65535), autoFloor(15), autoFloor(1)], [32, 32, 2, 0]);
  assertEquals(autoThreshold(255, 255), 127.5); // 128 and up, as "auto" always read 0/255 masks
  assertEquals(autoThreshold(254, 255), 127); // DRIVE's 2nd_manual GIFs: 128 and up too
  assertEquals(autoThreshold(128, 255), 64);
  assertEquals(autoThreshold(127, 255), 63.5);
  assertEquals(autoThreshold(255, 65535), 127.5);
  assertEquals(autoThreshold(65535, 65535), 32767.5);
  assertEquals(autoThreshold(40, 255), 32);
  assertEquals(autoThreshold(6, 65535), 32);
  assertEquals(autoThreshold(1, 255), 0.5);
});

Deno.test('a grey {0,128} and a dark red (128,0,0) mask read whole under "auto", as PNG and as JPEG', async () => {
  // JPEG (quality 90) puts about half of a 128 plateau at 120–127: 234 and 330 of the 605
  // object pixels here, all lost by a threshold at 127 of 255.
  const truth = SHAPE.flat();
  for (const [r, g, b] of [[128, 128, 128], [128, 0, 0]]) {
    const image = new Image(48, 48);
    SHAPE.forEach((row, y) =>
      row.forEach((m, x) =>
        image.setPixelAt(x + 1, y + 1, Image.rgbaToColor(r * m, g * m, b * m, 255))
      )
    );
    for (
      const [name, bytes] of [["m.png", await image.encode()], [
        "m.jpg",
        await image.encodeJPEG(90),
      ]]
    ) {
      const decoded = await decodeImageWithAlpha(bytes as Uint8Array, name as string);
      const { mask, rule, warning } = binaryMask(decoded, "auto", name as string);
      assertEquals(Array.from(mask.data), truth, `${r},${g},${b} ${name}`);
      assert(/above \d+(\.5)? \(of 255; half its largest value, \d+\)/.test(rule), rule);
      // Any warning says what "auto" did, and never that a lossy reading is right.
      if (warning) {
        assert(!warning.includes("That is right"), warning);
        assert(warning.includes("if these pixels are part of the object"), warning);
      }
    }
  }
});

Deno.test('{0,255} in a 16-bit PNG and an 8-bit {0,127} read as binary masks under "auto"', async () => {
  const dir = await Deno.makeTempDir({ prefix: "capillary_mask_values_" });
  try {
    const cases: [string, Uint8Array][] = [
      ["m16_255.png", greyPng(scaled(SQUARE, 255), 16)],
      ["m16_1000.png", greyPng(scaled(SQUARE, 1000), 16)],
      ["m_0_127.png", greyPng(scaled(SQUARE, 127), 8)],
      ["m_0_128.png", greyPng(scaled(SQUARE, 128), 8)],
    ];
    for (const [name, bytes] of cases) {
      await Deno.writeFile(join(dir, name), bytes);
      const lines: string[] = [];
      const mask = await readBinaryMask(join(dir, name), { onWarning: (l) => lines.push(l) });
      assertEquals(Array.from(mask.data), SQUARE.flat(), name);
      assertEquals(lines, [], name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('"auto" never reads values of 32 or less as foreground: faint noise stays background', () => {
  // {0,40}: half of 40 is below the floor, 32; 40 is above it.
  assertEquals(read(scaled(SQUARE, 40)), SQUARE.flat());
  // The same in 16 bits: the floor is 32 there too, not 1/8 of 65535.
  assertEquals(read(scaled(SQUARE, 40), 65535), SQUARE.flat());
  // A nearly empty mask of faint noise (1..6 on isolated pixels) has no foreground, with a warning.
  const noise = SQUARE.map((row, y) =>
    row.map((_, x) => ((x + 2 * y) % 5 === 0 ? 1 + (x % 6) : 0))
  );
  const { mask, rule, warning } = binaryMask({ raster: raster(noise) }, "auto", "noise.jpg");
  assertEquals(mask.data.every((v) => v === 0), true);
  assertEquals(
    rule,
    "a pixel is foreground where its brightest channel is above 32 (of 255; its largest value, " +
      '6, is so low that "auto" uses its floor, 1/8 of 255, so that faint noise stays background)',
  );
  assert(
    warning?.startsWith('mask "noise.jpg": 100 % of its nonzero pixels have values from 1 to 32'),
    warning,
  );
  // A mask whose only value is at or below the floor ({0,2}: a class id?) is refused, whatever
  // its layout, in 8 bits or 16, naming its values and the remedy.
  for (const maxValue of [255, 65535]) {
    const error = assertThrows(
      () => binaryMask({ raster: raster(scaled(SQUARE, 2), maxValue) }, "auto", "c.png"),
      DataError,
    );
    assertEquals(
      error.message,
      `Cannot use mask "c.png": its only values are 0 and 2 (of ${maxValue}), and maskForeground ` +
        '"auto" would read every pixel as background: it keeps values above 32 (its largest ' +
        'value, 2, is so low that "auto" uses its floor, 1/8 of 255, so that faint noise stays ' +
        "background). If 2 marks the object (a class or instance id, say), set maskForeground " +
        'to the lowest value that is foreground in your masks (2 here; 1, or "nonzero", for ' +
        "instance ids 1..N)",
    );
  }
  assertEquals(
    Array.from(binaryMask({ raster: raster(scaled(SQUARE, 2)) }, 2, "c.png").mask.data),
    SQUARE.flat(),
  );
});

Deno.test('label maps are still refused under "auto": "low" is at or below its new threshold', () => {
  // 200 instances, ids 1..200, in 3×3 blocks on a 4-px grid (80×40).
  const ids = Array.from(
    { length: 40 },
    (_, y) =>
      Array.from(
        { length: 80 },
        (_, x) => x % 4 < 3 && y % 4 < 3 ? 1 + Math.floor(x / 4) + 20 * Math.floor(y / 4) : 0,
      ),
  );
  const instances = assertThrows(
    () => binaryMask({ raster: raster(ids) }, "auto", "ids.png"),
    DataError,
  );
  for (
    const part of [
      'Cannot use mask "ids.png": it looks like a label map, not a binary mask',
      // Ids 1..100 are at or below half of 200.
      "and 50 % of its nonzero pixels have values from 1 to 100 (of 255), in flat regions",
      "it keeps values above 100: half its largest value, 200",
      "(e.g. 1, or 101 to read it as",
    ]
  ) assert(instances.message.includes(part), `${part}\nnot in: ${instances.message}`);
  // The same ids in 16 bits.
  assertThrows(
    () => binaryMask({ raster: raster(ids, 65535) }, "auto", "ids16.png"),
    DataError,
    "from 1 to 100 (of 65535)",
  );
  // VOC grey: 1 inside a 255 void ring; and {0,1,2}, whose floor keeps 1 and 2 low.
  const voc = SQUARE.map((row, y) =>
    row.map((m, x) => (m ? 1 : x >= 1 && x < 7 && y >= 1 && y < 7 ? 255 : 0))
  );
  for (
    const [rows, part] of [
      [
        voc,
        "values are 0, 1, 255, and 44 % of its nonzero pixels have values from 1 to 127 (of 255)",
      ],
      [
        SQUARE.map((row, y) => row.map((m) => m * (y < 4 ? 1 : 2))),
        "values are 0, 1, 2, and 100 % of its nonzero pixels have values from 1 to 32 (of 255)",
      ],
    ] as const
  ) {
    assertThrows(
      () => binaryMask({ raster: raster(rows as number[][]) }, "auto", "l.png"),
      DataError,
      part,
    );
  }
});

Deno.test("a white-on-transparent and an alpha-only 8-bit grey+alpha TIFF mask read by their alpha", async () => {
  // UTIF's toRGBA8 drops a grey image's alpha: these read 100 % and 0 % foreground without it.
  const alpha = [0, 0, 255, 255, 0, 255, 255, 0];
  const dir = await Deno.makeTempDir({ prefix: "capillary_mask_values_" });
  try {
    for (const grey of [255, 0]) {
      const path = join(dir, `ga8_${grey}.tif`);
      await Deno.writeFile(path, greyAlphaTiff(4, 2, alpha.flatMap((a) => [grey, a])));
      const mask = await readBinaryMask(path);
      assertEquals(Array.from(mask.data), alpha.map((a) => (a ? 1 : 0)), `grey ${grey}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

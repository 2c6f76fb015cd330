import { binaryMask, maskForegroundOption } from "./mask_values.ts";
import {
  readBinaryMask,
  readPairedSample,
  readPairedSamples,
  type SampleFiles,
} from "./paired_sample.ts";
import { pngFile, rowsPng8 } from "../image/png_fixture.ts";
import { readImage, readImageWithAlpha } from "../image/read_image.ts";
import { DataError, encodeGrayPng, type Raster } from "../../../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../../../tests/assert.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";
import { join } from "node:path";
import { withFiles } from "../../../tests/with_files.ts";

/** Big-endian bytes of 16-bit samples. */
const be = (values: number[]) => values.flatMap((v) => [v >> 8, v & 0xff]);

/** An 8-bit grey PNG of `rows` (filter 0 on every row). */
const grey8 = (rows: number[][]) => rowsPng8(rows);

/** A 16-bit grey PNG of `rows`. */
const grey16 = (rows: number[][]) =>
  pngFile({
    width: rows[0].length,
    height: rows.length,
    bitDepth: 16,
    colourType: 0,
    scanlines: rows.flatMap((r) => [0, ...be(r)]),
  });

/** An 8-bit RGBA PNG of one row of `[r, g, b, a]` pixels. */
const rgba8 = (pixels: number[][]) =>
  pngFile({
    width: pixels.length,
    height: 1,
    bitDepth: 8,
    colourType: 6,
    scanlines: [0, ...pixels.flat()],
  });

/** A grey raster of `rows` on the 0..255 scale, as a decoder would give for an 8-bit file. */
const raster8 = (rows: number[][]): Raster => ({
  width: rows[0].length,
  height: rows.length,
  channels: 1,
  data: Float32Array.from(rows.flat()),
  maxValue: 255,
});

/** An 8×8 instance map: ids 1, 2, 3 and 200 in 3×3 blocks on 0. */
const INSTANCES = Array.from({ length: 8 }, (_, y) =>
  Array.from({ length: 8 }, (_, x) => {
    const block = (y < 3 ? 0 : y >= 4 && y < 7 ? 2 : -9) + (x < 3 ? 0 : x >= 4 && x < 7 ? 1 : -9);
    return [1, 2, 3, 200][block] ?? 0;
  }));

/** PASCAL VOC style, 8×8: a 4×4 object of 1 inside a ring of 255 (void) on 0. */
const VOC = Array.from({ length: 8 }, (_, y) =>
  Array.from({ length: 8 }, (_, x) => {
    const ring = Math.max(Math.abs(2 * x - 7), Math.abs(2 * y - 7)); // 1, 3, 5, 7 from the centre
    return ring <= 3 ? 1 : ring === 5 ? 255 : 0;
  }));

/** An antialiased 1-px vertical line at x = 3.25: column 3 is 191, column 4 is 64. */
const AA_LINE = Array.from({ length: 8 }, () => [0, 0, 0, 191, 64, 0, 0, 0]);

Deno.test("maskForegroundOption: auto by default, nonzero or a positive number", () => {
  assertEquals(maskForegroundOption.parse(undefined), "auto");
  assertEquals(maskForegroundOption.parse("nonzero"), "nonzero");
  assertEquals(maskForegroundOption.parse(1), 1);
  assertEquals(maskForegroundOption.parse(32768), 32768);
  for (const bad of [0, -1, "all", null]) {
    assertEquals(maskForegroundOption.safeParse(bad).success, false);
  }
  assert((maskForegroundOption.description ?? "").includes("file's own scale"));
});

Deno.test("binaryMask(): auto on a 0..255 mask is above 127, or 1 when the largest value is 1", () => {
  assertEquals(
    Array.from(binaryMask({ raster: raster8([[0, 127, 128, 255]]) }, "auto", "m").mask.data),
    [0, 0, 1, 1],
  );
  assertEquals(Array.from(binaryMask({ raster: raster8([[0, 1, 0, 1]]) }, "auto", "m").mask.data), [
    0,
    1,
    0,
    1,
  ]);
  // A colour mask: the brightest channel decides (pure red is foreground).
  const red = { width: 2, height: 1, channels: 3, data: Float32Array.from([255, 0, 0, 0, 0, 100]) };
  assertEquals(Array.from(binaryMask({ raster: red }, "auto", "m").mask.data), [1, 0]);
  const { mask, rule, warning } = binaryMask({ raster: raster8([[0, 255]]) }, "auto", "m");
  assertEquals([mask.channels, mask.maxValue, warning], [1, undefined, undefined]);
  assertEquals(
    rule,
    "a pixel is foreground where its brightest channel is above 127.5 (of 255; half its largest value, 255)",
  );
});

Deno.test("binaryMask(): nonzero and a number decide on the file's own integers", () => {
  const labels = raster8([[0, 1, 2, 127, 128, 255]]);
  assertEquals(Array.from(binaryMask({ raster: labels }, "nonzero", "m").mask.data), [
    0,
    1,
    1,
    1,
    1,
    1,
  ]);
  assertEquals(Array.from(binaryMask({ raster: labels }, 2, "m").mask.data), [0, 0, 1, 1, 1, 1]);
  assertEquals(Array.from(binaryMask({ raster: labels }, 128, "m").mask.data), [0, 0, 0, 0, 1, 1]);
  // 16 bits: 1 and 2 of 65535 are 255/65535 and 510/65535 on the raster's scale.
  const wide = {
    ...raster8([[0]]),
    width: 3,
    data: Float32Array.from([0, 1, 2].map((v) => (v * 255) / 65535)),
    maxValue: 65535,
  };
  assertEquals(Array.from(binaryMask({ raster: wide }, 2, "m").mask.data), [0, 0, 1]);
  assertEquals(Array.from(binaryMask({ raster: wide }, "nonzero", "m").mask.data), [0, 1, 1]);
});

Deno.test("a 0/1 label map saved as a 16-bit PNG reads as 0/1, and 0/65535 as a binary mask", async () => {
  await withFiles({
    "m01.png": grey16([[0, 1, 1, 0], [1, 0, 0, 0]]),
    "mfull.png": grey16([[0, 65535, 65535, 0], [65535, 0, 0, 0]]),
    "mhalf.png": grey16([[32767, 32768, 65535, 0]]),
  }, async (dir) => {
    const raw = await readImage(join(dir, "m01.png"));
    assertEquals([raw.maxValue, raw.data[1]], [65535, Math.fround(255 / 65535)]);
    assertEquals(Array.from((await readBinaryMask(join(dir, "m01.png"))).data), [
      0,
      1,
      1,
      0,
      1,
      0,
      0,
      0,
    ]);
    assertEquals(Array.from((await readBinaryMask(join(dir, "mfull.png"))).data), [
      0,
      1,
      1,
      0,
      1,
      0,
      0,
      0,
    ]);
    // Half the largest value, 65535, is the threshold, as 127.5 is for 255: 32767 is below it.
    const lines: string[] = [];
    const half = await readBinaryMask(join(dir, "mhalf.png"), { onWarning: (l) => lines.push(l) });
    assertEquals(Array.from(half.data), [0, 1, 1, 0]);
    assert(lines[0].includes("from 1 to 32767 (of 65535)"), lines[0]);
    assert(lines[0].endsWith("set maskForeground: 32768"), lines[0]);
  });
});

Deno.test("an instance label map (ids 1..N) is refused under auto, naming the file and its values", async () => {
  await withFiles({ "cells.png": grey8(INSTANCES) }, async (dir) => {
    const path = join(dir, "cells.png");
    const error = await assertRejects(() => readBinaryMask(path), DataError);
    for (
      const part of [
        `Cannot use mask "${path}": it looks like a label map, not a binary mask`,
        "its values are 0, 1, 2, 3, 200",
        // 27 of the 36 labelled pixels are ids 1..3.
        // "auto" keeps values above half the largest, 200.
        "75 % of its nonzero pixels have values from 1 to 100 (of 255)",
        "it keeps values above 100: half its largest value, 200",
        'Set maskForeground: "nonzero"',
        "or to the lowest value that is foreground (e.g. 1, or 101",
      ]
    ) assert(error.message.includes(part), `${part}\nnot in: ${error.message}`);
    const all = Array.from((await readBinaryMask(path, { maskForeground: "nonzero" })).data);
    assertEquals(all, INSTANCES.flat().map((v) => (v > 0 ? 1 : 0)));
    assertEquals(Array.from((await readBinaryMask(path, { maskForeground: 1 })).data), all);
    const high = Array.from((await readBinaryMask(path, { maskForeground: 128 })).data);
    assertEquals(high, INSTANCES.flat().map((v) => (v === 200 ? 1 : 0)));
  });
});

Deno.test("a VOC-style mask (1 object, 255 void border) is refused under auto; nonzero keeps both", () => {
  const error = assertThrows(
    () => binaryMask({ raster: raster8(VOC) }, "auto", "voc.png"),
    DataError,
  );
  assert(
    error.message.includes("its values are 0, 1, 255, and 44 % of its nonzero pixels"),
    error.message,
  );
  assert(error.message.includes("PASCAL VOC 255 void border then counts too"), error.message);
  const mask = binaryMask({ raster: raster8(VOC) }, "nonzero", "voc.png").mask;
  assertEquals(Array.from(mask.data), VOC.flat().map((v) => (v > 0 ? 1 : 0)));
  // The same map in 16 bits is refused as well: 1 and 255 are both below 32640.
  const wide = {
    ...raster8(VOC),
    data: Float32Array.from(VOC.flat(), (v) => (v * 255) / 65535),
    maxValue: 65535,
  };
  assertThrows(
    () => binaryMask({ raster: wide }, "auto", "voc16.png"),
    DataError,
    "values are 0, 1, 255",
  );
});

Deno.test("an antialiased line is read by the rule with a warning, not refused; a number silences it", () => {
  const { mask, warning } = binaryMask({ raster: raster8(AA_LINE) }, "auto", "aa.png");
  assertEquals(Array.from(mask.data), AA_LINE.flat().map((v) => (v === 191 ? 1 : 0)));
  assertEquals(
    warning,
    'mask "aa.png": 50 % of its nonzero pixels have values from 1 to 95 (of 255) and count as ' +
      'background under maskForeground "auto", which keeps values above 95.5 (half its largest ' +
      "value, 191; its values: 0, 64, 191). Antialiasing, blurring, resizing and JPEG put such " +
      "values along a binary mask's edges, and this reading splits those edges; but if these " +
      "pixels are part of the object (its value varying, as in a grey mask saved as JPEG) or a " +
      "label map's ids or classes, set maskForeground to the lowest value that is foreground, or " +
      '"nonzero". To keep this reading and silence this warning, set maskForeground: 96',
  );
  assertEquals(binaryMask({ raster: raster8(AA_LINE) }, 96, "aa.png").warning, undefined);
  // A few edge values (under 25 % of the nonzero pixels) are not worth a warning.
  const thick = AA_LINE.map(() => [0, 255, 255, 255, 255, 64, 0, 0]);
  assertEquals(binaryMask({ raster: raster8(thick) }, "auto", "t.png").warning, undefined);
  // Interpolated (fractional) values are never a label map.
  const soft = {
    ...raster8(INSTANCES),
    data: Float32Array.from(INSTANCES.flat(), (v) => v + 0.25),
  };
  assertEquals(binaryMask({ raster: soft }, "auto", "s.png").warning, undefined);
});

Deno.test("a transparent-white mask with opaque red objects: only the opaque red is foreground", async () => {
  const pixels = [
    [255, 255, 255, 0], // transparent white: background
    [255, 0, 0, 255], // opaque red: foreground
    [255, 255, 255, 127], // less than half opaque: background
    [255, 255, 255, 128], // half opaque white: foreground
    [0, 0, 0, 255], // opaque black: background
  ];
  await withFiles({ "rgba.png": rgba8(pixels) }, async (dir) => {
    const path = join(dir, "rgba.png");
    const decoded = await readImageWithAlpha(path);
    assertEquals([decoded.raster.channels, ...decoded.alpha!], [3, 0, 255, 127, 128, 255]);
    assertEquals(Array.from((await readBinaryMask(path)).data), [0, 1, 0, 1, 0]);
    assertEquals(Array.from((await readBinaryMask(path, { maskForeground: "nonzero" })).data), [
      0,
      1,
      0,
      1,
      0,
    ]);
  });
});

Deno.test("an alpha-only mask (black everywhere, alpha = mask) is read by its alpha", async () => {
  await withFiles({
    "alpha.png": rgba8([[0, 0, 0, 0], [0, 0, 0, 255], [0, 0, 0, 200], [0, 0, 0, 100]]),
  }, async (dir) => {
    const path = join(dir, "alpha.png");
    const lines: string[] = [];
    const mask = await readBinaryMask(path, { onWarning: (line) => lines.push(line) });
    assertEquals(Array.from(mask.data), [0, 1, 1, 0]);
    // Alpha 100 is a third of the pixels above 0 and not in a flat region: a warning, no error.
    assert(lines.length === 1 && lines[0].includes("33 % of its nonzero pixels"), lines.join());
    assertEquals(Array.from((await readBinaryMask(path, { maskForeground: "nonzero" })).data), [
      0,
      1,
      1,
      1,
    ]);
  });
});

Deno.test("readPairedSample() refuses a truth mask that is all foreground in its region, or empty", async () => {
  const image = encodeGrayPng({
    width: 4,
    height: 2,
    channels: 1,
    data: new Float32Array(8).fill(0.5),
  });
  await withFiles({
    "a.png": image,
    "full.png": grey8([[255, 255, 255, 255], [255, 255, 255, 255]]),
    "opaque_rgba.png": pngFile({
      width: 4,
      height: 2,
      bitDepth: 8,
      colourType: 6,
      scanlines: [
        0,
        ...Array(4).fill([255, 255, 255, 255]).flat(),
        0,
        ...Array(4).fill([255, 0, 0, 255]).flat(),
      ],
    }),
    "empty.png": grey8([[0, 0, 0, 0], [0, 0, 0, 0]]),
    "right.png": grey8([[0, 0, 255, 255], [0, 0, 255, 255]]),
    "fov_right.png": grey8([[0, 0, 255, 255], [0, 0, 255, 255]]),
    "fov_all.png": grey8([[255, 255, 255, 255], [255, 255, 255, 255]]),
  }, async (dir) => {
    const files = (mask: string, roi?: string): SampleFiles => ({
      id: "a",
      image: join(dir, "a.png"),
      masks: { mask: join(dir, mask), ...(roi ? { roi: join(dir, roi) } : {}) },
    });
    const full = await assertRejects(() => readPairedSample(files("full.png")), DataError);
    for (
      const part of [
        `Cannot use mask "${
          join(dir, "full.png")
        }": every pixel is foreground (under maskForeground "auto"`,
        "It may be inverted",
        "a transparent or grey one",
      ]
    ) assert(full.message.includes(part), `${part}\nnot in: ${full.message}`);
    await assertRejects(
      () => readPairedSample(files("opaque_rgba.png")),
      DataError,
      "every pixel is foreground",
    );
    // All foreground inside the field of view is as bad; background outside it does not help.
    await assertRejects(
      () => readPairedSample(files("right.png", "fov_right.png")),
      DataError,
      `every pixel is foreground inside its field of view ("${join(dir, "fov_right.png")}")`,
    );
    const ok = await readPairedSample(files("right.png", "fov_all.png"));
    assertEquals(Array.from(ok.mask.data), [0, 0, 1, 1, 0, 0, 1, 1]);
    await assertRejects(
      () => readPairedSample(files("empty.png")),
      DataError,
      `Cannot use mask "${
        join(dir, "empty.png")
      }": it has no foreground pixel (under maskForeground "auto", a pixel is foreground where its brightest channel is above 32 (of 255; every value is 0)); check that it is the right file, or set maskForeground`,
    );
    await assertRejects(
      () => readPairedSample(files("right.png"), { maskForeground: 256 }),
      DataError,
      "(under maskForeground 256, a pixel is foreground where its brightest channel is 256 or more (of 255))",
    );
  });
});

Deno.test("readPairedSamples() passes maskForeground on, and reports 3 mask warnings then a count", async () => {
  const image = encodeGrayPng({
    width: 8,
    height: 8,
    channels: 1,
    data: new Float32Array(64).fill(0.5),
  });
  const names = ["a", "b", "c", "d", "e"];
  const files: Record<string, Uint8Array> = { "cells.png": grey8(INSTANCES) };
  for (const n of names) {
    files[`${n}.png`] = image;
    files[`${n}_mask.png`] = grey8(AA_LINE);
  }
  await withFiles(files, async (dir) => {
    const samples = names.map((id) => ({
      id,
      image: join(dir, `${id}.png`),
      masks: { mask: join(dir, `${id}_mask.png`) },
    }));
    const lines: string[] = [];
    const read = await readPairedSamples(samples, { onWarning: (line) => lines.push(line) });
    assertEquals(read.length, 5);
    assertEquals(lines.length, 4);
    assert(
      lines[0].startsWith(`mask "${join(dir, "a_mask.png")}": 50 % of its nonzero pixels`),
      lines[0],
    );
    assertEquals(lines[3], "… and 2 more masks like these");
    lines.length = 0;
    await readPairedSamples(samples, {
      maskForeground: 128,
      onWarning: (line) => lines.push(line),
    });
    assertEquals(lines, []);
    const cells = [{ id: "a", image: join(dir, "a.png"), masks: { mask: join(dir, "cells.png") } }];
    await assertRejects(() => readPairedSamples(cells), DataError, "looks like a label map");
    const [sample] = await readPairedSamples(cells, { maskForeground: "nonzero" });
    assertEquals(sample.mask.data.reduce((a, b) => a + b, 0), 36);
  });
});

Deno.test("DRIVE's 100 mask GIFs read under auto as brightest channel > 127, with no warning", async () => {
  let files = 0;
  for (const split of ["training", "test"]) {
    for (const folder of ["1st_manual", "2nd_manual", "mask"]) {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(`${DRIVE_ROOT}/${split}/${folder}`)];
      } catch {
        continue; // training has no 2nd_manual
      }
      for (const entry of entries) {
        const decoded = await readImageWithAlpha(`${DRIVE_ROOT}/${split}/${folder}/${entry.name}`);
        const { raster } = decoded;
        const { mask, warning } = binaryMask(decoded, "auto", entry.name);
        assertEquals([decoded.alpha, warning], [undefined, undefined], entry.name);
        for (let i = 0; i < mask.data.length; i++) {
          let m = 0;
          for (let c = 0; c < raster.channels; c++) {
            m = Math.max(m, raster.data[i * raster.channels + c]);
          }
          if (mask.data[i] !== (m > 127 ? 1 : 0)) {
            throw new Error(`${entry.name}: pixel ${i} differs`);
          }
        }
        files++;
      }
    }
  }
  assertEquals(files, 100);
});

Deno.test('readPairedSample() reads FOV masks with "auto" whatever maskForeground is, truth and extra masks with it', async () => {
  // 16-bit truth and extra masks {0,1000} with maskForeground: 500; an 8-bit 0/255 FOV mask.
  const image = encodeGrayPng({
    width: 4,
    height: 2,
    channels: 1,
    data: new Float32Array(8).fill(0.5),
  });
  await withFiles({
    "a.png": image,
    "truth16.png": grey16([[0, 1000, 0, 0], [0, 1000, 1000, 0]]),
    "extra16.png": grey16([[1000, 0, 0, 0], [0, 0, 0, 1000]]),
    "fov8.png": grey8([[0, 255, 255, 255], [0, 255, 255, 255]]),
    "fov_black.png": grey8([[0, 0, 0, 0], [0, 0, 0, 0]]),
    "fov_2.png": grey8([[0, 2, 2, 2], [0, 2, 2, 2]]),
  }, async (dir) => {
    const files = (roi: string): SampleFiles => ({
      id: "a",
      image: join(dir, "a.png"),
      masks: {
        mask: join(dir, "truth16.png"),
        roi: join(dir, roi),
        vessels: join(dir, "extra16.png"),
      },
    });
    const sample = await readPairedSample(files("fov8.png"), { maskForeground: 500 });
    assertEquals(Array.from(sample.mask.data), [0, 1, 0, 0, 0, 1, 1, 0]);
    assertEquals(Array.from(sample.roi.data), [0, 1, 1, 1, 0, 1, 1, 1]);
    assertEquals(Array.from(sample.extra!.vessels.data), [1, 0, 0, 0, 0, 0, 0, 1]);
    // A number above the truth's values applies to the truth (and fails there), not the FOV.
    await assertRejects(
      () => readPairedSample(files("fov8.png"), { maskForeground: 2000 }),
      DataError,
      `Cannot use mask "${join(dir, "truth16.png")}": it has no foreground pixel`,
    );
    // An empty FOV mask is refused, naming the file and the rule it was read by.
    await assertRejects(
      () => readPairedSample(files("fov_black.png"), { maskForeground: 500 }),
      DataError,
      `Cannot use FOV mask "${
        join(dir, "fov_black.png")
      }": no pixel is inside its field of view (FOV masks are read with maskForeground "auto" ` +
        "whatever it is set to: a pixel is foreground where its brightest channel is above 32 " +
        "(of 255; every value is 0)); it must be white",
    );
    // A FOV mask "auto" cannot read is refused as a FOV mask: maskForeground cannot help it.
    const error = await assertRejects(
      () => readPairedSample(files("fov_2.png"), { maskForeground: 2 }),
      DataError,
    );
    assert(
      error.message.startsWith(
        `Cannot use FOV mask "${join(dir, "fov_2.png")}": its only values are 0 and 2 (of 255)`,
      ),
      error.message,
    );
    assert(
      error.message.endsWith(
        'FOV masks are always read with maskForeground "auto" (the option applies to truth and ' +
          "extra masks only): save it with the field of view white (or 1) on black",
      ),
      error.message,
    );
  });
});

Deno.test("readPairedSamples() reads every sample and names all the faulty ones in one error", async () => {
  const image = grey8([[10, 20, 30, 40], [50, 60, 70, 80]]);
  const good = grey8([[0, 255, 0, 0], [0, 255, 255, 0]]);
  await withFiles(
    {
      "a.png": image,
      "a_mask.png": good,
      "b.png": image,
      "b_mask.png": grey8([[0, 255, 0], [0, 255, 255]]), // another size
      "c.png": image,
      "c_mask.png": new Uint8Array([1, 2, 3]), // not an image
    },
    async (dir) => {
      const sample = (id: string) => ({
        id,
        image: join(dir, `${id}.png`),
        masks: { mask: join(dir, `${id}_mask.png`) },
      });
      const error = await assertRejects(
        () => readPairedSamples(["a", "b", "c"].map(sample)),
        DataError,
        "Cannot use 2 of 3 samples:\n- Cannot pair",
      );
      assert(error.message.includes(`\n- Cannot pair "${join(dir, "b_mask.png")}" (3×2)`));
      assert(error.message.includes(`\n- Cannot read image "${join(dir, "c_mask.png")}"`));
      // One faulty sample: its own error, as before.
      await assertRejects(
        () => readPairedSamples(["a", "b"].map(sample)),
        DataError,
        `Cannot pair "${join(dir, "b_mask.png")}" (3×2) with "${join(dir, "b.png")}" (4×2)`,
      );
    },
  );
});

Deno.test("readPairedSamples() keeps negative cases with a warning, and refuses negatives only", async () => {
  const image = grey8([[10, 20, 30, 40], [50, 60, 70, 80]]);
  const empty = grey8([[0, 0, 0, 0], [0, 0, 0, 0]]);
  await withFiles(
    {
      "a.png": image,
      "a_mask.png": grey8([[0, 255, 0, 0], [0, 255, 255, 0]]),
      "b.png": image,
      "b_mask.png": empty,
      "c.png": image,
      "c_mask.png": empty,
    },
    async (dir) => {
      const sample = (id: string) => ({
        id,
        image: join(dir, `${id}.png`),
        masks: { mask: join(dir, `${id}_mask.png`) },
      });
      const warnings: string[] = [];
      const read = await readPairedSamples(["a", "b", "c"].map(sample), {
        onWarning: (line) => warnings.push(line),
      });
      assertEquals(read.map((s) => s.id), ["a", "b", "c"]);
      assertEquals(Array.from(read[1].mask.data), new Array(8).fill(0));
      assertEquals(warnings.length, 1);
      assert(
        warnings[0].startsWith(
          `2 of 3 truth masks have no foreground pixel ("${join(dir, "b_mask.png")}", "${
            join(dir, "c_mask.png")
          }"): they are kept as negative cases`,
        ),
        warnings[0],
      );
      assert(warnings[0].endsWith('check them and maskForeground ("auto")'), warnings[0]);
      // Negative cases only: nothing to learn the foreground from.
      await assertRejects(
        () => readPairedSamples(["b", "c"].map(sample)),
        DataError,
        "Cannot use these 2 samples: none of their truth masks has a foreground pixel (under " +
          'maskForeground "auto", a pixel is foreground where its brightest channel is above 32 ' +
          `(of 255; every value is 0): "${join(dir, "b_mask.png")}", "${join(dir, "c_mask.png")}")`,
      );
      // One negative alone: the single mask's own error.
      await assertRejects(
        () => readPairedSamples([sample("b")]),
        DataError,
        `Cannot use mask "${join(dir, "b_mask.png")}": it has no foreground pixel`,
      );
    },
  );
});

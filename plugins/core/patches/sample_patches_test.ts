import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import type { Raster } from "../../../pipeline/data.ts";
import { Random } from "../../../pipeline/random.ts";
import { type PatchSource, samplePatches } from "./sample_patches.ts";

/** A raster whose value at (x, y, c) is `offset + (y * width + x) * 10 + c`: it tells where it came from. */
function coded(width: number, height: number, channels: number, offset = 0): Raster {
  const data = new Float32Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < channels; c++) data[p * channels + c] = offset + p * 10 + c;
  }
  return { width, height, channels, data };
}

function filled(width: number, height: number, value: number): Raster {
  return { width, height, channels: 1, data: new Float32Array(width * height).fill(value) };
}

/** A one-channel raster that is 1 only at the given pixels. */
function dots(width: number, height: number, pixels: [number, number][]): Raster {
  const data = new Float32Array(width * height);
  for (const [x, y] of pixels) data[y * width + x] = 1;
  return { width, height, channels: 1, data };
}

/** The image index and top-left corner of patch `k`, decoded from its first value. */
function cornerOf(
  batch: ReturnType<typeof samplePatches>,
  k: number,
  width: number,
): { image: number; x0: number; y0: number } {
  const first = batch.images[k * batch.size * batch.size * batch.channels];
  const image = Math.floor(first / 10_000);
  const p = (first - image * 10_000) / 10;
  return { image, x0: p % width, y0: Math.floor(p / width) };
}

Deno.test("samplePatches() packs image, mask and ROI patches NHWC from their corners", () => {
  const width = 9, height = 7, channels = 3, size = 4;
  const sources: PatchSource[] = [0, 1].map((s) => ({
    image: coded(width, height, channels, s * 10_000),
    mask: coded(width, height, 1, s * 10_000),
    roi: coded(width, height, 2, s * 10_000 + 5), // two channels: the first counts
  }));
  const batch = samplePatches(sources, { size, count: 11 }, new Random(3));
  assertEquals([batch.size, batch.channels, batch.count], [4, 3, 11]);
  assertEquals(batch.images.length, 11 * 4 * 4 * 3);
  assertEquals(batch.masks.length, 11 * 4 * 4 * 1);
  for (let k = 0; k < batch.count; k++) {
    const { image, x0, y0 } = cornerOf(batch, k, width);
    assertEquals(x0 >= 0 && x0 <= width - size && y0 >= 0 && y0 <= height - size, true);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = (y0 + y) * width + x0 + x;
        const m = (k * size + y) * size + x;
        assertEquals(batch.masks[m], image * 10_000 + p * 10, `mask of patch ${k}`);
        assertEquals(batch.rois![m], image * 10_000 + 5 + p * 10, `ROI of patch ${k}`);
        for (let c = 0; c < channels; c++) {
          assertEquals(batch.images[m * channels + c], image * 10_000 + p * 10 + c);
        }
      }
    }
  }
});

Deno.test("samplePatches() spreads patches evenly, the remainder to the first images", () => {
  const cases = [
    { images: 3, count: 8, per: [3, 3, 2] }, // 8 = 3·2 + 2
    { images: 3, count: 9, per: [3, 3, 3] },
    { images: 4, count: 2, per: [1, 1, 0, 0] },
    { images: 2, count: 0, per: [0, 0] },
  ];
  for (const { images, count, per } of cases) {
    const sources = Array.from({ length: images }, (_, s) => ({
      image: coded(6, 5, 1, s * 10_000),
      mask: filled(6, 5, 0),
      roi: filled(6, 5, 1),
    }));
    const batch = samplePatches(sources, { size: 3, count }, new Random(count));
    const got = new Array(images).fill(0);
    for (let k = 0; k < count; k++) got[cornerOf(batch, k, 6).image]++;
    assertEquals(got, per, `${count} patches from ${images} images`);
    // patches come in image order
    const order = Array.from({ length: count }, (_, k) => cornerOf(batch, k, 6).image);
    assertEquals(order, [...order].sort((a, b) => a - b));
  }
});

Deno.test("samplePatches() draws corners uniformly, including the last ones", () => {
  // 5×4 image, size 3: corners x0 ∈ {0, 1, 2}, y0 ∈ {0, 1}: 6 corners, 1000 expected each
  const source = { image: coded(5, 4, 1), mask: filled(5, 4, 0), roi: filled(5, 4, 1) };
  const batch = samplePatches([source], { size: 3, count: 6000 }, new Random(11));
  const hits = new Array(6).fill(0);
  for (let k = 0; k < batch.count; k++) {
    const { x0, y0 } = cornerOf(batch, k, 5);
    hits[y0 * 3 + x0]++;
  }
  // binomial sd = sqrt(6000 · 1/6 · 5/6) ≈ 29; allow about 5 sd
  for (const h of hits) assertEquals(Math.abs(h - 1000) < 150, true, `corner counts ${hits}`);
});

Deno.test("samplePatches() with insideRoi keeps only patches centred in the ROI", () => {
  // 7×7, size 3 (centre offset 1): corners 0..4, centres 1..5; ROI pixels (2, 3) and (5, 5)
  // → allowed corners (1, 2) and (4, 4) only
  const roi = dots(7, 7, [[2, 3], [5, 5], [0, 0]]); // (0, 0) can never be a centre
  const source = { image: coded(7, 7, 1), mask: filled(7, 7, 0), roi };
  const batch = samplePatches([source], { size: 3, count: 400, insideRoi: true }, new Random(2));
  const seen = new Set<string>();
  for (let k = 0; k < batch.count; k++) {
    const { x0, y0 } = cornerOf(batch, k, 7);
    seen.add(`${x0},${y0}`);
  }
  assertEquals([...seen].sort(), ["1,2", "4,4"]);

  // even size 4: centre offset 2, so ROI pixel (2, 3) allows corner (0, 1) only
  const even = samplePatches(
    [{ image: coded(7, 7, 1), mask: filled(7, 7, 0), roi: dots(7, 7, [[2, 3]]) }],
    { size: 4, count: 20, insideRoi: true },
    new Random(4),
  );
  for (let k = 0; k < even.count; k++) {
    assertEquals(cornerOf(even, k, 7), { image: 0, x0: 0, y0: 1 });
  }
});

Deno.test("samplePatches() with insideRoi fails clearly when the ROI has no usable centre", () => {
  const cases = [
    { roi: filled(6, 6, 0), why: "empty ROI" },
    { roi: dots(6, 6, [[0, 0], [5, 5]]), why: "ROI only where no centre can be" },
  ];
  for (const { roi, why } of cases) {
    const source = { image: coded(6, 6, 1), mask: filled(6, 6, 0), roi };
    assertThrows(
      () => samplePatches([source], { size: 3, count: 1, insideRoi: true }, new Random(1)),
      DataError,
      "no patch centre inside the ROI of image 0",
    );
    // without insideRoi the ROI does not matter
    assertEquals(samplePatches([source], { size: 3, count: 2 }, new Random(1)).count, 2, why);
  }
});

Deno.test("samplePatches() rejects patches larger than an image and inconsistent inputs", () => {
  const good = { image: coded(6, 4, 1), mask: filled(6, 4, 0), roi: filled(6, 4, 1) };
  const rng = new Random(1);
  assertThrows(() => samplePatches([good], { size: 5, count: 1 }, rng), DataError, "size 5");
  assertThrows(() => samplePatches([good], { size: 0, count: 1 }, rng), DataError, "positive");
  assertThrows(() => samplePatches([good], { size: 2, count: 1.5 }, rng), DataError, "count");
  assertThrows(() => samplePatches([], { size: 2, count: 1 }, rng), DataError, "no images");
  assertThrows(
    () => samplePatches([good, { ...good, image: coded(6, 4, 3) }], { size: 2, count: 2 }, rng),
    DataError,
    "channels",
  );
  assertThrows(
    () => samplePatches([{ ...good, roi: filled(4, 6, 1) }], { size: 2, count: 1 }, rng),
    DataError,
    "its roi is 4×6",
  );
  // a patch as large as the image has exactly one corner
  const whole = samplePatches([good], { size: 4, count: 1 }, rng);
  assertEquals(whole.images.length, 16);
  assertEquals(cornerOf(whole, 0, 6).y0, 0);
});

Deno.test("samplePatches() is reproducible from the seed and leaves its inputs alone", () => {
  const source = { image: coded(8, 8, 2), mask: coded(8, 8, 1), roi: filled(8, 8, 1) };
  const before = source.image.data.slice();
  const a = samplePatches([source], { size: 3, count: 10, insideRoi: true }, new Random(5));
  const b = samplePatches([source], { size: 3, count: 10, insideRoi: true }, new Random(5));
  const c = samplePatches([source], { size: 3, count: 10, insideRoi: true }, new Random(6));
  assertEquals(a, b);
  assertEquals(a.images.join() === c.images.join(), false);
  assertEquals(source.image.data, before);
});

Deno.test("samplePatches() takes channel 0 of a multi-channel mask and ROI", () => {
  // mask and ROI with 2 channels: channel 0 holds the code, channel 1 garbage (-1)
  const mask = coded(5, 5, 2);
  mask.data.forEach((_, i) => i % 2 === 1 && (mask.data[i] = -1));
  const roi = { width: 5, height: 5, channels: 2, data: new Float32Array(50).fill(-1) };
  roi.data[(2 * 5 + 2) * 2] = 1; // only centre (2, 2) → corner (1, 1) for size 3
  const batch = samplePatches(
    [{ image: coded(5, 5, 1), mask, roi }],
    { size: 3, count: 2, insideRoi: true },
    new Random(8),
  );
  // patch rows y = 1..3, columns x = 1..3: codes (y · 5 + x) · 10
  const row = (y: number) => [1, 2, 3].map((x) => (y * 5 + x) * 10);
  const patch = [...row(1), ...row(2), ...row(3)];
  assertEquals(batch.masks, new Float32Array([...patch, ...patch]));
});

Deno.test("samplePatches() names images too small for the patch by id and file, and says what to do", () => {
  const source = (id: string, width: number, height: number, file?: string): PatchSource => ({
    image: coded(width, height, 1),
    mask: filled(width, height, 0),
    roi: filled(width, height, 1),
    id,
    ...(file === undefined ? {} : { source: file }),
  });
  const rng = new Random(1);
  assertThrows(
    () =>
      samplePatches(
        [source("c01", 40, 40), source("c03", 24, 30, "data/mixed/c03.png")],
        { size: 32, count: 4 },
        rng,
      ),
    DataError,
    'samplePatches(): patch size 32 does not fit image "c03" (data/mixed/c03.png, 24×30); ' +
      "lower train.patches.size to at most 24, or drop that image or resize it to at least 32×32",
  );
  // Every image too small is counted, the first three named; the bound is the smallest side.
  assertThrows(
    () =>
      samplePatches(
        [
          source("a", 20, 31),
          source("b", 40, 40),
          source("c", 30, 16),
          source("d", 31, 31),
          source("e", 8, 8),
        ],
        { size: 32, count: 5 },
        rng,
      ),
    DataError,
    'samplePatches(): patch size 32 does not fit 4 of 5 images: image "a" (20×31), image "c" ' +
      '(30×16), image "d" (31×31), …; lower train.patches.size to at most 8, or drop those ' +
      "images or resize them to at least 32×32",
  );
  // Without ids, by index, as before.
  const { id: _, ...anonymous } = source("x", 6, 6);
  assertThrows(
    () =>
      samplePatches([anonymous], { size: 3, count: 1, insideRoi: true }, rng) &&
      samplePatches([{ ...anonymous, roi: filled(6, 6, 0) }], {
        size: 3,
        count: 1,
        insideRoi: true,
      }, rng),
    DataError,
    "no patch centre inside the ROI of image 0 after",
  );
  assertThrows(
    () =>
      samplePatches([{ ...source("c07", 6, 6, "t/c07.png"), roi: filled(6, 6, 0) }], {
        size: 3,
        count: 1,
        insideRoi: true,
      }, rng),
    DataError,
    'no patch centre inside the ROI of image "c07" (t/c07.png) after',
  );
});

import {
  preprocessRetina,
  retinaPreprocess,
  type RetinaPreprocessOptions,
  retinaPreprocessOptions,
} from "./retina_preprocess.ts";
import { readImage } from "../image/read_image.ts";
import { toGray } from "../image/to_gray.ts";
import { meanStd, minMaxScale, zScore } from "../image/normalize.ts";
import { clahe } from "../image/clahe.ts";
import { gammaCorrect } from "../image/gamma.ts";
import type { Raster, Sample, SegmentationData } from "../../../mod.ts";
import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";

const DRIVE = `${DRIVE_ROOT}/`;
const W = 565, H = 584;

const blank: Raster = { width: W, height: H, channels: 1, data: new Float32Array(W * H) };

async function sample(path: string, id: string): Promise<Sample> {
  return { id, image: await readImage(DRIVE + path), mask: blank, roi: blank };
}

// Two training images and one test image, read once for every test here.
const data: SegmentationData = {
  name: "DRIVE (3 images)",
  train: [
    await sample("training/images/21_training.tif", "21_training"),
    await sample("training/images/22_training.tif", "22_training"),
  ],
  test: [await sample("test/images/01_test.tif", "01_test")],
};
const rawCopy = data.test[0].image.data.slice();

const defaults: RetinaPreprocessOptions = retinaPreprocessOptions.parse({});
const noClaheNoGamma: RetinaPreprocessOptions = { standardize: true, clahe: null, gamma: null };

/** The pooled float64 mean and population std of the training greys, by hand. */
function trainingStats(): { mean: number; std: number; count: number } {
  const greys = data.train.map((s) => toGray(s.image).data);
  let count = 0, sum = 0;
  for (const g of greys) for (const v of g) (sum += v, count++);
  const mean = sum / count;
  let squares = 0;
  for (const g of greys) for (const v of g) squares += (v - mean) ** 2;
  return { mean, std: Math.sqrt(squares / count), count };
}

Deno.test("retina_preprocess gives one channel in [0, 1] of the original size for every image", () => {
  const out = preprocessRetina(data, defaults);
  assertEquals([out.train.length, out.test.length], [2, 1]);
  for (const s of [...out.train, ...out.test]) {
    assertEquals([s.image.width, s.image.height, s.image.channels], [W, H, 1], s.id);
    assertEquals(s.image.data.length, W * H);
    let lo = Infinity, hi = -Infinity;
    for (const v of s.image.data) (lo = Math.min(lo, v), hi = Math.max(hi, v));
    assertEquals(lo >= 0 && hi <= 1, true, `${s.id}: range [${lo}, ${hi}]`);
    // min-max then CLAHE then gamma keeps a bright maximum; the image is not flat.
    assertEquals(hi - lo > 0.5, true, `${s.id}: range [${lo}, ${hi}]`);
  }
  // Ids, masks and regions pass through; the input data is not modified.
  assertEquals(out.test[0].id, "01_test");
  assertEquals(out.test[0].mask === blank && out.test[0].roi === blank, true);
  assertEquals(data.test[0].image.data, rawCopy);
  assertEquals(data.test[0].image.channels, 3);
});

Deno.test("retina_preprocess normalises a test image with the training images' statistics", () => {
  const { mean, std, count } = trainingStats();
  assertEquals(count, 2 * W * H);
  // The library's pooled statistics agree with the hand-computed ones.
  const library = meanStd(data.train.map((s) => toGray(s.image)));
  assertAlmostEquals(library.mean, mean, 1e-9);
  assertAlmostEquals(library.std, std, 1e-9);

  // One test pixel through the chain by hand, up to the min-max step: grey by the
  // BT.601 weights, z-score with the TRAINING mean and std, then the image's own min-max.
  const rgb = data.test[0].image.data;
  const x = 300, y = 290, at = y * W + x;
  const grey = Math.fround(0.299 * rgb[at * 3] + 0.587 * rgb[at * 3 + 1] + 0.114 * rgb[at * 3 + 2]);
  const z = toGray(data.test[0].image).data.map((g) => (g - mean) / std);
  let zMin = Infinity, zMax = -Infinity;
  for (const v of z) (zMin = Math.min(zMin, v), zMax = Math.max(zMax, v));
  const scaled = Math.fround(((Math.fround((grey - mean) / std) - zMin) * 255) / (zMax - zMin));

  const plain = preprocessRetina(data, noClaheNoGamma).test[0].image.data;
  assertAlmostEquals(plain[at], scaled / 255, 1e-6);

  // The full default chain at that pixel: the same start, then CLAHE and gamma 1.2.
  const standardised = minMaxScale(zScore(toGray(data.test[0].image), mean, std), 0, 255);
  assertAlmostEquals(standardised.data[at], scaled, 1e-4);
  const chained = gammaCorrect(clahe(standardised, { clipLimit: 2, tiles: 8 }), 1.2);
  const full = preprocessRetina(data, defaults).test[0].image.data;
  assertEquals(full[at], Math.fround(chained.data[at] / 255));
  assertEquals(full[at] !== plain[at], true, "CLAHE and gamma changed the pixel");
});

Deno.test("retina_preprocess with clahe and gamma null equals minMax(zScore(grey)) / 255 exactly", () => {
  const stats = meanStd(data.train.map((s) => toGray(s.image)));
  const out = preprocessRetina(data, noClaheNoGamma);
  for (const s of [...data.train, ...data.test]) {
    const expected = minMaxScale(zScore(toGray(s.image), stats.mean, stats.std), 0, 255).data
      .map((v) => v / 255);
    const got = [...out.train, ...out.test].find((o) => o.id === s.id)!.image.data;
    assertEquals(got, expected, s.id);
  }
  // A per-image min-max undoes any z-score (an increasing affine map), so the statistics
  // only show in float32 rounding. They do show there: the test image's OWN statistics
  // round differently from the training ones at some pixels, and the stage must match the
  // training ones above, exactly.
  const own = meanStd([toGray(data.test[0].image)]);
  const withOwn = minMaxScale(zScore(toGray(data.test[0].image), own.mean, own.std), 0, 255).data
    .map((v) => v / 255);
  const differ = withOwn.filter((v, i) => v !== out.test[0].image.data[i]).length;
  assertEquals(differ > 1000, true, `${differ} pixels differ`);
});

Deno.test("retina_preprocess lets nothing of the test set change the training images", () => {
  const other: SegmentationData = {
    ...data,
    test: [{ ...data.test[0], image: data.train[0].image, id: "stand-in" }],
  };
  const a = preprocessRetina(data, noClaheNoGamma);
  const b = preprocessRetina(other, noClaheNoGamma);
  assertEquals(a.train[0].image.data, b.train[0].image.data);
  assertEquals(a.train[1].image.data, b.train[1].image.data);
  // And the stand-in test image is processed exactly like the training image it copies.
  assertEquals(b.test[0].image.data, a.train[0].image.data);
});

Deno.test("retina_preprocess with standardize false, clahe and gamma null is grey / 255", () => {
  const out = preprocessRetina(data, { standardize: false, clahe: null, gamma: null });
  const grey = toGray(data.test[0].image).data;
  assertEquals(out.test[0].image.data, grey.map((g) => g / 255));
});

Deno.test("retina_preprocess options default to the reference chain and reject unknown keys", () => {
  assertEquals(defaults, { standardize: true, clahe: { clipLimit: 2, tiles: 8 }, gamma: 1.2 });
  assertEquals(retinaPreprocessOptions.safeParse({ gama: 1 }).success, false);
  assertEquals(retinaPreprocessOptions.safeParse({ gamma: 0 }).success, false);
  assertEquals([retinaPreprocess.name, retinaPreprocess.kind], ["retina_preprocess", "preprocess"]);
});

import { assertEquals } from "../../../tests/assert.ts";
import { type PatchBatch, Random } from "../../../mod.ts";
import { augment, augmentOptions } from "./augment.ts";

/** Patches whose image equals the mask: a random blob pattern, so geometry is visible in both. */
function twinBatch(count: number, size: number): PatchBatch {
  const random = new Random(11);
  const masks = new Float32Array(count * size * size);
  for (let i = 0; i < masks.length; i++) masks[i] = random.next() < 0.3 ? 1 : 0;
  return { images: masks.slice(), masks, count, size, channels: 1 };
}

const none = {
  flip: 0,
  rotate90: 0,
  rotate: { p: 0 },
  scale: { p: 0 },
  elastic: { p: 0 },
  brightness: { p: 0 },
  contrast: { p: 0 },
  gamma: { p: 0 },
  noise: { p: 0 },
  blur: { p: 0 },
};

Deno.test("with every probability 0 the batch comes back unchanged", () => {
  const batch = twinBatch(4, 16);
  const out = augment(augmentOptions.parse(none))(batch, new Random(1));
  assertEquals(Array.from(out.images), Array.from(batch.images));
  assertEquals(Array.from(out.masks), Array.from(batch.masks));
});

Deno.test("flips and quarter turns move image and mask alike, exactly", () => {
  const batch = twinBatch(8, 12);
  const out = augment(augmentOptions.parse({ ...none, flip: 0.5, rotate90: 0.5 }))(
    batch,
    new Random(2),
  );
  assertEquals(Array.from(out.images), Array.from(out.masks));
  assertEquals(Array.from(out.images).join() === Array.from(batch.images).join(), false);
});

Deno.test("rotation, zoom and elastic warps move the mask with the image", () => {
  const batch = twinBatch(6, 24);
  const options = augmentOptions.parse({
    ...none,
    rotate: { p: 1, degrees: 30 },
    scale: { p: 1, range: [0.9, 1.2] },
    elastic: { p: 1, alpha: 2, sigma: 3 },
  });
  const out = augment(options)(batch, new Random(3));
  assertEquals(out.masks.every((v) => v === 0 || v === 1), true);
  // The image is interpolated, the mask nearest: away from edges they agree after thresholding.
  let agree = 0;
  for (let i = 0; i < out.masks.length; i++) {
    agree += (out.images[i] >= 0.5 ? 1 : 0) === out.masks[i] ? 1 : 0;
  }
  assertEquals(agree / out.masks.length > 0.85, true, `agreement ${agree / out.masks.length}`);
  assertEquals(Array.from(out.masks).join() === Array.from(batch.masks).join(), false);
});

Deno.test("intensity transforms change the image only, and the same seed repeats them", () => {
  const batch = { ...twinBatch(4, 16), images: new Float32Array(4 * 16 * 16).fill(0.5) };
  const options = augmentOptions.parse({
    ...none,
    brightness: { p: 1, delta: 0.2 },
    contrast: { p: 1 },
    gamma: { p: 1 },
    noise: { p: 1, sigma: 0.05 },
    blur: { p: 1 },
  });
  const a = augment(options)(batch, new Random(4));
  const b = augment(options)(batch, new Random(4));
  assertEquals(Array.from(a.masks), Array.from(batch.masks));
  assertEquals(Array.from(a.images), Array.from(b.images));
  assertEquals(a.images.every((v) => v >= 0 && v <= 1), true);
  assertEquals(a.images.some((v) => v !== 0.5), true);
});

Deno.test("the options reject a reversed range and a probability above 1", () => {
  assertEquals(augmentOptions.safeParse({ gamma: { p: 1, range: [1.2, 0.8] } }).success, false);
  assertEquals(augmentOptions.safeParse({ flip: 1.5 }).success, false);
  assertEquals(augmentOptions.parse({}).rotate, { p: 0, degrees: 15 });
});

Deno.test("geometric transforms move the ROI exactly as the mask; without ROIs none appear", () => {
  const batch = twinBatch(6, 24);
  const withRois = { ...batch, rois: batch.masks.slice() };
  const options = augmentOptions.parse({
    ...none,
    flip: 0.5,
    rotate90: 0.5,
    rotate: { p: 1, degrees: 30 },
    scale: { p: 1, range: [0.9, 1.2] },
    elastic: { p: 1, alpha: 2, sigma: 3 },
    brightness: { p: 1 },
  });
  const out = augment(options)(withRois, new Random(5));
  assertEquals(Array.from(out.rois!), Array.from(out.masks));
  assertEquals(Array.from(out.rois!).join() === Array.from(batch.masks).join(), false);
  assertEquals(augment(options)(batch, new Random(5)).rois, undefined);
});

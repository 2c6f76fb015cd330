import { flipRotate, flipRotateOptions, flipRotateStage } from "./flip_rotate.ts";
import { transformSquare } from "../augment/square_transforms.ts";
import { type PatchBatch, Random } from "../../../mod.ts";
import { assertEquals } from "../../../tests/assert.ts";

/** A batch whose every value is distinct, so any move of a pixel shows. */
function batch(count: number, size: number, channels: number): PatchBatch {
  const images = new Float32Array(count * size * size * channels).map((_, i) => i + 0.25);
  // The mask is the image's first channel thresholded at its patch's median.
  const masks = new Float32Array(count * size * size);
  for (let i = 0; i < masks.length; i++) masks[i] = threshold(images, i, size, channels);
  return { images, masks, count, size, channels };
}

function threshold(images: Float32Array, pixel: number, size: number, channels: number): number {
  const patch = Math.floor(pixel / (size * size));
  const median = (patch * size * size + (size * size) / 2) * channels;
  return images[pixel * channels] >= median ? 1 : 0;
}

/** Patch `i` mirrored left-right, by hand: column x takes column size-1-x. */
function mirrored(source: Float32Array, i: number, size: number, channels: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = ((i * size + y) * size + (size - 1 - x)) * channels;
      for (let c = 0; c < channels; c++) out.push(source[from + c]);
    }
  }
  return out;
}

function patch(values: Float32Array, i: number, length: number): number[] {
  return Array.from(values.subarray(i * length, (i + 1) * length));
}

Deno.test("flipRotate() with both probabilities 0 leaves every patch as it is", () => {
  const input = batch(6, 4, 2);
  const images = input.images.slice(), masks = input.masks.slice();
  const out = flipRotate({ flip: 0, rotate90: 0 })(input, new Random(3));
  assertEquals(out.images, images);
  assertEquals(out.masks, masks);
  assertEquals([out.count, out.size, out.channels], [6, 4, 2]);
});

Deno.test("flipRotate() with flip=1 and rotate90=0 mirrors every patch left-right", () => {
  const input = batch(5, 3, 2);
  const out = flipRotate({ flip: 1, rotate90: 0 })(input, new Random(11));
  for (let i = 0; i < 5; i++) {
    assertEquals(patch(out.images, i, 18), mirrored(input.images, i, 3, 2), `image ${i}`);
    assertEquals(patch(out.masks, i, 9), mirrored(input.masks, i, 3, 1), `mask ${i}`);
  }
  // By hand for patch 0 channel 0: rows [0.25 2.25 4.25] [6.25 8.25 10.25] [12.25 ...] reversed.
  assertEquals(Array.from(out.images.subarray(0, 6)), [4.25, 5.25, 2.25, 3.25, 0.25, 1.25]);
  // The input batch is not modified.
  assertEquals(input.images[0], 0.25);
});

Deno.test("flipRotate() gives each patch's image and mask the same transform", () => {
  const size = 6, channels = 3, count = 40;
  // Random images; the mask is channel 0 thresholded at 0.5, so it has no symmetry of its own.
  const random = new Random(9);
  const images = new Float32Array(count * size * size * channels).map(() => random.next());
  const above = (values: Float32Array, p: number) => (values[p * channels] > 0.5 ? 1 : 0);
  const masks = new Float32Array(count * size * size).map((_, p) => above(images, p));
  const input = { images, masks, count, size, channels };
  const out = flipRotate({ flip: 0.5, rotate90: 0.5 })(input, new Random(2024));
  for (let p = 0; p < count * size * size; p++) {
    assertEquals(out.masks[p], above(out.images, p), `pixel ${p}`);
  }
  let changed = 0;
  for (let i = 0; i < count; i++) {
    if (patch(out.masks, i, size * size).join() !== patch(masks, i, size * size).join()) changed++;
  }
  // Transforms did happen (otherwise the check above would hold trivially): 3/4 of the
  // patches get one on average.
  assertEquals(changed >= count / 2, true, `${changed} of ${count} masks changed`);
});

Deno.test("flipRotate() with p=0.5 draws all eight symmetries, each patch its own", () => {
  const size = 3, count = 64;
  const input = batch(count, size, 1);
  const out = flipRotate({ flip: 0.5, rotate90: 0.5 })(input, new Random(5));
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const got = patch(out.images, i, 9).join();
    let found = "";
    for (const flip of [false, true]) {
      for (const turns of [0, 1, 2, 3]) {
        const expected = new Float32Array(input.images.length);
        transformSquare(input.images, expected, i, size, 1, { flip, turns });
        if (patch(expected, i, 9).join() === got) found = `${flip}/${turns}`;
      }
    }
    assertEquals(found !== "", true, `patch ${i} is no symmetry of its input`);
    counts.set(found, (counts.get(found) ?? 0) + 1);
  }
  assertEquals(counts.size, 8, `symmetries seen: ${[...counts.keys()]}`);
  // No flip and no turn has probability 0.5 · 0.5 = 1/4 (16 of 64 expected); a mirror alone
  // also 1/4; each of the six with a turn 1/12.
  const identity = counts.get("false/0")!;
  assertEquals(identity > 4 && identity < 32, true, `identity ${identity} times of 64`);
});

Deno.test("flipRotate() gives the same output for the same seed and another for another seed", () => {
  const augment = flipRotate({ flip: 0.5, rotate90: 0.5 });
  const a = augment(batch(16, 4, 1), new Random(42));
  const b = augment(batch(16, 4, 1), new Random(42));
  const c = augment(batch(16, 4, 1), new Random(43));
  assertEquals(a.images, b.images);
  assertEquals(a.masks, b.masks);
  assertEquals(a.images.join() === c.images.join(), false);
});

Deno.test("flipRotateStage defaults both probabilities to 0.5 and rejects values above 1", () => {
  assertEquals(flipRotateOptions.parse({}), { flip: 0.5, rotate90: 0.5 });
  assertEquals(flipRotateOptions.safeParse({ flip: 1.5 }).success, false);
  assertEquals(flipRotateOptions.safeParse({ turn: 1 }).success, false);
  assertEquals([flipRotateStage.name, flipRotateStage.kind], ["flip_rotate", "augment"]);
});

Deno.test("flipRotate() turns the ROI with the mask", () => {
  const masks = new Float32Array(4 * 9).map((_, i) => (i * 7) % 3 === 0 ? 1 : 0);
  const batch = {
    images: masks.slice(),
    masks,
    rois: masks.slice(),
    count: 4,
    size: 3,
    channels: 1,
  };
  const out = flipRotate({ flip: 0.5, rotate90: 0.9 })(batch, new Random(4));
  assertEquals(Array.from(out.rois!), Array.from(out.masks));
  assertEquals(Array.from(out.masks).join() === Array.from(masks).join(), false);
});

import { assertEquals, assertRejects, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import type { Raster } from "../../../pipeline/data.ts";
import { Random } from "../../../pipeline/random.ts";
import {
  type PredictBatch,
  slidingWindowPredict,
  slidingWindowPredictAll,
  windowOrigins,
} from "./sliding_window.ts";

Deno.test("windowOrigins() steps by the stride and ends flush with the end", () => {
  const cases: [length: number, window: number, stride: number, origins: number[]][] = [
    [10, 4, 3, [0, 3, 6]], // 6 + 4 = 10: the flush window is already on the grid
    [11, 4, 3, [0, 3, 6, 7]], // 11 - 4 = 7
    [9, 4, 4, [0, 4, 5]], // 9 - 4 = 5
    [8, 4, 4, [0, 4]],
    [6, 3, 1, [0, 1, 2, 3]],
    [5, 3, 2, [0, 2]],
    [4, 4, 1, [0]], // exactly one window
    [3, 4, 2, [0]], // shorter than the window: the caller pads
    [1, 1, 1, [0]],
    [584, 64, 5, [...Array.from({ length: 104 }, (_, i) => i * 5), 520]], // 103·5 = 515 < 520
  ];
  for (const [length, window, stride, origins] of cases) {
    assertEquals(windowOrigins(length, window, stride), origins, `${length}, ${window}, ${stride}`);
  }
});

Deno.test("windowOrigins() covers every position for all small lengths, windows and strides", () => {
  for (let length = 1; length <= 30; length++) {
    for (let window = 1; window <= 9; window++) {
      for (let stride = 1; stride <= window; stride++) {
        const origins = windowOrigins(length, window, stride);
        const covered = new Uint8Array(length);
        origins.forEach((o, i) => {
          if (o < 0 || (i > 0 && o <= origins[i - 1])) throw new Error(`bad origins ${origins}`);
          covered.fill(1, o, Math.min(length, o + window));
        });
        assertEquals(covered.every((v) => v === 1), true, `${length}, ${window}, ${stride}`);
        assertEquals(origins.at(-1)! + window, Math.max(length, window));
      }
    }
  }
});

Deno.test("windowOrigins() rejects bad sizes and a stride above the window", () => {
  assertThrows(() => windowOrigins(10, 4, 5), DataError, "stride 5 is larger than the window 4");
  assertThrows(() => windowOrigins(10, 0, 1), DataError, "window");
  assertThrows(() => windowOrigins(0, 4, 1), DataError, "length");
  assertThrows(() => windowOrigins(10, 4, 1.5), DataError, "stride");
});

function randomImage(width: number, height: number, channels: number, seed: number): Raster {
  const rng = new Random(seed);
  const data = new Float32Array(width * height * channels).map(() => rng.next());
  return { width, height, channels, data };
}

/** A model whose prediction is channel 0 of its input; records the batch sizes it saw. */
function identity(window: number, channels: number, calls: number[]): PredictBatch {
  return (batch, n) => {
    calls.push(n);
    assertEquals(batch.length, n * window * window * channels);
    const out = new Float32Array(n * window * window);
    for (let i = 0; i < out.length; i++) out[i] = batch[i * channels];
    return Promise.resolve(out);
  };
}

Deno.test("slidingWindowPredict() gives the image back with an identity model", async () => {
  const cases = [
    { width: 20, height: 17, channels: 1, window: 8, stride: 3, batch: 4 }, // non-divisible
    { width: 16, height: 16, channels: 1, window: 8, stride: 8, batch: 1 }, // no overlap
    { width: 13, height: 9, channels: 3, window: 5, stride: 2, batch: 7 },
    { width: 9, height: 9, channels: 2, window: 9, stride: 1, batch: 2 }, // one window
    { width: 5, height: 3, channels: 1, window: 8, stride: 4, batch: 2 }, // smaller than window
    { width: 12, height: 4, channels: 3, window: 6, stride: 5, batch: 3 }, // wider than window only
    { width: 1, height: 1, channels: 1, window: 3, stride: 1, batch: 1 },
  ];
  for (const [i, { width, height, channels, window, stride, batch }] of cases.entries()) {
    const image = randomImage(width, height, channels, i);
    const before = image.data.slice();
    const calls: number[] = [];
    const out = await slidingWindowPredict(
      image,
      window,
      stride,
      identity(window, channels, calls),
      batch,
    );
    const label = `${width}×${height}×${channels}, window ${window}, stride ${stride}`;
    assertEquals([out.width, out.height, out.channels], [width, height, 1], label);
    const expected = new Float32Array(width * height).map((_, p) => image.data[p * channels]);
    assertEquals(out.data, expected, label);
    assertEquals(image.data, before, `input unchanged: ${label}`);
    // all windows predicted, in batches of at most `batch`
    const windows = windowOrigins(width, window, stride).length *
      windowOrigins(height, window, stride).length;
    assertEquals(calls.reduce((a, b) => a + b, 0), windows, label);
    assertEquals(calls.every((n) => n >= 1 && n <= batch), true, label);
  }
});

Deno.test("slidingWindowPredict() averages overlapping windows", async () => {
  // 5×5, window 3, stride 2: origins {0, 2} on both axes, windows in row-major order
  // 0 at (0, 0), 1 at (2, 0), 2 at (0, 2), 3 at (2, 2) (x, y). The model answers the
  // window's index everywhere. Column x = 2 and row y = 2 are shared:
  //   (2, 0): windows 0, 1 → 0.5       (0, 2): windows 0, 2 → 1
  //   (2, 2): windows 0..3 → 1.5       (4, 2): windows 1, 3 → 2
  //   (2, 4): windows 2, 3 → 2.5       corners: their own window
  let next = 0;
  const indexModel: PredictBatch = (_batch, n) => {
    const out = new Float32Array(n * 9);
    for (let b = 0; b < n; b++) out.fill(next++, b * 9, (b + 1) * 9);
    return Promise.resolve(out);
  };
  const image = { width: 5, height: 5, channels: 1, data: new Float32Array(25) };
  const out = await slidingWindowPredict(image, 3, 2, indexModel, 3); // batches of 3 and 1
  // deno-fmt-ignore
  const expected = new Float32Array([
    0, 0, 0.5, 1, 1,
    0, 0, 0.5, 1, 1,
    1, 1, 1.5, 2, 2,
    2, 2, 2.5, 3, 3,
    2, 2, 2.5, 3, 3,
  ]);
  assertEquals(out.data, expected);
  assertEquals(next, 4);
});

Deno.test("slidingWindowPredict() covers every pixel at least once", async () => {
  // A model that answers 1 everywhere: an uncovered pixel would come out as 0 / 0 = NaN.
  const ones: PredictBatch = (_batch, n) => Promise.resolve(new Float32Array(n * 49).fill(1));
  for (const [width, height, stride] of [[23, 11, 7], [7, 30, 2], [3, 3, 5], [50, 8, 6]]) {
    const image = randomImage(width, height, 1, width);
    const out = await slidingWindowPredict(image, 7, stride, ones, 5);
    assertEquals(out.data.every((v) => v === 1), true, `${width}×${height} stride ${stride}`);
  }
});

Deno.test("slidingWindowPredict() pads windows with zeros beyond the image", async () => {
  // 3×2 image, window 4: one window whose last column and last two rows are padding
  const image = { width: 3, height: 2, channels: 1, data: new Float32Array([1, 2, 3, 4, 5, 6]) };
  let seen = new Float32Array(0);
  await slidingWindowPredict(image, 4, 4, (batch, n) => {
    seen = batch.slice();
    return Promise.resolve(new Float32Array(n * 16));
  }, 8);
  // deno-fmt-ignore
  assertEquals(seen, new Float32Array([
    1, 2, 3, 0,
    4, 5, 6, 0,
    0, 0, 0, 0,
    0, 0, 0, 0,
  ]));
});

Deno.test("slidingWindowPredict() rejects a model output of the wrong length", async () => {
  const image = randomImage(6, 6, 3, 1);
  // returns all channels instead of one
  const wrong: PredictBatch = (batch) => Promise.resolve(batch.slice());
  await assertRejects(
    () => slidingWindowPredict(image, 4, 2, wrong, 2),
    DataError,
    "expected 32 (one channel)", // 2 windows × 4 × 4
  );
  await assertRejects(
    () => slidingWindowPredict(image, 4, 2, wrong, 0),
    DataError,
    "batchSize",
  );
});

/** A model whose output is each window's mean plus the pixel's value: a window's own result. */
const windowMeanPlusPixel: PredictBatch = (batch, n) => {
  const size = batch.length / n;
  const out = new Float32Array(batch.length);
  for (let b = 0; b < n; b++) {
    const window = batch.subarray(b * size, (b + 1) * size);
    const mean = window.reduce((a, v) => a + v, 0) / size;
    for (let i = 0; i < size; i++) out[b * size + i] = mean + window[i];
  }
  return Promise.resolve(out);
};

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("slidingWindowPredictAll() shares the batches among models as each is free", async () => {
  // Two images of one window each and one of 2 × 2 windows: batches of 3 never mix images.
  const images = [randomImage(8, 6, 1, 1), randomImage(6, 8, 1, 2), randomImage(11, 9, 1, 3)];
  const taken: string[] = [];
  const model = (name: string, ms: number): PredictBatch => async (batch, n) => {
    taken.push(`${name}:${n}`);
    await later(ms);
    return windowMeanPlusPixel(batch, n);
  };
  const shared = await slidingWindowPredictAll(
    images,
    8,
    3,
    [model("slow", 60), model("fast", 1)],
    3,
  );
  // 1 + 1 + (3 + 1) windows: 4 batches; the slow model takes the first, the fast all the others.
  assertEquals(taken, ["slow:1", "fast:1", "fast:3", "fast:1"]);
  for (const [i, image] of images.entries()) {
    const alone = await slidingWindowPredict(image, 8, 3, windowMeanPlusPixel, 3);
    assertEquals(shared[i].data, alone.data, `image ${i}`);
  }
});

Deno.test("slidingWindowPredictAll() reports a model's failure and refuses bad input", async () => {
  const images = [randomImage(4, 4, 1, 1), randomImage(4, 4, 1, 2), randomImage(4, 4, 1, 3)];
  const failing: PredictBatch = async () => {
    await later(5);
    throw new Error("worker lost");
  };
  await assertRejects(
    () => slidingWindowPredictAll(images, 4, 4, [windowMeanPlusPixel, failing], 1),
    Error,
    "worker lost",
  );
  await assertRejects(
    () => slidingWindowPredictAll(images, 4, 4, [], 1),
    DataError,
    "no model to predict with",
  );
  await assertRejects(
    () =>
      slidingWindowPredictAll(
        [randomImage(4, 4, 1, 1), randomImage(4, 4, 3, 2)],
        4,
        4,
        [windowMeanPlusPixel],
        2,
      ),
    DataError,
    "one channel count, got 1, 3",
  );
});

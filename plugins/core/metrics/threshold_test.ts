import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { Random } from "../../../pipeline/random.ts";
import { ConfusionAccumulator } from "./confusion.ts";
import { bestF1Threshold, THRESHOLD_BINS, ThresholdHistogram } from "./threshold.ts";

Deno.test("ThresholdHistogram.add() bins ROI pixels by class, k / bins into bin k", () => {
  const h = new ThresholdHistogram(4);
  h.add(
    // 0.25 is bin 1 (its lower edge), 0.2499 bin 0; 1, 1.5 the top bin; -0.2 bin 0
    new Float32Array([0.25, 0.2499, 1, 1.5, -0.2, 0.6, 0.9]),
    [1, 1, 0, 1, 0, 0.5, 1], // truth 0.5 is not > 0.5: negative
    [1, 1, 1, 1, 1, 1, 0.5], // the last pixel is outside the ROI
  );
  assertEquals(Array.from(h.positives), [1, 1, 0, 1]);
  assertEquals(Array.from(h.negatives), [1, 0, 1, 1]);
  assertEquals(new ThresholdHistogram().bins, THRESHOLD_BINS);
});

Deno.test("ThresholdHistogram.add() rejects NaN and mismatched lengths, counting nothing", () => {
  const h = new ThresholdHistogram(4).add([0.9], [1], [1]);
  assertThrows(() => h.add([0.1, NaN], [0, 1], [1, 1]), DataError, "index 1 is NaN");
  assertThrows(() => h.add([0.1, 0.2], [0, 1], [1]), DataError, "got 2, 2 and 1 values");
  assertEquals(Array.from(h.positives), [0, 0, 0, 1]);
  assertEquals(Array.from(h.negatives), [0, 0, 0, 0]);
  assertThrows(() => new ThresholdHistogram(1), DataError, "integer >= 2");
});

Deno.test("bestF1Threshold() picks the best F1 on a hand-made histogram", () => {
  // 8 bins. Positives in bins 2, 5, 6; negatives in bins 1, 3, 6, 7. P = 3.
  // k (threshold k/8): tp fp → F1 = 2 tp / (tp + fp + P)
  //   7: 0 1 → 0;  6: 1 2 → 2/6;  5: 2 2 → 4/7;  4: 2 2 → 4/7;  3: 2 3 → 4/8;
  //   2: 3 3 → 6/9;  1: 3 4 → 6/10
  const positives = [0, 0, 1, 0, 0, 1, 1, 0];
  const negatives = [0, 1, 0, 1, 0, 0, 1, 1];
  const best = bestF1Threshold(positives, negatives);
  assertEquals(best.threshold, 2 / 8);
  assertAlmostEquals(best.f1, 6 / 9, 1e-15);
});

Deno.test("bestF1Threshold() keeps 0.5 on a plateau holding it, else the plateau's middle", () => {
  // Positives in bins 5 and 6, negatives in bin 1: F1 = 1 for k = 2..5 (bins 2-4 empty), so
  // 0.5 (k = 4) is as good as any there and is kept.
  assertEquals(bestF1Threshold([0, 0, 0, 0, 0, 1, 1, 0], [0, 1, 0, 0, 0, 0, 0, 0]), {
    threshold: 0.5,
    f1: 1,
  });
  // Positives in bins 6 and 7, negatives in bins 1, 4, 7: F1 4/5 at k = 5 and 6 only (k = 4
  // lets the negative of bin 4 in: 4/6) → the middle, k = 5, not the edge nearest 0.5.
  const best = bestF1Threshold([0, 0, 0, 0, 0, 0, 1, 1], [0, 1, 0, 0, 1, 0, 0, 1]);
  assertEquals(best.threshold, 5 / 8);
  assertAlmostEquals(best.f1, 4 / 5, 1e-15);
  // No positive: F1 is 0 everywhere, and the default stays.
  assertEquals(bestF1Threshold([0, 0, 0, 0], [3, 1, 0, 2]), { threshold: 0.5, f1: 0 });
  assertThrows(() => bestF1Threshold([0, 1], [1]), DataError, "got 2 and 1 bins");
});

Deno.test("bestF1Threshold() finds the exact best F1 of every grid threshold on random data", () => {
  const bins = 64, length = 3000;
  for (const seed of [1, 2, 3]) {
    const rng = new Random(seed);
    const prob = new Float32Array(length), truth = new Uint8Array(length);
    const roi = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      truth[i] = rng.next() < 0.15 ? 1 : 0;
      roi[i] = rng.next() < 0.9 ? 1 : 0;
      prob[i] = Math.min(1, rng.next() * 0.8 + 0.3 * truth[i]);
    }
    const h = new ThresholdHistogram(bins).add(prob, truth, roi);
    const best = bestF1Threshold(h.positives, h.negatives);
    // Brute force: count every grid threshold with the confusion matrix itself.
    let max = 0;
    for (let k = 1; k < bins; k++) {
      max = Math.max(max, new ConfusionAccumulator().add(prob, truth, roi, k / bins).scores().f1);
    }
    const atBest = new ConfusionAccumulator().add(prob, truth, roi, best.threshold).scores().f1;
    assertAlmostEquals(best.f1, max, 1e-15, `seed ${seed}`);
    assertAlmostEquals(atBest, max, 1e-15, `seed ${seed}`);
  }
});

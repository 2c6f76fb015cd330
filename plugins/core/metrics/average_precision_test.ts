import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { Random } from "../../../pipeline/random.ts";
import { averagePrecision, averagePrecisionSorted } from "./average_precision.ts";

/**
 * The definition taken literally: for each distinct score t, from the highest,
 * count tp and fp with score >= t and add (R_n − R_{n−1}) · P_n.
 */
function bruteForceAp(positives: number[], negatives: number[]): number {
  const thresholds = [...new Set([...positives, ...negatives])].sort((a, b) => b - a);
  let sum = 0, recall = 0;
  for (const t of thresholds) {
    const tp = positives.filter((p) => p >= t).length;
    const fp = negatives.filter((n) => n >= t).length;
    const r = tp / positives.length;
    sum += (r - recall) * (tp / (tp + fp));
    recall = r;
  }
  return sum;
}

Deno.test("averagePrecision() matches a hand-computed case with ties across classes", () => {
  // Distinct thresholds from the top:
  //   0.9: tp 1, fp 0 → recall 1/4, precision 1      → 1/4 · 1
  //   0.7: tp 3, fp 1 → recall 3/4, precision 3/4    → 2/4 · 3/4 (both tied positives in one step)
  //   0.5: tp 3, fp 2 → recall unchanged             → 0
  //   0.2: tp 4, fp 3 → recall 1, precision 4/7      → 1/4 · 4/7
  //   0.1: recall unchanged                          → 0
  const positives = [0.7, 0.9, 0.2, 0.7], negatives = [0.5, 0.7, 0.1, 0.2];
  assertAlmostEquals(averagePrecision(positives, negatives), 1 / 4 + 3 / 8 + 1 / 7, 1e-15);
  assertAlmostEquals(1 / 4 + 3 / 8 + 1 / 7, 43 / 56, 1e-15);
});

Deno.test("averagePrecision() of a perfect, a reversed and a constant ranking", () => {
  assertEquals(averagePrecision([0.9, 0.8], [0.3, 0.1, 0.2]), 1);
  // the one positive is last: precision 1/3 when it is found
  assertAlmostEquals(averagePrecision([0.1], [0.9, 0.8]), 1 / 3, 1e-15);
  // all tied: one threshold, recall 0 → 1 at precision = prevalence 2/5 (not interpolated)
  assertAlmostEquals(averagePrecision([0.5, 0.5], [0.5, 0.5, 0.5]), 2 / 5, 1e-15);
  // no negatives at all: every threshold has precision 1
  assertEquals(averagePrecision([0.3, 0.1], []), 1);
});

Deno.test("averagePrecision() leaves its inputs alone and rejects no positives or NaN", () => {
  const positives = [0.2, 0.9], negatives = new Float32Array([0.5, 0.1]);
  averagePrecision(positives, negatives);
  assertEquals(positives, [0.2, 0.9]);
  assertEquals(negatives, new Float32Array([0.5, 0.1]));
  assertThrows(() => averagePrecision([], [0.5]), DataError, "at least one positive");
  assertThrows(() => averagePrecision([0.5, NaN], [0.1]), DataError, "index 1 is NaN");
  assertThrows(() => averagePrecision([0.5], [NaN]), DataError, "NaN");
});

Deno.test("averagePrecisionSorted() equals the literal definition on random scores with ties", () => {
  for (const levels of [0, 1, 3, 10, 255]) {
    for (const seed of [1, 2, 3]) {
      const rng = new Random(seed * 100 + levels);
      const positives: number[] = [], negatives: number[] = [];
      for (let i = 0; i < 400; i++) {
        const positive = rng.next() < 0.3;
        const u = Math.min(1, rng.next() + (positive ? 0.25 : 0));
        const score = levels > 0 ? Math.round(u * levels) / levels : u;
        (positive ? positives : negatives).push(score);
      }
      const expected = bruteForceAp(positives, negatives);
      const sorted = (a: number[]) => Float64Array.from(a).sort();
      const got = averagePrecisionSorted(sorted(positives), sorted(negatives));
      assertAlmostEquals(got, expected, 1e-12, `levels ${levels} seed ${seed}`);
    }
  }
});

import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { Random } from "../../../pipeline/random.ts";
import { averagePrecision } from "../metrics/average_precision.ts";
import { rocAuc } from "../metrics/roc_auc.ts";
import { prCurve, prCurveSorted, rocCurve, rocCurveSorted, trapezoidArea } from "./curves.ts";

const xy = (points: { x: number; y: number }[]) => points.map((p) => [p.x, p.y]);

// Positives {0.9, 0.7, 0.7, 0.2}, negatives {0.7, 0.5, 0.2, 0.1}: P = N = 4. From the top:
//   0.9: tp 1, fp 0    0.7: tp 3, fp 1 (two positives and a negative tie: one step)
//   0.5: tp 3, fp 2    0.2: tp 4, fp 3    0.1: tp 4, fp 4
const POSITIVES = [0.7, 0.9, 0.2, 0.7], NEGATIVES = [0.5, 0.7, 0.1, 0.2];

Deno.test("rocCurve() lists (FP/N, TP/P) at each distinct score, ties one step", () => {
  const curve = rocCurve(POSITIVES, NEGATIVES);
  assertEquals(xy(curve), [[0, 0], [0, 1 / 4], [1 / 4, 3 / 4], [2 / 4, 3 / 4], [3 / 4, 1], [1, 1]]);
  assertEquals(curve.map((p) => p.threshold), [Infinity, 0.9, 0.7, 0.5, 0.2, 0.1]);
  // Trapezoids: 0 + (1/4)(1/4 + 3/4)/2 + (1/4)(3/4) + (1/4)(3/4 + 1)/2 + (1/4)(1) = 25/32,
  // the Mann-Whitney AUC with ties one half: (4 + 2 · 3.5 + 1.5) / 16.
  assertEquals(trapezoidArea(curve), 25 / 32);
  assertEquals(rocAuc(POSITIVES, NEGATIVES), 25 / 32);
});

Deno.test("prCurve() lists (TP/P, TP/(TP+FP)) at each distinct score after (0, 1)", () => {
  const curve = prCurve(POSITIVES, NEGATIVES);
  assertEquals(xy(curve), [[0, 1], [1 / 4, 1], [3 / 4, 3 / 4], [3 / 4, 3 / 5], [1, 4 / 7], [
    1,
    1 / 2,
  ]]);
  assertEquals(curve.map((p) => p.threshold), [Infinity, 0.9, 0.7, 0.5, 0.2, 0.1]);
  // The step-wise area Σ (R_k − R_{k−1}) P_k is the average precision, 43/56.
  let steps = 0;
  for (let k = 1; k < curve.length; k++) steps += (curve[k].x - curve[k - 1].x) * curve[k].y;
  assertAlmostEquals(steps, averagePrecision(POSITIVES, NEGATIVES), 1e-15);
  assertAlmostEquals(steps, 43 / 56, 1e-15);
});

Deno.test("prCurve() of a top-ranked negative starts by dropping to precision 0", () => {
  assertEquals(xy(prCurve([0.5], [0.9])), [[0, 1], [0, 0], [1, 1 / 2]]);
  assertEquals(xy(prCurve([0.5], [])), [[0, 1], [1, 1]]); // no negatives: precision 1 throughout
});

Deno.test("the full curves' areas equal the exact AUC and average precision on many scores", () => {
  const random = new Random(7);
  const positives = Array.from({ length: 300 }, () => Math.round(random.next() * 200) / 200 + 0.2);
  const negatives = Array.from({ length: 700 }, () => Math.round(random.next() * 200) / 200);
  const roc = rocCurve(positives, negatives, 10_000);
  assertAlmostEquals(trapezoidArea(roc), rocAuc(positives, negatives), 1e-12);
  const pr = prCurve(positives, negatives, 10_000);
  let steps = 0;
  for (let k = 1; k < pr.length; k++) steps += (pr[k].x - pr[k - 1].x) * pr[k].y;
  assertAlmostEquals(steps, averagePrecision(positives, negatives), 1e-12);
});

Deno.test("curves of many distinct scores are thinned to maxPoints, ends and shape kept", () => {
  const random = new Random(3);
  // Positives skewed high: a steep start, like a vessel map's ROC curve.
  const positives = Float32Array.from({ length: 20_000 }, () => Math.sqrt(random.next())).sort();
  const negatives = Float32Array.from({ length: 200_000 }, () => random.next() ** 3).sort();
  for (const maxPoints of [1000, 50, 3]) {
    const roc = rocCurveSorted(positives, negatives, maxPoints);
    assert(roc.length <= maxPoints && roc.length >= 2, `${roc.length} points for ${maxPoints}`);
    assertEquals([roc[0].x, roc[0].y, roc.at(-1)!.x, roc.at(-1)!.y], [0, 0, 1, 1]);
    for (let k = 1; k < roc.length; k++) {
      assert(roc[k].threshold < roc[k - 1].threshold, "thresholds descend");
      assert(roc[k].x >= roc[k - 1].x && roc[k].y >= roc[k - 1].y, "ROC points ascend");
    }
    const pr = prCurveSorted(positives, negatives, maxPoints);
    assert(pr.length <= maxPoints, `${pr.length} PR points for ${maxPoints}`);
    assertEquals([pr[0].x, pr[0].y, pr.at(-1)!.x], [0, 1, 1]);
    assertAlmostEquals(pr.at(-1)!.y, 20_000 / 220_000, 1e-15); // the prevalence
  }
  // A thousand points follow the curve closely: the area within 1e-4 of the exact AUC.
  const exact = rocAuc(positives, negatives);
  assertAlmostEquals(trapezoidArea(rocCurveSorted(positives, negatives, 1000)), exact, 1e-4);
});

Deno.test("curves reject a missing class, unsorted or NaN scores, and too few points", () => {
  assertThrows(() => rocCurve([], [0.1]), DataError, "needs both classes, got 0 positive and 1");
  assertThrows(() => rocCurve([0.1], []), DataError, "got 1 positive and 0 negative");
  assertThrows(() => prCurve([], [0.1]), DataError, "needs at least one positive");
  assertThrows(
    () => rocCurveSorted([0.5, 0.2], [0.1]),
    DataError,
    "positive scores must be sorted ascending, but index 1 holds 0.2 after 0.5",
  );
  assertThrows(() => prCurve([0.5], [0.1, NaN]), DataError, "a negative score is NaN");
  assertThrows(() => rocCurve([0.5], [0.1], 2), DataError, "maxPoints must be an integer >= 3");
});

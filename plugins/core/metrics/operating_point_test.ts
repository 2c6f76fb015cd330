import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { sensitivityAtSpecificity, specificityAtSensitivity } from "./operating_point.ts";
import { SegmentationScorer } from "./segmentation_metrics.ts";

const positives = [0.2, 0.4, 0.9];
const negatives = [0.1, 0.2, 0.3, 0.5];

Deno.test("sensitivityAtSpecificity takes the lowest threshold that keeps the specificity", () => {
  // Hand-computed, [target, threshold, sensitivity, achieved specificity]: >= 0.5 needs 2
  // negatives below, so above 0.2, the next score being 0.3 (a negative), and the positives
  // above 0.2 are 0.4 and 0.9; 0.6 needs 3 of 4 (0.75 achieved): above 0.3, so 0.4; 1 needs
  // all 4: above 0.5, so 0.9; 0 needs none: everything positive.
  const cases = [[0.5, 0.3, 2 / 3, 0.5], [0.6, 0.4, 2 / 3, 0.75], [1, 0.9, 1 / 3, 1], [
    0,
    -Infinity,
    1,
    0,
  ]];
  for (const [target, threshold, sensitivity, specificity] of cases) {
    assertEquals(sensitivityAtSpecificity(positives, negatives, target), {
      threshold,
      sensitivity,
      specificity,
    });
  }
});

Deno.test("specificityAtSensitivity takes the highest threshold that keeps the sensitivity", () => {
  // [target, threshold, achieved sensitivity, specificity]: 1 keeps all 3 positives, so 0.2,
  // where the negative 0.2 is predicted positive too (>=); 0.5 keeps 2: 0.4; 0.1 keeps 1: 0.9.
  const cases = [[1, 0.2, 1, 0.25], [0.5, 0.4, 2 / 3, 0.75], [0.1, 0.9, 1 / 3, 1]];
  for (const [target, threshold, sensitivity, specificity] of cases) {
    assertEquals(specificityAtSensitivity(positives, negatives, target), {
      threshold,
      sensitivity,
      specificity,
    });
  }
});

Deno.test("ties of the threshold are all positive, as the evaluation's >= rule says", () => {
  // Scores 0.5 in both classes: at specificity 0.5 the edge is 0.1; everything above it is
  // positive, the tied 0.5s of both classes included.
  assertEquals(sensitivityAtSpecificity([0.5, 0.5], [0.1, 0.5], 0.5), {
    threshold: 0.5,
    sensitivity: 1,
    specificity: 0.5,
  });
  // Specificity 1 puts the threshold above every score.
  assertEquals(sensitivityAtSpecificity([0.5, 0.5], [0.1, 0.5], 1), {
    threshold: Infinity,
    sensitivity: 0,
    specificity: 1,
  });
  assertEquals(specificityAtSensitivity([0.5, 0.5], [0.1, 0.5], 0.5).specificity, 0.5);
});

Deno.test("the two points agree with the scorer's counts at their thresholds", () => {
  // A generated image: 400 pixels whose score rises with truth plus noise.
  let state = 7;
  const random = () => (state = (state * 16807) % 2147483647) / 2147483647;
  const truth = Array.from({ length: 400 }, () => (random() < 0.2 ? 1 : 0));
  const prob = Float32Array.from(
    truth,
    (t) => Math.min(1, Math.max(0, 0.35 * t + 0.65 * random())),
  );
  const roi = truth.map(() => 1);
  const scorer = new SegmentationScorer().add(prob, truth, roi);
  const { positives: pos, negatives: neg } = scorer.sortedScores();
  for (const target of [0.8, 0.95, 0.99]) {
    const point = sensitivityAtSpecificity(pos, neg, target);
    const at = new SegmentationScorer(point.threshold).add(prob, truth, roi).result();
    assertEquals([at.sensitivity, at.specificity], [point.sensitivity, point.specificity]);
    // The next lower score would fall below the target specificity.
    const lower = [...pos, ...neg].filter((v) => v < point.threshold).reduce(
      (a, b) => Math.max(a, b),
      -1,
    );
    if (lower >= 0) {
      const below = new SegmentationScorer(lower).add(prob, truth, roi).result();
      assertEquals(below.specificity < target, true);
    }
    const back = specificityAtSensitivity(pos, neg, point.sensitivity);
    assertEquals(back.specificity >= point.specificity, true);
  }
});

Deno.test("an empty class or a target outside [0, 1] is an error", () => {
  assertThrows(() => sensitivityAtSpecificity([], [0.1], 0.9), DataError, "both classes");
  assertThrows(() => specificityAtSensitivity([0.2], [0.1], 1.5), DataError, "[0, 1]");
});

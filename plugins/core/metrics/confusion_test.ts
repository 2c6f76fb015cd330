import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import {
  ConfusionAccumulator,
  jaccardIndex,
  matthewsCorrelation,
  scoresFromConfusion,
} from "./confusion.ts";

function counts(m: ConfusionAccumulator) {
  return { tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn };
}

Deno.test("ConfusionAccumulator.add() counts ROI pixels only, with prob >= threshold positive", () => {
  const m = new ConfusionAccumulator();
  // pixel: 0.9/1 tp, 0.5/1 tp (>= 0.5), 0.49/1 fn, 0.1/0 tn, 0.7/0 fp, 0.3/0 tn, 0.8/1 outside
  m.add(
    new Float32Array([0.9, 0.5, 0.49, 0.1, 0.7, 0.3, 0.8]),
    [1, 1, 1, 0, 0, 0, 1],
    [1, 1, 1, 1, 1, 1, 0],
  );
  assertEquals(counts(m), { tp: 2, fp: 1, tn: 2, fn: 1 });
});

Deno.test("ConfusionAccumulator.add() pools images into one matrix", () => {
  const m = new ConfusionAccumulator();
  m.add(
    new Float32Array([0.9, 0.5, 0.49, 0.1, 0.7, 0.3, 0.8]),
    [1, 1, 1, 0, 0, 0, 1],
    [1, 1, 1, 1, 1, 1, 0],
  );
  // second image: 0.6/0 fp; 0.2/0 has roi 0.4, not > 0.5, so it is skipped
  m.add(new Float32Array([0.6, 0.2]), [0, 0], [1, 0.4]);
  assertEquals(counts(m), { tp: 2, fp: 2, tn: 2, fn: 1 });
  const s = m.scores();
  assertAlmostEquals(s.accuracy, 4 / 7, 1e-15); // (2 + 2) / 7
  assertAlmostEquals(s.sensitivity, 2 / 3, 1e-15); // 2 / (2 + 1)
  assertAlmostEquals(s.specificity, 1 / 2, 1e-15); // 2 / (2 + 2)
  assertAlmostEquals(s.precision, 1 / 2, 1e-15); // 2 / (2 + 2)
  assertAlmostEquals(s.f1, 4 / 7, 1e-15); // 4 / (4 + 2 + 1)
});

Deno.test("ConfusionAccumulator.add() applies the threshold and the > 0.5 cut-offs", () => {
  const cases: { prob: number; truth: number; roi: number; threshold: number; cell: string }[] = [
    { prob: 0.7, truth: 1, roi: 1, threshold: 0.7, cell: "tp" }, // 0.7 >= 0.7
    { prob: 0.69, truth: 1, roi: 1, threshold: 0.7, cell: "fn" },
    { prob: 0.7, truth: 0, roi: 1, threshold: 0.7, cell: "fp" },
    { prob: 0.2, truth: 0.5, roi: 1, threshold: 0.5, cell: "tn" }, // truth 0.5 is not > 0.5
    { prob: 0.9, truth: 0.51, roi: 1, threshold: 0.5, cell: "tp" },
    { prob: 0.9, truth: 1, roi: 0.5, threshold: 0.5, cell: "none" }, // roi 0.5 is not inside
    { prob: 0.9, truth: 1, roi: 255, threshold: 0.5, cell: "tp" },
    { prob: 0, truth: 0, roi: 1, threshold: 0, cell: "fp" }, // 0 >= 0
  ];
  for (const { prob, truth, roi, threshold, cell } of cases) {
    const m = new ConfusionAccumulator().add([prob], [truth], [roi], threshold);
    const expected = { tp: 0, fp: 0, tn: 0, fn: 0 };
    if (cell !== "none") expected[cell as keyof typeof expected] = 1;
    assertEquals(counts(m), expected, `prob ${prob} truth ${truth} roi ${roi} t ${threshold}`);
  }
});

Deno.test("ConfusionAccumulator.add() rejects arrays of different lengths and keeps inputs", () => {
  const prob = new Float32Array([0.9, 0.1]);
  const truth = [1, 0];
  const m = new ConfusionAccumulator();
  assertThrows(() => m.add(prob, truth, [1]), DataError, "got 2, 2 and 1 values");
  assertEquals(counts(m), { tp: 0, fp: 0, tn: 0, fn: 0 });
  m.add(prob, truth, [1, 1]);
  assertEquals(prob, new Float32Array([0.9, 0.1]));
  assertEquals(truth, [1, 0]);
});

Deno.test("scoresFromConfusion() computes the seven scores", () => {
  const cases = [
    {
      // accuracy 7/10, sensitivity 3/5, specificity 4/5, precision 3/4, f1 6/(6+1+2) = 6/9,
      // iou 3/(3+1+2) = 1/2, mcc (3·4 − 1·2) / √((3+1)(3+2)(4+1)(4+2)) = 10/√600
      confusion: { tp: 3, fp: 1, tn: 4, fn: 2 },
      scores: {
        accuracy: 0.7,
        sensitivity: 0.6,
        specificity: 0.8,
        precision: 0.75,
        f1: 6 / 9,
        iou: 0.5,
        mcc: 10 / Math.sqrt(600),
      },
    },
    {
      // all correct
      confusion: { tp: 5, fp: 0, tn: 5, fn: 0 },
      scores: {
        accuracy: 1,
        sensitivity: 1,
        specificity: 1,
        precision: 1,
        f1: 1,
        iou: 1,
        mcc: 1,
      },
    },
  ];
  for (const { confusion, scores } of cases) {
    const got = scoresFromConfusion(confusion);
    for (const key of Object.keys(scores) as (keyof typeof scores)[]) {
      assertAlmostEquals(got[key], scores[key], 1e-15, key);
    }
  }
});

Deno.test("scoresFromConfusion() reports 0 where a denominator is 0", () => {
  assertEquals(scoresFromConfusion({ tp: 0, fp: 0, tn: 0, fn: 0 }), {
    accuracy: 0,
    sensitivity: 0,
    specificity: 0,
    precision: 0,
    f1: 0,
    iou: 0,
    mcc: 0,
  });
  // only negatives, all found: no positives (sensitivity 0/0) and none predicted (precision 0/0)
  assertEquals(scoresFromConfusion({ tp: 0, fp: 0, tn: 5, fn: 0 }), {
    accuracy: 1,
    sensitivity: 0,
    specificity: 1,
    precision: 0,
    f1: 0,
    iou: 0,
    mcc: 0,
  });
  // only positives, all predicted: specificity 0/0; mcc 0 (no negatives: degenerate)
  assertEquals(scoresFromConfusion({ tp: 4, fp: 0, tn: 0, fn: 0 }), {
    accuracy: 1,
    sensitivity: 1,
    specificity: 0,
    precision: 1,
    f1: 1,
    iou: 1,
    mcc: 0,
  });
});

Deno.test("jaccardIndex() is tp / (tp + fp + fn), F1 / (2 − F1), and 0 for an empty union", () => {
  const cases = [
    { confusion: { tp: 3, fp: 1, tn: 4, fn: 2 }, iou: 3 / 6 },
    { confusion: { tp: 2, fp: 0, tn: 9, fn: 0 }, iou: 1 },
    { confusion: { tp: 0, fp: 3, tn: 1, fn: 2 }, iou: 0 },
    { confusion: { tp: 1, fp: 2, tn: 100, fn: 1 }, iou: 1 / 4 }, // tn does not count
    { confusion: { tp: 0, fp: 0, tn: 7, fn: 0 }, iou: 0 }, // nothing positive: 0/0 → 0
  ];
  for (const { confusion, iou } of cases) {
    assertEquals(jaccardIndex(confusion), iou, JSON.stringify(confusion));
    const f1 = scoresFromConfusion(confusion).f1;
    assertAlmostEquals(iou, f1 / (2 - f1), 1e-15);
  }
});

Deno.test("matthewsCorrelation() matches hand-computed values", () => {
  const cases = [
    // (3·4 − 1·2) / √(4·5·5·6) = 10 / √600
    { confusion: { tp: 3, fp: 1, tn: 4, fn: 2 }, mcc: 10 / Math.sqrt(600) },
    // perfect and perfectly wrong
    { confusion: { tp: 2, fp: 0, tn: 3, fn: 0 }, mcc: 1 },
    { confusion: { tp: 0, fp: 3, tn: 0, fn: 2 }, mcc: -1 },
    // chance: the prediction says nothing about the truth, (1·1 − 1·1) / … = 0
    { confusion: { tp: 1, fp: 1, tn: 1, fn: 1 }, mcc: 0 },
    // (2·1 − 2·2) / √(4·4·3·3) = −2 / 12
    { confusion: { tp: 2, fp: 2, tn: 1, fn: 2 }, mcc: -1 / 6 },
  ];
  for (const { confusion, mcc } of cases) {
    assertAlmostEquals(matthewsCorrelation(confusion), mcc, 1e-15, JSON.stringify(confusion));
  }
});

Deno.test("matthewsCorrelation() is 0 when a row or column of the matrix is empty", () => {
  const cases = [
    { tp: 0, fp: 0, tn: 4, fn: 2 }, // nothing predicted positive
    { tp: 3, fp: 1, tn: 0, fn: 0 }, // nothing predicted negative
    { tp: 0, fp: 1, tn: 4, fn: 0 }, // nothing truly positive
    { tp: 3, fp: 0, tn: 0, fn: 2 }, // nothing truly negative
    { tp: 0, fp: 0, tn: 0, fn: 0 }, // nothing at all
  ];
  for (const confusion of cases) {
    assertEquals(matthewsCorrelation(confusion), 0, JSON.stringify(confusion));
  }
});

Deno.test("matthewsCorrelation() stays exact and in [-1, 1] at DRIVE's pixel counts", () => {
  // DRIVE's test set: 4 538 143 FOV pixels, 577 649 vessel; products reach ~10^13.
  const perfect = { tp: 577_649, fp: 0, tn: 4_538_143 - 577_649, fn: 0 };
  assertEquals(matthewsCorrelation(perfect), 1);
  const wrong = { tp: 0, fp: perfect.tn, tn: 0, fn: perfect.tp };
  assertEquals(matthewsCorrelation(wrong), -1);
  const some = { tp: 447_460, fp: 108_887, tn: 3_851_607, fn: 130_189 };
  const expected = (447_460 * 3_851_607 - 108_887 * 130_189) /
    Math.sqrt(556_347 * 577_649 * 3_960_494 * 3_981_796);
  assertAlmostEquals(matthewsCorrelation(some), expected, 1e-12);
});

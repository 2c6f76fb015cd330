import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { Random } from "../../../pipeline/random.ts";
import { SegmentationScorer, ThresholdScorer } from "./segmentation_metrics.ts";

Deno.test("SegmentationScorer.result() pools AUC and threshold scores over images", () => {
  const scorer = new SegmentationScorer();
  // image 1, ROI pixels: 0.9/1 tp, 0.6/0 fp, 0.4/1 fn, 0.2/0 tn; 0.7/1 is outside the ROI
  scorer.add(new Float32Array([0.9, 0.6, 0.4, 0.2, 0.7]), [1, 0, 1, 0, 1], [1, 1, 1, 1, 0]);
  // image 2: 0.5/1 tp, 0.5/0 fp
  scorer.add(new Float32Array([0.5, 0.5]), [1, 0], [1, 1]);
  const r = scorer.result();
  // positives {0.9, 0.4, 0.5}, negatives {0.6, 0.2, 0.5}; pairs won by each positive:
  // 0.9: 3; 0.4: 1 (0.2); 0.5: 1 (0.2) + 1/2 (0.5) → 5.5 / 9
  assertAlmostEquals(r.auc, 5.5 / 9, 1e-15);
  // tp 2, fp 2, tn 1, fn 1
  assertAlmostEquals(r.accuracy, 3 / 6, 1e-15);
  assertAlmostEquals(r.sensitivity, 2 / 3, 1e-15);
  assertAlmostEquals(r.specificity, 1 / 3, 1e-15);
  assertAlmostEquals(r.precision, 2 / 4, 1e-15);
  assertAlmostEquals(r.f1, 4 / 7, 1e-15); // 2·2 / (2·2 + 2 + 1)
  assertAlmostEquals(r.iou, 2 / 5, 1e-15); // 2 / (2 + 2 + 1)
  // (2·1 − 2·1) / … = 0
  assertEquals(r.mcc, 0);
  // from the top: 0.9 (pos) R 1/3 P 1; 0.6 (neg); 0.5 (pos and neg tied) R 2/3 P 2/4;
  // 0.4 (pos) R 1 P 3/5; 0.2 (neg) → (1 + 2/4 + 3/5) / 3
  assertAlmostEquals(r.prAuc, (1 + 2 / 4 + 3 / 5) / 3, 1e-15);
  // per image: image 1 tp 1 fp 1 fn 1 → Dice 2/4; image 2 tp 1 fp 1 → Dice 2/3
  assertAlmostEquals(r.dice, (2 / 4 + 2 / 3) / 2, 1e-15);
  assertEquals([r.pixels, r.positives], [6, 3]);
});

Deno.test("SegmentationScorer.perImage() scores each image alone, by id", () => {
  const scorer = new SegmentationScorer();
  // a: 0.9/1 tp, 0.6/0 fp, 0.4/1 fn, 0.2/0 tn (0.7/1 outside the ROI); AUC 3 of 4 pairs
  scorer.add(new Float32Array([0.9, 0.6, 0.4, 0.2, 0.7]), [1, 0, 1, 0, 1], [1, 1, 1, 1, 0], "a");
  // b: no positive inside the ROI, so no AUC; 0.8/0 fp, 0.1/0 tn
  scorer.add(new Float32Array([0.8, 0.1]), [0, 0], [1, 1], "b");
  // no id: numbered from 1
  scorer.add(new Float32Array([0.9, 0.1]), [1, 0], [1, 1]);
  assertEquals(scorer.perImage(), [
    {
      id: "a",
      metrics: {
        auc: 0.75,
        dice: 0.5,
        iou: 1 / 3,
        accuracy: 0.5,
        sensitivity: 0.5,
        specificity: 0.5,
        precision: 0.5,
      },
    },
    {
      id: "b",
      // no true positive to find: no sensitivity (0 / 0)
      metrics: { dice: 0, iou: 0, accuracy: 0.5, specificity: 0.5, precision: 0 },
    },
    {
      id: "3",
      metrics: {
        auc: 1,
        dice: 1,
        iou: 1,
        accuracy: 1,
        sensitivity: 1,
        specificity: 1,
        precision: 1,
      },
    },
  ]);
  // the mean per-image Dice weighs each image alike: (1/2 + 0 + 1) / 3
  assertAlmostEquals(scorer.result().dice, 0.5, 1e-15);
});

Deno.test("ThresholdScorer.result() gives pooled scores and the mean per-image Dice", () => {
  const scorer = new ThresholdScorer(0.3);
  assertEquals(scorer.result().dice, 0); // no image yet
  // image 1: 0.9/1 tp, 0.35/0 fp (>= 0.3), 0.2/1 fn → Dice 2/4
  scorer.add(new Float32Array([0.9, 0.35, 0.2]), [1, 0, 1], [1, 1, 1]);
  // image 2: 0.4/1 tp, 0.1/0 tn, 0.95/0 outside → Dice 1
  scorer.add(new Float32Array([0.4, 0.1, 0.95]), [1, 0, 0], [1, 1, 0]);
  assertEquals(scorer.images, [{ tp: 1, fp: 1, tn: 0, fn: 1 }, { tp: 1, fp: 0, tn: 1, fn: 0 }]);
  const r = scorer.result();
  // pooled tp 2, fp 1, tn 1, fn 1
  assertAlmostEquals(r.f1, 4 / 6, 1e-15);
  assertAlmostEquals(r.iou, 2 / 4, 1e-15);
  // (2·1 − 1·1) / √(3·3·2·2) = 1/6
  assertAlmostEquals(r.mcc, 1 / 6, 1e-15);
  assertAlmostEquals(r.dice, (2 / 4 + 1) / 2, 1e-15);
  assertEquals([r.pixels, r.positives, scorer.threshold], [5, 3, 0.3]);
  assertThrows(() => scorer.add([0.5], [1, 0], [1]), DataError, "got 1, 2 and 1 values");
  assertEquals(scorer.images.length, 2);
});

Deno.test("SegmentationScorer takes its threshold from the constructor", () => {
  const r = new SegmentationScorer(0.8)
    .add(new Float32Array([0.9, 0.6, 0.4, 0.2]), [1, 0, 1, 0], [1, 1, 1, 1])
    .result();
  // only 0.9 >= 0.8: tp 1, fp 0, tn 2, fn 1
  assertEquals(
    [r.accuracy, r.sensitivity, r.specificity, r.precision, r.f1],
    [0.75, 0.5, 1, 1, 2 / 3],
  );
  assertEquals(r.auc, 0.75); // threshold-free: 0.9 wins 2, 0.4 wins 1 of 4
});

Deno.test("SegmentationScorer gives AUC = (Se + Sp) / 2 for binary predictions", () => {
  // A 0/1 prediction is a two-point ROC curve, so its area is (Se + Sp) / 2.
  const rng = new Random(5);
  const length = 20_000;
  const prob = new Float32Array(length), truth = new Float32Array(length);
  const roi = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    truth[i] = rng.next() < 0.2 ? 1 : 0;
    prob[i] = rng.next() < (truth[i] ? 0.7 : 0.1) ? 1 : 0;
    roi[i] = rng.next() < 0.9 ? 1 : 0;
  }
  const r = new SegmentationScorer().add(prob, truth, roi).result();
  assertAlmostEquals(r.auc, (r.sensitivity + r.specificity) / 2, 1e-12);
});

Deno.test("SegmentationScorer.add() rejects NaN before counting anything", () => {
  const scorer = new SegmentationScorer().add([0.9, 0.1], [1, 0], [1, 1]);
  assertThrows(() => scorer.add([0.9, NaN], [1, 0], [1, 1]), DataError, "NaN");
  assertEquals(scorer.result().pixels, 2);
  assertEquals(scorer.perImage().length, 1);
  assertThrows(() => new SegmentationScorer().result(), DataError, "needs both classes");
});

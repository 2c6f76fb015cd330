/**
 * The independent scorer's arithmetic against values worked out by hand on four pixels.
 */
import { ByteHistogram, scoreRange, scoresOf } from "./byte_scores.ts";
import { assertAlmostEquals, assertEquals } from "../../tests/assert.ts";

/** One row of `bytes`, every pixel inside the FOV; `vessel` marks the truth (255) or not (0). */
function histogram(bytes: number[], vessel: boolean[]): ByteHistogram {
  const image = (data: number[]) => ({
    width: data.length,
    height: 1,
    data: Uint8Array.from(data),
  });
  return new ByteHistogram().add(
    image(bytes),
    image(vessel.map((v) => (v ? 255 : 0))),
    image(bytes.map(() => 255)),
  );
}

Deno.test("scoresOf() gives each score from its definition", () => {
  const scores = scoresOf({ tp: 3, fp: 1, tn: 4, fn: 2 });
  assertAlmostEquals(scores.f1, 6 / 9, 1e-15); // 2·3 / (2·3 + 1 + 2)
  assertEquals(scores.accuracy, 0.7);
  assertEquals(scores.sensitivity, 0.6);
  assertEquals(scores.specificity, 0.8);
  assertEquals(scores.precision, 0.75);
  assertEquals(scores.iou, 0.5);
  assertAlmostEquals(scores.mcc, 10 / Math.sqrt(600), 1e-15); // (3·4 − 1·2) / √(4·5·5·6)
  // Nothing predicted: precision is 0 by convention, and so is MCC.
  assertEquals(scoresOf({ tp: 0, fp: 0, tn: 5, fn: 5 }).precision, 0);
  assertEquals(scoresOf({ tp: 0, fp: 0, tn: 5, fn: 5 }).mcc, 0);
});

Deno.test("ByteHistogram counts sure sides of a threshold and bounds the ambiguous byte", () => {
  // Vessels at bytes 200 and 100, background at 128 and 127.
  const counts = histogram([200, 100, 128, 127], [true, true, false, false]);
  // At 0.5 no byte is ambiguous: 128 and up is at or above 0.5 (127.5 · 2 = 255).
  const half = counts.box(0.5);
  assertEquals([half.tp, half.fp, half.ambiguous], [[1, 1], [1, 1], 0]);
  // At 128/255 a map byte of 128 may hold a probability on either side: one background pixel.
  const edge = counts.box(128 / 255);
  assertEquals([edge.tp, edge.fp, edge.ambiguous], [[1, 1], [0, 1], 1]);
  assertEquals(scoreRange(edge, "precision"), [0.5, 1]); // 1 / (1 + 1) to 1 / (1 + 0)
  assertEquals(scoreRange(edge, "sensitivity"), [0.5, 0.5]);
});

Deno.test("ByteHistogram's AUC counts ties as halves and bounds them", () => {
  // 200 beats both background pixels, 100 neither: 2 of 4 pairs.
  assertEquals(histogram([200, 100, 128, 127], [true, true, false, false]).auc(), {
    value: 0.5,
    bound: 0,
  });
  // One pair, tied in byte 128: half a win, and the probabilities may order it either way.
  assertEquals(histogram([128, 128], [true, false]).auc(), { value: 0.5, bound: 0.5 });
  // Average precision from the top: recall 1/2 at precision 1, then 1 at precision 2/4.
  assertEquals(
    histogram([200, 100, 128, 127], [true, true, false, false]).averagePrecision(),
    0.75,
  );
});

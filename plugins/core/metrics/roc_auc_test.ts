import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { Random } from "../../../pipeline/random.ts";
import { averagePrecision } from "./average_precision.ts";
import { RocAccumulator, rocAuc } from "./roc_auc.ts";

/** 2·U by counting every (positive, negative) pair: 2 if ordered, 1 if tied. */
function bruteForceAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  let twiceU = 0;
  for (let i = 0; i < positives.length; i++) {
    for (let j = 0; j < negatives.length; j++) {
      if (positives[i] > negatives[j]) twiceU += 2;
      else if (positives[i] === negatives[j]) twiceU += 1;
    }
  }
  return twiceU / (2 * positives.length * negatives.length);
}

/** Random scores, truth and ROI; `levels` > 0 quantises the scores to k / levels (many ties). */
function randomCase(seed: number, length: number, levels: number) {
  const rng = new Random(seed);
  const prob = new Float32Array(length);
  const truth = new Uint8Array(length);
  const roi = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    truth[i] = rng.next() < 0.3 ? 1 : 0;
    roi[i] = rng.next() < 0.8 ? 1 : 0;
    // positives score a little higher on average, so the AUC is not trivially 0.5
    const u = Math.min(1, rng.next() + 0.2 * truth[i]);
    prob[i] = levels > 0 ? Math.round(u * levels) / levels : u;
  }
  return { prob, truth, roi };
}

function split(prob: Float32Array, truth: ArrayLike<number>, roi: ArrayLike<number>) {
  const positives: number[] = [], negatives: number[] = [];
  for (let i = 0; i < prob.length; i++) {
    if (roi[i] > 0.5) (truth[i] > 0.5 ? positives : negatives).push(prob[i]);
  }
  return { positives, negatives };
}

Deno.test("RocAccumulator.auc() equals a brute-force pair count on random inputs with ties", () => {
  const cases = [
    { levels: 0, length: 500 }, // continuous scores
    { levels: 1, length: 300 }, // binary scores: mostly ties
    { levels: 3, length: 400 },
    { levels: 10, length: 600 },
    { levels: 100, length: 800 },
    { levels: 255, length: 1000 },
  ];
  for (const seed of [1, 2, 3, 42]) {
    for (const { levels, length } of cases) {
      const { prob, truth, roi } = randomCase(seed * 1000 + levels, length, levels);
      // fed in three uneven chunks, as if from three images
      const roc = new RocAccumulator();
      for (const [a, b] of [[0, 7], [7, length >> 1], [length >> 1, length]]) {
        roc.add(prob.subarray(a, b), truth.subarray(a, b), roi.subarray(a, b));
      }
      const { positives, negatives } = split(prob, truth, roi);
      const expected = bruteForceAuc(positives, negatives);
      const label = `seed ${seed}, levels ${levels}`;
      assertEquals(roc.positives, positives.length, label);
      assertEquals(roc.negatives, negatives.length, label);
      assertEquals(roc.auc(), expected, label);
      assertEquals(rocAuc(positives, negatives), expected, label);
    }
  }
});

Deno.test("rocAuc() counts ties as one half", () => {
  const cases: { positives: number[]; negatives: number[]; auc: number; why: string }[] = [
    { positives: [0.9, 0.8], negatives: [0.1, 0.2, 0.3], auc: 1, why: "perfect" },
    { positives: [0.1, 0.2], negatives: [0.8, 0.9, 0.7], auc: 0, why: "inverted" },
    { positives: [0.5, 0.5], negatives: [0.5, 0.5, 0.5], auc: 0.5, why: "all tied" },
    // pairs: 0.8 beats 0.1 and 0.4 (2); 0.4 beats 0.1 (1), ties 0.4 (1/2): 3.5 / 4
    { positives: [0.8, 0.4], negatives: [0.1, 0.4], auc: 0.875, why: "one tie" },
    // 0.5 vs {0.5, 0.5, 0.2}: 1/2 + 1/2 + 1 = 2; 0.2 vs them: 0 + 0 + 1/2; total 2.5 / 6
    { positives: [0.5, 0.2], negatives: [0.5, 0.5, 0.2], auc: 2.5 / 6, why: "several ties" },
    { positives: [3], negatives: [-1], auc: 1, why: "any scores, not just [0, 1]" },
  ];
  for (const { positives, negatives, auc, why } of cases) {
    assertEquals(rocAuc(positives, negatives), auc, why);
    assertEquals(bruteForceAuc(positives, negatives), auc, `brute force: ${why}`);
    const roc = new RocAccumulator();
    roc.add(new Float32Array([...positives, ...negatives]), [
      ...positives.map(() => 1),
      ...negatives.map(() => 0),
    ], [...positives, ...negatives].map(() => 1));
    assertAlmostEquals(roc.auc(), auc, 1e-15, `accumulator: ${why}`);
  }
});

Deno.test("rocAuc() does not modify its inputs", () => {
  const positives = [0.3, 0.9, 0.1];
  const negatives = new Float32Array([0.8, 0.2]);
  rocAuc(positives, negatives);
  assertEquals(positives, [0.3, 0.9, 0.1]);
  assertEquals(negatives, new Float32Array([0.8, 0.2]));
});

Deno.test("RocAccumulator.auc() throws a clear error without positives or negatives", () => {
  assertThrows(() => new RocAccumulator().auc(), DataError, "0 positive and 0 negative");
  const noPositives = new RocAccumulator().add([0.3, 0.8, 0.9], [0, 0, 1], [1, 1, 0]);
  assertThrows(() => noPositives.auc(), DataError, "needs both classes");
  const noNegatives = new RocAccumulator().add([0.3, 0.8], [1, 1], [1, 1]);
  assertThrows(() => noNegatives.auc(), DataError, "2 positive and 0 negative");
  assertThrows(() => rocAuc([], [0.5]), DataError, "needs both classes");
});

Deno.test("RocAccumulator.add() rejects NaN and bad lengths without keeping the image", () => {
  const roc = new RocAccumulator().add([0.9, 0.1], [1, 0], [1, 1]);
  assertThrows(() => roc.add([0.8, NaN], [1, 0], [1, 1]), DataError, "index 1 is NaN");
  assertThrows(() => roc.add([0.8], [1, 0], [1, 1]), DataError, "got 1, 2 and 2");
  assertEquals([roc.positives, roc.negatives], [1, 1]);
  assertEquals(roc.auc(), 1);
  // NaN outside the ROI is ignored
  roc.add([NaN], [1], [0]);
  assertThrows(() => rocAuc([NaN], [0.5]), DataError, "NaN");
});

Deno.test("RocAccumulator.auc() is exact on 4.5 M pixels in a few seconds", () => {
  // 4.5 M scores quantised to 256 levels, checked against a histogram count:
  // 2U = sum over levels k of pos[k] · (2 · negatives below k + neg[k]).
  const length = 4_500_000, levels = 255;
  const rng = new Random(9);
  const prob = new Float32Array(length);
  const truth = new Uint8Array(length);
  const roi = new Uint8Array(length).fill(1);
  const pos = new Float64Array(levels + 1), neg = new Float64Array(levels + 1);
  for (let i = 0; i < length; i++) {
    truth[i] = rng.next() < 0.13 ? 1 : 0;
    const k = Math.min(levels, Math.floor((rng.next() + 0.3 * truth[i]) * levels));
    prob[i] = k / levels;
    (truth[i] ? pos : neg)[k]++;
  }
  let twiceU = 0, below = 0, p = 0, n = 0;
  for (let k = 0; k <= levels; k++) {
    twiceU += pos[k] * (2 * below + neg[k]);
    below += neg[k];
    p += pos[k];
    n += neg[k];
  }
  const start = performance.now();
  const roc = new RocAccumulator();
  const image = 330_000; // about one DRIVE field of view per add()
  for (let a = 0; a < length; a += image) {
    const b = Math.min(length, a + image);
    roc.add(prob.subarray(a, b), truth.subarray(a, b), roi.subarray(a, b));
  }
  const auc = roc.auc();
  const ap = roc.averagePrecision(); // the same sorted arrays, not sorted again
  const seconds = (performance.now() - start) / 1000;
  assertEquals(auc, twiceU / (2 * p * n));
  // AP from the histogram: each level k from the top with positives adds pos[k] at precision
  // tp / (tp + fp) of the pixels at k or above.
  let sum = 0, tp = 0, fp = 0;
  for (let k = levels; k >= 0; k--) {
    tp += pos[k];
    fp += neg[k];
    if (pos[k] > 0) sum += pos[k] * (tp / (tp + fp));
  }
  assertAlmostEquals(ap, sum / p, 1e-12);
  if (seconds > 10) throw new Error(`auc() on 4.5 M pixels took ${seconds.toFixed(1)} s`);
});

Deno.test("RocAccumulator.averagePrecision() equals averagePrecision() of the pooled pixels", () => {
  for (const levels of [0, 1, 10, 255]) {
    const { prob, truth, roi } = randomCase(77 + levels, 900, levels);
    const roc = new RocAccumulator();
    roc.add(prob.subarray(0, 300), truth.subarray(0, 300), roi.subarray(0, 300));
    // Sorting for one area, then adding more, must not leave stale order behind.
    const early = split(prob.subarray(0, 300), truth.subarray(0, 300), roi.subarray(0, 300));
    assertEquals(roc.auc(), rocAuc(early.positives, early.negatives), `levels ${levels}`);
    roc.add(prob.subarray(300), truth.subarray(300), roi.subarray(300));
    const { positives, negatives } = split(prob, truth, roi);
    const expected = averagePrecision(positives, negatives);
    assertEquals(roc.averagePrecision(), expected, `levels ${levels}`);
    assertEquals(roc.auc(), rocAuc(positives, negatives), `levels ${levels}`);
    assertEquals(roc.averagePrecision(), expected, `levels ${levels}, asked twice`);
  }
  assertThrows(() => new RocAccumulator().add([0.5], [0], [1]).averagePrecision(), DataError);
});

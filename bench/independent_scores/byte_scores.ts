/**
 * Segmentation scores from a byte histogram of probability maps saved as 8-bit images: each
 * threshold score of a confusion matrix from its definition, the confusion matrices a
 * threshold can give when only the bytes are known (and each score's least and greatest value
 * over them), the ROC AUC with the bound ties leave, and the average precision. Pure
 * arithmetic, for `score.ts`; see its module doc for the rounding rule.
 *
 * @module
 */
import type { GreyImage } from "./decode.ts";
import { MARKED_ABOVE } from "./drive.ts";

/** A confusion matrix inside the FOV. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** The threshold scores, in the order metrics.json lists them. */
export const THRESHOLD_SCORES = [
  "f1",
  "accuracy",
  "sensitivity",
  "specificity",
  "precision",
  "iou",
  "mcc",
] as const;
export type ThresholdScore = typeof THRESHOLD_SCORES[number];

/** a / b, or 0 where b is 0 (as for precision with nothing predicted). */
export function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** Every threshold score of a confusion matrix, from its definition. */
export function scoresOf({ tp, fp, tn, fn }: Confusion): Record<ThresholdScore, number> {
  const root = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return {
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    accuracy: ratio(tp + tn, tp + fp + tn + fn),
    sensitivity: ratio(tp, tp + fn),
    specificity: ratio(tn, tn + fp),
    precision: ratio(tp, tp + fp),
    iou: ratio(tp, tp + fp + fn),
    mcc: root === 0 ? 0 : (tp * tn - fp * fn) / root,
  };
}

/**
 * The confusion matrices a threshold can give when only the bytes are known: the true
 * positives anywhere in `tp`, the false positives anywhere in `fp`, independently.
 */
export interface CountBox {
  vessels: number;
  backgrounds: number;
  tp: readonly [number, number];
  fp: readonly [number, number];
  /** Bytes at or above this are surely at or above the threshold. */
  sureFrom: number;
  /** FOV pixels whose byte leaves their side of the threshold open. */
  ambiguous: number;
}

/** The matrix of a box's counts at `tp` and `fp`. */
export function confusionAt(box: CountBox, tp: number, fp: number): Confusion {
  return { tp, fp, fn: box.vessels - tp, tn: box.backgrounds - fp };
}

/** A score computed as if every ambiguous pixel were at or above the threshold. */
export function scoreAtUpper(box: CountBox, name: ThresholdScore): number {
  return scoresOf(confusionAt(box, box.tp[1], box.fp[1]))[name];
}

/**
 * The least and greatest value of a score over a box. All but MCC grow with tp and shrink
 * with fp, so their extremes are two corners; MCC is bounded through its numerator
 * (tp·N − fp·P) and denominator (√(P·N·s·(T − s)), s = tp + fp) separately.
 */
export function scoreRange(box: CountBox, name: ThresholdScore): [number, number] {
  const [tpLow, tpHigh] = box.tp, [fpLow, fpHigh] = box.fp;
  if (tpLow === tpHigh && fpLow === fpHigh) {
    const value = scoresOf(confusionAt(box, tpLow, fpLow))[name];
    return [value, value];
  }
  if (name !== "mcc") {
    return [
      scoresOf(confusionAt(box, tpLow, fpHigh))[name],
      scoresOf(confusionAt(box, tpHigh, fpLow))[name],
    ];
  }
  const p = box.vessels, n = box.backgrounds, total = p + n;
  const numeratorLow = tpLow * n - fpHigh * p, numeratorHigh = tpHigh * n - fpLow * p;
  const sLow = tpLow + fpLow, sHigh = tpHigh + fpHigh;
  // s·(T − s) is concave in s: least at an end of [sLow, sHigh], greatest at T/2 if inside.
  const spread = (s: number) => s * (total - s);
  const spreadLow = Math.min(spread(sLow), spread(sHigh));
  const spreadHigh = sLow <= total / 2 && total / 2 <= sHigh
    ? spread(total / 2)
    : Math.max(spread(sLow), spread(sHigh));
  if (spreadLow === 0) return [-1, 1]; // the box reaches "all one class", where MCC is 0 by convention
  const over = (numerator: number, s: number) => numerator / Math.sqrt(p * n * s);
  return [
    numeratorLow >= 0 ? over(numeratorLow, spreadHigh) : over(numeratorLow, spreadLow),
    numeratorHigh >= 0 ? over(numeratorHigh, spreadLow) : over(numeratorHigh, spreadHigh),
  ];
}

/** Vessel and background FOV pixels by their map byte: all any score here needs. */
export class ByteHistogram {
  readonly vessel = new Float64Array(256);
  readonly background = new Float64Array(256);

  /** Counts the FOV pixels of one map. */
  add(map: GreyImage, truth: GreyImage, fov: GreyImage): this {
    for (let i = 0; i < map.data.length; i++) {
      if (fov.data[i] <= MARKED_ABOVE) continue;
      if (truth.data[i] > MARKED_ABOVE) this.vessel[map.data[i]]++;
      else this.background[map.data[i]]++;
    }
    return this;
  }

  /** Adds another histogram's counts (pooling images). */
  merge(other: ByteHistogram): this {
    for (let b = 0; b < 256; b++) {
      this.vessel[b] += other.vessel[b];
      this.background[b] += other.background[b];
    }
    return this;
  }

  get vessels(): number {
    return this.vessel.reduce((a, b) => a + b, 0);
  }

  get backgrounds(): number {
    return this.background.reduce((a, b) => a + b, 0);
  }

  /** The confusion matrices threshold `t` can give (see the module doc for the rule). */
  box(t: number): CountBox {
    // 255·t is exact for the thresholds metrics.json holds (float32 scores, a 1/4096 grid).
    const scaled = 255 * t;
    const sureFrom = Math.ceil(scaled + 0.5), sureBelowUpTo = Math.floor(scaled - 0.5);
    const sum = (counts: Float64Array, from: number) =>
      counts.subarray(Math.max(0, from)).reduce((a, b) => a + b, 0);
    let ambiguous = 0;
    for (let b = sureBelowUpTo + 1; b < sureFrom; b++) {
      ambiguous += this.vessel[b] + this.background[b];
    }
    return {
      vessels: this.vessels,
      backgrounds: this.backgrounds,
      tp: [sum(this.vessel, sureFrom), sum(this.vessel, sureBelowUpTo + 1)],
      fp: [sum(this.background, sureFrom), sum(this.background, sureBelowUpTo + 1)],
      sureFrom,
      ambiguous,
    };
  }

  /**
   * The ROC AUC of the bytes (Mann–Whitney: a vessel pixel above a background one counts 1, a
   * tie one half), and how far the probabilities' own AUC can be from it: half the share of
   * pairs tied in a byte, which the probabilities may order either way.
   */
  auc(): { value: number; bound: number } {
    let below = 0, wins = 0, ties = 0;
    for (let b = 0; b < 256; b++) {
      wins += this.vessel[b] * (below + 0.5 * this.background[b]);
      ties += this.vessel[b] * this.background[b];
      below += this.background[b];
    }
    const pairs = this.vessels * this.backgrounds;
    return { value: wins / pairs, bound: 0.5 * ties / pairs };
  }

  /** Average precision (as scikit-learn defines it) over the byte thresholds, from the top. */
  averagePrecision(): number {
    let tp = 0, fp = 0, lastRecall = 0, sum = 0;
    for (let b = 255; b >= 0; b--) {
      if (!this.vessel[b] && !this.background[b]) continue;
      tp += this.vessel[b];
      fp += this.background[b];
      const recall = tp / this.vessels;
      sum += (recall - lastRecall) * (tp / (tp + fp));
      lastRecall = recall;
    }
    return sum;
  }
}

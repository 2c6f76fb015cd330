/**
 * Validation by image: which training images are held out whole (so no
 * patch of them is ever trained on), and how predictions on their patches
 * score (binary cross-entropy and Dice, pooled).
 *
 * @module
 */
import { CapillaryError, type Random } from "../../../mod.ts";

/**
 * Holds `count` of `samples` out for validation, chosen at random; the rest
 * train. Both keep the samples' order.
 *
 * @param samples The training samples.
 * @param count How many to hold out (0: none).
 * @param random Where the choice comes from.
 * @returns The two parts.
 * @throws {CapillaryError} When `count` would leave no image to train on.
 *
 * @example Usage
 * ```ts
 * import { splitByImage } from "./validation.ts";
 * import { Random } from "../../../mod.ts";
 * const samples = ["a", "b", "c", "d"].map((id) => ({ id }));
 * const { train, validation } = splitByImage(samples, 1, new Random(1));
 * console.assert(train.length === 3 && validation.length === 1);
 * console.assert(!train.some((s) => s.id === validation[0].id));
 * ```
 */
export function splitByImage<T extends { readonly id: string }>(
  samples: readonly T[],
  count: number,
  random: Random,
): { train: T[]; validation: T[] } {
  if (count >= samples.length) {
    throw new CapillaryError(
      `Cannot hold out ${count} validation images of ${samples.length}: none would be left to ` +
        `train on; lower train.validation.images`,
    );
  }
  const held = new Set(random.shuffle([...samples.keys()]).slice(0, count));
  return {
    train: samples.filter((_, i) => !held.has(i)),
    validation: samples.filter((_, i) => held.has(i)),
  };
}

/** Binary cross-entropy's clamp, as Keras and TensorFlow.js use it. */
const EPSILON = 1e-7;

/**
 * Pools binary cross-entropy and Dice (at 0.5) over batches of predictions,
 * and keeps the highest probability seen: Dice 0 with a highest probability
 * below 0.5 means the network ranks pixels but marks none (see
 * {@link belowThresholdWarning}).
 *
 * @example Usage
 * ```ts
 * import { ValidationScorer } from "./validation.ts";
 * const scorer = new ValidationScorer();
 * scorer.add(new Float32Array([0.9, 0.2]), new Float32Array([1, 0]));
 * const { dice } = scorer.result();
 * console.assert(dice === 1);
 * ```
 */
export class ValidationScorer {
  #loss = 0;
  #count = 0;
  #tp = 0;
  #fp = 0;
  #fn = 0;
  #highest = -Infinity;
  #lowest = Infinity;

  /** Adds predictions `p` (probabilities) and their targets `y` (0 or 1). */
  add(p: ArrayLike<number>, y: ArrayLike<number>): void {
    for (let i = 0; i < p.length; i++) {
      const q = Math.min(1 - EPSILON, Math.max(EPSILON, p[i]));
      const positive = y[i] > 0.5;
      this.#loss -= positive ? Math.log(q) : Math.log(1 - q);
      if (p[i] > this.#highest) this.#highest = p[i];
      if (p[i] < this.#lowest) this.#lowest = p[i];
      const predicted = p[i] >= 0.5;
      if (predicted && positive) this.#tp++;
      else if (predicted) this.#fp++;
      else if (positive) this.#fn++;
    }
    this.#count += p.length;
  }

  /**
   * Mean cross-entropy, Dice (1 when neither predictions nor targets have a
   * positive), the highest and lowest probabilities (NaN before any
   * prediction) and whether any target was positive.
   */
  result(): ValidationScores {
    const denominator = 2 * this.#tp + this.#fp + this.#fn;
    return {
      loss: this.#count ? this.#loss / this.#count : NaN,
      dice: denominator ? (2 * this.#tp) / denominator : 1,
      highestProbability: this.#count ? this.#highest : NaN,
      lowestProbability: this.#count ? this.#lowest : NaN,
      anyPositive: this.#tp + this.#fn > 0,
    };
  }
}

/** What {@link ValidationScorer.result} returns. */
export interface ValidationScores {
  /** Mean binary cross-entropy. */
  readonly loss: number;
  /** Dice at 0.5, pooled over every pixel. */
  readonly dice: number;
  /** The highest predicted probability. */
  readonly highestProbability: number;
  /** The lowest predicted probability. */
  readonly lowestProbability: number;
  /** Whether any target pixel was positive. */
  readonly anyPositive: boolean;
}

/**
 * Below this spread of the validation probabilities a network that marks no
 * pixel is taken to predict one value everywhere, as drive.yaml's collapsed
 * run did (AUC 0.5, highest probability 0.077 to 0.080 over its epochs).
 */
const PLATEAU_SPREAD = 0.05;

/**
 * A warning for validation scores whose network marks no pixel at 0.5 though
 * vessels are there, or `undefined`; a network that gives every pixel about
 * the same probability gets its own (the all-background plateau). A network can rank pixels well and still
 * stay below 0.5 everywhere: with a ReLU head whose output weights are all
 * negative, "vessel" is every head channel off, and the probability cannot
 * exceed sigmoid(bias). The loss falls, Dice stays 0.
 *
 * @example Usage
 * ```ts
 * import { belowThresholdWarning } from "./validation.ts";
 * const scores = {
 *   loss: 0.11,
 *   dice: 0,
 *   highestProbability: 0.423,
 *   lowestProbability: 0.01,
 *   anyPositive: true,
 * };
 * console.assert(belowThresholdWarning(scores)!.includes("0.423"));
 * console.assert(belowThresholdWarning({ ...scores, dice: 0.5, highestProbability: 0.9 }) === undefined);
 * ```
 */
export function belowThresholdWarning(scores: ValidationScores): string | undefined {
  if (!scores.anyPositive || !(scores.highestProbability < 0.5)) return undefined;
  const [low, high] = [scores.lowestProbability, scores.highestProbability].map((p) =>
    p.toFixed(3)
  );
  if (scores.highestProbability - scores.lowestProbability < PLATEAU_SPREAD) {
    return `every validation pixel got about the same probability (${low} to ${high}): the ` +
      "network predicts background everywhere and ranks nothing (the all-background plateau). " +
      "It may leave it within an epoch or two, or never; a longer warm-up " +
      "(train.schedule: {use: core/cosine, with: {warmupEpochs: 0.5}}) took one such run out of " +
      "it within its first epoch (TRIALS.md, thirteenth and fourteenth rounds), and another seed " +
      "starts from other weights";
  }
  return `no validation pixel reached 0.5 (highest probability ${high}), so Dice is 0 at 0.5 ` +
    "though the loss may fall: the network ranks pixels but marks none. " +
    "If it persists, try the optimizer drive.yaml uses (SGD, learningRate 0.3, momentum 0.9, " +
    "nesterov) or more epochs; the evaluation's AUC and chosen threshold do not depend on 0.5";
}

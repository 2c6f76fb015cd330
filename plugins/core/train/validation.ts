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
 * Pools binary cross-entropy and Dice (at 0.5) over batches of predictions.
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

  /** Adds predictions `p` (probabilities) and their targets `y` (0 or 1). */
  add(p: ArrayLike<number>, y: ArrayLike<number>): void {
    for (let i = 0; i < p.length; i++) {
      const q = Math.min(1 - EPSILON, Math.max(EPSILON, p[i]));
      const positive = y[i] > 0.5;
      this.#loss -= positive ? Math.log(q) : Math.log(1 - q);
      const predicted = p[i] >= 0.5;
      if (predicted && positive) this.#tp++;
      else if (predicted) this.#fp++;
      else if (positive) this.#fn++;
    }
    this.#count += p.length;
  }

  /** Mean cross-entropy, and Dice (1 when neither predictions nor targets have a positive). */
  result(): { loss: number; dice: number } {
    const denominator = 2 * this.#tp + this.#fp + this.#fn;
    return {
      loss: this.#count ? this.#loss / this.#count : NaN,
      dice: denominator ? (2 * this.#tp) / denominator : 1,
    };
  }
}

/**
 * `extras/dice_bce`: soft Dice plus binary cross-entropy, per patch, a loss
 * `core/train` trains with through `loss: { use: extras/dice_bce, with: { ... } }`.
 * Dice counts every patch alike whatever its share of foreground, which
 * cross-entropy alone does not; the sum of the two is a common choice for
 * thin structures (MONAI's `DiceCELoss`).
 *
 * @module
 */
import { defineLoss, tf, z } from "@capillary/capillary";

/** Options of `extras/dice_bce`. */
export const diceBceOptions = z.object({
  bceWeight: z.number().min(0).default(1).describe("Weight of the cross-entropy beside the Dice."),
  smooth: z.number().positive().default(1).describe(
    "Added to the Dice's numerator and denominator, so an empty patch predicted empty scores 0.",
  ),
}).strict();

/** Probabilities are clipped this far from 0 and 1 before their logarithm. */
const EPSILON = 1e-7;

/** The `extras/dice_bce` loss: one value per patch. */
export const diceBce = defineLoss({
  name: "dice_bce",
  description: "Soft Dice plus weighted binary cross-entropy, one loss per patch.",
  options: diceBceOptions,
  create: ({ bceWeight, smooth }) => (yTrue, yPred) =>
    tf.tidy(() => {
      const axes = [1, 2, 3];
      const p = tf.clipByValue(yPred, EPSILON, 1 - EPSILON);
      const bce = tf.neg(tf.add(
        tf.mul(yTrue, tf.log(p)),
        tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p))),
      ));
      const overlap = tf.sum(tf.mul(yTrue, yPred), axes);
      const total = tf.add(tf.sum(yTrue, axes), tf.sum(yPred, axes));
      const dice = tf.sub(1, tf.div(tf.add(tf.mul(2, overlap), smooth), tf.add(total, smooth)));
      return tf.add(tf.mul(tf.mean(bce, axes), bceWeight), dice);
    }),
});

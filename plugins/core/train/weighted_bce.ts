/**
 * Binary cross-entropy with a weight on the foreground pixels, for classes
 * as uneven as vessels (about 1 pixel in 8) and background.
 *
 * @module
 */
import type { Tf } from "../../../mod.ts";

type Tensor = import("@tensorflow/tfjs").Tensor;

/**
 * The per-pixel loss `−(w·y·log p + (1 − y)·log(1 − p))`, with `p` clamped
 * to [1e-7, 1 − 1e-7] as Keras does; `w = 1` is plain binary cross-entropy.
 *
 * @param tf The TensorFlow.js runtime.
 * @param positiveWeight `w`, the weight of foreground pixels.
 * @returns A loss for `model.compile`.
 *
 * @example Usage
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { weightedBinaryCrossentropy } from "./weighted_bce.ts";
 * const loss = weightedBinaryCrossentropy(tf, 3);
 * const value = loss(tf.tensor([1, 0]), tf.tensor([0.5, 0.5])).dataSync();
 * console.assert(Math.abs(value[0] - 3 * Math.LN2) < 1e-6 && Math.abs(value[1] - Math.LN2) < 1e-6);
 * ```
 */
export function weightedBinaryCrossentropy(
  tf: Tf,
  positiveWeight: number,
): (yTrue: Tensor, yPred: Tensor) => Tensor {
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const p = tf.clipByValue(yPred, 1e-7, 1 - 1e-7);
      const positive = tf.mul(tf.mul(yTrue, tf.log(p)), positiveWeight);
      const negative = tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p)));
      return tf.neg(tf.add(positive, negative));
    });
}

/**
 * Inputs for the ConvLSTM cell's tests: gate pre-activations of which some
 * sit exactly on the hard sigmoid's corners, and a state and loss weights.
 *
 * @module
 */
import { tf } from "../../../mod.ts";

/** What {@link cellInputs} makes, for `[...shape, F]` states. */
export interface CellInputs {
  /** `[...shape, 4F]` in −4…4, about 15 % of them exactly ±2.5. */
  readonly gates: tf.Tensor;
  /** `[...shape, F]` in −1…1: a previous state. */
  readonly state: tf.Tensor;
  /** `[...shape, F]` weights of `h` and `c` in a loss of both. */
  readonly wh: tf.Tensor;
  readonly wc: tf.Tensor;
}

/**
 * Seeded inputs for a cell of `f` channels over pixels `shape`. Some gates
 * lie exactly on the hard sigmoid's corners (±2.5), where clip's gradient
 * still passes, so that a gradient's bounds are tested too.
 */
export function cellInputs(shape: number[], f: number): CellInputs {
  const gates = tf.tidy(() => {
    const z = tf.randomUniform([...shape, 4 * f], -4, 4, "float32", 1);
    const corner = tf.randomUniform([...shape, 4 * f], 0, 1, "float32", 2);
    const sign = tf.sign(tf.randomUniform([...shape, 4 * f], -1, 1, "float32", 3));
    return tf.where(tf.less(corner, 0.15), tf.mul(sign, 2.5), z);
  });
  const [state, wh, wc] = [4, 5, 6].map((seed) =>
    tf.randomUniform([...shape, f], -1, 1, "float32", seed)
  );
  return { gates, state, wh, wc };
}

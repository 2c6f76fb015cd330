/**
 * The gradient of a max pool whose windows tile its input (stride equal to
 * the window, no padding), as a U-Net's 2×2 pools are: each window passes its
 * output's gradient to its last largest input, in row-major order, and every
 * other input gets zero. One pass, where tfjs-backend-wasm's `MaxPoolGrad`
 * searches a window again for each of its inputs. That kernel picks the same
 * input wherever a window's largest value is positive (after a ReLU, every
 * window that passes a gradient on); a window of values all ≤ 0 it sends to
 * its first input, largest or not (as if its search started from the
 * smallest positive float; seen 2026-12-07), where this sends it to a
 * largest one.
 *
 * @module
 */

/**
 * Writes the input gradient `dx` of a tiled max pool.
 *
 * @param x The pool's input, `[batch, height, width, channels]` row-major.
 * @param dy The gradient of its output, `[batch, ⌊height / ph⌋, ⌊width / pw⌋, channels]`.
 * @param dx Where the input gradient goes, shaped as `x`.
 * @param shape `[batch, height, width, channels]` of `x`.
 * @param window `[ph, pw]`, the window and the stride.
 *
 * @example A 2×2 pool of one 2×4 channel: the last 9 wins a tie
 * ```ts
 * import { assertEquals } from "../../tests/assert.ts";
 * import { maxPoolGradTiled } from "./max_pool_grad.ts";
 *
 * const x = new Float32Array([1, 9, 4, 4, 9, 2, 4, 3]);
 * const dx = new Float32Array(8);
 * maxPoolGradTiled(x, new Float32Array([10, 20]), dx, [1, 2, 4, 1], [2, 2]);
 * assertEquals(Array.from(dx), [0, 0, 0, 0, 10, 0, 20, 0]);
 * ```
 */
export function maxPoolGradTiled(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  shape: readonly number[],
  window: readonly number[],
): void {
  // Read by index as int32: destructured shape arrays cost this loop its optimised code in training.
  const batch = shape[0] | 0, height = shape[1] | 0, width = shape[2] | 0, channels = shape[3] | 0;
  const ph = window[0] | 0, pw = window[1] | 0;
  const outHeight = Math.floor(height / ph), outWidth = Math.floor(width / pw);
  const row = width * channels;
  dx.fill(0);
  let out = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const corner = ((b * height + oy * ph) * width + ox * pw) * channels;
        if (ph === 2 && pw === 2) {
          // The usual window, unrolled: four reads and three comparisons a channel.
          for (let c = 0; c < channels; c++, out++) {
            const topLeft = corner + c, bottomLeft = topLeft + row;
            let at = topLeft, best = x[topLeft];
            if (x[topLeft + channels] >= best) best = x[at = topLeft + channels];
            if (x[bottomLeft] >= best) best = x[at = bottomLeft];
            if (x[bottomLeft + channels] >= best) at = bottomLeft + channels;
            dx[at] = dy[out];
          }
          continue;
        }
        for (let c = 0; c < channels; c++, out++) {
          let at = corner + c;
          let best = x[at];
          for (let wy = 0; wy < ph; wy++) {
            for (let wx = wy === 0 ? 1 : 0; wx < pw; wx++) {
              const i = corner + wy * row + wx * channels + c;
              if (x[i] >= best) {
                best = x[i];
                at = i;
              }
            }
          }
          dx[at] = dy[out];
        }
      }
    }
  }
}

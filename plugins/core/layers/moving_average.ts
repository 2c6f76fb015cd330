/**
 * A batch norm's moving statistic moved toward the batch's in one kernel:
 * tfjs-layers does it in three (a subtraction, a product with a scalar it
 * makes anew each time, and another subtraction), for the mean and the
 * variance of every batch norm in every step; each costs the engine's
 * bookkeeping for a few dozen values.
 *
 * @module
 */
import { registerHostKernel, tf } from "../../../mod.ts";

/** The kernel's name: inputs `current` and `value`, attribute `momentum`. */
export const MOVING_AVERAGE = "CapillaryMovingAverage";

/**
 * `current − (current − value) · (1 − momentum)` into `out`, rounding to
 * float32 after each operation as tfjs-layers' three float32 kernels do
 * (float64 arithmetic of float32 operands, rounded once, is the float32
 * result), so that the statistics are the same bit for bit.
 *
 * @param current The moving statistic.
 * @param value The batch's statistic.
 * @param momentum How much of `current` stays (tfjs-layers' default 0.99).
 * @param out Where the new statistic goes (may be `current`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "../../../tests/assert.ts";
 * import { movingAverage } from "./moving_average.ts";
 *
 * const out = new Float32Array(2);
 * movingAverage(new Float32Array([1, 0]), new Float32Array([3, 4]), 0.75, out);
 * assertEquals(Array.from(out), [1.5, 1]); // 1 − (1 − 3)·0.25, 0 − (0 − 4)·0.25
 * ```
 */
export function movingAverage(
  current: Float32Array,
  value: Float32Array,
  momentum: number,
  out: Float32Array,
): void {
  const decay = Math.fround(1 - momentum);
  for (let i = 0; i < current.length; i++) {
    out[i] = Math.fround(current[i] - Math.fround(Math.fround(current[i] - value[i]) * decay));
  }
}

/**
 * Registers {@link MOVING_AVERAGE} on the backends with host memory (`wasm`,
 * `cpu`); elsewhere a batch norm keeps tfjs-layers' three kernels.
 */
export function registerMovingAverageKernel(): void {
  registerHostKernel(tf, MOVING_AVERAGE, (memory, { current, value }, { momentum }) => {
    if (tf.util.sizeFromShape(current.shape) !== tf.util.sizeFromShape(value.shape)) {
      throw new Error(`${MOVING_AVERAGE}: [${current.shape}] and [${value.shape}] differ in size`);
    }
    const out = memory.output(current.shape);
    // Views after the output: allocating may grow the wasm heap and replace its buffer.
    movingAverage(memory.view(current), memory.view(value), momentum as number, memory.view(out));
    return out;
  });
}

registerMovingAverageKernel();

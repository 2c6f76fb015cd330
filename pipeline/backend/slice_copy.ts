/**
 * Copies a box out of a row-major array into another, one contiguous run of
 * the innermost axis at a time: what a `Slice` kernel does once it can read
 * and write the backend's memory in place.
 *
 * @module
 */

/** A typed array that `set` and `subarray` copy between. */
export type NumericArray = Float32Array | Int32Array | Uint8Array;

/**
 * Copies `source[starts … starts + sizes)` of a row-major array of shape
 * `dims` into `target`, in row-major order from `targetOffset`.
 *
 * @param source The whole array, `dims` in row-major order.
 * @param dims Its shape (rank 0 is one value).
 * @param starts Where the box begins on each axis.
 * @param sizes The box's extent on each axis.
 * @param target Where the box goes.
 * @param targetOffset Where in `target` it starts.
 * @returns How many values were copied.
 * @throws {RangeError} When the box leaves the array, or the ranks differ.
 *
 * @example The middle column of a 3×3 array
 * ```ts
 * import { assertEquals } from "../../tests/assert.ts";
 * import { copySlice } from "./slice_copy.ts";
 *
 * const source = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
 * const target = new Float32Array(3);
 * assertEquals(copySlice(source, [3, 3], [0, 1], [3, 1], target), 3);
 * assertEquals(Array.from(target), [2, 5, 8]);
 * ```
 */
export function copySlice(
  source: NumericArray,
  dims: readonly number[],
  starts: readonly number[],
  sizes: readonly number[],
  target: NumericArray,
  targetOffset = 0,
): number {
  if (dims.length === 0) {
    target[targetOffset] = source[0];
    return 1;
  }
  const rank = dims.length;
  if (starts.length !== rank || sizes.length !== rank) {
    throw new RangeError(
      `a slice of rank ${starts.length}/${sizes.length} of a rank-${rank} array`,
    );
  }
  dims.forEach((n, axis) => {
    if (starts[axis] < 0 || sizes[axis] < 0 || starts[axis] + sizes[axis] > n) {
      throw new RangeError(
        `axis ${axis}: [${starts[axis]}, ${starts[axis] + sizes[axis]}) leaves 0…${n}`,
      );
    }
  });
  const count = sizes.reduce((n, s) => n * s, 1);
  if (count === 0) return 0;
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let axis = rank - 2; axis >= 0; axis--) strides[axis] = strides[axis + 1] * dims[axis + 1];
  const run = sizes[rank - 1];
  const runs = count / run;
  const index = new Array<number>(rank - 1).fill(0);
  let at = targetOffset;
  for (let r = 0; r < runs; r++) {
    let from = starts[rank - 1];
    for (let axis = 0; axis < rank - 1; axis++) {
      from += (starts[axis] + index[axis]) * strides[axis];
    }
    target.set(source.subarray(from, from + run), at);
    at += run;
    // The next run: count the outer axes up like an odometer.
    for (let axis = rank - 2; axis >= 0; axis--) {
      if (++index[axis] < sizes[axis]) break;
      index[axis] = 0;
    }
  }
  return count;
}

import { copySlice } from "./slice_copy.ts";
import { assertEquals, assertThrows } from "../../tests/assert.ts";

// A 2×3×4 array whose value is its own index: 0 … 23, so each copied value says where it came from.
const source = Float32Array.from({ length: 24 }, (_, i) => i);

Deno.test("copySlice() takes a 3-D box run by run, in row-major order", () => {
  const target = new Float32Array(2 * 2 * 2);
  // Rows 1–2 and columns 1–2 of both planes: (p, r, c) → 12p + 4r + c.
  assertEquals(copySlice(source, [2, 3, 4], [0, 1, 1], [2, 2, 2], target), 8);
  assertEquals(Array.from(target), [5, 6, 9, 10, 17, 18, 21, 22]);
});

Deno.test("copySlice() writes from an offset and leaves the rest of the target", () => {
  const target = new Int32Array([-1, -1, -1, -1, -1]);
  copySlice(Int32Array.from(source), [2, 3, 4], [1, 2, 3], [1, 1, 1], target, 2);
  assertEquals(Array.from(target), [-1, -1, 23, -1, -1]);
});

Deno.test("copySlice() copies a whole array, a scalar, and nothing for an empty box", () => {
  const whole = new Float32Array(24);
  assertEquals(copySlice(source, [24], [0], [24], whole), 24);
  assertEquals(whole, source);
  const scalar = new Uint8Array(1);
  assertEquals(copySlice(new Uint8Array([7]), [], [], [], scalar), 1);
  assertEquals(scalar[0], 7);
  const untouched = new Float32Array([9]);
  assertEquals(copySlice(source, [2, 3, 4], [1, 0, 0], [1, 0, 4], untouched), 0);
  assertEquals(untouched[0], 9);
});

Deno.test("copySlice() refuses a box that leaves the array or has another rank", () => {
  const target = new Float32Array(24);
  assertThrows(
    () => copySlice(source, [2, 3, 4], [0, 2, 0], [1, 2, 4], target),
    RangeError,
    "axis 1",
  );
  assertThrows(() => copySlice(source, [2, 3, 4], [0, 0], [1, 1], target), RangeError, "rank");
});

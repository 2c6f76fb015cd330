import { gammaCorrect } from "./gamma.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { assertAlmostEquals, assertEquals, assertThrows } from "../../../tests/assert.ts";

Deno.test("gammaCorrect() maps v to 255 * (v / 255)^(1 / gamma)", () => {
  const values = [0, 1, 50, 127.5, 200, 255];
  const out = gammaCorrect(
    { width: 6, height: 1, channels: 1, data: Float32Array.from(values) },
    1.2,
  );
  values.forEach((v, i) => assertAlmostEquals(out.data[i], 255 * Math.pow(v / 255, 1 / 1.2), 1e-3));
  // Hand-computed: 255 * 0.5^(1/1.2) = 255 * 0.5612310 = 143.1139.
  assertAlmostEquals(out.data[3], 143.1139, 1e-3);
});

Deno.test("gammaCorrect() with gamma 1.2 brightens mid-tones and fixes 0 and 255", () => {
  const data = Float32Array.from({ length: 256 }, (_, i) => i);
  const out = gammaCorrect({ width: 256, height: 1, channels: 1, data }, 1.2);
  assertEquals([out.data[0], out.data[255]], [0, 255]);
  for (let i = 1; i < 255; i++) {
    assertEquals(out.data[i] > i, true, `value ${i}`);
    assertEquals(out.data[i] > out.data[i - 1], true, `monotone at ${i}`);
  }
  const darker = gammaCorrect({ width: 256, height: 1, channels: 1, data }, 0.5);
  assertAlmostEquals(darker.data[128], 255 * (128 / 255) ** 2, 1e-3);
  assertEquals(Array.from(data.subarray(0, 3)), [0, 1, 2]); // input untouched
});

Deno.test("gammaCorrect() rejects bad gammas and values outside [0, 255]", () => {
  const ok = { width: 1, height: 1, channels: 1, data: new Float32Array([10]) };
  assertThrows(() => gammaCorrect(ok, 0), RangeError, `gamma "0"`);
  assertThrows(() => gammaCorrect(ok, NaN), RangeError, `gamma "NaN"`);
  const bad = { width: 2, height: 1, channels: 1, data: new Float32Array([10, 256]) };
  assertThrows(
    () => gammaCorrect(bad, 1.2),
    DataError,
    `value "256" at index 1 is outside [0, 255]`,
  );
});

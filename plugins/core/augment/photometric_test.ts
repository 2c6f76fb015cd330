import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
import {
  addNoise,
  adjustBrightness,
  adjustContrast,
  adjustGamma,
  blurPatch,
} from "./photometric.ts";

const close = (a: Float32Array, b: number[]) =>
  assertEquals(Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-6), true, `${a} ≠ ${b}`);

Deno.test("brightness adds and clips into [0, 1]", () => {
  const v = new Float32Array([0, 0.5, 0.95]);
  adjustBrightness(v, 0.1);
  close(v, [0.1, 0.6, 1]);
});

Deno.test("contrast scales around the mean (0.5 here) and clips", () => {
  const v = new Float32Array([0.25, 0.5, 0.75]);
  adjustContrast(v, 2);
  close(v, [0, 0.5, 1]);
  const w = new Float32Array([0.25, 0.5, 0.75]);
  adjustContrast(w, 0.5);
  close(w, [0.375, 0.5, 0.625]);
});

Deno.test("gamma raises to a power: 0.25² = 0.0625, 0.25^0.5 = 0.5", () => {
  const v = new Float32Array([0, 0.25, 1]);
  adjustGamma(v, 2);
  close(v, [0, 0.0625, 1]);
  const w = new Float32Array([0.25]);
  adjustGamma(w, 0.5);
  close(w, [0.5]);
});

Deno.test("noise uses the normal draws given, scaled by sigma", () => {
  const draws = [1, -2, 0.5];
  const v = new Float32Array([0.5, 0.5, 0.5]);
  addNoise(v, 0.1, () => draws.shift()!);
  close(v, [0.6, 0.3, 0.55]);
});

Deno.test("blur spreads a bright pixel by the Gaussian weights, per channel", () => {
  // 5×5, 2 channels: channel 0 has one bright centre pixel, channel 1 is constant.
  const v = new Float32Array(50);
  v[(2 * 5 + 2) * 2] = 1;
  for (let p = 0; p < 25; p++) v[p * 2 + 1] = 0.3;
  blurPatch(v, 5, 2, 0.5);
  // σ 0.5, radius 2: weights ∝ exp(-k²/(2·0.25)) = [e^-8, e^-2, 1, e^-2, e^-8].
  const w = [Math.exp(-8), Math.exp(-2), 1, Math.exp(-2), Math.exp(-8)];
  const sum = w.reduce((s, x) => s + x, 0);
  assertAlmostEquals(v[(2 * 5 + 2) * 2], (1 / sum) ** 2, 1e-6);
  assertAlmostEquals(v[(2 * 5 + 3) * 2], (1 / sum) * (w[3] / sum), 1e-6);
  assertEquals(
    Array.from({ length: 25 }, (_, p) => v[p * 2 + 1]).every((x) => Math.abs(x - 0.3) < 1e-6),
    true,
  );
});

/**
 * Intensity transforms of one patch's image values in [0, 1], in place:
 * brightness, contrast, gamma, Gaussian noise and Gaussian blur. Masks are
 * never touched: these change how vessels look, not where they are. Every
 * result is clipped back into [0, 1].
 *
 * @module
 */
import { gaussianBlurPlane } from "./warp.ts";

const clip = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Adds `delta` to every value. */
export function adjustBrightness(values: Float32Array, delta: number): void {
  for (let i = 0; i < values.length; i++) values[i] = clip(values[i] + delta);
}

/** Scales the distance of every value from the patch mean by `factor`. */
export function adjustContrast(values: Float32Array, factor: number): void {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length || 1;
  for (let i = 0; i < values.length; i++) values[i] = clip(mean + (values[i] - mean) * factor);
}

/** Raises every value to the power `gamma` (above 1 darkens mid-tones). */
export function adjustGamma(values: Float32Array, gamma: number): void {
  for (let i = 0; i < values.length; i++) values[i] = clip(Math.pow(values[i], gamma));
}

/** Adds zero-mean Gaussian noise of standard deviation `sigma`; `normal` draws N(0, 1). */
export function addNoise(values: Float32Array, sigma: number, normal: () => number): void {
  for (let i = 0; i < values.length; i++) values[i] = clip(values[i] + sigma * normal());
}

/** Blurs each channel of a `size × size × channels` patch with a Gaussian of `sigma` pixels. */
export function blurPatch(
  values: Float32Array,
  size: number,
  channels: number,
  sigma: number,
): void {
  const plane = new Float32Array(size * size);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < plane.length; p++) plane[p] = values[p * channels + c];
    const blurred = gaussianBlurPlane(plane, size, sigma);
    for (let p = 0; p < plane.length; p++) values[p * channels + c] = clip(blurred[p]);
  }
}

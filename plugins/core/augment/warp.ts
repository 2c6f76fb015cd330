/**
 * Geometric warps of square NHWC patches by inverse mapping: every output
 * pixel reads the source at a computed position — bilinearly for images,
 * from the nearest pixel for masks (so masks stay binary). Positions outside
 * the patch reflect back in (`reflect101`, as OpenCV's default border), so
 * warps invent no black corners.
 *
 * @module
 */

/** Where each output pixel reads from: `(x, y)` source coordinates, row-major. */
export type SourceMap = Float32Array;

/** Reflects `i` into `[0, n)` without repeating the edge pixel (…2 1 | 0 1 2 … n-1 | n-2…). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let r = ((i % period) + period) % period;
  if (r >= n) r = period - r;
  return r;
}

/**
 * The source map of a rotation by `degrees` (counter-clockwise, about the
 * patch centre) combined with a zoom by `scale` (above 1 enlarges).
 *
 * @example Usage
 * ```ts
 * import { affineMap } from "./warp.ts";
 * // No rotation, no zoom: every pixel reads itself.
 * const map = affineMap(3, 0, 1);
 * console.assert(map[2 * 4] === 1 && map[2 * 4 + 1] === 1); // pixel (1, 1)
 * ```
 */
export function affineMap(size: number, degrees: number, scale: number): SourceMap {
  const map = new Float32Array(size * size * 2);
  const c = (size - 1) / 2;
  const angle = (degrees * Math.PI) / 180;
  // Inverse: rotate the output offset back by -angle and shrink by the zoom.
  const cos = Math.cos(angle) / scale, sin = Math.sin(angle) / scale;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - c, dy = y - c;
      // Image rows grow downwards, so counter-clockwise on screen flips the sign of sin.
      map[(y * size + x) * 2] = c + cos * dx - sin * dy;
      map[(y * size + x) * 2 + 1] = c + sin * dx + cos * dy;
    }
  }
  return map;
}

/**
 * Adds a smooth random displacement to `map` in place (elastic deformation,
 * Simard et al. 2003): per-pixel uniform offsets in [-1, 1], smoothed with a
 * Gaussian of `sigma` pixels, scaled by `alpha` pixels.
 *
 * @param next A uniform [0, 1) generator.
 */
export function addElastic(
  map: SourceMap,
  size: number,
  alpha: number,
  sigma: number,
  next: () => number,
): void {
  for (const axis of [0, 1]) {
    const field = new Float32Array(size * size);
    for (let i = 0; i < field.length; i++) field[i] = 2 * next() - 1;
    const smooth = gaussianBlurPlane(field, size, sigma);
    // Smoothing shrinks the field; normalise so alpha is the largest displacement.
    let peak = 0;
    for (const v of smooth) peak = Math.max(peak, Math.abs(v));
    const gain = peak > 0 ? alpha / peak : 0;
    for (let i = 0; i < field.length; i++) map[i * 2 + axis] += gain * smooth[i];
  }
}

/** The normalised 1-D Gaussian kernel of `sigma`, radius ⌈3σ⌉. */
export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}

/** Separable Gaussian blur of one `size × size` plane, reflecting at the borders. */
export function gaussianBlurPlane(plane: Float32Array, size: number, sigma: number): Float32Array {
  const kernel = gaussianKernel(sigma);
  const radius = (kernel.length - 1) / 2;
  const rows = new Float32Array(plane.length), out = new Float32Array(plane.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) {
        sum += kernel[k + radius] * plane[y * size + reflectIndex(x + k, size)];
      }
      rows[y * size + x] = sum;
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) {
        sum += kernel[k + radius] * rows[reflectIndex(y + k, size) * size + x];
      }
      out[y * size + x] = sum;
    }
  }
  return out;
}

/**
 * Resamples patch `index` of `source` into `out` through `map`.
 *
 * @param interpolation `bilinear` for images, `nearest` for masks.
 */
export function resample(
  source: Float32Array,
  out: Float32Array,
  index: number,
  size: number,
  channels: number,
  map: SourceMap,
  interpolation: "bilinear" | "nearest",
): void {
  const base = index * size * size * channels;
  const at = (x: number, y: number, c: number) =>
    source[base + (reflectIndex(y, size) * size + reflectIndex(x, size)) * channels + c];
  for (let p = 0; p < size * size; p++) {
    const sx = map[p * 2], sy = map[p * 2 + 1];
    const to = base + p * channels;
    if (interpolation === "nearest") {
      const x = Math.round(sx), y = Math.round(sy);
      for (let c = 0; c < channels; c++) out[to + c] = at(x, y, c);
      continue;
    }
    const x0 = Math.floor(sx), y0 = Math.floor(sy);
    const fx = sx - x0, fy = sy - y0;
    for (let c = 0; c < channels; c++) {
      const top = at(x0, y0, c) * (1 - fx) + at(x0 + 1, y0, c) * fx;
      const bottom = at(x0, y0 + 1, c) * (1 - fx) + at(x0 + 1, y0 + 1, c) * fx;
      out[to + c] = top * (1 - fy) + bottom * fy;
    }
  }
}

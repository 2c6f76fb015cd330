/**
 * Estimates a fundus image's field of view (FOV) when a data set ships no
 * FOV masks (STARE, some CHASE_DB1 copies): the camera's circular aperture
 * is bright, the surround nearly black. The method:
 *
 * 1. the brightest channel of each pixel (the red channel in a fundus);
 * 2. threshold at `threshold` × its 99th percentile;
 * 3. keep the largest 4-connected bright region (drops text and specks);
 * 4. fill holes (dark lesions or vessels inside the aperture);
 * 5. erode by `margin` pixels (the aperture's dim rim).
 *
 * @module
 */
import type { Raster } from "../../../mod.ts";

/** Options of {@link estimateFov}. */
export interface FovOptions {
  /** Share of the 99th-percentile brightness above which a pixel is inside (default 0.15). */
  readonly threshold?: number;
  /** Pixels to erode from the edge (default 0). */
  readonly margin?: number;
}

/** Labels the 4-connected regions where `inside[i]` is true; returns the label per pixel (0: outside). */
export function labelRegions(inside: Uint8Array, width: number, height: number): Int32Array {
  const labels = new Int32Array(width * height);
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < inside.length; start++) {
    if (!inside[start] || labels[start]) continue;
    labels[start] = ++next;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width, y = (p - x) / width;
      for (
        const q of [
          x > 0 ? p - 1 : -1,
          x < width - 1 ? p + 1 : -1,
          y > 0 ? p - width : -1,
          y < height - 1 ? p + width : -1,
        ]
      ) {
        if (q >= 0 && inside[q] && !labels[q]) {
          labels[q] = next;
          stack.push(q);
        }
      }
    }
  }
  return labels;
}

/**
 * The estimated FOV of `image` (values 0..255 or 0..1), as a 0/1 raster.
 *
 * @example Usage
 * ```ts
 * import { estimateFov } from "./fov.ts";
 * // A bright 2×2 square with a dark hole-free border: the square is the FOV.
 * const data = new Float32Array(16);
 * for (const i of [5, 6, 9, 10]) data[i] = 200;
 * const fov = estimateFov({ width: 4, height: 4, channels: 1, data });
 * console.assert(fov.data.join("") === "0000011001100000");
 * ```
 */
export function estimateFov(image: Raster, options: FovOptions = {}): Raster {
  const { width, height, channels, data } = image;
  const n = width * height;
  const bright = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    let m = data[p * channels];
    for (let c = 1; c < channels; c++) m = Math.max(m, data[p * channels + c]);
    bright[p] = m;
  }
  const sorted = Float32Array.from(bright).sort();
  const cut = (options.threshold ?? 0.15) * sorted[Math.min(n - 1, Math.floor(0.99 * n))];
  const inside = new Uint8Array(n);
  for (let p = 0; p < n; p++) inside[p] = bright[p] > cut ? 1 : 0;

  // Largest bright region.
  const labels = labelRegions(inside, width, height);
  const sizes = new Map<number, number>();
  for (const l of labels) if (l) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  const largest = [...sizes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  for (let p = 0; p < n; p++) inside[p] = labels[p] === largest && largest ? 1 : 0;

  // Fill holes: dark regions that do not touch the border.
  const outside = new Uint8Array(n);
  for (let p = 0; p < n; p++) outside[p] = inside[p] ? 0 : 1;
  const holes = labelRegions(outside, width, height);
  const border = new Set<number>();
  for (let x = 0; x < width; x++) border.add(holes[x]).add(holes[(height - 1) * width + x]);
  for (let y = 0; y < height; y++) border.add(holes[y * width]).add(holes[y * width + width - 1]);
  for (let p = 0; p < n; p++) if (holes[p] && !border.has(holes[p])) inside[p] = 1;

  // Erode by the margin (4-neighbour steps).
  for (let step = 0; step < (options.margin ?? 0); step++) {
    const before = inside.slice();
    for (let p = 0; p < n; p++) {
      if (!before[p]) continue;
      const x = p % width, y = (p - x) / width;
      if (
        x === 0 || y === 0 || x === width - 1 || y === height - 1 ||
        !before[p - 1] || !before[p + 1] || !before[p - width] || !before[p + width]
      ) inside[p] = 0;
    }
  }
  return { width, height, channels: 1, data: Float32Array.from(inside) };
}

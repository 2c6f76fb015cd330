/**
 * Renders synthetic fundus photographs from a procedural vessel tree: an RGB
 * image that looks like a colour retina photograph (reddish fundus, uneven
 * illumination, bright optic disc, dark macula, vessels darkest in green),
 * with its exact binary vessel mask and field-of-view mask.
 *
 * The masks are rasterized geometrically from the tree's segments, so they
 * are the ground truth of the picture, not an estimate of it.
 *
 * @module
 */

import type { Raster } from "../../pipeline/data.ts";
import type { Random } from "../../pipeline/random.ts";
import { gaussianKernel } from "../core/augment/warp.ts";
import {
  defaultVesselTreeOptions,
  growVesselTree,
  type VesselSegment,
  type VesselTreeOptions,
} from "./vessel_tree.ts";

/** Options of {@link renderFundus}; everything but `size` has a (per-image random) default. */
export interface FundusOptions {
  /** Side of the square image in pixels; at least 32. */
  readonly size: number;
  /** Standard deviation of the additive Gaussian noise, in 0..255 units (default 2.5). */
  readonly noise?: number;
  /** Sigma of the Gaussian blur in pixels (default `max(0.5, 0.6 · size / 565)`); 0: none. */
  readonly blur?: number;
  /** Fraction of green a thick vessel removes at full coverage (default 0.4–0.55 at random). */
  readonly contrast?: number;
  /** Sub-pixel samples per axis for anti-aliased vessels (default 4). */
  readonly samples?: number;
  /** Overrides of the vessel tree's {@link defaultVesselTreeOptions}. */
  readonly tree?: Partial<VesselTreeOptions>;
}

/**
 * Paints `segments` into a `width × height` grid of `samples × samples` points
 * per pixel (the pixel centre when `samples` is 1), 0..255 per point, keeping
 * the largest value where segments overlap. A point is covered when it lies
 * in a segment, a capsule whose radius at the point's projection `t ∈ [0, 1]`
 * is `r0 + t · (r1 - r0)`; it gets `255 · strength(r̄) · (1 - rim · d² / r²)`,
 * with `r̄` the segment's mean radius and `d` the point's distance from the
 * axis. Only each segment's bounding box is scanned.
 */
function paintSamples(
  segments: readonly VesselSegment[],
  width: number,
  height: number,
  samples: number,
  strength: (r: number) => number,
  rim: number,
): Uint8Array {
  const gridWidth = width * samples;
  const grid = new Uint8Array(gridWidth * height * samples);
  for (const { x0, y0, x1, y1, r0, r1 } of segments) {
    const rMax = Math.max(r0, r1);
    const dx = x1 - x0, dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const peak = 255 * strength((r0 + r1) / 2);
    // Point (i, j) sits at ((i + 0.5) / samples, (j + 0.5) / samples) in pixel units.
    const i0 = Math.max(0, Math.floor((Math.min(x0, x1) - rMax) * samples - 0.5));
    const i1 = Math.min(gridWidth - 1, Math.ceil((Math.max(x0, x1) + rMax) * samples - 0.5));
    const j0 = Math.max(0, Math.floor((Math.min(y0, y1) - rMax) * samples - 0.5));
    const j1 = Math.min(height * samples - 1, Math.ceil((Math.max(y0, y1) + rMax) * samples - 0.5));
    for (let j = j0; j <= j1; j++) {
      const py = (j + 0.5) / samples - y0;
      for (let i = i0; i <= i1; i++) {
        const px = (i + 0.5) / samples - x0;
        let t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = px - t * dx, ey = py - t * dy;
        const d2 = ex * ex + ey * ey;
        const r = r0 + t * (r1 - r0);
        if (d2 <= r * r) {
          const value = Math.round(peak * (rim > 0 ? 1 - (rim * d2) / (r * r) : 1));
          const index = j * gridWidth + i;
          if (value > grid[index]) grid[index] = value;
        }
      }
    }
  }
  return grid;
}

const FULL = () => 1;

/**
 * The exact binary vessel mask of `segments`: pixel `(x, y)` is 1 exactly
 * when its centre `(x + 0.5, y + 0.5)` lies within some segment, a tapered
 * capsule whose radius at the projection `t ∈ [0, 1]` of the centre onto the
 * segment is `r0 + t · (r1 - r0)`.
 *
 * @param segments The vessel segments, in pixel units.
 * @param width Columns of the mask.
 * @param height Rows of the mask.
 * @returns A one-channel raster of 0 and 1.
 *
 * @example Usage
 * ```ts
 * import { rasterizeVesselMask } from "./render.ts";
 * import { assertEquals } from "../../tests/assert.ts";
 * const segment = { x0: 1, y0: 1.5, x1: 3, y1: 1.5, r0: 0.5, r1: 0.5, depth: 0 };
 * const mask = rasterizeVesselMask([segment], 4, 3);
 * assertEquals(Array.from(mask.data), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
 * ```
 */
export function rasterizeVesselMask(
  segments: readonly VesselSegment[],
  width: number,
  height: number,
): Raster {
  const grid = paintSamples(segments, width, height, 1, FULL, 0);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = grid[i] === 0 ? 0 : 1;
  return { width, height, channels: 1, data };
}

/**
 * Anti-aliased vessel coverage: the fraction of a pixel's `samples × samples`
 * evenly spaced sub-pixel points that lie in some segment (same capsules as
 * {@link rasterizeVesselMask}). Pixels well inside a vessel get exactly 1,
 * pixels away from every vessel exactly 0.
 *
 * @param segments The vessel segments, in pixel units.
 * @param width Columns.
 * @param height Rows.
 * @param samples Sub-pixel points per axis; a positive integer (default 4).
 * @returns `width * height` coverages in [0, 1], row-major.
 * @throws {RangeError} When `samples` is not a positive integer.
 *
 * @example Usage
 * ```ts
 * import { vesselCoverage } from "./render.ts";
 * import { assertEquals } from "../../tests/assert.ts";
 * // A horizontal line through the middle of row 1 with radius 0.25 covers half of that row.
 * const segment = { x0: 0, y0: 1.5, x1: 4, y1: 1.5, r0: 0.25, r1: 0.25, depth: 0 };
 * const coverage = vesselCoverage([segment], 4, 3);
 * assertEquals(Array.from(coverage.slice(4, 8)), [0.5, 0.5, 0.5, 0.5]);
 * ```
 */
export function vesselCoverage(
  segments: readonly VesselSegment[],
  width: number,
  height: number,
  samples = 4,
): Float32Array {
  if (!Number.isInteger(samples) || samples < 1) {
    throw new RangeError(
      `Cannot compute vessel coverage: samples "${samples}" is not a positive integer`,
    );
  }
  const grid = paintSamples(segments, width, height, samples, FULL, 0);
  return averageSamples(grid, width, height, samples, 255);
}

/** Averages each pixel's `samples × samples` block of `grid` and divides by `scale`. */
function averageSamples(
  grid: Uint8Array,
  width: number,
  height: number,
  samples: number,
  scale: number,
): Float32Array {
  const out = new Float32Array(width * height);
  const gridWidth = width * samples;
  const norm = 1 / (scale * samples * samples);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let j = 0; j < samples; j++) {
        const row = (y * samples + j) * gridWidth + x * samples;
        for (let i = 0; i < samples; i++) sum += grid[row + i];
      }
      out[y * width + x] = sum * norm;
    }
  }
  return out;
}

/**
 * Renders one synthetic fundus photograph. Draws a vessel tree with
 * {@link growVesselTree} from {@link defaultVesselTreeOptions} (overridden by
 * `options.tree`), then paints a reddish fundus with radial vignetting, a
 * random low-order illumination gradient and faint mottling, a bright
 * yellowish optic disc, a darker macula and vessels that darken the green
 * channel most and thicker vessels more; finally blurs it slightly and adds
 * Gaussian noise. The image is black (0–5) outside the field of view; the
 * vessel mask is exact, unblurred and zero outside the field of view.
 *
 * @param options The image size and optional overrides.
 * @param random Draws everything; the tree, the look and the noise come from separate forks.
 * @returns `image`: RGB, values in [0, 255]; `mask`: the vessels, 0/1; `fov`: the field of
 *   view (pixel centres within `tree.fovRadius` of the image centre), 0/1.
 * @throws {RangeError} When `size` is not an integer of at least 32, or `noise`, `blur`,
 *   `contrast` or `samples` is out of range.
 *
 * @example Usage
 * ```ts
 * import { renderFundus } from "./render.ts";
 * import { Random } from "../../pipeline/random.ts";
 * import { assertEquals } from "../../tests/assert.ts";
 * const { image, mask, fov } = renderFundus({ size: 64 }, new Random(1));
 * assertEquals([image.channels, mask.channels, fov.channels], [3, 1, 1]);
 * assertEquals(mask.data.every((v, i) => v <= fov.data[i]), true);
 * ```
 */
export function renderFundus(
  options: FundusOptions,
  random: Random,
): { image: Raster; mask: Raster; fov: Raster } {
  const { size } = options;
  if (!Number.isInteger(size) || size < 32) {
    throw new RangeError(`Cannot render fundus: size "${size}" is not an integer of at least 32`);
  }
  const noise = options.noise ?? 2.5;
  const blur = options.blur ?? Math.max(0.5, (0.6 * size) / 565);
  const samples = options.samples ?? 4;
  if (!(noise >= 0 && Number.isFinite(noise))) {
    throw new RangeError(`Cannot render fundus: noise "${noise}" is not a finite number >= 0`);
  }
  if (!(blur >= 0 && Number.isFinite(blur))) {
    throw new RangeError(`Cannot render fundus: blur "${blur}" is not a finite number >= 0`);
  }
  if (!Number.isInteger(samples) || samples < 1 || samples > 16) {
    throw new RangeError(`Cannot render fundus: samples "${samples}" is not an integer in 1..16`);
  }
  // Separate streams, so changing the look or the noise leaves the tree as it was.
  const treeRandom = random.fork(), look = random.fork(), noiseRandom = random.fork();
  // Overrides left undefined keep their defaults.
  const overrides = Object.entries(options.tree ?? {}).filter(([, v]) => v !== undefined);
  const tree: VesselTreeOptions = {
    ...defaultVesselTreeOptions(size, treeRandom),
    ...Object.fromEntries(overrides),
  };
  const segments = growVesselTree(tree, treeRandom);
  const contrast = options.contrast ?? 0.4 + 0.15 * look.next();
  if (!(contrast >= 0 && contrast <= 1)) {
    throw new RangeError(`Cannot render fundus: contrast "${contrast}" is not in [0, 1]`);
  }

  const n = size * size;
  const centre = size / 2;
  const fovData = new Float32Array(n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - centre, dy = y + 0.5 - centre;
      if (dx * dx + dy * dy <= tree.fovRadius * tree.fovRadius) fovData[y * size + x] = 1;
    }
  }
  const mask = rasterizeVesselMask(segments, size, size);
  for (let i = 0; i < n; i++) mask.data[i] *= fovData[i];

  // Vessel shade per sub-sample, 0..255: thick vessels saturate at full darkness, thin ones are
  // fainter, and the centre of a vessel is a little darker than its edge (a rounded profile).
  const saturation = 0.8 * Math.max(0.5, size / 565);
  const shadeGrid = paintSamples(
    segments,
    size,
    size,
    samples,
    (r) => 1 - Math.exp(-r / saturation),
    0.25,
  );
  const shade = averageSamples(shadeGrid, size, size, samples, 255);

  // Per-image colour and illumination.
  const base = [180 + 40 * look.next(), 78 + 27 * look.next(), 28 + 22 * look.next()];
  const vignette = 0.3 + 0.25 * look.next(), vignettePower = 2 + look.next();
  const g = Array.from({ length: 5 }, (_, k) => (k < 2 ? 0.1 : 0.06) * look.normal());
  const discRadius = size * (0.055 + 0.015 * look.next());
  const discGain = 0.8 + 0.3 * look.next();
  const maculaDepth = 0.18 + 0.15 * look.next(), maculaSigma = size * (0.055 + 0.02 * look.next());
  const mottle = lowFrequencyNoise(size, 8, look);
  const { disc, macula } = tree;
  const planes = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  // Vessels remove this share of red and blue relative to green.
  const channelContrast = [0.7 * contrast, contrast, 0.8 * contrast];
  const discColour = [45, 110, 55];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      if (fovData[p] === 0) continue;
      const u = (x + 0.5 - centre) / tree.fovRadius, v = (y + 0.5 - centre) / tree.fovRadius;
      const rho = Math.min(1, Math.sqrt(u * u + v * v));
      let light = (1 - vignette * Math.pow(rho, vignettePower)) *
        (1 + g[0] * u + g[1] * v + g[2] * u * u + g[3] * v * v + g[4] * u * v) *
        (1 + 0.05 * mottle[p]);
      const mx = x + 0.5 - macula.x, my = y + 0.5 - macula.y;
      light *= 1 - maculaDepth * Math.exp(-(mx * mx + my * my) / (2 * maculaSigma * maculaSigma));
      if (light < 0.15) light = 0.15;
      const ex = x + 0.5 - disc.x, ey = y + 0.5 - disc.y;
      const dd2 = (ex * ex + ey * ey) / (discRadius * discRadius);
      // A plateau with a soft rim, plus a brighter central cup.
      const discBlob = discGain * (1 / (1 + dd2 * dd2 * dd2) + 0.25 * Math.exp(-5 * dd2));
      for (let c = 0; c < 3; c++) {
        const value = base[c] * light + discColour[c] * discBlob;
        planes[c][p] = value * (1 - channelContrast[c] * shade[p]);
      }
    }
  }

  const image = new Float32Array(n * 3);
  const normal = normalStream(noiseRandom);
  for (let c = 0; c < 3; c++) {
    const plane = blur > 0 ? blurPlane(planes[c], size, blur) : planes[c];
    for (let p = 0; p < n; p++) {
      // Outside the field of view: a dark, barely noisy background, as in real photographs.
      const value = fovData[p] === 1 ? plane[p] + noise * normal() : Math.min(5, 1.5 + normal());
      image[p * 3 + c] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  }
  return {
    image: { width: size, height: size, channels: 3, data: image },
    mask,
    fov: { width: size, height: size, channels: 1, data: fovData },
  };
}

/**
 * A fast stream of standard normal samples seeded from `random`: a local
 * Mulberry32 generator (as {@link Random}, without its method calls) and both
 * values of each Box–Muller pair, since the image needs one per sample.
 */
function normalStream(random: Random): () => number {
  let state = random.int(4294967296);
  const uniform = () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = 0, hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    hasSpare = true;
    return radius * Math.cos(angle);
  };
}

/** Separable Gaussian blur of a `size × size` plane, repeating the edge pixels. */
function blurPlane(plane: Float32Array, size: number, sigma: number): Float32Array {
  const kernel = gaussianKernel(sigma);
  const radius = (kernel.length - 1) / 2;
  const padded = new Float32Array(size + 2 * radius);
  const rows = new Float32Array(plane.length), out = new Float32Array(plane.length);
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let i = 0; i < padded.length; i++) {
      padded[i] = plane[row + Math.min(size - 1, Math.max(0, i - radius))];
    }
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let k = 0; k < kernel.length; k++) sum += kernel[k] * padded[x + k];
      rows[row + x] = sum;
    }
  }
  // Columns: accumulate whole rows, which walks memory in order.
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let k = 0; k < kernel.length; k++) {
      const source = Math.min(size - 1, Math.max(0, y + k - radius)) * size, weight = kernel[k];
      for (let x = 0; x < size; x++) out[row + x] += weight * rows[source + x];
    }
  }
  return out;
}

/**
 * Smooth noise in about [-1, 1]: uniform values on a `cells × cells` grid
 * over the image, interpolated with a smoothstep.
 */
function lowFrequencyNoise(size: number, cells: number, random: Random): Float32Array {
  const grid = new Float32Array((cells + 1) * (cells + 1));
  for (let i = 0; i < grid.length; i++) grid[i] = 2 * random.next() - 1;
  const out = new Float32Array(size * size);
  const smooth = (t: number) => t * t * (3 - 2 * t);
  for (let y = 0; y < size; y++) {
    const gy = ((y + 0.5) / size) * cells, j = Math.min(cells - 1, Math.floor(gy));
    const ty = smooth(gy - j);
    for (let x = 0; x < size; x++) {
      const gx = ((x + 0.5) / size) * cells, i = Math.min(cells - 1, Math.floor(gx));
      const tx = smooth(gx - i);
      const a = grid[j * (cells + 1) + i], b = grid[j * (cells + 1) + i + 1];
      const c = grid[(j + 1) * (cells + 1) + i], d = grid[(j + 1) * (cells + 1) + i + 1];
      out[y * size + x] = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
    }
  }
  return out;
}

/**
 * Procedural retinal vessel trees for synthetic fundus photographs. From an
 * optic disc, four trunks grow as chains of short tapered segments: two
 * temporal arcades that arch around the macula and two nasal vessels that head
 * away from it. Each vessel's heading does a persistent random walk
 * (tortuosity), its radius tapers slowly, and it branches at random with
 * child radii that obey Murray's law. Temporal of the disc, vessels keep to
 * their own half (they do not cross the horizontal raphe), and a branch that
 * runs into another vessel usually ends there. Vessels stop when they get too
 * thin, leave the field of view, reach the avascular macula or grow too long.
 *
 * Everything is a pure function of the options and the {@link Random}'s seed.
 *
 * @module
 */

import type { Random } from "../../pipeline/random.ts";

/** A point in pixel coordinates (x to the right, y down). */
export interface PixelPoint {
  /** Column, in pixels. */
  readonly x: number;
  /** Row, in pixels. */
  readonly y: number;
}

/**
 * One straight piece of a vessel: a tapered capsule from `(x0, y0)` with
 * radius `r0` to `(x1, y1)` with radius `r1`, all in pixels.
 */
export interface VesselSegment {
  /** Start column. */
  readonly x0: number;
  /** Start row. */
  readonly y0: number;
  /** End column. */
  readonly x1: number;
  /** End row. */
  readonly y1: number;
  /** Radius at the start. */
  readonly r0: number;
  /** Radius at the end (never larger than `r0`). */
  readonly r1: number;
  /** Branching generation: 0 for the trunks, 1 for their branches, and so on. */
  readonly depth: number;
}

/** The anatomy and growth parameters of one vessel tree; lengths are in pixels. */
export interface VesselTreeOptions {
  /** Side of the square image. */
  readonly size: number;
  /** Radius of the field-of-view circle, centred in the image; vessels stay inside it. */
  readonly fovRadius: number;
  /** Centre of the optic disc, where the trunks start. */
  readonly disc: PixelPoint;
  /** Centre of the macula, which the temporal arcades arch around. */
  readonly macula: PixelPoint;
  /** Vessels stop within this distance of the macula centre (the avascular zone). */
  readonly maculaRadius: number;
  /** Distance from the macula centre at which the temporal arcades pass it. */
  readonly arcadeRadius: number;
  /** Radius of the thickest trunk where it leaves the disc. */
  readonly trunkRadius: number;
  /** Vessels end once their radius would fall below this. */
  readonly minRadius: number;
  /** Length of one segment. */
  readonly step: number;
  /**
   * Standard deviation, in radians, of the random heading change per step of a trunk-thick
   * vessel; thinner vessels wiggle more, by `√(trunkRadius / r)` up to 3 times.
   */
  readonly tortuosity: number;
  /** Chance per step that a vessel spawns a branch. */
  readonly branchProbability: number;
  /** Smallest and largest angle, in degrees, between a branch and its parent. */
  readonly branchAngle: readonly [number, number];
  /**
   * Fraction of the radius a trunk-thick vessel loses per step; thinner vessels taper faster, by
   * the same factor as their tortuosity.
   */
  readonly taper: number;
  /** Longest path, in pixels, a single vessel may grow. */
  readonly maxLength: number;
  /** Cap on the number of segments of the whole tree. */
  readonly maxSegments: number;
  /**
   * Chance that a branch crosses, rather than ends at, another vessel it runs into; trunks
   * always cross.
   */
  readonly crossing: number;
}

/**
 * Default anatomy for a `size × size` image, scaled from a 565-pixel
 * DRIVE-like image (trunks about 8 px wide there, the thinnest vessels about
 * 1 px). Draws a left or right eye at random (disc left or right of centre)
 * and jitters the disc, macula and trunk width.
 *
 * @param size Side of the square image in pixels; at least 32.
 * @param random Draws the eye side and the jitter.
 * @returns Complete options for {@link growVesselTree}.
 * @throws {RangeError} When `size` is not a finite number of at least 32.
 *
 * @example Usage
 * ```ts
 * import { defaultVesselTreeOptions } from "./vessel_tree.ts";
 * import { Random } from "../../pipeline/random.ts";
 * import { assertEquals } from "../../tests/assert.ts";
 * const options = defaultVesselTreeOptions(565, new Random(1));
 * const fromCentre = Math.abs(options.disc.x - 565 / 2) / 565;
 * assertEquals(fromCentre > 0.2 && fromCentre < 0.35, true);
 * ```
 */
export function defaultVesselTreeOptions(size: number, random: Random): VesselTreeOptions {
  if (!Number.isFinite(size) || size < 32) {
    throw new RangeError(`Cannot build vessel tree options: size "${size}" is not at least 32`);
  }
  const s = size / 565;
  const centre = size / 2;
  // +1: disc right of centre (a right eye as photographed), -1: a left eye.
  const side = random.next() < 0.5 ? -1 : 1;
  const disc = {
    x: centre + side * size * (0.25 + 0.05 * random.next()),
    y: centre + size * 0.025 * clampUnit(random.normal() / 2),
  };
  // The macula sits about 0.3·size temporal of the disc and slightly below it.
  const macula = {
    x: disc.x - side * size * (0.28 + 0.04 * random.next()),
    y: disc.y + size * (0.015 + 0.015 * clampUnit(random.normal() / 2)),
  };
  const step = Math.max(1.5, 2.5 * s);
  // Small images take relatively longer steps; keep the per-length rates the same.
  const stepRatio = step / (2.5 * s);
  return {
    size,
    fovRadius: 0.47 * size,
    disc,
    macula,
    maculaRadius: 0.065 * size,
    arcadeRadius: 0.19 * size,
    // At small sizes the trunks are kept a little wider than scaled so that the tree keeps a few
    // generations above minRadius.
    trunkRadius: Math.max(2.2, 4 * s) * (0.9 + 0.2 * random.next()),
    // Below half a pixel a vessel would rasterize as a broken dotted line.
    minRadius: 0.5 * Math.max(1, s),
    step,
    tortuosity: 0.07 * Math.sqrt(stepRatio),
    branchProbability: Math.min(0.5, 0.12 * stepRatio),
    branchAngle: [30, 75],
    taper: 1 - Math.exp(-step / (2 * size)),
    maxLength: 1.6 * size,
    maxSegments: 20000,
    crossing: 0.4,
  };
}

const TEMPORAL = 0, NASAL = 1, BRANCH = 2;

interface Walker {
  x: number;
  y: number;
  heading: number;
  r: number;
  depth: number;
  kind: number;
  /** Heading the vessel is gently pulled back to (nasal trunks and branches). */
  target: number;
  /** +1 or -1: which way a temporal arcade orbits the macula. */
  sense: number;
}

/** `a` wrapped into (-π, π]. */
function wrapAngle(a: number): number {
  return a - 2 * Math.PI * Math.round(a / (2 * Math.PI));
}

function clampUnit(v: number): number {
  return v < -1 ? -1 : v > 1 ? 1 : v;
}

/**
 * Grows a retinal vessel tree: four trunks from the optic disc, then their
 * branches generation by generation (first in, first grown), until every
 * vessel has stopped or `maxSegments` segments exist. The segments of one
 * vessel are contiguous in the result and chained end to start; a branch
 * starts exactly at a point of its parent, where
 * `rParentBefore³ = rParentAfter³ + rBranch³` (Murray's law).
 *
 * @param options The anatomy, e.g. from {@link defaultVesselTreeOptions}.
 * @param random Draws the walk, the branching and the radii; equal seeds give equal trees.
 * @returns The segments, trunks first.
 * @throws {RangeError} When `step`, `minRadius` or `trunkRadius` is not a positive number.
 *
 * @example Usage
 * ```ts
 * import { defaultVesselTreeOptions, growVesselTree } from "./vessel_tree.ts";
 * import { Random } from "../../pipeline/random.ts";
 * import { assertEquals } from "../../tests/assert.ts";
 * const random = new Random(3);
 * const options = defaultVesselTreeOptions(256, random);
 * const segments = growVesselTree(options, random);
 * assertEquals(segments.every((s) => s.r1 <= s.r0 && s.r1 >= options.minRadius), true);
 * ```
 */
export function growVesselTree(options: VesselTreeOptions, random: Random): VesselSegment[] {
  const { step, minRadius, trunkRadius } = options;
  for (
    const [name, value] of [["step", step], ["minRadius", minRadius], ["trunkRadius", trunkRadius]]
  ) {
    if (!(typeof value === "number" && value > 0 && Number.isFinite(value))) {
      throw new RangeError(`Cannot grow vessel tree: ${name} "${value}" is not a positive number`);
    }
  }
  const { disc, macula } = options;
  const centre = options.size / 2;
  const segments: VesselSegment[] = [];
  // Which way is temporal (towards the macula) along x.
  const temporal = macula.x < disc.x ? -1 : 1;
  const tilt = (15 * Math.PI) / 180;
  const queue: Walker[] = [];
  for (const vertical of [-1, 1]) {
    // Temporal arcades leave the disc vertically, leaning slightly temporal.
    const heading = Math.atan2(vertical * Math.cos(tilt), temporal * Math.sin(tilt));
    // Orbit sense: the tangent of the circle about the macula that points along the heading.
    const ux = disc.x - macula.x, uy = disc.y - macula.y;
    const sense = -uy * Math.cos(heading) + ux * Math.sin(heading) >= 0 ? 1 : -1;
    const r = trunkRadius * (0.95 + 0.05 * random.next());
    queue.push({
      x: disc.x,
      y: disc.y,
      heading,
      r,
      depth: 0,
      kind: TEMPORAL,
      target: heading,
      sense,
    });
  }
  for (const vertical of [-1, 1]) {
    const angle = ((35 + 25 * random.next()) * Math.PI) / 180;
    const heading = Math.atan2(vertical * Math.sin(angle), -temporal * Math.cos(angle));
    const r = trunkRadius * (0.75 + 0.15 * random.next());
    queue.push({
      x: disc.x,
      y: disc.y,
      heading,
      r,
      depth: 0,
      kind: NASAL,
      target: heading,
      sense: 1,
    });
  }
  const [minAngle, maxAngle] = options.branchAngle;
  const avoid = 1.6 * options.maculaRadius;
  // A coarse occupancy grid of vessel ids (queue index + 1) that lets a branch notice when it runs
  // into another vessel; real vessels of one tree rarely cross.
  const cell = Math.max(3, 2 * step);
  const cells = Math.ceil(options.size / cell) + 1;
  const occupied = new Int32Array(cells * cells);
  const cellOf = (x: number, y: number) => {
    const i = Math.floor(x / cell), j = Math.floor(y / cell);
    return i >= 0 && j >= 0 && i < cells && j < cells ? j * cells + i : -1;
  };
  // The disc–macula axis: temporal of the disc, vessels keep to their own (upper or lower) half
  // and do not cross this line (the horizontal raphe).
  const axisLength = Math.hypot(macula.x - disc.x, macula.y - disc.y) || 1;
  const ax = (macula.x - disc.x) / axisLength, ay = (macula.y - disc.y) / axisLength;
  const raphe = 0.04 * options.size;
  for (let next = 0; next < queue.length && segments.length < options.maxSegments; next++) {
    const w = queue[next];
    const qx = w.x - disc.x, qy = w.y - disc.y;
    // Which side of the axis the vessel belongs to; a trunk takes the side it heads into.
    const half = Math.sign(
      w.depth === 0 ? ax * Math.sin(w.heading) - ay * Math.cos(w.heading) : ax * qy - ay * qx,
    ) || 1;
    // Thin vessels wiggle more and taper faster than thick ones.
    const thinness = Math.min(3, Math.sqrt(trunkRadius / w.r));
    const tortuosity = options.tortuosity * thinness;
    const taper = Math.min(0.5, options.taper * thinness);
    let length = 0;
    let met = 0; // the last vessel this one ran into and crossed
    // Near its start a vessel overlaps its parent (and, at the disc, the other trunks).
    const grace = 2 * cell + 2 * trunkRadius;
    while (segments.length < options.maxSegments && length < options.maxLength) {
      let turn = tortuosity * random.normal();
      const mx = w.x - macula.x, my = w.y - macula.y;
      const dm = Math.hypot(mx, my) || 1e-9;
      if (w.kind === TEMPORAL) {
        // Follow a circle of radius arcadeRadius about the macula until the arcade has passed over
        // (or under) it; from there on it continues as a free walk.
        const ux = mx / dm, uy = my / dm;
        const swept = Math.acos(clampUnit(-(ux * ax + uy * ay)));
        const weight = 0.12 * Math.min(1, Math.max(0, (0.65 * Math.PI - swept) / (0.3 * Math.PI)));
        if (weight > 0) {
          const pull = (1.5 * (options.arcadeRadius - dm)) / options.arcadeRadius;
          const gx = -w.sense * uy + pull * ux, gy = w.sense * ux + pull * uy;
          turn += weight * wrapAngle(Math.atan2(gy, gx) - w.heading);
        }
      } else {
        turn += (w.kind === NASAL ? 0.03 : 0.02) * wrapAngle(w.target - w.heading);
      }
      const px = w.x - disc.x, py = w.y - disc.y;
      const along = px * ax + py * ay, across = half * (ax * py - ay * px);
      if (along > 0 && across < raphe) {
        // Near the raphe: turn to run temporally, slightly away from it.
        const gx = ax - 0.4 * half * ay, gy = ay + 0.4 * half * ax;
        turn += 0.15 * (1 - Math.max(0, across) / raphe) *
          wrapAngle(Math.atan2(gy, gx) - w.heading);
      }
      if (dm < avoid) {
        // Heading into the macula: turn gently towards the tangent closer to the heading; most
        // such vessels end at maculaRadius, as at the edge of the avascular zone.
        const hx = Math.cos(w.heading), hy = Math.sin(w.heading);
        if (hx * mx + hy * my < 0) {
          const side = -my * hx + mx * hy >= 0 ? 1 : -1;
          const gx = -side * my + 0.5 * mx, gy = side * mx + 0.5 * my;
          turn += 0.1 * (1 - dm / avoid) * wrapAngle(Math.atan2(gy, gx) - w.heading);
        }
      }
      w.heading += turn;
      const x1 = w.x + step * Math.cos(w.heading), y1 = w.y + step * Math.sin(w.heading);
      const r1 = w.r * (1 - taper);
      if (r1 < minRadius) break;
      if (Math.hypot(x1 - centre, y1 - centre) > options.fovRadius - 1) break;
      if (Math.hypot(x1 - macula.x, y1 - macula.y) < options.maculaRadius) break;
      if (along > 0.5 * axisLength && across < 0) break;
      const here = cellOf(x1, y1);
      if (here >= 0 && length >= grace) {
        const other = occupied[here];
        if (other !== 0 && other !== next + 1 && other !== met) {
          if (w.depth > 0 && random.next() >= options.crossing) break;
          met = other;
        }
      }
      if (here >= 0 && occupied[here] === 0) occupied[here] = next + 1;
      segments.push({ x0: w.x, y0: w.y, x1, y1, r0: w.r, r1, depth: w.depth });
      w.x = x1;
      w.y = y1;
      w.r = r1;
      length += step;
      if (random.next() < options.branchProbability) {
        // Asymmetric split of r³ (Murray's law): the branch takes 3–45 % of it, mostly little, and
        // the parent keeps the rest.
        const u = random.next();
        const share = 0.03 + 0.42 * u * u;
        const rBranch = w.r * Math.cbrt(share);
        const side = random.next() < 0.5 ? -1 : 1;
        const angle = ((minAngle + (maxAngle - minAngle) * random.next()) * Math.PI) / 180;
        if (rBranch >= minRadius) {
          const heading = w.heading + side * angle;
          // Branches drift towards radiating from the macula (temporal of the disc) or from the
          // disc (nasal of it), inwards or outwards, whichever is closer to where they set off.
          const hub = (w.x - disc.x) * ax + (w.y - disc.y) * ay > 0 ? macula : disc;
          const rx = w.x - hub.x, ry = w.y - hub.y;
          const outward = (Math.cos(heading) * rx + Math.sin(heading) * ry >= 0 ? 0.7 : -0.7) /
            (Math.hypot(rx, ry) || 1);
          const target = Math.atan2(
            Math.sin(heading) + outward * ry,
            Math.cos(heading) + outward * rx,
          );
          queue.push({
            x: w.x,
            y: w.y,
            heading,
            r: rBranch,
            depth: w.depth + 1,
            kind: BRANCH,
            target,
            sense: 1,
          });
          w.r *= Math.cbrt(1 - share);
          // The parent bends away a little, more so for a large branch.
          w.heading -= side * angle * 0.5 * share;
        }
      }
    }
  }
  return segments;
}

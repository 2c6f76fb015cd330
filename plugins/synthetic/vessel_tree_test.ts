import {
  defaultVesselTreeOptions,
  growVesselTree,
  type VesselSegment,
  type VesselTreeOptions,
} from "./vessel_tree.ts";
import { Random } from "../../pipeline/random.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../../tests/assert.ts";

/** The default options and tree for `seed` at `size`, with `overrides`. */
function tree(
  seed: number,
  size = 256,
  overrides: Partial<VesselTreeOptions> = {},
): { options: VesselTreeOptions; segments: VesselSegment[] } {
  const random = new Random(seed);
  const options = { ...defaultVesselTreeOptions(size, random), ...overrides };
  return { options, segments: growVesselTree(options, random) };
}

/** Splits the segments into vessels: runs of one depth, each starting where the last one ended. */
function vessels(segments: readonly VesselSegment[]): VesselSegment[][] {
  const out: VesselSegment[][] = [];
  for (const s of segments) {
    const last = out.at(-1)?.at(-1);
    if (last && last.depth === s.depth && last.x1 === s.x0 && last.y1 === s.y0) {
      out.at(-1)!.push(s);
    } else out.push([s]);
  }
  return out;
}

/** Segments keyed by their start point. */
function byStart(segments: readonly VesselSegment[]): Map<string, VesselSegment[]> {
  const map = new Map<string, VesselSegment[]>();
  for (const s of segments) {
    const key = `${s.x0},${s.y0}`;
    const list = map.get(key);
    if (list) list.push(s);
    else map.set(key, [s]);
  }
  return map;
}

Deno.test("defaultVesselTreeOptions() places disc and macula on opposite sides of centre", () => {
  const sides = new Set<number>();
  for (let seed = 1; seed <= 20; seed++) {
    const size = 565;
    const o = defaultVesselTreeOptions(size, new Random(seed));
    const discOffset = (o.disc.x - size / 2) / size;
    assert(
      Math.abs(discOffset) >= 0.25 && Math.abs(discOffset) <= 0.3,
      `disc offset ${discOffset}`,
    );
    assert(Math.abs(o.disc.y - size / 2) <= 0.03 * size, `disc y ${o.disc.y}`);
    const discToMacula = Math.hypot(o.macula.x - o.disc.x, o.macula.y - o.disc.y) / size;
    assert(discToMacula > 0.27 && discToMacula < 0.34, `disc–macula ${discToMacula}`);
    // The macula lies on the other side of the disc from the nasal edge, near the centre.
    assertEquals(Math.sign(o.macula.x - o.disc.x), -Math.sign(discOffset));
    assert(o.disc.x + o.fovRadius > 0 && o.fovRadius < size / 2, "FOV inside the image");
    assertAlmostEquals(o.trunkRadius, 4, 0.41, "trunks about 8 px wide at 565");
    assertEquals(o.minRadius, 0.5);
    sides.add(Math.sign(discOffset));
  }
  assertEquals(sides.size, 2, "both eyes occur");
  const small = defaultVesselTreeOptions(256, new Random(1));
  const large = defaultVesselTreeOptions(1130, new Random(1));
  assert(large.step > small.step && large.fovRadius > small.fovRadius, "scales with size");
  assertEquals(large.minRadius, 1);
  assertThrows(() => defaultVesselTreeOptions(16, new Random(1)), RangeError, "at least 32");
});

Deno.test("growVesselTree() is deterministic for a seed and differs between seeds", () => {
  const a = tree(7).segments, b = tree(7).segments, c = tree(8).segments;
  assert(a.length > 100, `only ${a.length} segments`);
  assertEquals(a, b);
  assert(JSON.stringify(a) !== JSON.stringify(c), "different seeds gave the same tree");
});

Deno.test("growVesselTree() grows four trunks from the disc and several generations", () => {
  for (const seed of [1, 2, 3]) {
    const { options, segments } = tree(seed);
    const trunks = vessels(segments).filter((v) => v[0].depth === 0);
    assertEquals(trunks.length, 4);
    for (const t of trunks) assertEquals([t[0].x0, t[0].y0], [options.disc.x, options.disc.y]);
    // Two trunks leave upwards and two downwards, each reaching well away from the disc.
    const reach = 0.1 * options.size;
    const up = trunks.filter((t) =>
      t[0].y1 < options.disc.y && Math.min(...t.map((s) => s.y1)) < options.disc.y - reach
    );
    const down = trunks.filter((t) =>
      t[0].y1 > options.disc.y && Math.max(...t.map((s) => s.y1)) > options.disc.y + reach
    );
    assertEquals([up.length, down.length], [2, 2]);
    const maxDepth = Math.max(...segments.map((s) => s.depth));
    assert(maxDepth >= 2, `max depth ${maxDepth}`);
  }
});

Deno.test("growVesselTree() obeys Murray's law at branch points", () => {
  let branchPoints = 0;
  for (const seed of [1, 2, 3]) {
    const { segments } = tree(seed);
    const starts = byStart(segments);
    for (const s of segments) {
      const next = starts.get(`${s.x1},${s.y1}`) ?? [];
      const child = next.find((n) => n.depth === s.depth + 1);
      const parent = next.find((n) => n.depth === s.depth);
      if (!child || !parent) continue;
      branchPoints++;
      const before = s.r1 ** 3, after = parent.r0 ** 3 + child.r0 ** 3;
      assertAlmostEquals(after, before, 1e-9 * before, "r_parent³ = r_a³ + r_b³");
      assert(child.r0 <= parent.r0, "the branch is the thinner one");
    }
  }
  assert(branchPoints >= 30, `only ${branchPoints} branch points`);
});

Deno.test("growVesselTree() branches at 30–75° to the parent", () => {
  const { segments } = tree(2, 256, { tortuosity: 0 });
  const starts = byStart(segments);
  let count = 0;
  for (const s of segments) {
    const child = (starts.get(`${s.x1},${s.y1}`) ?? []).find((n) => n.depth === s.depth + 1);
    if (!child) continue;
    count++;
    const a = Math.atan2(s.y1 - s.y0, s.x1 - s.x0);
    const b = Math.atan2(child.y1 - child.y0, child.x1 - child.x0);
    const degrees = (Math.abs(Math.atan2(Math.sin(b - a), Math.cos(b - a))) * 180) / Math.PI;
    // The first step of the branch adds a small steering turn to the drawn angle.
    assert(degrees >= 25 && degrees <= 80, `branch angle ${degrees}`);
  }
  assert(count >= 10, `only ${count} branches`);
});

Deno.test("growVesselTree() radii never increase along a vessel and stay >= minRadius", () => {
  for (const seed of [1, 2, 3]) {
    const { options, segments } = tree(seed);
    for (const s of segments) {
      assert(s.r1 <= s.r0, `radius grows within a segment: ${s.r0} -> ${s.r1}`);
      assert(s.r1 >= options.minRadius, `radius ${s.r1} below minRadius`);
      assert(s.r0 <= options.trunkRadius, `radius ${s.r0} above the trunk radius`);
    }
    for (const vessel of vessels(segments)) {
      for (let i = 1; i < vessel.length; i++) {
        assert(vessel[i].r0 <= vessel[i - 1].r1, "radius grows from one segment to the next");
      }
    }
  }
});

Deno.test("growVesselTree() trunks are tortuous, and straight without tortuosity", () => {
  const ratio = (v: VesselSegment[]) => {
    let path = 0;
    for (const s of v) path += Math.hypot(s.x1 - s.x0, s.y1 - s.y0);
    return path / Math.hypot(v.at(-1)!.x1 - v[0].x0, v.at(-1)!.y1 - v[0].y0);
  };
  for (const seed of [1, 2, 3]) {
    const trunks = vessels(tree(seed).segments).filter((v) => v[0].depth === 0);
    for (const t of trunks) assert(ratio(t) > 1.005, `path/chord ${ratio(t)}`);
    // Without tortuosity (and no branches to deflect them) the nasal trunks run straight.
    const straight = vessels(tree(seed, 256, { tortuosity: 0, branchProbability: 0 }).segments);
    assertEquals(straight.length, 4);
    const nasal = straight.slice(2);
    for (const t of nasal) assertAlmostEquals(ratio(t), 1, 1e-9);
  }
});

Deno.test("growVesselTree() stays inside the FOV and out of the macula", () => {
  for (const seed of [1, 2, 3, 4]) {
    const { options, segments } = tree(seed);
    const c = options.size / 2;
    for (const s of segments) {
      assert(Math.hypot(s.x1 - c, s.y1 - c) <= options.fovRadius, "segment leaves the FOV");
      assert(Math.hypot(s.x0 - c, s.y0 - c) <= options.fovRadius, "segment leaves the FOV");
      const toMacula = Math.hypot(s.x1 - options.macula.x, s.y1 - options.macula.y);
      assert(toMacula >= options.maculaRadius, `vessel ${toMacula} px from the macula centre`);
    }
  }
});

Deno.test("growVesselTree() respects maxSegments, maxLength and minRadius", () => {
  assertEquals(tree(1, 256, { maxSegments: 50 }).segments.length, 50);
  const { options, segments } = tree(1, 256, { maxLength: 20 });
  for (const v of vessels(segments)) assert((v.length - 1) * options.step < 20, "too long");
  // A minimum radius above the trunks' leaves nothing to grow.
  assertEquals(tree(1, 256, { minRadius: 10 }).segments, []);
  assertThrows(() => tree(1, 256, { step: 0 }), RangeError, "step");
});

import { rasterizeVesselMask, renderFundus, vesselCoverage } from "./render.ts";
import type { VesselSegment } from "./vessel_tree.ts";
import { Random } from "../../pipeline/random.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../../tests/assert.ts";

const segment = (
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  r0: number,
  r1 = r0,
): VesselSegment => ({ x0, y0, x1, y1, r0, r1, depth: 0 });

/** The `[x, y]` of every pixel that is 1, row by row. */
function onPixels(data: Float32Array, width: number): number[][] {
  const out: number[][] = [];
  data.forEach((v, i) => {
    if (v === 1) out.push([i % width, Math.floor(i / width)]);
  });
  return out;
}

/** Pixel centres tested against every segment, with no bounding boxes: the reference. */
function bruteForceMask(segments: VesselSegment[], width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (const s of segments) {
        const px = x + 0.5, py = y + 0.5, dx = s.x1 - s.x0, dy = s.y1 - s.y0;
        const len2 = dx * dx + dy * dy;
        const t = len2 > 0
          ? Math.min(1, Math.max(0, ((px - s.x0) * dx + (py - s.y0) * dy) / len2))
          : 0;
        const r = s.r0 + t * (s.r1 - s.r0);
        if ((px - s.x0 - t * dx) ** 2 + (py - s.y0 - t * dy) ** 2 <= r * r) out[y * width + x] = 1;
      }
    }
  }
  return out;
}

Deno.test("rasterizeVesselMask() covers exactly the hand-computed pixels of a capsule", () => {
  // Centres at distance <= 1 from (2, 2.5)–(6, 2.5): row 2 from x = 1 (centre 1.5, 0.5 from the
  // end) to 6; rows 1 and 3 (1 away) only over the segment's span, x = 2..5; corners are farther.
  const mask = rasterizeVesselMask([segment(2, 2.5, 6, 2.5, 1)], 8, 5);
  assertEquals([mask.width, mask.height, mask.channels], [8, 5, 1]);
  assertEquals(onPixels(mask.data, 8), [
    [2, 1],
    [3, 1],
    [4, 1],
    [5, 1],
    [1, 2],
    [2, 2],
    [3, 2],
    [4, 2],
    [5, 2],
    [6, 2],
    [2, 3],
    [3, 3],
    [4, 3],
    [5, 3],
  ]);
  assertEquals(mask.data.filter((v) => v !== 0 && v !== 1).length, 0);
});

Deno.test("rasterizeVesselMask() tapers the radius along the segment", () => {
  // (0.5, 2.5)–(6.5, 2.5), radius 2 → 0: a centre at column x projects to t = x / 6 with radius
  // 2 - x / 3. Row 2 (distance 0): x = 0..6; rows 1 and 3 (distance 1): x <= 3; rows 0 and 4
  // (distance 2): only x = 0.
  const mask = rasterizeVesselMask([segment(0.5, 2.5, 6.5, 2.5, 2, 0)], 8, 5);
  assertEquals(onPixels(mask.data, 8), [
    [0, 0],
    [0, 1],
    [1, 1],
    [2, 1],
    [3, 1],
    [0, 2],
    [1, 2],
    [2, 2],
    [3, 2],
    [4, 2],
    [5, 2],
    [6, 2],
    [0, 3],
    [1, 3],
    [2, 3],
    [3, 3],
    [0, 4],
  ]);
});

Deno.test("rasterizeVesselMask() draws a zero-length segment as a disc", () => {
  const mask = rasterizeVesselMask([segment(2.5, 2.5, 2.5, 2.5, 1)], 5, 5);
  assertEquals(onPixels(mask.data, 5), [[2, 1], [1, 2], [2, 2], [3, 2], [2, 3]]);
});

Deno.test("rasterizeVesselMask() matches a brute-force reference, clipped at the borders", () => {
  const random = new Random(5);
  const segments: VesselSegment[] = [];
  for (let i = 0; i < 40; i++) {
    // Some segments stick out of the 30 × 20 image on every side.
    const x0 = -5 + 40 * random.next(), y0 = -5 + 30 * random.next();
    const r0 = 0.2 + 3 * random.next();
    segments.push(
      segment(x0, y0, x0 + 8 * random.normal(), y0 + 8 * random.normal(), r0, r0 * random.next()),
    );
  }
  const mask = rasterizeVesselMask(segments, 30, 20);
  assertEquals(mask.data, bruteForceMask(segments, 30, 20));
  assert(mask.data.some((v) => v === 1) && mask.data.some((v) => v === 0), "trivial case");
});

Deno.test("vesselCoverage() is 1 inside, 0 away, fractional at the rim, and ≈ the area", () => {
  const s = segment(4, 8, 28, 8, 2.5);
  const coverage = vesselCoverage([s], 32, 16, 8);
  assertEquals(coverage[8 * 32 + 10], 1); // centre (10.5, 8.5), well inside
  assertEquals(coverage[2 * 32 + 10], 0); // 5.5 px above the axis
  const rim = coverage[10 * 32 + 10]; // rows 10 spans 2..3 px below the axis: half covered
  assertAlmostEquals(rim, 0.5, 0.07);
  let area = 0;
  for (const v of coverage) area += v;
  assertAlmostEquals(area, 2 * 2.5 * 24 + Math.PI * 2.5 * 2.5, 3, "capsule area");
  // One sample per pixel is exactly the mask.
  assertEquals(vesselCoverage([s], 32, 16, 1), rasterizeVesselMask([s], 32, 16).data);
  assertThrows(() => vesselCoverage([s], 32, 16, 0), RangeError, "samples");
});

Deno.test("vesselCoverage() is the union of overlapping segments, not their sum", () => {
  const a = segment(2, 4, 12, 4, 2), b = segment(2, 4.2, 12, 4.2, 2);
  const both = vesselCoverage([a, b], 14, 8);
  assert(both.every((v) => v >= 0 && v <= 1), "coverage above 1");
  assertEquals(both[4 * 14 + 6], 1);
});

Deno.test("renderFundus() is deterministic for a seed and differs between seeds", () => {
  const a = renderFundus({ size: 96 }, new Random(3));
  const b = renderFundus({ size: 96 }, new Random(3));
  const c = renderFundus({ size: 96 }, new Random(4));
  assertEquals(a.image.data, b.image.data);
  assertEquals(a.mask.data, b.mask.data);
  assert(a.mask.data.some((v, i) => v !== c.mask.data[i]), "different seeds, same mask");
  assert(a.image.data.some((v, i) => v !== c.image.data[i]), "different seeds, same image");
  // The noise level changes the picture but not the tree.
  const quiet = renderFundus({ size: 96, noise: 0 }, new Random(3));
  assertEquals(quiet.mask.data, a.mask.data);
  assert(quiet.image.data.some((v, i) => v !== a.image.data[i]), "noise had no effect");
});

Deno.test("renderFundus() gives a binary mask inside a circular FOV and a valid RGB image", () => {
  const size = 256;
  for (const seed of [1, 2, 3, 4]) {
    const { image, mask, fov } = renderFundus({ size }, new Random(seed));
    assertEquals([image.width, image.height, image.channels], [size, size, 3]);
    assertEquals([mask.width, mask.height, mask.channels], [size, size, 1]);
    assertEquals([fov.width, fov.height, fov.channels], [size, size, 1]);
    let inFov = 0, vessel = 0;
    for (let p = 0; p < size * size; p++) {
      const m = mask.data[p], f = fov.data[p];
      assert(m === 0 || m === 1, `mask value ${m}`);
      assert(f === 0 || f === 1, `fov value ${f}`);
      assert(m <= f, "vessel outside the FOV");
      inFov += f;
      vessel += m;
      for (let c = 0; c < 3; c++) {
        const v = image.data[p * 3 + c];
        assert(v >= 0 && v <= 255, `image value ${v}`);
        if (f === 0) assert(v < 10, `outside-FOV value ${v}`);
      }
    }
    // The FOV is a centred circle filling most of the image (DRIVE: about 70 %).
    assertAlmostEquals(inFov / (size * size), Math.PI * 0.47 * 0.47, 0.01);
    assertEquals(fov.data[(size / 2) * size + size / 2], 1);
    assertEquals(fov.data[0], 0);
    const fraction = vessel / inFov;
    assert(fraction >= 0.06 && fraction <= 0.2, `seed ${seed}: vessel fraction ${fraction}`);
  }
});

Deno.test("renderFundus() looks like a fundus: reddish, dark vessels in green, bright disc", () => {
  const size = 256;
  const disc = { x: 195, y: 128 }, macula = { x: 118, y: 132 };
  for (const seed of [1, 2, 3]) {
    const { image, mask, fov } = renderFundus({ size, tree: { disc, macula } }, new Random(seed));
    const mean = new Float64Array(3), vesselGreen = [0, 0], backGreen = [0, 0], discGreen = [0, 0];
    let inFov = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = y * size + x;
        if (fov.data[p] === 0) continue;
        inFov++;
        for (let c = 0; c < 3; c++) mean[c] += image.data[p * 3 + c];
        const g = image.data[p * 3 + 1];
        const sum = mask.data[p] === 1 ? vesselGreen : backGreen;
        sum[0] += g;
        sum[1]++;
        if (Math.hypot(x + 0.5 - disc.x, y + 0.5 - disc.y) < 0.03 * size) {
          discGreen[0] += g;
          discGreen[1]++;
        }
      }
    }
    const [r, g, b] = Array.from(mean, (v) => v / inFov);
    assert(r > 120 && r > 1.5 * g && g > b, `mean colour ${r}, ${g}, ${b}`);
    const vesselMean = vesselGreen[0] / vesselGreen[1], backMean = backGreen[0] / backGreen[1];
    assert(vesselMean < 0.9 * backMean, `green: vessels ${vesselMean}, background ${backMean}`);
    const discMean = discGreen[0] / discGreen[1];
    assert(discMean > 1.3 * g, `disc green ${discMean} vs FOV mean ${g}`);
  }
});

Deno.test("renderFundus() renders thick vessels darker than thin ones", () => {
  // Unbranched, untortuous trunks follow the same paths whatever their width, and the look is
  // drawn from its own stream, so the two pictures differ only in the vessels' radii.
  const size = 256;
  const render = (trunkRadius: number) =>
    renderFundus(
      { size, noise: 0, tree: { branchProbability: 0, tortuosity: 0, trunkRadius } },
      new Random(9),
    );
  const thin = render(1), thick = render(3);
  let n = 0, thinGreen = 0, thickGreen = 0;
  for (let p = 0; p < size * size; p++) {
    if (thin.mask.data[p] !== 1) continue;
    assertEquals(thick.mask.data[p], 1, "the thick trunks contain the thin ones");
    n++;
    thinGreen += thin.image.data[p * 3 + 1];
    thickGreen += thick.image.data[p * 3 + 1];
  }
  assert(n > 100, `only ${n} vessel pixels`);
  assert(thickGreen / n < 0.85 * (thinGreen / n), `thick ${thickGreen / n}, thin ${thinGreen / n}`);
});

Deno.test("renderFundus() rejects bad options", () => {
  assertThrows(() => renderFundus({ size: 20 }, new Random(1)), RangeError, "size");
  assertThrows(() => renderFundus({ size: 64, noise: -1 }, new Random(1)), RangeError, "noise");
  assertThrows(() => renderFundus({ size: 64, blur: NaN }, new Random(1)), RangeError, "blur");
  assertThrows(
    () => renderFundus({ size: 64, contrast: 2 }, new Random(1)),
    RangeError,
    "contrast",
  );
  assertThrows(() => renderFundus({ size: 64, samples: 0 }, new Random(1)), RangeError, "samples");
});

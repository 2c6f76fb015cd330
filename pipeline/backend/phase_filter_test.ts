import { phasePlan, writePhaseFilter } from "./phase_filter.ts";
import { assertEquals } from "../../tests/assert.ts";

Deno.test("phasePlan() gives a 3-tap filter at stride 2 two phases of 2 and 1 taps", () => {
  // Output 2u takes taps 0 and 2 (from dy u and u − 1), output 2u + 1 tap 1 (from dy u).
  assertEquals(phasePlan(3, 2, 0), {
    phases: [{ first: 0, count: 2, offset: 0 }, { first: 1, count: 1, offset: 1 }],
    lo: -1,
    size: 2,
  });
});

Deno.test("phasePlan() leaves a phase no tap reaches empty", () => {
  // Two taps at stride 3: the third phase of every output triple gets no gradient.
  const third = phasePlan(2, 3, 0).phases[2];
  assertEquals([third.first, third.count], [2, 0]);
});

Deno.test("writePhaseFilter() swaps the channel axes at stride 1", () => {
  // One tap, 2 input and 3 output channels: [i][o] = [[1, 2, 3], [4, 5, 6]] becomes [o][i].
  const out = new Float32Array(6).fill(NaN);
  const plan = phasePlan(1, 1, 0);
  writePhaseFilter(new Float32Array([1, 2, 3, 4, 5, 6]), [1, 1, 2, 3], plan, plan, [1, 1], out);
  assertEquals(Array.from(out), [1, 4, 2, 5, 3, 6]);
});

Deno.test("writePhaseFilter() lays the phases side by side as channels, taps reversed", () => {
  // Columns: taps [1, 2, 3] at stride 2. Phase 0 reads dy (u − 1, u) with taps (2, 0), so (3, 1);
  // phase 1 reads dy u with tap 1 at combined column 1 and nothing at column 0.
  const out = new Float32Array(4).fill(NaN);
  writePhaseFilter(
    new Float32Array([1, 2, 3]),
    [1, 3, 1, 1],
    phasePlan(1, 1, 0),
    phasePlan(3, 2, 0),
    [1, 2],
    out,
  );
  assertEquals(Array.from(out), [3, 0, 1, 2]);
});

Deno.test("writePhaseFilter() zeroes a phase without taps and walks both axes", () => {
  // A 2×2 filter of taps 1, 2 / 3, 4 at stride (1, 3): rows reversed (3, 4 / 1, 2), one tap a
  // column phase, the third column phase all zero.
  const out = new Float32Array(6).fill(NaN);
  writePhaseFilter(
    new Float32Array([1, 2, 3, 4]),
    [2, 2, 1, 1],
    phasePlan(2, 1, 0),
    phasePlan(2, 3, 0),
    [1, 3],
    out,
  );
  assertEquals(Array.from(out), [3, 4, 0, 1, 2, 0]);
});

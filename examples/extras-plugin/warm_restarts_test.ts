import { cycleAt, warmRestarts, warmRestartsOptions } from "./warm_restarts.ts";

function assertClose(actual: number, expected: number, what: string): void {
  if (Math.abs(actual - expected) > 1e-12) throw new Error(`${what}: ${actual} ≠ ${expected}`);
}

Deno.test("cycles grow by the factor: 1, 2, 4 epochs starting at 0, 1, 3", () => {
  const starts = [0, 0.99, 1, 2.5, 3, 6.9, 7].map((e) => cycleAt(e, 1, 2));
  const expected = [[0, 1], [0, 1], [1, 2], [1, 2], [3, 4], [3, 4], [7, 8]];
  starts.forEach(({ start, length }, i) => {
    if (start !== expected[i][0] || length !== expected[i][1]) {
      throw new Error(`cycle ${i}: ${start}+${length}`);
    }
  });
});

Deno.test("the rate restarts at the base and falls to the minimum by cosine", () => {
  const rate = warmRestarts.create(
    warmRestartsOptions.parse({ period: 2, growth: 1, minLearningRate: 0.01 }),
  );
  assertClose(rate(0, 0.1, 6), 0.1, "start");
  // Halfway through a cycle: min + (base - min)·(1 + cos(π/2))/2 = 0.01 + 0.09·0.5.
  assertClose(rate(1, 0.1, 6), 0.055, "halfway");
  assertClose(rate(2, 0.1, 6), 0.1, "restart");
  assertClose(rate(3, 0.1, 6), 0.055, "halfway again");
});

import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
import { learningRateAt, scheduleOptions } from "./schedules.ts";

Deno.test("learningRateAt() step drops by factor every N epochs", () => {
  const step = scheduleOptions.parse({ type: "step", every: 2, factor: 0.5 });
  // epochs 0-1: 0.2; 2-3: 0.1; 4: 0.05
  const rates = [0, 1.9, 2, 3.99, 4].map((e) => learningRateAt(step, 0.2, e, 5));
  assertEquals(rates, [0.2, 0.2, 0.1, 0.1, 0.05]);
});

Deno.test("learningRateAt() cosine goes from base to min through the midpoint", () => {
  const cosine = scheduleOptions.parse({ type: "cosine", minLearningRate: 0.01 });
  assertAlmostEquals(learningRateAt(cosine, 0.1, 0, 10), 0.1, 1e-12);
  // halfway: min + (base-min)·(1+cos(π/2))/2 = 0.01 + 0.09·0.5 = 0.055
  assertAlmostEquals(learningRateAt(cosine, 0.1, 5, 10), 0.055, 1e-12);
  assertAlmostEquals(learningRateAt(cosine, 0.1, 10, 10), 0.01, 1e-12);
});

Deno.test("learningRateAt() cosine warms up linearly", () => {
  const cosine = scheduleOptions.parse({ type: "cosine", warmupEpochs: 1 });
  assertAlmostEquals(learningRateAt(cosine, 0.1, 0.5, 5), 0.05, 1e-12);
  assertAlmostEquals(learningRateAt(cosine, 0.1, 1, 5), 0.1, 1e-12);
});

Deno.test("scheduleOptions fills defaults and rejects unknown types", () => {
  assertEquals(scheduleOptions.parse({ type: "step" }), { type: "step", every: 2, factor: 0.1 });
  assertEquals(scheduleOptions.safeParse({ type: "linear" }).success, false);
});

import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
import {
  constantSchedule,
  cosineSchedule,
  exponentialSchedule,
  multistepSchedule,
  oneCycleSchedule,
  plateauSchedule,
  stepSchedule,
} from "./schedules.ts";

Deno.test("core/step drops by factor every N epochs", () => {
  const step = stepSchedule.create(stepSchedule.options.parse({ every: 2, factor: 0.5 }));
  // epochs 0-1: 0.2; 2-3: 0.1; 4: 0.05
  assertEquals([0, 1.9, 2, 3.99, 4].map((e) => step(e, 0.2, 5)), [0.2, 0.2, 0.1, 0.1, 0.05]);
});

Deno.test("core/cosine goes from base to min through the midpoint", () => {
  const cosine = cosineSchedule.create(cosineSchedule.options.parse({ minLearningRate: 0.01 }));
  assertAlmostEquals(cosine(0, 0.1, 10), 0.1, 1e-12);
  // halfway: min + (base-min)·(1+cos(π/2))/2 = 0.01 + 0.09·0.5 = 0.055
  assertAlmostEquals(cosine(5, 0.1, 10), 0.055, 1e-12);
  assertAlmostEquals(cosine(10, 0.1, 10), 0.01, 1e-12);
});

Deno.test("core/cosine warms up linearly", () => {
  const cosine = cosineSchedule.create(cosineSchedule.options.parse({ warmupEpochs: 1 }));
  assertAlmostEquals(cosine(0.5, 0.1, 5), 0.05, 1e-12);
  assertAlmostEquals(cosine(1, 0.1, 5), 0.1, 1e-12);
});

Deno.test("core/constant keeps the base rate; options fill defaults and reject typos", () => {
  assertEquals(constantSchedule.create({})(3.5, 0.02, 5), 0.02);
  assertEquals(stepSchedule.options.parse({}), { every: 2, factor: 0.1 });
  assertEquals(stepSchedule.options.safeParse({ evry: 2 }).success, false);
  assertEquals(constantSchedule.options.safeParse({ rate: 1 }).success, false);
});

Deno.test("core/multistep drops by factor at each milestone; milestones must increase", () => {
  const rate = multistepSchedule.create(multistepSchedule.options.parse({ milestones: [2, 5] }));
  assertEquals([0, 1.99, 2, 4.5, 5, 9].map((e) => rate(e, 1, 10)), [
    1,
    1,
    0.1,
    0.1,
    0.1 ** 2,
    0.1 ** 2,
  ]);
  assertEquals(multistepSchedule.options.safeParse({ milestones: [5, 2] }).success, false);
});

Deno.test("core/exponential multiplies by gamma per epoch, continuously", () => {
  const rate = exponentialSchedule.create({ gamma: 0.5 });
  assertEquals([0, 1, 2].map((e) => rate(e, 0.8, 3)), [0.8, 0.4, 0.2]);
  assertAlmostEquals(rate(0.5, 1, 3), Math.SQRT1_2, 1e-12);
});

Deno.test("core/one_cycle rises to the base rate at pctStart, then anneals to base/div/finalDiv", () => {
  const rate = oneCycleSchedule.create({ pctStart: 0.25, divFactor: 10, finalDivFactor: 100 });
  assertAlmostEquals(rate(0, 1, 4), 0.1, 1e-12); // base / divFactor
  assertAlmostEquals(rate(0.5, 1, 4), (0.1 + 1) / 2, 1e-12); // halfway up (cosine midpoint)
  assertAlmostEquals(rate(1, 1, 4), 1, 1e-12); // the peak at 25 %
  assertAlmostEquals(rate(2.5, 1, 4), (1 + 0.001) / 2, 1e-12); // halfway down
  assertAlmostEquals(rate(4, 1, 4), 0.001, 1e-12); // base / 10 / 100
});

Deno.test("core/plateau divides the rate after `patience` epochs without a lower loss", () => {
  const rate = plateauSchedule.create(plateauSchedule.options.parse({ factor: 0.5, patience: 2 }));
  const seen: number[] = [];
  [1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.75].forEach((loss, e) => {
    rate.observe!(e + 1, loss);
    seen.push(rate(e + 1, 0.1, 10));
  });
  // Improves at 1, 2; flat at 3, 4 -> halves after 4; improves at 5; flat 6, 7 -> halves again.
  assertEquals(seen, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
  // Its state survives a checkpoint.
  const again = plateauSchedule.create(plateauSchedule.options.parse({ factor: 0.5, patience: 2 }));
  again.restore!(JSON.parse(JSON.stringify(rate.state!())));
  assertEquals(again(8, 0.1, 10), 0.025);
  again.observe!(8, 0.8);
  rate.observe!(8, 0.8);
  assertEquals(again.state!(), rate.state!());
});

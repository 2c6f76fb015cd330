import { assertEquals } from "../../../tests/assert.ts";
import { epochFraction, fitToBudget } from "./time_budget.ts";

/** 6 minutes; 100 of 312 planned steps of the first of 5 epochs took 50 s. */
const point = {
  budgetSeconds: 360,
  spentSeconds: 50,
  secondsPerStep: 0.5,
  plannedSteps: 312,
  stepsDone: 100,
  fractionDone: 100 / 312,
  epochsAfter: 4,
};

Deno.test("fitToBudget: the planned steps when they fit", () => {
  // 0.1 s a step: 3,100 more steps are affordable, more than the 1,460 left.
  assertEquals(fitToBudget({ ...point, secondsPerStep: 0.1 }), {
    stepsPerEpoch: 312,
    thisEpochSteps: 312,
  });
});

Deno.test("fitToBudget: shorter epochs, this one's rest shortened alike", () => {
  // 620 more steps for 4 epochs and 212/312 of this one: 620 / 4.679 = 132.5 → 132 an epoch;
  // this epoch's rest is 212/312 of 132 = 89.7 → 90 steps after the 100 done.
  assertEquals(fitToBudget(point), { stepsPerEpoch: 132, thisEpochSteps: 190 });
  // At an epoch's start (nothing done): 620 / 5 = 124 for each of the 5.
  assertEquals(
    fitToBudget({ ...point, spentSeconds: 50, stepsDone: 0, fractionDone: 0 }),
    { stepsPerEpoch: 124, thisEpochSteps: 124 },
  );
});

Deno.test("fitToBudget: a spent budget leaves 1 step an epoch", () => {
  assertEquals(fitToBudget({ ...point, spentSeconds: 400 }), {
    stepsPerEpoch: 1,
    thisEpochSteps: 101, // 212/312 of one step rounds to 1
  });
});

Deno.test("fitToBudget: nothing to fit when the last epoch is done", () => {
  const last = { ...point, stepsDone: 312, fractionDone: 1, epochsAfter: 0, spentSeconds: 400 };
  assertEquals(fitToBudget(last), { stepsPerEpoch: 312, thisEpochSteps: 312 });
});

Deno.test("epochFraction: even steps, then the rest spread over a shortened epoch", () => {
  const whole = { fromStep: 0, fromFraction: 0, steps: 312 };
  assertEquals([0, 78, 156, 312].map((s) => epochFraction(s, whole)), [0, 0.25, 0.5, 1]);
  // Shortened at step 100 of 312 to end at 190: from 100/312 to 1 over 90 steps.
  const shortened = { fromStep: 100, fromFraction: 100 / 312, steps: 190 };
  assertEquals(epochFraction(100, shortened), 100 / 312);
  assertEquals(epochFraction(190, shortened), 1);
  assertEquals(epochFraction(145, shortened), 100 / 312 + (45 * (212 / 312)) / 90);
  // An epoch that ends where it was shortened is done.
  assertEquals(epochFraction(100, { fromStep: 100, fromFraction: 0.3, steps: 100 }), 1);
});

import { assertEquals } from "../../../tests/assert.ts";
import { epochFraction, fitToBudget, TimeBudget } from "./time_budget.ts";

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

/** drive-full.yaml's plan under a 6-minute budget. */
const plan = { minutes: 6, plannedSteps: 312, epochs: 5, batchSize: 64, patches: 20000 };
const whole = { fromStep: 0, fromFraction: 0, steps: 312 };
/** A read of the first epoch at `seconds`, after `stepsDone` steps. */
const readAt = (budget: TimeBudget, stepsDone: number, seconds: number) =>
  budget.atRead({
    now: seconds * 1000,
    epochStart: 0,
    epoch: 0,
    stepsDone,
    span: whole,
    spentBefore: 0,
  });

Deno.test("TimeBudget: the pace between the first two reads fits the epochs, once", () => {
  const budget = new TimeBudget(plan);
  assertEquals(readAt(budget, 50, 30), undefined); // 30 s of compiling and 50 steps: not counted
  const change = readAt(budget, 100, 55); // 50 steps in 25 s: 0.5 s a step
  // (360 − 55) / 0.5 = 610 more steps over 4 + 212/312 epochs: 130 an epoch; this one's rest is
  // 212/312 of 130 = 88.3 → 88.
  assertEquals(budget.stepsPerEpoch, 130);
  assertEquals(change?.span, { fromStep: 100, fromFraction: 100 / 312, steps: 188 });
  assertEquals(
    change?.message,
    "time budget: 50 steps took 25s (0.500 s a step), so 312 steps an epoch would overrun " +
      "train.maxMinutes 6; each epoch now takes 130 steps (8320 of its 20000 patches), this " +
      "one 188, the learning-rate schedule stretched over them",
  );
  assertEquals(readAt(budget, 150, 80), undefined); // fitted already
});

Deno.test("TimeBudget: planned epochs that fit are kept, and said to fit", () => {
  const budget = new TimeBudget(plan);
  readAt(budget, 50, 5);
  const change = readAt(budget, 100, 10); // 0.1 s a step: 1,460 steps left take 146 s
  assertEquals(budget.stepsPerEpoch, 312);
  assertEquals(change?.span, whole);
  assertEquals(
    change?.message,
    "time budget: 50 steps took 5s (0.100 s a step); 312 steps an epoch fit train.maxMinutes 6",
  );
});

Deno.test("TimeBudget: an epoch with one read is timed whole, from its start", () => {
  const budget = new TimeBudget({ ...plan, plannedSteps: 40 });
  const change = budget.atRead({
    now: 40_000,
    epochStart: 0,
    epoch: 0,
    stepsDone: 40,
    span: { fromStep: 0, fromFraction: 0, steps: 40 },
    spentBefore: 0,
  });
  // 1 s a step; the first epoch is done, so the 4 left share (360 − 40) / 1 = 320: 80 > 40 fit.
  assertEquals(budget.stepsPerEpoch, 40);
  assertEquals(
    change?.message.startsWith("time budget: 40 steps took 40s (1.000 s a step);"),
    true,
  );
});

Deno.test("TimeBudget: after each epoch, the epochs left get shorter if its whole pace says so", () => {
  const budget = new TimeBudget({ ...plan, fitted: 130 }); // as a resumed run's checkpoint had it
  assertEquals(readAt(budget, 100, 55), undefined);
  // Epoch 1 took 100 s for its 188 steps and validation (0.532 s a step): (360 − 100) / 0.532 =
  // 488 steps for 4 epochs, 122 each.
  assertEquals(
    budget.atEpochEnd(0, 100, 188, 100),
    "time budget: epoch 1 took 1m40s for 188 steps and its validation, so the epochs left take " +
      "122 steps each to fit train.maxMinutes 6",
  );
  assertEquals(budget.stepsPerEpoch, 122);
  // A faster epoch never lengthens them again; after the last epoch there is nothing to fit.
  assertEquals(budget.atEpochEnd(1, 20, 122, 120), undefined);
  assertEquals(budget.stepsPerEpoch, 122);
  assertEquals(budget.atEpochEnd(4, 500, 122, 600), undefined);
});

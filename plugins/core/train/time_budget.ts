/**
 * `core/train`'s time budget (`train.maxMinutes`): once the pace of the
 * training steps is known, how many steps the epochs may take so that all of
 * them fit the budget. Epochs are shortened, not dropped, and the epoch under
 * way is stretched over its shorter rest, so the learning-rate schedule (a
 * function of the epochs' fraction done) runs its whole course without a
 * jump: a warm-up still ramps and a cosine decay still ends near zero.
 *
 * @module
 */
import { formatDuration } from "../../../mod.ts";

/** Where training stands when the pace is measured. */
export interface BudgetPoint {
  /** Seconds the training may take in all. */
  readonly budgetSeconds: number;
  /** Seconds spent so far (earlier epochs, and this epoch's steps). */
  readonly spentSeconds: number;
  /** The measured seconds per step. */
  readonly secondsPerStep: number;
  /** Steps per epoch as planned (patches ÷ batch). */
  readonly plannedSteps: number;
  /** Steps this epoch has done. */
  readonly stepsDone: number;
  /** The fraction of this epoch they stand for (`stepsDone / plannedSteps` unless shortened). */
  readonly fractionDone: number;
  /** Epochs after this one. */
  readonly epochsAfter: number;
}

/** Steps that fit the budget. */
export interface BudgetFit {
  /** Steps of each later epoch: the planned count when it fits. */
  readonly stepsPerEpoch: number;
  /** Where this epoch ends (its steps in all, those done included). */
  readonly thisEpochSteps: number;
}

/**
 * The steps that fit the budget at the measured pace: the rest of this epoch
 * (its `1 − fractionDone`) and each later epoch get the same number of steps
 * per whole epoch, the planned count where that fits, and at least 1.
 *
 * @param point Where training stands.
 * @returns Steps of each later epoch, and where this one ends.
 *
 * @example Usage
 * ```ts
 * import { fitToBudget } from "./time_budget.ts";
 * // 6 minutes; 100 of 312 planned steps of epoch 1 took 50 s; 4 epochs follow. (360 − 50) s buys
 * // 620 more steps, for 4 epochs and the 212/312 of this one left: 620 / 4.679 = 132 an epoch.
 * const fit = fitToBudget({
 *   budgetSeconds: 360, spentSeconds: 50, secondsPerStep: 0.5, plannedSteps: 312,
 *   stepsDone: 100, fractionDone: 100 / 312, epochsAfter: 4,
 * });
 * console.assert(fit.stepsPerEpoch === 132 && fit.thisEpochSteps === 100 + 90);
 * ```
 */
export function fitToBudget(point: BudgetPoint): BudgetFit {
  const { budgetSeconds, spentSeconds, secondsPerStep, plannedSteps } = point;
  const { stepsDone, fractionDone, epochsAfter } = point;
  const epochsLeft = epochsAfter + 1 - fractionDone;
  if (epochsLeft <= 0) return { stepsPerEpoch: plannedSteps, thisEpochSteps: stepsDone };
  const affordable = Math.max(0, Math.floor((budgetSeconds - spentSeconds) / secondsPerStep));
  const perEpoch = Math.floor(affordable / epochsLeft);
  const stepsPerEpoch = Math.min(plannedSteps, Math.max(1, perEpoch));
  return {
    stepsPerEpoch,
    thisEpochSteps: stepsDone + Math.round((1 - fractionDone) * stepsPerEpoch),
  };
}

/** How an epoch's steps map onto its fraction done: from `fromStep` (at `fromFraction`) to `steps`. */
export interface EpochSpan {
  /** The step from which the rest of the epoch is spread. */
  readonly fromStep: number;
  /** The epoch's fraction done at `fromStep`. */
  readonly fromFraction: number;
  /** The epoch's steps in all. */
  readonly steps: number;
}

/**
 * The fraction of its epoch that `step` stands for: `step / steps` for a
 * whole epoch (`fromStep` 0), and the rest spread evenly over the steps
 * left after a shortening.
 *
 * @param step Steps done in the epoch.
 * @param span The epoch's steps.
 * @returns A fraction in [0, 1].
 *
 * @example Usage
 * ```ts
 * import { epochFraction } from "./time_budget.ts";
 * console.assert(epochFraction(78, { fromStep: 0, fromFraction: 0, steps: 312 }) === 0.25);
 * // Shortened at step 100 (of 200 planned) to end at step 150: half done, the rest over 50.
 * console.assert(epochFraction(125, { fromStep: 100, fromFraction: 0.5, steps: 150 }) === 0.75);
 * ```
 */
export function epochFraction(step: number, span: EpochSpan): number {
  const { fromStep, fromFraction, steps } = span;
  if (steps <= fromStep) return 1;
  return fromFraction + ((step - fromStep) * (1 - fromFraction)) / (steps - fromStep);
}

/** Where an epoch stands at a read of the losses (see {@link TimeBudget.atRead}). */
export interface ReadPoint {
  /** Now, in milliseconds (`performance.now()`). */
  readonly now: number;
  /** When the epoch started, in milliseconds. */
  readonly epochStart: number;
  /** The epoch, from 0. */
  readonly epoch: number;
  /** Steps the epoch has done. */
  readonly stepsDone: number;
  /** The epoch's steps as they stand. */
  readonly span: EpochSpan;
  /** Seconds of the epochs before this one (a resumed run's included). */
  readonly spentBefore: number;
}

/** What the budget changed: the epoch's new span, and a line for the log. */
export interface BudgetChange {
  /** The epoch's steps from now on (unchanged where only `message` is news). */
  readonly span: EpochSpan;
  /** What was decided, for the log. */
  readonly message: string;
}

/** The plan a {@link TimeBudget} fits. */
export interface BudgetPlan {
  /** `train.maxMinutes`. */
  readonly minutes: number;
  /** Steps per epoch as planned. */
  readonly plannedSteps: number;
  /** Epochs in all. */
  readonly epochs: number;
  /** Patches per step, for the log. */
  readonly batchSize: number;
  /** Training patches, for the log. */
  readonly patches: number;
  /** Steps per epoch fitted before (a resumed run's checkpoint), if any. */
  readonly fitted?: number;
}

/**
 * `train.maxMinutes` over a run: measures the pace of steps between the
 * epoch's first two reads of the losses (a backend's one-time compiling comes
 * before the first), or of the whole first epoch where it has one read, then
 * fits the epochs to the budget once; after each epoch it fits the epochs
 * left again from that epoch's whole pace, validation included, never
 * lengthening them. Times are passed in, so it runs on any clock.
 *
 * @example Usage
 * ```ts
 * import { TimeBudget } from "./time_budget.ts";
 * const budget = new TimeBudget({
 *   minutes: 6, plannedSteps: 312, epochs: 5, batchSize: 64, patches: 20000,
 * });
 * const at = (stepsDone: number, seconds: number) =>
 *   budget.atRead({
 *     now: seconds * 1000, epochStart: 0, epoch: 0, stepsDone, spentBefore: 0,
 *     span: { fromStep: 0, fromFraction: 0, steps: 312 },
 *   });
 * console.assert(at(50, 10) === undefined); // the first read starts the clock
 * const change = at(100, 35); // 50 steps in 25 s: 0.5 s a step
 * console.assert(budget.stepsPerEpoch === 138 && change?.span.steps === 194);
 * ```
 */
export class TimeBudget {
  /** Steps per epoch: as planned until fitted. */
  stepsPerEpoch: number;
  /** Whether the epochs have been fitted (a checkpoint keeps `stepsPerEpoch` then). */
  fitted: boolean;
  readonly #plan: BudgetPlan;
  #firstRead?: { time: number; step: number };

  /** @param plan The budget, and the plan it fits. */
  constructor(plan: BudgetPlan) {
    this.#plan = plan;
    this.stepsPerEpoch = plan.fitted ?? plan.plannedSteps;
    this.fitted = plan.fitted !== undefined;
  }

  /**
   * At a read of the losses: the first of an epoch starts the clock, the next
   * (or the epoch's end, where it is the first) fits the epochs once.
   *
   * @param point Where the epoch stands.
   * @returns The change, or undefined when there is none to report.
   */
  atRead(point: ReadPoint): BudgetChange | undefined {
    if (this.fitted) return undefined;
    const { now, epochStart, epoch, stepsDone, span, spentBefore } = point;
    if (!this.#firstRead && stepsDone < span.steps) {
      this.#firstRead = { time: now, step: stepsDone };
      return undefined;
    }
    const from = this.#firstRead ?? { time: epochStart, step: 0 };
    const { plannedSteps, epochs, minutes, batchSize, patches } = this.#plan;
    const secondsPerStep = (now - from.time) / 1000 / (stepsDone - from.step);
    const fractionDone = epochFraction(stepsDone, span);
    const fit = fitToBudget({
      budgetSeconds: minutes * 60,
      spentSeconds: spentBefore + (now - epochStart) / 1000,
      secondsPerStep,
      plannedSteps,
      stepsDone,
      fractionDone,
      epochsAfter: epochs - epoch - 1,
    });
    this.fitted = true;
    this.stepsPerEpoch = fit.stepsPerEpoch;
    const pace = `${steps(stepsDone - from.step)} took ${
      formatDuration((now - from.time) / 1000)
    } (${secondsPerStep.toFixed(3)} s a step)`;
    if (fit.stepsPerEpoch === plannedSteps) {
      return {
        span,
        message: `time budget: ${pace}; ${steps(plannedSteps)} an epoch fit ` +
          `train.maxMinutes ${minutes}`,
      };
    }
    return {
      span: { fromStep: stepsDone, fromFraction: fractionDone, steps: fit.thisEpochSteps },
      message: `time budget: ${pace}, so ${steps(plannedSteps)} an epoch would overrun ` +
        `train.maxMinutes ${minutes}; each epoch now takes ${steps(fit.stepsPerEpoch)} ` +
        `(${fit.stepsPerEpoch * batchSize} of its ${patches} patches), this one ` +
        `${fit.thisEpochSteps}, the learning-rate schedule stretched over them`,
    };
  }

  /**
   * After an epoch: fits the epochs left again from its whole pace.
   *
   * @param epoch The epoch just done, from 0.
   * @param seconds Its seconds, validation included.
   * @param stepsDone Its steps.
   * @param spent Seconds of all epochs so far, this one included.
   * @returns A line for the log where the epochs left got shorter.
   */
  atEpochEnd(epoch: number, seconds: number, stepsDone: number, spent: number): string | undefined {
    const { plannedSteps, epochs, minutes } = this.#plan;
    if (!this.fitted || epoch + 1 >= epochs) return undefined;
    const fit = fitToBudget({
      budgetSeconds: minutes * 60,
      spentSeconds: spent,
      secondsPerStep: seconds / stepsDone,
      plannedSteps,
      stepsDone: 0,
      fractionDone: 0,
      epochsAfter: epochs - epoch - 2,
    });
    if (fit.stepsPerEpoch >= this.stepsPerEpoch) return undefined;
    this.stepsPerEpoch = fit.stepsPerEpoch;
    return `time budget: epoch ${epoch + 1} took ${formatDuration(seconds)} for ` +
      `${steps(stepsDone)} and its validation, so the epochs left take ` +
      `${steps(this.stepsPerEpoch)} each to fit train.maxMinutes ${minutes}`;
  }
}

const steps = (n: number) => `${n} step${n === 1 ? "" : "s"}`;

/**
 * The caveat a run's results carry when the time budget shortened its epochs
 * (`TrainedModel.caveats`): how much of the planned training ran.
 *
 * @param stepsRun Each epoch's steps, as `history.jsonl` records them.
 * @param plannedSteps Steps an epoch has as planned.
 * @param batchSize Patches a step.
 * @param minutes The budget, `train.maxMinutes`.
 * @returns The caveat, or undefined where every epoch ran its planned steps.
 *
 * @example Usage
 * ```ts
 * import { budgetCaveat } from "./time_budget.ts";
 * console.assert(budgetCaveat([750, 750], 750, 16, 22) === undefined);
 * console.assert(
 *   budgetCaveat([300, 168], 750, 16, 1) ===
 *     "train.maxMinutes 1 shortened the epochs: 468 of 1500 planned steps ran (7488 of 24000 " +
 *       "patches), so these scores are not the recipe's full training; they depend on the " +
 *       "machine's speed",
 * );
 * ```
 */
export function budgetCaveat(
  stepsRun: readonly number[],
  plannedSteps: number,
  batchSize: number,
  minutes: number,
): string | undefined {
  if (stepsRun.every((n) => n >= plannedSteps)) return undefined;
  const ran = stepsRun.reduce((n, s) => n + s, 0);
  const planned = stepsRun.length * plannedSteps;
  return `train.maxMinutes ${minutes} shortened the epochs: ${ran} of ${planned} planned steps ` +
    `ran (${ran * batchSize} of ${planned * batchSize} patches), so these scores are not the ` +
    "recipe's full training; they depend on the machine's speed";
}

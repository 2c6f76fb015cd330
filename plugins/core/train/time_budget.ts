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

/**
 * Watching a validation score across epochs: which epoch was best, and
 * whether to stop early. Its state is plain JSON, kept in checkpoints.
 *
 * @module
 */

/** What a {@link Monitor} remembers. */
export interface MonitorState {
  /** The best value so far (`null` before the first). */
  readonly best: number | null;
  /** The epoch (from 1) of the best value; 0 before the first. */
  readonly bestEpoch: number;
  /** Epochs since the last improvement. */
  readonly badEpochs: number;
}

/**
 * Tracks the best value of a score that should fall (`min`, a loss) or rise
 * (`max`, Dice), and counts the epochs without an improvement of more than
 * `minDelta`; with `patience`, it says to stop after that many.
 *
 * @example Usage
 * ```ts
 * import { Monitor } from "./monitor.ts";
 * const monitor = new Monitor("min", { patience: 2 });
 * monitor.update(0.5, 1); monitor.update(0.6, 2);
 * console.assert(monitor.update(0.55, 3).stop && monitor.state.bestEpoch === 1);
 * ```
 */
export class Monitor {
  #state: MonitorState;
  readonly #mode: "min" | "max";
  readonly #minDelta: number;
  readonly #patience: number | null;

  /**
   * @param mode Whether lower (`min`) or higher (`max`) is better.
   * @param options `patience` (null: never stop) and `minDelta` (default 0).
   * @param state A state to continue from (a resumed run's).
   */
  constructor(
    mode: "min" | "max",
    options: { patience?: number | null; minDelta?: number } = {},
    state: MonitorState = { best: null, bestEpoch: 0, badEpochs: 0 },
  ) {
    this.#mode = mode;
    this.#minDelta = options.minDelta ?? 0;
    this.#patience = options.patience ?? null;
    this.#state = state;
  }

  /** The state, to save. */
  get state(): MonitorState {
    return this.#state;
  }

  /** Records epoch `epoch`'s value; says whether it is the best so far and whether to stop. */
  update(value: number, epoch: number): { improved: boolean; stop: boolean } {
    const { best } = this.#state;
    const improved = best === null ||
      (this.#mode === "min" ? value < best - this.#minDelta : value > best + this.#minDelta);
    this.#state = improved
      ? { best: value, bestEpoch: epoch, badEpochs: 0 }
      : { ...this.#state, badEpochs: this.#state.badEpochs + 1 };
    return {
      improved,
      stop: this.#patience !== null && this.#state.badEpochs >= this.#patience,
    };
  }
}

/**
 * A small, fast, seedable pseudo-random generator (SplitMix32 seeding a
 * Mulberry32 stream), so every stage draws reproducible numbers from the
 * recipe's seed without sharing global state.
 *
 * @module
 */

/**
 * A seeded generator of uniform floats, integers and normal samples.
 *
 * @example Usage
 * ```ts
 * import { Random } from "./random.ts";
 * const a = new Random(7), b = new Random(7);
 * console.assert(a.next() === b.next());
 * ```
 */
export class Random {
  #state: number;

  /** @param seed Any integer; equal seeds give equal streams. */
  constructor(seed: number) {
    let z = (seed | 0) + 0x9e3779b9;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.#state = (z ^ (z >>> 16)) >>> 0;
  }

  /** The generator's internal state, to save and later {@link Random.restore}. */
  get state(): number {
    return this.#state;
  }

  /** Continues from a state taken from {@link Random.state}. */
  restore(state: number): void {
    this.#state = state >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal sample (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A new generator seeded from this one, for an independent stream. */
  fork(): Random {
    return new Random(Math.floor(this.next() * 4294967296));
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/**
 * The generator of the stage at `position` (1-based, in run order) of a run
 * seeded with `seed`: every tool that runs stages seeds them alike, so they
 * draw as in a run.
 */
export function stageRandom(seed: number, position: number): Random {
  return new Random(seed * 1000003 + position * 7919);
}

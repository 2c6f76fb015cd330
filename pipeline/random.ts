/**
 * A small, fast, seedable pseudo-random generator (SplitMix32 seeding a
 * Mulberry32 stream), so every stage draws reproducible numbers from the
 * recipe's seed without sharing global state.
 *
 * @module
 */
import { STAGE_KINDS, type StageKind } from "./stage.ts";
import type { ResolvedRecipe, ResolvedStage } from "./recipe/validate.ts";

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
 * The generator of a run's `index`-th stage of `kind` (0-based), in a run
 * seeded with `seed`. Each stage draws from a stream fixed by its slot, not
 * by how many stages ran before it, so a recipe without one of the stages
 * (an ablation without augmentation, say) leaves the others' draws, the
 * validation split among them, as they were. The first stage of each kind
 * gets the stream it got when streams were numbered in run order in a recipe
 * with one stage of each kind (load 1 to evaluate 6), so such runs draw as
 * before. Every tool that runs stages seeds them this way, so they draw as in
 * a run.
 *
 * @example Usage
 * ```ts
 * import { stageRandom } from "./random.ts";
 * const a = stageRandom(42, "train"), b = stageRandom(42, "train");
 * console.assert(a.next() === b.next());
 * console.assert(stageRandom(42, "augment", 1).next() !== stageRandom(42, "augment").next());
 * ```
 */
export function stageRandom(seed: number, kind: StageKind, index = 0): Random {
  const slot = STAGE_KINDS.indexOf(kind) + 1 + 1000 * index;
  return new Random(seed * 1000003 + slot * 7919);
}

/** {@link stageRandom} of one of `recipe`'s stages, as a run seeds it. */
export function stageRandomOf(recipe: ResolvedRecipe, stage: ResolvedStage): Random {
  const index = (recipe.stages.get(stage.kind) ?? []).indexOf(stage);
  return stageRandom(recipe.seed, stage.kind, index);
}

/**
 * A data stage's `context.random` that records whether the stage drew from
 * it (or read its state), so that the runner knows whether the data depends
 * on the seed.
 *
 * @example Usage
 * ```ts
 * import { Random, RecordingRandom } from "./random.ts";
 * const random = RecordingRandom.of(new Random(7));
 * console.assert(!random.used);
 * console.assert(random.next() === new Random(7).next() && random.used);
 * ```
 */
export class RecordingRandom extends Random {
  #used = false;

  /** A generator that draws what `random` would, recording use from now on. */
  static of(random: Random): RecordingRandom {
    const recording = new RecordingRandom(0);
    recording.restore(random.state);
    recording.#used = false;
    return recording;
  }

  /** Whether anything was drawn from it or its state read or set. */
  get used(): boolean {
    return this.#used;
  }

  /** A uniform float in [0, 1); every other draw goes through it. */
  override next(): number {
    this.#used = true;
    return super.next();
  }

  /** The generator's internal state (a stage may seed its own generator from it). */
  override get state(): number {
    this.#used = true;
    return super.state;
  }

  /** Continues from a state taken from {@link Random.state}. */
  override restore(state: number): void {
    this.#used = true;
    super.restore(state);
  }
}

/**
 * Deterministic test data, so tests that compare backends see the same inputs.
 *
 * @module
 */

/** A deterministic pseudo-random Float32Array in [-1, 1). */
export function random(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

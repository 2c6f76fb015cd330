/**
 * The filter of a convolution's input gradient in "sub-pixel" form: a stride
 * `s` splits the input gradient into `s²` phases, each a stride-1
 * convolution of dy with the taps of the filter that reach it, rotated 180°
 * and with the channel axes swapped. All phases run as one forward
 * convolution whose output channels are the phases; this module plans the
 * phases ({@link phasePlan}) and writes their combined filter in one pass
 * ({@link writePhaseFilter}), where a chain of stock kernels (strided slice,
 * reverse, transpose, pad and concat per phase) took 2.0 ms of a width-8
 * BCDU-Net training step on wasm (this pass: 0.12 ms).
 *
 * @module
 */

/** One output phase along one axis: which filter taps it uses and where. */
export interface Phase {
  /** First filter tap of the phase (taps are `first, first + s, ...`). */
  readonly first: number;
  /** How many taps (0 when the filter is narrower than the stride). */
  readonly count: number;
  /** Where the phase's reversed taps start inside the combined filter. */
  readonly offset: number;
}

/** The phases of one axis, aligned on a common window of dy. */
export interface PhasePlan {
  /** One entry per phase `p` in `0 … s − 1` (output index `≡ p` mod `s`). */
  readonly phases: readonly Phase[];
  /** The first dy index, relative to the phase output index, any phase reads. */
  readonly lo: number;
  /** The combined filter's extent along the axis. */
  readonly size: number;
}

/**
 * Splits one axis of a transposed convolution into its stride phases and
 * aligns them.
 *
 * @param kernel The filter's extent along the axis.
 * @param stride The forward convolution's stride.
 * @param padBefore The forward convolution's padding before the axis.
 * @returns The phases, and the window of dy they read together.
 *
 * @example A 2-tap filter at stride 2 ("same" padding adds none before): one tap a phase
 * ```ts
 * import { assertEquals } from "../../tests/assert.ts";
 * import { phasePlan } from "./phase_filter.ts";
 *
 * assertEquals(phasePlan(2, 2, 0), {
 *   phases: [{ first: 0, count: 1, offset: 0 }, { first: 1, count: 1, offset: 0 }],
 *   lo: 0,
 *   size: 1,
 * });
 * ```
 */
export function phasePlan(kernel: number, stride: number, padBefore: number): PhasePlan {
  const raw = [];
  for (let p = 0; p < stride; p++) {
    const first = (p + padBefore) % stride;
    const count = Math.max(0, Math.ceil((kernel - first) / stride));
    const last = (p + padBefore - first) / stride; // dy offset of tap `first`
    raw.push({ first, count, lo: last - count + 1, hi: last });
  }
  const used = raw.filter((r) => r.count > 0);
  const lo = Math.min(...used.map((r) => r.lo));
  const hi = Math.max(...used.map((r) => r.hi));
  return {
    phases: raw.map((r) => ({ first: r.first, count: r.count, offset: r.lo - lo })),
    lo,
    size: hi - lo + 1,
  };
}

/**
 * Writes the combined phase filter `[rows.size, cols.size, Co, sh·sw·Ci]`:
 * at `[r, c, o, (pr·sw + pc)·Ci + i]`, the forward filter's tap of phase
 * `(pr, pc)` that lands on `(r, c)` once rotated 180°, at input channel `i`
 * and output channel `o`; zero where the phase has no tap.
 *
 * @param filter The forward filter, `[kh, kw, Ci, Co]` row-major.
 * @param filterShape `[kh, kw, Ci, Co]`.
 * @param rows {@link phasePlan} of the rows.
 * @param cols {@link phasePlan} of the columns.
 * @param strides `[sh, sw]`.
 * @param out Where the combined filter goes, `rows.size · cols.size · Co · sh · sw · Ci` elements.
 *
 * @example Stride 1: the filter rotated 180°, its channel axes swapped
 * ```ts
 * import { assertEquals } from "../../tests/assert.ts";
 * import { phasePlan, writePhaseFilter } from "./phase_filter.ts";
 *
 * // A 1×2 filter, 1 input and 2 output channels: [tap][o] = [[1, 2], [3, 4]].
 * const out = new Float32Array(4);
 * writePhaseFilter(
 *   new Float32Array([1, 2, 3, 4]),
 *   [1, 2, 1, 2],
 *   phasePlan(1, 1, 0),
 *   phasePlan(2, 1, 0),
 *   [1, 1],
 *   out,
 * );
 * assertEquals(Array.from(out), [3, 4, 1, 2]);
 * ```
 */
export function writePhaseFilter(
  filter: Float32Array,
  filterShape: readonly number[],
  rows: PhasePlan,
  cols: PhasePlan,
  strides: readonly number[],
  out: Float32Array,
): void {
  // Read by index and as int32 (`| 0`): destructuring shape arrays of several kinds, and plan
  // numbers that division left as doubles, made V8 drop this loop's optimised code in training
  // (5× slower after a few steps).
  const kw = filterShape[1] | 0, inChannels = filterShape[2] | 0, outChannels = filterShape[3] | 0;
  const sh = strides[0] | 0, sw = strides[1] | 0, width = cols.size | 0;
  const phaseChannels = sh * sw * inChannels;
  out.fill(0);
  for (let pr = 0; pr < sh; pr++) {
    const row = rows.phases[pr];
    const rowFirst = row.first | 0, rowCount = row.count | 0, rowOffset = row.offset | 0;
    for (let pc = 0; pc < sw; pc++) {
      const col = cols.phases[pc];
      const colFirst = col.first | 0, colCount = col.count | 0, colOffset = col.offset | 0;
      const channelBase = (pr * sw + pc) * inChannels;
      for (let k = 0; k < rowCount; k++) {
        // Reversed: combined row `offset + k` holds the phase's tap `count − 1 − k`.
        const r = rowOffset + k;
        const tapRow = rowFirst + (rowCount - 1 - k) * sh;
        for (let m = 0; m < colCount; m++) {
          const c = colOffset + m;
          const tapCol = colFirst + (colCount - 1 - m) * sw;
          const source = (tapRow * kw + tapCol) * inChannels * outChannels;
          const target = ((r * width + c) * outChannels) * phaseChannels + channelBase;
          for (let i = 0; i < inChannels; i++) {
            const from = source + i * outChannels;
            let to = target + i;
            for (let o = 0; o < outChannels; o++, to += phaseChannels) out[to] = filter[from + o];
          }
        }
      }
    }
  }
}

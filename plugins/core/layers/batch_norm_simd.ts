/**
 * The passes over the data of `batch_norm.ts`'s kernels as WebAssembly SIMD
 * functions on the `wasm` backend's heap, for channel counts divisible by 4:
 * each 4-channel block of a pixel is one vector load, widened to two f64x2
 * halves. The JavaScript loops they replace ran at 4 to 10 ns per value on
 * the 2-core machines, about a seventh of a width-8 BCDU-Net's training step.
 *
 * Every value is computed in float64 with the operations, and in the order,
 * of the JavaScript loops (the sums run over the pixels one after another,
 * channel by channel), and rounded to float32 where they round it, so both
 * give the same bits: `batch_norm_simd_test.ts` compares them.
 *
 * @module
 */
import { wasmAssembler as asm } from "../../../mod.ts";

const { OP, SIMD, TYPE, get, set, i32, addTo, countdown, memarg, simd } = asm;

/** Per-channel float64 rows of the constants region, each `channels` long. */
export const ROW = {
  mean: 0,
  scale: 1,
  beta: 2,
  inverseStd: 3,
  meanDy: 4,
  meanDyXhat: 5,
  dMean: 6,
  twoDVariance: 7,
  count: 8,
  /** Where the sums are written. */
  sum: 9,
  secondSum: 10,
} as const;
/** Rows in the constants region. */
export const ROWS = 11;

/** The functions' names and the data pointers each takes before `count` and `k`. */
const FUNCTIONS = {
  sum: ["x"],
  squares: ["x"],
  normalize: ["x", "y"],
  gradientSums: ["dy", "x"],
  inputGradient: ["dy", "x", "dx"],
} as const;

type FunctionName = keyof typeof FUNCTIONS;

/** Emits one function for `channels` channels (a multiple of 4). */
function emit(name: FunctionName, channels: number) {
  const pointers = FUNCTIONS[name];
  const param = (p: string) => (pointers as readonly string[]).indexOf(p);
  const countParam = pointers.length, kParam = pointers.length + 1;
  const params = pointers.length + 2;
  const blocks = channels / 4;
  let next = params;
  const cursor = pointers.map(() => next++); // per-pointer running addresses
  const counter = next++;
  const i32Count = next - params;
  const vLocal = () => next++;
  const lo = vLocal(), hi = vLocal(), tmpLo = vLocal(), tmpHi = vLocal();
  const xLo = vLocal(), xHi = vLocal(), scratch = vLocal();
  const sums = name === "gradientSums" ? 2 : name === "sum" || name === "squares" ? 1 : 0;
  const acc = Array.from({ length: sums * blocks * 2 }, vLocal);
  const v128Count = next - params - i32Count;

  const rowOffset = (row: number, block: number, half: number) =>
    (row * channels + block * 4 + half * 2) * 8;
  /** Pushes the f64x2 constant of `row` for (block, half). */
  const constant = (row: number, block: number, half: number) => [
    ...get(kParam),
    ...simd(SIMD.load, ...memarg(rowOffset(row, block, half))),
  ];
  /** Loads block `b` at pointer `p` widened: low half into `l`, high half into `h`. */
  const widen = (p: string, b: number, l: number, h: number) => [
    ...asm.loadHalfAsF64(get(cursor[param(p)]), 16 * b, 0, scratch),
    ...set(l),
    ...asm.loadHalfAsF64(get(cursor[param(p)]), 16 * b, 1, scratch),
    ...set(h),
  ];
  const f64 = (op: number) => simd(op);
  /** `acc ← value + acc` for the value on the stack (addition rounds alike either way round). */
  const accumulate = (a: number) => [...get(a), ...f64(SIMD.f64x2Add), ...set(a)];

  const perBlock: number[] = [];
  const centred = (half: number, value: number, b: number) => [
    ...get(value),
    ...constant(ROW.mean, b, half),
    ...f64(SIMD.f64x2Sub),
  ];
  for (let b = 0; b < blocks; b++) {
    const a = (sum: number, half: number) => acc[(sum * blocks + b) * 2 + half];
    switch (name) {
      case "sum":
        perBlock.push(...widen("x", b, xLo, xHi));
        for (const [half, v] of [[0, xLo], [1, xHi]]) {
          perBlock.push(...get(v), ...accumulate(a(0, half)));
        }
        break;
      case "squares":
        perBlock.push(...widen("x", b, xLo, xHi));
        for (const [half, v] of [[0, xLo], [1, xHi]]) {
          perBlock.push(
            ...centred(half, v, b),
            OP.localTee,
            ...asm.uleb(tmpLo),
            ...get(tmpLo),
            ...f64(SIMD.f64x2Mul),
            ...accumulate(a(0, half)),
          );
        }
        break;
      case "normalize":
        perBlock.push(...widen("x", b, xLo, xHi));
        for (const [half, v, out] of [[0, xLo, lo], [1, xHi, hi]]) {
          perBlock.push(
            ...centred(half, v, b),
            ...constant(ROW.scale, b, half),
            ...f64(SIMD.f64x2Mul),
            ...constant(ROW.beta, b, half),
            ...f64(SIMD.f64x2Add),
            ...simd(SIMD.f32x4DemoteF64x2Zero),
            ...set(out),
          );
        }
        perBlock.push(...asm.storeHalves(get(cursor[param("y")]), lo, hi, 16 * b));
        break;
      case "gradientSums":
        perBlock.push(...widen("dy", b, lo, hi), ...widen("x", b, xLo, xHi));
        for (const [half, d, v] of [[0, lo, xLo], [1, hi, xHi]]) {
          perBlock.push(
            ...get(d),
            ...accumulate(a(0, half)),
            // (dy · (x − μ)) · inv
            ...get(d),
            ...centred(half, v, b),
            ...f64(SIMD.f64x2Mul),
            ...constant(ROW.inverseStd, b, half),
            ...f64(SIMD.f64x2Mul),
            ...accumulate(a(1, half)),
          );
        }
        break;
      case "inputGradient":
        perBlock.push(...widen("dy", b, lo, hi), ...widen("x", b, xLo, xHi));
        for (const [half, d, v, out] of [[0, lo, xLo, tmpLo], [1, hi, xHi, tmpHi]]) {
          perBlock.push(
            ...centred(half, v, b),
            ...set(v), // v ← x − μ
            // scale · ((dy − meanDy) − (x − μ) · inv · meanDyXhat)
            ...constant(ROW.scale, b, half),
            ...get(d),
            ...constant(ROW.meanDy, b, half),
            ...f64(SIMD.f64x2Sub),
            ...get(v),
            ...constant(ROW.inverseStd, b, half),
            ...f64(SIMD.f64x2Mul),
            ...constant(ROW.meanDyXhat, b, half),
            ...f64(SIMD.f64x2Mul),
            ...f64(SIMD.f64x2Sub),
            ...f64(SIMD.f64x2Mul),
            // + (dMean + 2 dVariance · (x − μ)) / M
            ...constant(ROW.dMean, b, half),
            ...constant(ROW.twoDVariance, b, half),
            ...get(v),
            ...f64(SIMD.f64x2Mul),
            ...f64(SIMD.f64x2Add),
            ...constant(ROW.count, b, half),
            ...f64(SIMD.f64x2Div),
            ...f64(SIMD.f64x2Add),
            ...simd(SIMD.f32x4DemoteF64x2Zero),
            ...set(out),
          );
        }
        perBlock.push(...asm.storeHalves(get(cursor[param("dx")]), tmpLo, tmpHi, 16 * b));
        break;
    }
  }
  const zeroVector = simd(SIMD.const, ...new Array(16).fill(0));
  const code: number[] = [];
  for (const a of acc) code.push(...zeroVector, ...set(a));
  pointers.forEach((_, i) => code.push(...get(i), ...set(cursor[i])));
  code.push(...get(countParam), ...set(counter));
  code.push(
    ...countdown(counter, [
      ...perBlock,
      ...cursor.flatMap((c) => addTo(c, i32(channels * 4))),
    ]),
  );
  for (let s = 0; s < sums; s++) {
    for (let b = 0; b < blocks; b++) {
      for (let half = 0; half < 2; half++) {
        code.push(
          ...get(kParam),
          ...get(acc[(s * blocks + b) * 2 + half]),
          ...simd(SIMD.store, ...memarg(rowOffset(ROW.sum + s, b, half))),
        );
      }
    }
  }
  return {
    name,
    params,
    locals: [[i32Count, TYPE.i32], [v128Count, TYPE.v128]] as [number, number][],
    code,
  };
}

/** The module for `channels` channels (a multiple of 4), exporting every function. */
export function batchNormModuleBytes(channels: number): Uint8Array<ArrayBuffer> {
  if (channels % 4 !== 0 || channels <= 0) {
    throw new Error(`batch norm SIMD: ${channels} channels is not a multiple of 4`);
  }
  return asm.heapModuleBytes(
    (Object.keys(FUNCTIONS) as FunctionName[]).map((name) => emit(name, channels)),
  );
}

const modules = new Map<number, WebAssembly.Module>();

/** The batch-norm passes for `channels` channels on `heap`, as functions of byte addresses. */
export interface BatchNormPasses {
  /** `k.sum ← Σ x` per channel. */
  sum(x: number, count: number, k: number): void;
  /** `k.sum ← Σ (x − k.mean)²`. */
  squares(x: number, count: number, k: number): void;
  /** `y ← (x − k.mean) · k.scale + k.beta`. */
  normalize(x: number, y: number, count: number, k: number): void;
  /** `k.sum ← Σ dy`, `k.secondSum ← Σ dy · (x − k.mean) · k.inverseStd`. */
  gradientSums(dy: number, x: number, count: number, k: number): void;
  /** `dx` of `batch_norm.ts`'s module doc, from the rows of `k`. */
  inputGradient(dy: number, x: number, dx: number, count: number, k: number): void;
}

/**
 * The passes for `channels` channels, compiled once per channel count and
 * instantiated once per heap.
 */
export function batchNormPasses(heap: WebAssembly.Memory, channels: number): BatchNormPasses {
  let module = modules.get(channels);
  if (!module) {
    module = new WebAssembly.Module(batchNormModuleBytes(channels));
    modules.set(channels, module);
  }
  return asm.heapInstance(module, heap) as unknown as BatchNormPasses;
}

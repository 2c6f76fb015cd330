/**
 * `lstm_cell.ts`'s three kernels as WebAssembly SIMD functions on the `wasm`
 * backend's heap, for cells of `F` channels with `F` divisible by 4: each
 * 4-channel block of a gate is one vector load, widened to two f64x2 halves,
 * and every step is the JavaScript's, in its order and at its precision
 * (float64, rounded to float32 where `Math.fround` rounds), so both give the
 * same bits (`lstm_cell_simd_test.ts` compares them). tanh is the same
 * rational approximation; a block with a value beyond its range calls the
 * JavaScript `tanh` (imported) for both lanes of that half. The loops ran at
 * about 26 ns a cell on the 2-core machines, some 8 % of a width-8
 * BCDU-Net's training step.
 *
 * @module
 */
import { wasmAssembler as asm } from "../../../mod.ts";

const { OP, SIMD, TYPE, get, set, i32, addTo, countdown, simd } = asm;

/** What the JavaScript kernel's `tanh` needs from `lstm_cell.ts`: its constants and itself. */
export interface TanhApproximation {
  /** Beyond ±limit the JavaScript takes another path (an exponential, or ±1). */
  readonly limit: number;
  /** Numerator coefficients of x, x³, … x¹³. */
  readonly numerator: readonly number[];
  /** Denominator coefficients of 1, x², x⁴, x⁶. */
  readonly denominator: readonly number[];
  /** The JavaScript function, called for blocks with a value beyond the limit. */
  readonly tanh: (x: number) => number;
}

/** An expression: code that leaves one v128 on the stack. */
type Expr = number[];

const f64x2 = (v: number): Expr => {
  const bytes = new Uint8Array(new Float64Array([v, v]).buffer);
  return simd(SIMD.const, ...bytes);
};
const op = (code: number) => (...args: Expr[]): Expr => [...args.flat(), ...simd(code)];
const add = op(SIMD.f64x2Add), sub = op(SIMD.f64x2Sub), mul = op(SIMD.f64x2Mul);
const div = op(SIMD.f64x2Div), lt = op(SIMD.f64x2Lt), gt = op(SIMD.f64x2Gt);
const le = op(SIMD.f64x2Le), ge = op(SIMD.f64x2Ge), and = op(SIMD.and), or = op(SIMD.or);
/** `a` where `mask` is set, else `b`. */
const select = (
  a: Expr,
  b: Expr,
  mask: Expr,
): Expr => [...a, ...b, ...mask, ...simd(SIMD.bitselect)];
/** `Math.fround` of both lanes. */
const fround = (e: Expr): Expr => [
  ...e,
  ...simd(SIMD.f32x4DemoteF64x2Zero),
  ...simd(SIMD.f64x2PromoteLowF32x4),
];
/** Stores the expression's value in `local`. */
const assign = (local: number, e: Expr): number[] => [...e, ...set(local)];
const F32_POINT_2 = Math.fround(0.2);

/** The functions and their pointer parameters (each followed by `pixels`). */
const FUNCTIONS = {
  forward: ["z", "c", "h", "next", "tanhs"],
  forwardFirst: ["z", "h", "next", "tanhs"],
  gatesGradient: ["dh", "dc", "z", "tanhs", "c", "out"],
  gatesGradientFirst: ["dh", "dc", "z", "tanhs", "out"],
  stateGradient: ["dh", "dc", "z", "tanhs", "out"],
} as const;

type FunctionName = keyof typeof FUNCTIONS;

/**
 * Bytes after a block's own address where each tensor's block sits, for a
 * cell of `f` channels: the gates' four parts are `4f` bytes apart, the
 * tanhs' two.
 */
function emit(name: FunctionName, f: number, t: TanhApproximation): asm.HeapFunction {
  const pointers = FUNCTIONS[name] as readonly string[];
  const pixelsParam = pointers.length;
  const params = pointers.length + 1;
  let next = params;
  const pointer = Object.fromEntries(pointers.map((p) => [p, next++])); // running block addresses
  const pixelCounter = next++, blockCounter = next++;
  const i32Count = next - params;
  const v = () => next++;
  // Per half: inputs, results (demoted f32x4, low then high half), temporaries.
  const zi = v(), zf = v(), zc = v(), zo = v(), cv = v(), dh = v(), dc = v();
  const cand = v(), sq = v(), state = v(), u = v(), x2 = v(), res = v(), dState = v();
  const out = Array.from({ length: 4 }, () => [v(), v()]); // up to four outputs × (lo, hi)
  const v128Count = next - params - i32Count;
  const fb = 4 * f; // bytes of one gate part

  /** Half `half` of the four float32 at `pointer + offset`, widened. */
  const load = (p: string, offset: number, half: number): Expr =>
    asm.loadHalfAsF64(get(pointer[p]), offset, half, res);
  /** Keras' hard sigmoid as `lstm_cell.ts`'s `hardSigmoid`: clip(fround(fround(0.2 x) + 0.5), 0, 1). */
  const hardSigmoid = (x: Expr): Expr => [
    ...assign(u, fround(add(fround(mul(x, f64x2(F32_POINT_2))), f64x2(0.5)))),
    ...select(f64x2(1), select(f64x2(0), get(u), lt(get(u), f64x2(0))), gt(get(u), f64x2(1))),
  ];
  /** Its slope: 0.2 (float32) where 0 ≤ u ≤ 1, else 0. */
  const hardSigmoidSlope = (x: Expr): Expr => [
    ...assign(u, fround(add(fround(mul(x, f64x2(F32_POINT_2))), f64x2(0.5)))),
    ...and(f64x2(F32_POINT_2), and(ge(get(u), f64x2(0)), le(get(u), f64x2(1)))),
  ];
  /** tanh of the local `x`, into the local `into`. */
  const tanh = (x: number, into: number): number[] => {
    const [a1, a3, a5, a7, a9, a11, a13] = t.numerator.map(f64x2);
    const [b0, b2, b4, b6] = t.denominator.map(f64x2);
    const s = get(x2);
    const p = mul(
      get(x),
      add(
        a1,
        mul(
          s,
          add(a3, mul(s, add(a5, mul(s, add(a7, mul(s, add(a9, mul(s, add(a11, mul(s, a13)))))))))),
        ),
      ),
    );
    const q = add(b0, mul(s, add(b2, mul(s, add(b4, mul(s, b6))))));
    const lane = (l: number) => [
      ...get(into),
      ...get(x),
      ...simd(SIMD.f64x2ExtractLane, l),
      OP.call,
      0,
      ...simd(SIMD.f64x2ReplaceLane, l),
      ...set(into),
    ];
    return [
      ...assign(x2, mul(get(x), get(x))),
      ...assign(into, div(p, q)),
      ...or(gt(get(x), f64x2(t.limit)), lt(get(x), f64x2(-t.limit))),
      ...simd(SIMD.anyTrue),
      OP.if,
      asm.VOID_BLOCK,
      ...lane(0),
      ...lane(1),
      OP.end,
    ];
  };

  /** One half's computation: leaves its outputs (demoted) in `out[i][half]`. */
  const half = (h: number): number[] => {
    const store = (
      i: number,
      e: Expr,
    ) => [...e, ...simd(SIMD.f32x4DemoteF64x2Zero), ...set(out[i][h])];
    const code: number[] = [];
    const gates = () => [
      ...assign(zi, load("z", 0, h)),
      ...assign(zf, load("z", fb, h)),
      ...assign(zc, load("z", 2 * fb, h)),
      ...assign(zo, load("z", 3 * fb, h)),
    ];
    switch (name) {
      case "forward":
      case "forwardFirst": {
        code.push(...gates(), ...tanh(zc, cand));
        // state = fround(σh(zi) · fround(candidate)), plus fround(σh(zf) · c) with a previous state
        code.push(...assign(state, fround(mul(hardSigmoid(get(zi)), fround(get(cand))))));
        if (name === "forward") {
          code.push(...assign(cv, load("c", 0, h)));
          code.push(
            ...assign(state, fround(add(fround(mul(hardSigmoid(get(zf)), get(cv))), get(state)))),
          );
        }
        code.push(...tanh(state, sq));
        code.push(...store(0, mul(hardSigmoid(get(zo)), fround(get(sq))))); // h
        code.push(...store(1, get(state))); // next
        code.push(...store(2, get(cand)), ...store(3, get(sq))); // tanhs
        break;
      }
      case "gatesGradient":
      case "gatesGradientFirst":
      case "stateGradient": {
        code.push(...gates());
        code.push(...assign(dh, load("dh", 0, h)), ...assign(dc, load("dc", 0, h)));
        code.push(...assign(cand, load("tanhs", 0, h)), ...assign(sq, load("tanhs", fb, h)));
        // dState = dc + dh · σh(zo) · (1 − squashed²)
        code.push(
          ...assign(
            dState,
            add(
              get(dc),
              mul(mul(get(dh), hardSigmoid(get(zo))), sub(f64x2(1), mul(get(sq), get(sq)))),
            ),
          ),
        );
        if (name === "stateGradient") {
          code.push(...store(0, mul(get(dState), hardSigmoid(get(zf)))));
          break;
        }
        code.push(...store(0, mul(mul(get(dState), get(cand)), hardSigmoidSlope(get(zi)))));
        if (name === "gatesGradient") {
          code.push(...assign(cv, load("c", 0, h)));
          code.push(...store(1, mul(mul(get(dState), get(cv)), hardSigmoidSlope(get(zf)))));
        } else {
          code.push(...store(1, f64x2(0)));
        }
        code.push(
          ...store(
            2,
            mul(mul(get(dState), hardSigmoid(get(zi))), sub(f64x2(1), mul(get(cand), get(cand)))),
          ),
        );
        code.push(...store(3, mul(mul(get(dh), get(sq)), hardSigmoidSlope(get(zo)))));
        break;
      }
    }
    return code;
  };

  /** Where each output goes, relative to its block pointer. */
  const outputs: [string, number][] = name.startsWith("forward")
    ? [["h", 0], ["next", 0], ["tanhs", 0], ["tanhs", fb]]
    : name === "stateGradient"
    ? [["out", 0]]
    : [["out", 0], ["out", fb], ["out", 2 * fb], ["out", 3 * fb]];
  const storeOutputs = outputs.flatMap(([p, offset], i) =>
    asm.storeHalves(get(pointer[p]), out[i][0], out[i][1], offset)
  );
  // Per pixel, the block pointers advance 16 bytes a block over one gate part (fb bytes in all);
  // then each skips what its tensor has beyond that part: the gates 3 parts, the tanhs 1.
  const partsPerPixel = (p: string) =>
    p === "z" || (p === "out" && name !== "stateGradient") ? 4 : p === "tanhs" ? 2 : 1;
  const code = [
    ...pointers.flatMap((p, i) => [...get(i), ...set(pointer[p])]),
    ...get(pixelsParam),
    ...set(pixelCounter),
    ...countdown(pixelCounter, [
      ...i32(f / 4),
      ...set(blockCounter),
      ...countdown(blockCounter, [
        ...half(0),
        ...half(1),
        ...storeOutputs,
        ...pointers.flatMap((p) => addTo(pointer[p], i32(16))),
      ]),
      ...pointers.flatMap((p) =>
        partsPerPixel(p) > 1 ? addTo(pointer[p], i32((partsPerPixel(p) - 1) * fb)) : []
      ),
    ]),
  ];
  return {
    name,
    params,
    locals: [[i32Count, TYPE.i32], [v128Count, TYPE.v128]],
    code,
  };
}

/** The module for cells of `f` channels (a multiple of 4), exporting every function. */
export function lstmCellModuleBytes(f: number, t: TanhApproximation): Uint8Array<ArrayBuffer> {
  if (f % 4 !== 0 || f <= 0) {
    throw new Error(`LSTM cell SIMD: ${f} channels is not a multiple of 4`);
  }
  return asm.heapModuleBytes(
    (Object.keys(FUNCTIONS) as FunctionName[]).map((name) => emit(name, f, t)),
    [{ name: "tanh", params: [TYPE.f64], results: [TYPE.f64] }],
  );
}

/** The cell's kernels for `f` channels on a heap, as functions of byte addresses. */
export interface LstmCellPasses {
  /** `h`, `next` and `tanhs` from gates `z` and the previous state `c`. */
  forward(z: number, c: number, h: number, next: number, tanhs: number, pixels: number): void;
  /** The same for a state that starts at zero. */
  forwardFirst(z: number, h: number, next: number, tanhs: number, pixels: number): void;
  /** The gates' gradient `out`. */
  gatesGradient(
    dh: number,
    dc: number,
    z: number,
    tanhs: number,
    c: number,
    out: number,
    pixels: number,
  ): void;
  /** The same for a state that started at zero. */
  gatesGradientFirst: StateShapedPass;
  /** The previous state's gradient `out`. */
  stateGradient: StateShapedPass;
}

/** A pass from `dh`, `dc`, the gates and the tanhs to `out`, all as byte addresses. */
type StateShapedPass = (
  dh: number,
  dc: number,
  z: number,
  tanhs: number,
  out: number,
  pixels: number,
) => void;

const modules = new Map<number, WebAssembly.Module>();

/** The passes for `f` channels, compiled once per channel count and instantiated once per heap. */
export function lstmCellPasses(
  heap: WebAssembly.Memory,
  f: number,
  t: TanhApproximation,
): LstmCellPasses {
  let module = modules.get(f);
  if (!module) {
    module = new WebAssembly.Module(lstmCellModuleBytes(f, t));
    modules.set(f, module);
  }
  return asm.heapInstance(module, heap, { tanh: t.tanh }) as unknown as LstmCellPasses;
}

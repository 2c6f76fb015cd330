/**
 * A tiny WebAssembly assembler for kernels that work in place on
 * tfjs-backend-wasm's heap: the opcodes Capillary's kernels use, LEB128
 * immediates, and a module of `(i32, …) → ()` functions that imports the
 * heap as `env.memory`. Emitting the bytes here keeps the kernels free of a
 * build step and of a WebAssembly toolchain.
 *
 * @module
 */

/** Core opcodes. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  call: 0x10,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32ShrU: 0x76,
  simd: 0xfd,
} as const;

/** SIMD (`0xfd`-prefixed) opcodes. */
export const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  f64x2ReplaceLane: 0x22,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  f64x2Le: 0x4b,
  f64x2Ge: 0x4c,
  and: 0x4e,
  or: 0x50,
  bitselect: 0x52,
  anyTrue: 0x53,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
} as const;

/** Value types. */
export const TYPE = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;

/** The block type of a block or loop that takes and leaves nothing. */
export const VOID_BLOCK = 0x40;

/** An unsigned LEB128 integer. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** A signed LEB128 integer. */
export function sleb(value: number): number[] {
  const out: number[] = [];
  while (true) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A length-prefixed vector of encoded items. */
export const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
/** A SIMD instruction with its immediates. */
export const simd = (op: number, ...immediates: number[]): number[] => [
  OP.simd,
  ...uleb(op),
  ...immediates,
];
/** A memory argument: alignment hint 0 (any address), byte offset. */
export const memarg = (offset: number): number[] => [0, ...uleb(offset)];
/** `local.get i`. */
export const get = (i: number): number[] => [OP.localGet, ...uleb(i)];
/** `local.set i`. */
export const set = (i: number): number[] => [OP.localSet, ...uleb(i)];
/** `i32.const v`. */
export const i32 = (v: number): number[] => [OP.i32Const, ...sleb(v)];
/** `local += step` for an i32 local. */
export const addTo = (local: number, step: number[]): number[] => [
  ...get(local),
  ...step,
  OP.i32Add,
  ...set(local),
];

/** Lanes 2 and 3 of a vector moved to 0 and 1 (an `i8x16.shuffle` of it with itself). */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** The low halves of two vectors, one after the other. */
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/**
 * Loads the four float32 at `address + offset` and leaves half `half` of
 * them (0: lanes 0–1, 1: lanes 2–3) widened to an f64x2; `scratch` is a v128
 * local it may use.
 */
export const loadHalfAsF64 = (
  address: number[],
  offset: number,
  half: number,
  scratch: number,
): number[] => [
  ...address,
  ...simd(SIMD.load, ...memarg(offset)),
  ...(half === 1
    ? [OP.localTee, ...uleb(scratch), ...get(scratch), ...simd(SIMD.shuffle, ...HIGH_HALF)]
    : []),
  ...simd(SIMD.f64x2PromoteLowF32x4),
];

/**
 * Stores at `address + offset` the four float32 of two f32x4 locals whose
 * low halves hold lanes 0–1 and 2–3 (as `f32x4.demote_f64x2_zero` leaves them).
 */
export const storeHalves = (address: number[], low: number, high: number, offset: number) => [
  ...address,
  ...get(low),
  ...get(high),
  ...simd(SIMD.shuffle, ...LOW_HALVES),
  ...simd(SIMD.store, ...memarg(offset)),
];

/**
 * A loop that runs `body` at least once, then repeats while the i32 local
 * `counter`, decremented after each pass, is not zero.
 */
export const countdown = (counter: number, body: number[]): number[] => [
  OP.loop,
  VOID_BLOCK,
  ...body,
  ...get(counter),
  ...i32(1),
  OP.i32Sub,
  OP.localTee,
  ...uleb(counter),
  OP.i32Eqz,
  OP.i32Eqz,
  OP.brIf,
  0,
  OP.end,
];

/** One exported function: `params` i32 parameters, no results. */
export interface HeapFunction {
  /** Its export name. */
  readonly name: string;
  /** How many i32 parameters it takes (locals 0 … params − 1). */
  readonly params: number;
  /** Its other locals, as runs of `[count, type]`, numbered after the parameters. */
  readonly locals: ReadonlyArray<readonly [number, number]>;
  /** Its instructions, without the final `end`. */
  readonly code: number[];
}

/** A JavaScript function the module imports as `env.<name>`, called by index (`call i`). */
export interface HeapImport {
  /** Its import name. */
  readonly name: string;
  /** Parameter types ({@link TYPE}). */
  readonly params: readonly number[];
  /** Result types. */
  readonly results: readonly number[];
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const text = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
const functionType = (params: readonly number[], results: readonly number[]) => [
  0x60,
  ...vector(params.map((t) => [t])),
  ...vector(results.map((t) => [t])),
];

/**
 * The bytes of a module that imports `env.memory` and the functions of
 * `imports` (indices 0 … imports.length − 1, in order), and exports
 * `functions` (the indices after them).
 *
 * @example Usage
 * ```ts
 * import { heapModuleBytes, memarg, OP, simd, SIMD } from "./wasm_assembler.ts";
 * // copy(p): the four float32 at p + 16 written to p.
 * const bytes = heapModuleBytes([{
 *   name: "copy",
 *   params: 1,
 *   locals: [],
 *   code: [OP.localGet, 0, OP.localGet, 0, ...simd(SIMD.load, ...memarg(16)), ...simd(SIMD.store, ...memarg(0))],
 * }]);
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const { copy } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
 *   .exports as { copy(p: number): void };
 * const f = new Float32Array(memory.buffer);
 * f.set([1, 2, 3, 4], 4);
 * copy(0);
 * console.assert(f.slice(0, 4).join() === "1,2,3,4");
 * ```
 */
export function heapModuleBytes(
  functions: readonly HeapFunction[],
  imports: readonly HeapImport[] = [],
): Uint8Array<ArrayBuffer> {
  const types = [
    ...imports.map((f) => functionType(f.params, f.results)),
    ...functions.map((f) => functionType(Array.from({ length: f.params }, () => TYPE.i32), [])),
  ];
  const bodies = functions.map((f) => {
    const body = [...vector(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, OP.end];
    return [...uleb(body.length), ...body];
  });
  const importEntries = [
    [...text("env"), ...text("memory"), 0x02, 0x00, 0x00],
    ...imports.map((f, i) => [...text("env"), ...text(f.name), 0x00, ...uleb(i)]),
  ];
  const first = imports.length;
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector(importEntries)),
    ...section(3, vector(functions.map((_, i) => uleb(first + i)))),
    ...section(7, vector(functions.map((f, i) => [...text(f.name), 0x00, ...uleb(first + i)]))),
    ...section(10, vector(bodies)),
  ]);
}

/** An instantiated module's functions, by export name. */
export type HeapExports = Record<string, (...args: number[]) => void>;

const instances = new WeakMap<WebAssembly.Module, WeakMap<WebAssembly.Memory, HeapExports>>();

/**
 * `module` instantiated on `memory`, once per pair.
 *
 * @param module A module from {@link heapModuleBytes}.
 * @param memory The heap it imports.
 * @param functions The functions it imports, by name (the same for every instance of `module`).
 * @returns Its exported functions.
 */
export function heapInstance(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  functions: Record<string, (...args: number[]) => number> = {},
): HeapExports {
  let byMemory = instances.get(module);
  if (!byMemory) instances.set(module, byMemory = new WeakMap());
  let exports = byMemory.get(memory);
  if (!exports) {
    const env = { memory, ...functions };
    exports = new WebAssembly.Instance(module, { env }).exports as HeapExports;
    byMemory.set(memory, exports);
  }
  return exports;
}

/** Where tfjs-backend-wasm keeps its `WebAssembly.Memory`. */
interface WasmBackendMemory {
  wasm?: { asm?: { memory?: WebAssembly.Memory } };
}

/**
 * The wasm backend's heap, when a module can import it: `undefined` for
 * another backend, and for a build whose memory is shared (threads) or not
 * exported, so that callers fall back to other kernels.
 *
 * @param backend The backend object a kernel function receives.
 */
export function importableHeap(backend: unknown): WebAssembly.Memory | undefined {
  const memory = (backend as WasmBackendMemory)?.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !(memory.buffer instanceof ArrayBuffer)) {
    return undefined;
  }
  return memory;
}

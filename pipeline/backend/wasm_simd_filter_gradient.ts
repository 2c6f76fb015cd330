/**
 * A convolution's filter gradient as a WebAssembly SIMD kernel of its own,
 * working in place on tfjs-backend-wasm's heap (its `WebAssembly.Memory`
 * is imported by a second, tiny module emitted here byte by byte):
 *
 *     dW[ky, kx, ci, co] = Σ_{b, oy, ox} x[b, oy·sh + ky − top, ox·sw + kx − left, ci] · dy[b, oy, ox, co]
 *
 * Why: XNNPACK has no filter gradient, and the compositions of its kernels
 * (`wasm_training_kernels.ts`) run at about half the rate of a forward
 * convolution (`bench/step_profile.ts convolutions`). Here each call
 * handles one image and one tap: an outer product of 1–4 input channels
 * (each broadcast) with 4 or 8 output channels (one or two vectors) per
 * pixel, the 1–8 accumulators held in registers over the image, so x and
 * dy are each read once per tap and channel block from a cache-sized image.
 * Multiplications and additions are separate (no fused multiply-add), so
 * results do not depend on the CPU.
 *
 * Needs `Co` divisible by 4; {@link simdFilterGradient} returns `undefined`
 * otherwise, and the caller falls back.
 *
 * @module
 */
import { kernelMemory } from "./kernel_memory.ts";
import {
  addTo,
  countdown,
  get,
  type HeapFunction,
  heapInstance,
  heapModuleBytes,
  i32 as cst,
  memarg,
  OP,
  set,
  SIMD,
  simd,
  TYPE,
  VOID_BLOCK,
} from "./wasm_assembler.ts";
import type { tf } from "./tfjs.ts";

type TensorInfo = tf.TensorInfo;

/** The channel blocks a variant handles: input channels broadcast, output vectors. */
const VARIANTS = [
  { channels: 4, vectors: 2 },
  { channels: 4, vectors: 1 },
  { channels: 2, vectors: 2 },
  { channels: 2, vectors: 1 },
  { channels: 1, vectors: 2 },
  { channels: 1, vectors: 1 },
] as const;

/** The parameters of every variant, in order (all i32; pointers and strides in bytes). */
const PARAMS = [
  "x", // x at [b, first row, first column, 0]
  "dy", // dy at [b, first row, first column, 0]
  "out", // dW at [ky, kx, 0, 0], accumulated into
  "rows", // dy rows of this tap (at least 1)
  "cols", // dy columns of this tap (at least 1)
  "xRow", // bytes from one used x row to the next (stride × W × Ci × 4)
  "xCol", // bytes from one used x column to the next (stride × Ci × 4)
  "dyRow", // bytes from one dy row to the next (OW × Co × 4)
  "inBytes", // Ci × 4
  "outBytes", // Co × 4
] as const;

/** One variant: `f<channels>x<vectors>`. */
function variant(channels: number, vectors: number): HeapFunction {
  const p = (name: (typeof PARAMS)[number]) => PARAMS.indexOf(name);
  let next = PARAMS.length;
  const i32 = () => next++;
  const ci = i32(), co = i32(), r = i32(), q = i32(), xr = i32(), dyr = i32();
  const xp = i32(), dyp = i32(), outp = i32();
  const i32Count = next - PARAMS.length;
  const acc = Array.from({ length: channels * vectors }, () => next++);
  const dyv = Array.from({ length: vectors }, () => next++);
  const xs = next++;
  const v128Count = next - PARAMS.length - i32Count;
  // The address of output row (ci + c): outp + c × outBytes.
  const outAddress = (c: number) =>
    c === 0 ? get(outp) : [...get(outp), ...get(p("outBytes")), ...cst(c), OP.i32Mul, OP.i32Add];

  const pixel: number[] = [];
  for (let v = 0; v < vectors; v++) {
    pixel.push(...get(dyp), ...simd(SIMD.load, ...memarg(16 * v)), ...set(dyv[v]));
  }
  for (let c = 0; c < channels; c++) {
    pixel.push(...get(xp), ...simd(SIMD.load32Splat, ...memarg(4 * c)), ...set(xs));
    for (let v = 0; v < vectors; v++) {
      const a = acc[c * vectors + v];
      pixel.push(
        ...get(a),
        ...get(xs),
        ...get(dyv[v]),
        ...simd(SIMD.f32x4Mul),
        ...simd(SIMD.f32x4Add),
        ...set(a),
      );
    }
  }
  const loadAccumulators: number[] = [];
  const storeAccumulators: number[] = [];
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < vectors; v++) {
      loadAccumulators.push(
        ...outAddress(c),
        ...simd(SIMD.load, ...memarg(16 * v)),
        ...set(acc[c * vectors + v]),
      );
      storeAccumulators.push(
        ...outAddress(c),
        ...get(acc[c * vectors + v]),
        ...simd(SIMD.store, ...memarg(16 * v)),
      );
    }
  }
  // Ends a loop over byte offsets: adds `step` to `offset`, and repeats while it is below `limit`.
  const advanceBelow = (offset: number, step: number, limit: number) => [
    ...addTo(offset, cst(step)),
    ...get(offset),
    ...get(limit),
    OP.i32LtU,
    OP.brIf,
    0,
    OP.end,
  ];
  const code = [
    ...cst(0),
    ...set(ci),
    OP.loop,
    VOID_BLOCK, // input channel blocks
    ...cst(0),
    ...set(co),
    OP.loop,
    VOID_BLOCK, // output channel blocks
    // outp = out + (ci / 4) × outBytes + co
    ...get(p("out")),
    ...get(ci),
    ...cst(2),
    OP.i32ShrU,
    ...get(p("outBytes")),
    OP.i32Mul,
    OP.i32Add,
    ...get(co),
    OP.i32Add,
    ...set(outp),
    ...loadAccumulators,
    ...get(p("x")),
    ...get(ci),
    OP.i32Add,
    ...set(xr),
    ...get(p("dy")),
    ...get(co),
    OP.i32Add,
    ...set(dyr),
    ...get(p("rows")),
    ...set(r),
    ...countdown(r, [
      ...get(xr),
      ...set(xp),
      ...get(dyr),
      ...set(dyp),
      ...get(p("cols")),
      ...set(q),
      ...countdown(q, [
        ...pixel,
        ...addTo(xp, get(p("xCol"))),
        ...addTo(dyp, get(p("outBytes"))),
      ]),
      ...addTo(xr, get(p("xRow"))),
      ...addTo(dyr, get(p("dyRow"))),
    ]),
    ...storeAccumulators,
    ...advanceBelow(co, 16 * vectors, p("outBytes")),
    ...advanceBelow(ci, 4 * channels, p("inBytes")),
  ];
  return {
    name: `f${channels}x${vectors}`,
    params: PARAMS.length,
    locals: [[i32Count, TYPE.i32], [v128Count, TYPE.v128]],
    code,
  };
}

/** The module: imports `env.memory`, exports one function per variant (`f<channels>x<vectors>`). */
export function filterGradientModuleBytes(): Uint8Array<ArrayBuffer> {
  return heapModuleBytes(VARIANTS.map((v) => variant(v.channels, v.vectors)));
}

let compiled: WebAssembly.Module | undefined;

/** The geometry of one filter gradient, as `computeConv2DInfo` gives it. */
export interface FilterGradientGeometry {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly top: number;
  readonly left: number;
}

/**
 * dW of `x` `[B, H, W, Ci]` and `dy` `[B, OH, OW, Co]` on the wasm
 * backend, or `undefined` when `Co` is not a multiple of 4 or the backend's
 * memory cannot be imported (a threaded build's shared memory).
 *
 * @param backend The wasm backend a kernel function receives.
 * @param x The convolution's input.
 * @param dy The gradient of its output.
 * @param filterShape `[kh, kw, Ci, Co]`.
 * @param g Kernel size, strides and the padding before the first row and column.
 */
export function simdFilterGradient(
  backend: unknown,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: number[],
  g: FilterGradientGeometry,
): TensorInfo | undefined {
  const [batch, height, width, inChannels] = x.shape;
  const [, outHeight, outWidth, outChannels] = dy.shape;
  if (outChannels % 4 !== 0) return undefined;
  const heap = kernelMemory("wasm", backend);
  // A build whose memory is shared (threads) or not exported: the caller's kernels instead.
  if (!heap.heap) return undefined;
  compiled ??= new WebAssembly.Module(filterGradientModuleBytes());
  const variants = heapInstance(compiled, heap.heap);
  const channels = inChannels % 4 === 0 ? 4 : inChannels % 2 === 0 ? 2 : 1;
  const vectors = outChannels % 8 === 0 ? 2 : 1;
  const run = variants[`f${channels}x${vectors}`];
  const out = heap.output(filterShape);
  // Views after the last allocation: a growing heap detaches earlier ones.
  const outView = heap.view(out);
  outView.fill(0);
  const xBase = heap.view(x).byteOffset;
  const dyBase = heap.view(dy).byteOffset;
  const outBase = outView.byteOffset;
  const f = 4; // bytes per float32
  // Which dy rows (columns) tap k reads inside x: oy·s + k − pad in [0, size).
  const span = (k: number, pad: number, stride: number, size: number, outSize: number) => {
    const first = Math.max(0, Math.ceil((pad - k) / stride));
    const last = Math.min(outSize - 1, Math.floor((size - 1 + pad - k) / stride));
    return { first, count: last - first + 1, at: first * stride + k - pad };
  };
  for (let ky = 0; ky < g.kh; ky++) {
    const rows = span(ky, g.top, g.sh, height, outHeight);
    if (rows.count <= 0) continue;
    for (let kx = 0; kx < g.kw; kx++) {
      const cols = span(kx, g.left, g.sw, width, outWidth);
      if (cols.count <= 0) continue;
      const tapOut = outBase + (ky * g.kw + kx) * inChannels * outChannels * f;
      for (let b = 0; b < batch; b++) {
        run(
          xBase + (((b * height + rows.at) * width + cols.at) * inChannels) * f,
          dyBase + (((b * outHeight + rows.first) * outWidth + cols.first) * outChannels) * f,
          tapOut,
          rows.count,
          cols.count,
          g.sh * width * inChannels * f,
          g.sw * inChannels * f,
          outWidth * outChannels * f,
          inChannels * f,
          outChannels * f,
        );
      }
    }
  }
  return out;
}

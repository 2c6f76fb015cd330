/**
 * Kernels that let the `wasm` backend (tfjs-backend-wasm 4.22, XNNPACK) train
 * convolutional networks, and train them fast, built only from wasm's own
 * compiled kernels (XNNPACK convolution and matrix product, C++ transpose and
 * pad) with no JavaScript loops over tensor elements.
 *
 * tfjs-backend-wasm ships no `Conv2DBackpropFilter`, so convolution training
 * fails there outright; its `Conv2DBackpropInput` is a naive loop about ten
 * times slower than its forward `Conv2D`. `registerWasmTrainingKernels`
 * registers:
 *
 * - `Conv2DBackpropFilter`, where the output channels come in fours, by the
 *   WebAssembly SIMD kernel of `wasm_simd_filter_gradient.ts`; otherwise by
 *   one of two compositions of XNNPACK's kernels (see `chooseComposition`):
 *   a convolution with the batch as channels, `[Ci, H, W, B] ⊛ [OH, OW, B, Co]`
 *   with dilation = stride giving `[Ci, kh, kw, Co]`; or im2col(x)ᵀ · dy, the
 *   `[kh·kw·Ci, N]` matrix gathered from a channel-major copy of the padded
 *   input, so the XNNPACK product needs no transposed operand (wasm's
 *   BatchMatMul with one is a naive loop). Both split the work into chunks
 *   (`setChunkElements`) to stay inside wasm32's 4 GiB.
 * - `Conv2DBackpropInput` as one forward XNNPACK convolution of dy with the
 *   filter rotated 180° and its channel axes swapped. A stride `s` splits the
 *   output into `s²` phases, each a stride-1 convolution with a sub-filter;
 *   all phases run as one convolution whose output channels are the phases,
 *   then a transpose interleaves them (the "sub-pixel" form of a transposed
 *   convolution: no multiplications by inserted zeros). The phases' combined
 *   filter is written in one pass (`phase_filter.ts`).
 * - Rank-reducing `SplitV`, `Transpose`, `Reverse` and `Tile`, which delegate
 *   to the stock kernels after merging axes: above rank 4 the stock ones loop
 *   per element, which made a ConvLSTM's rank-5 sequences two thirds of a
 *   BCDU-Net training step. `Slice` copies its box's contiguous runs heap to
 *   heap (`slice_copy.ts`) after merging axes: the stock one loops per element
 *   above rank 4 and first copies its whole source into a new array.
 * - `Identity` (the engine's clone of each tensor a gradient keeps) sharing
 *   its input's memory instead of copying it, and `Tanh` as `2·σ(2x) − 1`
 *   through XNNPACK's sigmoid (the stock one is a scalar loop).
 *
 * @module
 */
import { tf } from "./tfjs.ts";
import { simdFilterGradient } from "./wasm_simd_filter_gradient.ts";
import { copySlice, type NumericArray } from "./slice_copy.ts";
import { maxPoolGradTiled } from "./max_pool_grad.ts";
import { kernelMemory } from "./kernel_memory.ts";
import { phasePlan, writePhaseFilter } from "./phase_filter.ts";

type TensorInfo = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
type KernelArgs = Parameters<tf.KernelFunc>[0];
type Pad = "valid" | "same" | number | [[number, number], [number, number], [number, number], [
  number,
  number,
]];

const DEFAULT_CHUNK_ELEMENTS = 1 << 25;
let chunkElements = DEFAULT_CHUNK_ELEMENTS;

/**
 * Sets how large a piece of the filter gradient may get, in elements: the
 * im2col matrix, or the convolution form's indirection table (one pointer
 * per output element and dy pixel). Larger problems are split along batch
 * and output rows and the partial gradients summed. The default, 2²⁵
 * (128 MiB of float32 or pointers), stays well inside wasm32's 4 GiB; tests
 * set a tiny value to exercise the split path.
 *
 * @param elements A positive element count, or `undefined` to restore the default.
 * @returns The previous setting.
 * @throws {RangeError} When `elements` is not a positive integer.
 */
export function setChunkElements(elements?: number): number {
  const previous = chunkElements;
  if (elements === undefined) chunkElements = DEFAULT_CHUNK_ELEMENTS;
  else if (!Number.isInteger(elements) || elements < 1) {
    throw new RangeError(
      `Cannot set the chunk size to ${elements} elements: need an integer >= 1`,
    );
  } else chunkElements = elements;
  return previous;
}

/**
 * Runs registered wasm kernels directly (outside the engine, so nothing is
 * recorded for gradients) and tracks their outputs, which `dispose` frees.
 */
class KernelScope {
  private readonly temps = new Set<TensorInfo>();

  constructor(private readonly backend: tf.KernelBackend) {}

  run(name: string, inputs: tf.NamedTensorInfoMap | TensorInfo[], attrs: Attrs = {}): TensorInfo {
    const kernel = tf.getKernel(name, "wasm");
    if (!kernel) throw new Error(`wasm training kernels need the wasm kernel ${name}`);
    const out = kernel.kernelFunc({
      inputs: inputs as tf.NamedTensorInfoMap,
      backend: this.backend,
      attrs,
    }) as TensorInfo;
    this.temps.add(out);
    return out;
  }

  /** Takes a tensor made outside {@link KernelScope.run} into the scope. */
  adopt(info: TensorInfo): TensorInfo {
    this.temps.add(info);
    return info;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run("Reshape", { x }, { shape });
  }

  /** Frees a temporary now, to lower peak memory. */
  free(...infos: TensorInfo[]): void {
    for (const info of infos) {
      if (this.temps.delete(info)) this.backend.disposeData(info.dataId);
    }
  }

  /** Takes a result out of the scope so `dispose` keeps it. */
  keep(info: TensorInfo): TensorInfo {
    this.temps.delete(info);
    return info;
  }

  dispose(): void {
    for (const info of this.temps) this.backend.disposeData(info.dataId);
    this.temps.clear();
  }
}

function withScope(backend: unknown, body: (scope: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend as tf.KernelBackend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
): ReturnType<typeof tf.backend_util.computeConv2DInfo> {
  const dataFormat = attrs.dataFormat as string | undefined;
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`wasm training kernels support only NHWC data, not ${dataFormat}`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
}

/**
 * Which algorithm computes the filter gradient (see the module comment);
 * `simd` is the WebAssembly SIMD kernel of `wasm_simd_filter_gradient.ts`
 * (output channels in fours; other shapes fall back to `composed`), and
 * `composed` the per-shape choice between `conv` and `im2col` (the default
 * before the SIMD kernel).
 */
export type FilterStrategy = "conv" | "im2col" | "simd" | "composed";
let forcedStrategy: FilterStrategy | undefined;

/**
 * Forces one filter-gradient algorithm, so tests can check both and
 * benchmarks can compare them; `undefined` restores the per-shape choice.
 *
 * @param strategy `conv` (batch-as-channels convolution), `im2col`, `simd`, `composed`, or `undefined`.
 */
export function forceFilterGradientStrategy(strategy?: FilterStrategy): void {
  forcedStrategy = strategy;
}

interface FilterProblem {
  x: TensorInfo;
  dy: TensorInfo;
  filterShape: number[];
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

/** The filter gradient; see the module comment. */
function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as Attrs;
  const filterShape = attrs.filterShape as number[];
  const info = convInfo(x.shape, filterShape, attrs);
  const problem: FilterProblem = {
    x,
    dy,
    filterShape,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
  // The SIMD kernel by default; it declines the shapes it cannot take (output channels not in
  // fours). On a width-8 BCDU-Net step it ran the filter gradients at 17–24 GFLOP/s where the
  // compositions ran them at 2–16, 2.0–2.3× less time in all (`bench/step_profile.ts convolutions
  // composed|simd`, 2026-12-03); the one shape it lost on ([16, 12, 12, 32] to 64 channels, 12
  // against 16 GFLOP/s) costs less than 2 ms a step.
  const strategy = forcedStrategy ?? "simd";
  if (strategy === "simd") {
    const out = simdFilterGradient(args.backend, x, dy, filterShape, problem);
    if (out) return out;
  }
  const composed = strategy === "simd" || strategy === "composed"
    ? chooseComposition(problem)
    : strategy;
  return withScope(
    args.backend,
    (scope) =>
      composed === "conv"
        ? filterGradientByConv(scope, problem)
        : filterGradientByIm2col(scope, problem),
  );
}

/**
 * Measured on this machine (batch 16, 6–48 px, 1–128 channels): the
 * convolution form is 1.5–3× faster for 3×3 kernels and ~15× for strided
 * 2×2 ones (wasm's strided slice is a slow generic loop); im2col wins for 1×1
 * kernels (no taps to gather: a transpose and one product) and for batches
 * of 1–2 with wide channels, where the convolution form's inner product
 * over the batch is too short for XNNPACK.
 */
function chooseComposition(p: FilterProblem): "conv" | "im2col" {
  const stride1 = p.sh === 1 && p.sw === 1;
  if (stride1 && p.kh * p.kw === 1) return "im2col";
  if (stride1 && p.x.shape[0] <= 2 && p.x.shape[3] >= 32) return "im2col";
  return "conv";
}

/**
 * dW as a convolution: with the batch as channels, `x` transposed to
 * `[Ci, H, W, B]` convolved (dilation = stride) with dy transposed to
 * `[OH, OW, B, Co]` gives `[Ci, kh, kw, Co]`. No im2col matrix; split along
 * output rows so XNNPACK's indirection buffer stays small.
 */
function filterGradientByConv(scope: KernelScope, p: FilterProblem): TensorInfo {
  const { x, dy, kh, kw, sh, sw, top, left } = p;
  const [batch, height, width, inChannels] = x.shape;
  const [, outHeight, outWidth, outChannels] = dy.shape;
  const xt = scope.run("Transpose", { x }, { perm: [3, 1, 2, 0] });
  const dyt = scope.run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] });
  const perRow = inChannels * kh * kw * outWidth;
  const step = Math.max(1, Math.floor(chunkElements / perRow));
  let sum: TensorInfo | undefined;
  for (let r0 = 0; r0 < outHeight; r0 += step) {
    const r1 = Math.min(outHeight, r0 + step);
    // x rows [first, last) feed dy rows [r0, r1).
    const first = r0 * sh - top;
    const last = (r1 - 1) * sh + kh - top;
    const lo = Math.max(0, first);
    const hi = Math.min(height, last);
    if (hi <= lo) continue; // These dy rows see only padding.
    const xRows = lo === 0 && hi === height ? xt : scope.run("Slice", { x: xt }, {
      begin: [0, lo, 0, 0],
      size: [inChannels, hi - lo, width, batch],
    });
    const dyRows = r0 === 0 && r1 === outHeight ? dyt : scope.run("Slice", { x: dyt }, {
      begin: [r0, 0, 0, 0],
      size: [r1 - r0, outWidth, batch, outChannels],
    });
    const right = Math.max(0, (outWidth - 1) * sw + kw - left - width);
    let part = scope.run("Conv2D", { x: xRows, filter: dyRows }, {
      strides: [1, 1],
      pad: [[0, 0], [lo - first, last - hi], [left, right], [0, 0]],
      dataFormat: "NHWC",
      dilations: [sh, sw],
      dimRoundingMode: undefined,
    } as unknown as Attrs);
    if (xRows !== xt) scope.free(xRows);
    if (dyRows !== dyt) scope.free(dyRows);
    if (part.shape[2] !== kw) {
      // Columns of x past the last tap make the output wider than the filter.
      const cropped = scope.run("Slice", { x: part }, {
        begin: [0, 0, 0, 0],
        size: [inChannels, kh, kw, outChannels],
      });
      scope.free(part);
      part = cropped;
    }
    sum = accumulate(scope, sum, part);
  }
  scope.free(xt, dyt);
  if (sum === undefined) {
    return scope.run("Fill", {}, { shape: p.filterShape, value: 0, dtype: "float32" });
  }
  return scope.run("Transpose", { x: sum }, { perm: [1, 2, 0, 3] });
}

function accumulate(scope: KernelScope, sum: TensorInfo | undefined, part: TensorInfo): TensorInfo {
  if (sum === undefined) return part;
  const next = scope.run("Add", { a: sum, b: part });
  scope.free(sum, part);
  return next;
}

/**
 * dW as im2col(x)ᵀ · dy, tile by tile of batch and output rows: the
 * channel-major padded input gives each tap's block of im2colᵀ rows as one
 * strided slice, and one XNNPACK product with dy `[n, Co]` needs no
 * transposed operand.
 */
function filterGradientByIm2col(scope: KernelScope, p: FilterProblem): TensorInfo {
  const { x, dy, filterShape, kh, kw, sh, sw, top, left } = p;
  const [batch, height, width, inChannels] = x.shape;
  const [, outHeight, outWidth, outChannels] = dy.shape;
  const rows = kh * kw * inChannels;
  // Pad only as far as the last tap of the last output pixel reads.
  const bottom = Math.max(0, (outHeight - 1) * sh + kh - top - height);
  const right = Math.max(0, (outWidth - 1) * sw + kw - left - width);
  const padded = top || left || bottom || right
    ? scope.run("PadV2", { x }, {
      paddings: [[0, 0], [top, bottom], [left, right], [0, 0]],
      constantValue: 0,
    })
    : x;
  // Channel-major [Ci, B, Hp, Wp]: each tap's slice is then already a block
  // of rows of the transposed im2col matrix.
  const channelMajor = scope.run("Transpose", { x: padded }, { perm: [3, 0, 1, 2] });
  if (padded !== x) scope.free(padded);

  const perImage = outHeight * outWidth * rows;
  const tiles: { b0: number; b1: number; r0: number; r1: number }[] = [];
  if (perImage <= chunkElements) {
    const step = Math.max(1, Math.floor(chunkElements / perImage));
    for (let b0 = 0; b0 < batch; b0 += step) {
      tiles.push({ b0, b1: Math.min(batch, b0 + step), r0: 0, r1: outHeight });
    }
  } else {
    const step = Math.max(1, Math.floor(chunkElements / (outWidth * rows)));
    for (let b0 = 0; b0 < batch; b0++) {
      for (let r0 = 0; r0 < outHeight; r0 += step) {
        tiles.push({ b0, b1: b0 + 1, r0, r1: Math.min(outHeight, r0 + step) });
      }
    }
  }

  let sum: TensorInfo | undefined;
  for (const { b0, b1, r0, r1 } of tiles) {
    const n = (b1 - b0) * (r1 - r0) * outWidth;
    const pieces: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const piece = scope.run("StridedSlice", { x: channelMajor }, {
          begin: [0, b0, i + r0 * sh, j],
          end: [inChannels, b1, i + (r1 - 1) * sh + 1, j + (outWidth - 1) * sw + 1],
          strides: [1, 1, sh, sw],
          beginMask: 0,
          endMask: 0,
          ellipsisMask: 0,
          newAxisMask: 0,
          shrinkAxisMask: 0,
        });
        pieces.push(scope.reshape(piece, [inChannels, n]));
        scope.free(piece);
      }
    }
    const columns = scope.run("Concat", pieces, { axis: 0 });
    scope.free(...pieces);
    const dyTile = b0 === 0 && b1 === batch && r0 === 0 && r1 === outHeight
      ? dy
      : scope.run("Slice", { x: dy }, {
        begin: [b0, r0, 0, 0],
        size: [b1 - b0, r1 - r0, outWidth, outChannels],
      });
    const dyMatrix = scope.reshape(dyTile, [1, n, outChannels]);
    const columns3d = scope.reshape(columns, [1, rows, n]);
    const product = scope.run("BatchMatMul", { a: columns3d, b: dyMatrix }, {
      transposeA: false,
      transposeB: false,
    });
    scope.free(columns, columns3d, dyMatrix);
    if (dyTile !== dy) scope.free(dyTile);
    sum = accumulate(scope, sum, product);
  }
  scope.free(channelMajor);
  if (sum === undefined) {
    return scope.run("Fill", {}, { shape: filterShape, value: 0, dtype: "float32" });
  }
  return scope.reshape(sum, filterShape);
}

/**
 * The input gradient as one forward XNNPACK convolution plus, for strides
 * above 1, a transpose that interleaves the output phases.
 *
 * Output row `y = s·u + p` receives filter rows `i ≡ p + top (mod s)` from dy
 * rows `r = (y + top - i) / s`; per phase that is a stride-1 correlation of dy
 * with the reversed sub-filter. Aligning all phases' sub-filters in one
 * zero-padded filter of `Co → s_h·s_w·Ci` channels gives one convolution.
 */
function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as Attrs;
  const inputShape = attrs.inputShape as number[];
  const info = convInfo(inputShape, filter.shape, attrs);
  const [batch, height, width, inChannels] = inputShape;
  const [, outHeight, outWidth, outChannels] = dy.shape;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const rowsPlan = phasePlan(kh, sh, top);
  const colsPlan = phasePlan(kw, sw, left);
  const phaseHeight = Math.ceil(height / sh);
  const phaseWidth = Math.ceil(width / sw);
  return withScope(args.backend, (scope) => {
    const memory = kernelMemory("wasm", args.backend);
    const combined = memory.output([
      rowsPlan.size,
      colsPlan.size,
      outChannels,
      sh * sw * inChannels,
    ]);
    // The scope frees it with the other temporaries; views after the allocation.
    scope.adopt(combined);
    writePhaseFilter(
      memory.view(filter),
      filter.shape,
      rowsPlan,
      colsPlan,
      [sh, sw],
      memory.view(combined),
    );

    // dy rows [lo, lo + phaseHeight + size - 1) feed the phase outputs; pad
    // what lies outside dy, crop what dy has beyond it.
    const needRows = [rowsPlan.lo, rowsPlan.lo + phaseHeight + rowsPlan.size - 1];
    const needCols = [colsPlan.lo, colsPlan.lo + phaseWidth + colsPlan.size - 1];
    const cropTop = Math.max(0, needRows[0]);
    const cropLeft = Math.max(0, needCols[0]);
    const cropBottom = Math.min(outHeight, needRows[1]);
    const cropRight = Math.min(outWidth, needCols[1]);
    let source = dy;
    if (cropTop > 0 || cropLeft > 0 || cropBottom < outHeight || cropRight < outWidth) {
      source = scope.run("Slice", { x: dy }, {
        begin: [0, cropTop, cropLeft, 0],
        size: [
          batch,
          Math.max(0, cropBottom - cropTop),
          Math.max(0, cropRight - cropLeft),
          outChannels,
        ],
      });
    }
    const pad = [
      [0, 0],
      [Math.max(0, -needRows[0]), Math.max(0, needRows[1] - outHeight)],
      [Math.max(0, -needCols[0]), Math.max(0, needCols[1] - outWidth)],
      [0, 0],
    ];
    const phases = scope.run("Conv2D", { x: source, filter: combined }, {
      strides: [1, 1],
      pad,
      dataFormat: "NHWC",
      dilations: [1, 1],
      dimRoundingMode: undefined,
    } as unknown as Attrs);
    if (source !== dy) scope.free(source);
    scope.free(combined);
    if (sh === 1 && sw === 1) return phases;

    // [B, Hq, Wq, sh, sw, Ci] -> [B, Hq, sh, Wq, sw, Ci] interleaves the phases.
    const split = scope.reshape(phases, [batch, phaseHeight, phaseWidth, sh, sw, inChannels]);
    const interleaved = scope.run("Transpose", { x: split }, { perm: [0, 1, 3, 2, 4, 5] });
    scope.free(split, phases);
    const full = scope.reshape(interleaved, [
      batch,
      phaseHeight * sh,
      phaseWidth * sw,
      inChannels,
    ]);
    if (phaseHeight * sh === height && phaseWidth * sw === width) return full;
    return scope.run("Slice", { x: full }, {
      begin: [0, 0, 0, 0],
      size: [batch, height, width, inChannels],
    });
  });
}

/**
 * Rank reduction for wasm's data-movement kernels. Its `Slice` copies in
 * JavaScript one element at a time above rank 4, its `Transpose` and
 * `Reverse` compute a coordinate vector per element above rank 4 (Reverse at
 * any rank), and `SplitV` slices through that `Slice`. A ConvLSTM's rank-5
 * sequences made these most of a training step. Merging adjacent axes that
 * move together gives the same result through the fast low-rank paths.
 */
type Stock = Map<string, tf.KernelFunc>;

function mergedSlice(shape: number[], begin: number[], size: number[]) {
  const dims: number[] = [];
  const starts: number[] = [];
  const sizes: number[] = [];
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const last = dims.length - 1;
    // An axis merges into the (inner) group after it when that group is taken whole.
    if (last >= 0 && starts[last] === 0 && sizes[last] === dims[last]) {
      starts[last] = begin[axis] * dims[last];
      sizes[last] = size[axis] * dims[last];
      dims[last] *= shape[axis];
    } else {
      dims.push(shape[axis]);
      starts.push(begin[axis]);
      sizes.push(size[axis]);
    }
  }
  return { dims: dims.reverse(), starts: starts.reverse(), sizes: sizes.reverse() };
}

/**
 * What `fastSlice` reads and writes in place: tfjs-backend-wasm's heap, in any
 * dtype (`kernelMemory` gives float32 only).
 */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): NumericArray;
}

let heapSliceCopy = true;

/**
 * Chooses how `Slice` copies once it has merged axes: heap to heap (the
 * default), or through the stock kernel, as before 2026-12-07, so benchmarks
 * can compare the two in one process.
 *
 * @param on Heap to heap when true.
 */
export function useHeapSliceCopy(on = true): void {
  heapSliceCopy = on;
}

/**
 * The stock `Slice` first copies its whole source out of the heap into a new
 * array (`readSync`), and a fresh array of tens of kilobytes cost about 3 ns a
 * byte here (a 36 KB one 130 µs: 9 slices of a 3×3×32×32 filter, 1.1 ms, in
 * every input gradient). This one copies the box's runs heap to heap.
 */
function fastSlice(stock: Stock, args: KernelArgs): TensorInfo {
  const x = (args.inputs as { x: TensorInfo }).x;
  const attrs = args.attrs as { begin: number | number[]; size?: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  const merged = mergedSlice(x.shape, begin, size);
  if (x.dtype === "string" || (!heapSliceCopy && merged.dims.length === x.shape.length)) {
    return stock.get("Slice")!({ ...args, attrs: { begin, size } }) as TensorInfo;
  }
  if (!heapSliceCopy) {
    return withScope(args.backend, (scope) => {
      const view = scope.reshape(x, merged.dims);
      const part = scope.run("Slice", { x: view }, { begin: merged.starts, size: merged.sizes });
      return scope.reshape(part, size);
    });
  }
  const backend = args.backend as unknown as HeapBackend;
  const out = backend.makeOutput(size, x.dtype);
  // Views after makeOutput: its allocation may grow the heap and replace the buffer.
  copySlice(
    backend.typedArrayFromHeap(x),
    merged.dims,
    merged.starts,
    merged.sizes,
    backend.typedArrayFromHeap(out),
  );
  return out;
}

/**
 * `MaxPoolGrad` of a pool whose windows tile its input (a U-Net's 2×2 pools)
 * in one pass (`max_pool_grad.ts`): the stock kernel searches each window
 * again for every input in it. Other pools go to the stock kernel.
 */
function tiledMaxPoolGrad(stock: Stock, args: KernelArgs): TensorInfo {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const attrs = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: "valid" | "same" | number;
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: ph, filterWidth: pw } = info;
  const tiled = info.strideHeight === ph && info.strideWidth === pw &&
    info.padInfo.top === 0 && info.padInfo.left === 0 &&
    info.outHeight === Math.floor(info.inHeight / ph) &&
    info.outWidth === Math.floor(info.inWidth / pw) &&
    input.dtype === "float32" && dy.dtype === "float32";
  if (!tiled) return stock.get("MaxPoolGrad")!(args) as TensorInfo;
  const memory = kernelMemory("wasm", args.backend);
  const dx = memory.output(input.shape);
  // Views after the output: its allocation may grow the heap and replace the buffer.
  maxPoolGradTiled(memory.view(input), memory.view(dy), memory.view(dx), input.shape, [ph, pw]);
  return dx;
}

function fastSplitV(args: KernelArgs): TensorInfo[] {
  const x = (args.inputs as { x: TensorInfo }).x;
  const { numOrSizeSplits, axis } = args.attrs as {
    numOrSizeSplits: number | number[];
    axis: number;
  };
  const at = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, at);
  const begin = x.shape.map(() => 0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[at] = s;
    const part = tf.getKernel("Slice", "wasm")!.kernelFunc({
      inputs: { x },
      backend: args.backend,
      attrs: { begin: [...begin], size },
    }) as TensorInfo;
    begin[at] += s;
    return part;
  });
}

function fastTranspose(stock: Stock, args: KernelArgs): TensorInfo {
  const x = (args.inputs as { x: TensorInfo }).x;
  const perm = (args.attrs as { perm: number[] }).perm;
  const outShape = perm.map((p) => x.shape[p]);
  // Drop size-1 axes, then merge input axes that stay adjacent in the output.
  const kept = perm.filter((p) => x.shape[p] !== 1);
  const groups: number[][] = [];
  for (const p of kept) {
    const group = groups[groups.length - 1];
    if (group && group[group.length - 1] + nextKept(x.shape, group[group.length - 1]) === p) {
      group.push(p);
    } else groups.push([p]);
  }
  if (groups.length === x.shape.length || x.dtype === "string") {
    return stock.get("Transpose")!(args) as TensorInfo;
  }
  const order = [...groups].sort((a, b) => a[0] - b[0]);
  const dims = order.map((g) => g.reduce((n, p) => n * x.shape[p], 1));
  const newPerm = groups.map((g) => order.indexOf(g));
  return withScope(args.backend, (scope) => {
    const view = scope.reshape(x, dims);
    const moved = scope.run("Transpose", { x: view }, { perm: newPerm });
    return scope.reshape(moved, outShape);
  });
}

/** The distance from axis `p` to the next axis of size above 1. */
function nextKept(shape: number[], p: number): number {
  let q = p + 1;
  while (q < shape.length && shape[q] === 1) q++;
  return q - p;
}

function fastReverse(stock: Stock, args: KernelArgs): TensorInfo {
  const x = (args.inputs as { x: TensorInfo }).x;
  const dims = (args.attrs as { dims: number | number[] }).dims;
  const axes = new Set(x.shape.length ? tf.util.parseAxisParam(dims, x.shape) : []);
  // Merge adjacent axes that are both reversed or both kept (size-1 axes join either).
  const merged: { size: number; reversed: boolean }[] = [];
  x.shape.forEach((n, axis) => {
    if (n === 1) return;
    const reversed = axes.has(axis);
    const last = merged[merged.length - 1];
    if (last && last.reversed === reversed) last.size *= n;
    else merged.push({ size: n, reversed });
  });
  const at = merged.findIndex((m) => m.reversed);
  const single = at >= 0 && merged.filter((m) => m.reversed).length === 1;
  const outer = merged.slice(0, at).reduce((n, m) => n * m.size, 1);
  const inner = merged.slice(at + 1).reduce((n, m) => n * m.size, 1);
  // One reversed axis with long contiguous blocks: copy the blocks in reverse order.
  if (!single || inner < 16 || outer * merged[at].size > 4096 || x.dtype === "string") {
    if (at < 0) {
      return stock.get("Identity")!({ inputs: { x }, backend: args.backend }) as TensorInfo;
    }
    return stock.get("Reverse")!(args) as TensorInfo;
  }
  const length = merged[at].size;
  return withScope(args.backend, (scope) => {
    const view = scope.reshape(x, [outer, length, inner]);
    const blocks: TensorInfo[] = [];
    for (let i = length - 1; i >= 0; i--) {
      blocks.push(scope.run("Slice", { x: view }, { begin: [0, i, 0], size: [outer, 1, inner] }));
    }
    const out = scope.run("Concat", blocks, { axis: 1 });
    return scope.reshape(out, x.shape);
  });
}

/**
 * `Tile` of a tensor whose leading axes have size 1 and are the only ones
 * repeated (batch norm's gradient broadcasts its `[1, 1, 1, C]` statistics
 * so) is the whole tensor repeated: done by doubling concatenations instead of
 * wasm's per-element coordinate loop.
 */
function fastTile(stock: Stock, args: KernelArgs): TensorInfo {
  const x = (args.inputs as { x: TensorInfo }).x;
  const reps = (args.attrs as { reps: number[] }).reps;
  let lead = 0;
  while (lead < x.shape.length && x.shape[lead] === 1) lead++;
  const repeats = reps.slice(0, lead).reduce((n, r) => n * r, 1);
  const size = tf.util.sizeFromShape(x.shape);
  if (
    reps.slice(lead).some((r) => r !== 1) || repeats < 2 || size === 0 || x.dtype === "string"
  ) {
    return stock.get("Tile")!(args) as TensorInfo;
  }
  const outShape = x.shape.map((n, i) => n * reps[i]);
  return withScope(args.backend, (scope) => {
    let block = scope.reshape(x, [1, size]);
    let count = 1;
    while (count * 2 <= repeats) {
      const doubled = scope.run("Concat", [block, block], { axis: 0 });
      scope.free(block);
      block = doubled;
      count *= 2;
    }
    if (count < repeats) {
      const rest = scope.run("Slice", { x: block }, {
        begin: [0, 0],
        size: [repeats - count, size],
      });
      const whole = scope.run("Concat", [block, rest], { axis: 0 });
      scope.free(block, rest);
      block = whole;
    }
    return scope.reshape(block, outShape);
  });
}

/**
 * `Identity` sharing its input's memory, as wasm's `Reshape` does: tensors are
 * immutable, and the stock kernel copies. The engine clones every tensor a
 * gradient keeps for the backward pass, about 700 copies per BCDU-Net step.
 */
function sharedIdentity(args: KernelArgs): TensorInfo {
  const x = (args.inputs as { x: TensorInfo }).x;
  (args.backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * `tanh(x) = 2·σ(2x) − 1`, with XNNPACK's vectorised sigmoid: wasm's `Tanh`
 * calls the C library's `tanh` per element, about 10× slower, and a ConvLSTM
 * runs it on every gate map. Absolute error below 2·10⁻⁷.
 */
function fastTanh(stock: Stock, args: KernelArgs): TensorInfo {
  const x = (args.inputs as { x: TensorInfo }).x;
  if (x.dtype !== "float32") return stock.get("Tanh")!(args) as TensorInfo;
  return withScope(args.backend, (scope) => {
    const constant = (value: number) =>
      scope.run("Fill", {}, { shape: [], value, dtype: "float32" });
    const two = constant(2);
    const doubled = scope.run("Multiply", { a: x, b: two });
    const sigmoid = scope.run("Sigmoid", { x: doubled });
    scope.free(doubled);
    const scaled = scope.run("Multiply", { a: sigmoid, b: two });
    scope.free(sigmoid);
    return scope.run("Sub", { a: scaled, b: constant(1) });
  });
}

const registered = new Set<string>();

/**
 * Registers on the wasm backend what training convolutional networks there
 * needs: `Conv2DBackpropFilter` (missing), a fast `Conv2DBackpropInput` (the
 * stock one is a naive loop), and rank-reducing `Slice`, `SplitV`,
 * `Transpose`, `Reverse` and `Tile` (the stock ones crawl on a ConvLSTM's
 * rank-5 tensors), an `Identity` that shares memory instead of copying, and
 * a `Tanh` through the vectorised sigmoid. Idempotent. Assumes
 * `@tensorflow/tfjs-backend-wasm` has been imported.
 *
 * @returns The kernel names this call registered (empty when already done).
 */
export function registerWasmTrainingKernels(): string[] {
  const stock: Stock = new Map();
  for (
    const name of ["Slice", "Transpose", "Reverse", "Identity", "Tile", "Tanh", "MaxPoolGrad"]
  ) {
    const kernel = registered.has(name) ? undefined : tf.getKernel(name, "wasm");
    if (kernel) stock.set(name, kernel.kernelFunc);
  }
  const wrap = (name: string, body: (stock: Stock, args: KernelArgs) => TensorInfo) =>
    stock.has(name) ? ((args: KernelArgs) => body(stock, args)) as tf.KernelFunc : undefined;
  const kernels: [string, tf.KernelFunc | undefined][] = [
    ["Conv2DBackpropFilter", conv2DBackpropFilter as tf.KernelFunc],
    ["Conv2DBackpropInput", conv2DBackpropInput as tf.KernelFunc],
    ["Slice", wrap("Slice", fastSlice)],
    ["SplitV", fastSplitV as unknown as tf.KernelFunc],
    ["Transpose", wrap("Transpose", fastTranspose)],
    ["Reverse", stock.has("Identity") ? wrap("Reverse", fastReverse) : undefined],
    ["Tile", wrap("Tile", fastTile)],
    ["Identity", sharedIdentity as tf.KernelFunc],
    ["Tanh", wrap("Tanh", fastTanh)],
    ["MaxPoolGrad", wrap("MaxPoolGrad", tiledMaxPoolGrad)],
  ];
  const done: string[] = [];
  for (const [kernelName, kernelFunc] of kernels) {
    if (registered.has(kernelName) || !kernelFunc) continue;
    // Keep the stock kernel's setupFunc: the backend runs it at initialisation to
    // bind the wasm function the stock kernelFunc (called by ours) relies on.
    const original = tf.getKernel(kernelName, "wasm");
    if (original) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc,
      setupFunc: original?.setupFunc,
    });
    registered.add(kernelName);
    done.push(kernelName);
  }
  return done;
}

/**
 * Fast `Sum` and `Mean` over leading axes for the wasm backend.
 *
 * A convolution's bias gradient sums `[batch, h, w, C]` over its first three
 * axes, and batch normalisation averages over them. tfjs-backend-wasm
 * reduces only innermost axes, so it first transposes the whole tensor to
 * put the channels outside: 18.9 ms for `[16, 48, 48, 64]` here. Viewed as
 * one `[1, a, b, C]` image with `a · b` = the rows reduced, the mean is
 * XNNPACK's average pooling with an `a × b` window, which reads the data
 * once in its own layout; the sum is that mean times the row count.
 *
 * Not the product of a row of ones with the `[N, C]` matrix: wasm's
 * `BatchMatMul` packs its right operand as cached weights, keyed by the
 * tensor's id alone, so every new tensor paid a full packing copy (1.5 ms
 * for `[8, 48, 48, 8]`, against 0.4 ms pooled, `bench/kernels.ts`), and the
 * same data reduced again under another shape reused the first shape's
 * operator and returned wrong sums.
 *
 * @module
 */
import { tf } from "./tfjs.ts";

type KernelArgs = Parameters<tf.KernelFunc>[0];
type TensorInfo = tf.TensorInfo;

/**
 * How many leading axes `axis` reduces, when it is exactly a leading run
 * `0, 1, ..., k - 1` of a rank-`rank` tensor's axes and leaves at least one
 * axis; otherwise 0.
 */
export function leadingAxes(axis: number | number[], shape: number[]): number {
  const axes = [...new Set(tf.util.parseAxisParam(axis, shape))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

function run(name: string, args: KernelArgs, inputs: tf.NamedTensorInfoMap, attrs = {}) {
  return tf.getKernel(name, "wasm")!.kernelFunc({
    inputs,
    backend: args.backend,
    attrs,
  }) as TensorInfo;
}

/** The factor pair `[a, b]` of `n` with `a ≤ b` closest to square: the pooling window. */
export function poolWindow(n: number): [number, number] {
  let a = Math.floor(Math.sqrt(n));
  while (n % a !== 0) a--;
  return [a, n / a];
}

function reduceLeading(stock: tf.KernelFunc, mean: boolean, args: KernelArgs): TensorInfo {
  const x = (args.inputs as { x: TensorInfo }).x;
  const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
  const k = x.dtype === "float32" ? leadingAxes(axis, x.shape) : 0;
  const rows = x.shape.slice(0, k).reduce((n, d) => n * d, 1);
  // Tiny reductions are no faster this way.
  if (k === 0 || rows < 64) return stock(args) as TensorInfo;
  const columns = tf.util.sizeFromShape(x.shape) / rows;
  const backend = args.backend as tf.KernelBackend;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (temps.push(t), t);
  try {
    const [height, width] = poolWindow(rows);
    const image = keep(run("Reshape", args, { x }, { shape: [1, height, width, columns] }));
    let sum = keep(run("AvgPool", args, { x: image }, {
      filterSize: [height, width],
      strides: 1,
      pad: "valid",
    }));
    if (!mean) {
      const count = keep(run("Fill", args, {}, { shape: [], value: rows, dtype: "float32" }));
      sum = keep(run("Multiply", args, { a: sum, b: count }));
    }
    const shape = keepDims
      ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)]
      : x.shape.slice(k);
    const out = run("Reshape", args, { x: sum }, { shape });
    // Reshape shares its input's data; dropping our reference keeps it alive for `out`.
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

const registered = new Set<string>();

/**
 * Registers the fast `Sum` and `Mean` on the wasm backend (idempotent);
 * other reductions go to the stock kernels. Assumes
 * `@tensorflow/tfjs-backend-wasm` has been imported.
 *
 * @returns The kernel names this call registered.
 */
export function registerWasmReduceKernels(): string[] {
  const done: string[] = [];
  for (const name of ["Sum", "Mean"]) {
    const stock = tf.getKernel(name, "wasm");
    if (registered.has(name) || !stock) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      // The stock kernel binds its wasm function in setupFunc at backend start.
      setupFunc: stock.setupFunc,
      kernelFunc: (args: KernelArgs) => reduceLeading(stock.kernelFunc, name === "Mean", args),
    });
    registered.add(name);
    done.push(name);
  }
  return done;
}

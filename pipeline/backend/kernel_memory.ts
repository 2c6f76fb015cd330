/**
 * Direct access to a backend's tensor memory, for kernels written in
 * JavaScript: one pass over the elements where a chain of stock kernels
 * would make many (each with its own dispatch and memory traffic). The
 * `wasm` backend keeps tensors on its heap, the `cpu` backend in typed
 * arrays; other backends (WebGPU) keep them on a device and have none.
 *
 * @module
 */
import type { Tf, tf } from "./tfjs.ts";
import { importableHeap } from "./wasm_assembler.ts";

type TensorInfo = tf.TensorInfo;

/** The backends whose float32 tensor memory {@link kernelMemory} reaches. */
export const HOST_MEMORY_BACKENDS = ["wasm", "cpu"] as const;

/** A backend's float32 tensors as typed arrays. */
export interface KernelMemory {
  /**
   * A float32 view of a tensor's data. On `wasm` a view is valid until the
   * next allocation (growing the heap detaches it): allocate every output
   * first, then take the views.
   */
  view(info: TensorInfo): Float32Array;
  /** A new float32 tensor of `shape` (its contents unset on `wasm`, zeros on `cpu`). */
  output(shape: number[]): TensorInfo;
  /** Frees a tensor from {@link KernelMemory.output} that the kernel used as scratch. */
  release(info: TensorInfo): void;
  /**
   * The `wasm` backend's heap, where a WebAssembly module can import it
   * (`wasm_assembler.ts`): a view's `byteOffset` is then a tensor's address
   * in it. `undefined` on `cpu`, and on a build whose memory is shared.
   */
  readonly heap?: WebAssembly.Memory;
}

/**
 * The memory of backend `backendName`, as a kernel's `backend` argument
 * gives it.
 *
 * @param backendName One of {@link HOST_MEMORY_BACKENDS}.
 * @param backend The backend object a kernel function receives.
 * @returns Views and allocation of float32 tensors.
 * @throws {Error} For another backend.
 *
 * @example Usage
 * ```ts
 * import { tf } from "./tfjs.ts";
 * import { kernelMemory } from "./kernel_memory.ts";
 * await tf.setBackend("cpu");
 * const memory = kernelMemory("cpu", tf.backend());
 * const x = tf.tensor([1, 2, 3]);
 * const doubled = memory.output([3]);
 * memory.view(doubled).set(memory.view(x).map((v) => 2 * v));
 * const y = tf.engine().makeTensorFromTensorInfo(doubled);
 * console.assert(y.dataSync().join() === "2,4,6");
 * ```
 */
export function kernelMemory(backendName: string, backend: unknown): KernelMemory {
  if (backendName === "wasm") {
    const wasm = backend as {
      typedArrayFromHeap(info: TensorInfo): Float32Array;
      makeOutput(shape: number[], dtype: "float32"): TensorInfo;
      disposeData(dataId: unknown): void;
    };
    return {
      view: (info) => wasm.typedArrayFromHeap(info),
      output: (shape) => wasm.makeOutput(shape, "float32"),
      release: (info) => wasm.disposeData(info.dataId),
      heap: importableHeap(backend),
    };
  }
  if (backendName === "cpu") {
    const cpu = backend as {
      data: { get(id: unknown): { values: Float32Array } };
      makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): TensorInfo;
      disposeData(dataId: unknown): void;
    };
    return {
      view: (info) => cpu.data.get(info.dataId).values,
      output: (shape) =>
        cpu.makeTensorInfo(shape, "float32", new Float32Array(shape.reduce((n, d) => n * d, 1))),
      release: (info) => cpu.disposeData(info.dataId),
    };
  }
  throw new Error(`No host memory on the ${backendName} backend: it keeps tensors on a device`);
}

/** A kernel written against {@link KernelMemory}: inputs by name, its attributes. */
export type HostKernel = (
  memory: KernelMemory,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown>,
) => TensorInfo | TensorInfo[];

/**
 * Registers `kernel` as `name` on every backend of {@link HOST_MEMORY_BACKENDS}
 * where it is not registered yet.
 *
 * @param tf The TensorFlow.js runtime.
 * @param name The kernel's name, for `tf.engine().runKernel`.
 * @param kernel What it computes.
 *
 * @example Usage
 * ```ts
 * import { tf } from "./tfjs.ts";
 * import { registerHostKernel } from "./kernel_memory.ts";
 * registerHostKernel(tf, "DocExampleNegate", (memory, { x }) => {
 *   const out = memory.output(x.shape);
 *   memory.view(out).set(memory.view(x).map((v) => -v));
 *   return out;
 * });
 * await tf.setBackend("cpu");
 * const y = tf.engine().runKernel("DocExampleNegate", { x: tf.tensor([1, -2]) }) as tf.Tensor;
 * console.assert(y.dataSync().join() === "-1,2");
 * ```
 */
export function registerHostKernel(
  tf: Tf,
  name: string,
  kernel: HostKernel,
): void {
  for (const backendName of HOST_MEMORY_BACKENDS) {
    if (tf.getKernel(name, backendName)) continue;
    tf.registerKernel({
      kernelName: name,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) =>
        kernel(
          kernelMemory(backendName, backend),
          inputs as Record<string, TensorInfo>,
          (attrs ?? {}) as Record<string, unknown>,
        ),
    });
  }
}

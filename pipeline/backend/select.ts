/**
 * Loads TensorFlow.js backends and chooses one per role. `auto` takes, among
 * the backends that load (and, for training, have the gradient kernels):
 * tensorflow-gpu, tensorflow, webgpu on a hardware adapter, wasm, webgpu on a
 * software adapter, cpu. A software (CPU-emulated) WebGPU adapter such as
 * Mesa's lavapipe measured 7× slower than wasm for training and 13× for
 * inference here (BENCHMARKS.md). Every choice comes with the reason.
 *
 * @module
 */
import { BackendError } from "../errors.ts";
import type { BackendName } from "../recipe/schema.ts";
import { liftPadRankLimit } from "./pad_kernel.ts";
import { liftReverseRankLimit } from "./reverse_kernel.ts";
import { type BackendRole, tf } from "./tfjs.ts";
import { keepNanInWasmClip } from "./wasm_nan_clip.ts";
import { registerWasmTrainingKernels } from "./wasm_training_kernels.ts";
import { registerWasmReduceKernels } from "./wasm_reduce_kernels.ts";
import { requestWebGpuAdapter } from "./webgpu_adapter.ts";
import { type GuardedWebGpuBackend, guardWebGpuReads } from "./webgpu_errors.ts";
import { defaultThreadCount, startWasmThreads } from "./wasm_threads.ts";

/** A concrete backend (not `auto`). */
export type ConcreteBackend = Exclude<BackendName, "auto">;

/** A backend that loaded, and what it can do. */
export interface BackendInfo {
  /** The recipe name of the backend. */
  readonly name: ConcreteBackend;
  /** The tfjs backend name to pass to `tf.setBackend`. */
  readonly tfName: string;
  /** Whether it has the gradient kernels convolution training needs. */
  readonly canTrain: boolean;
  /** Whether it runs on a hardware accelerator. */
  readonly accelerated: boolean;
  /** A short description (adapter, device). */
  readonly detail: string;
}

/** The backend chosen for one role and why. */
export interface BackendChoice {
  /** The chosen backend. */
  readonly info: BackendInfo;
  /** Why it was chosen (and why others were not). */
  readonly reason: string;
}

const NODE_PACKAGES: Record<"tensorflow" | "tensorflow-gpu", string> = {
  "tensorflow": "@tensorflow/tfjs-node",
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
};

/** How to install an optional backend, for error messages. */
export function installHint(name: ConcreteBackend): string {
  if (name === "tensorflow" || name === "tensorflow-gpu") {
    const pkg = NODE_PACKAGES[name];
    return `install it with \`deno add npm:${pkg}@4.22.0 && deno install --allow-scripts=npm:${pkg}\` (its install script downloads libtensorflow${
      name === "tensorflow-gpu" ? " for CUDA" : ""
    }, so it needs network access)`;
  }
  if (name === "webgpu") {
    return "on Linux install a Vulkan driver (Debian: `apt-get install mesa-vulkan-drivers` for a CPU fallback)";
  }
  return "";
}

const TRAINING_KERNELS = ["Conv2DBackpropFilter", "Conv2DBackpropInput"];

async function loadWebGpu(): Promise<string> {
  const adapter = await requestWebGpuAdapter();
  if (!adapter) throw new Error("no WebGPU adapter found");
  await import("@tensorflow/tfjs-backend-webgpu");
  liftReverseRankLimit("webgpu");
  liftPadRankLimit("webgpu");
  const info = adapter.info ?? {};
  return info.description || [info.vendor, info.device].filter(Boolean).join(" ") ||
    "unknown adapter";
}

function isSoftwareAdapter(detail: string): boolean {
  return /llvmpipe|lavapipe|swiftshader|software/i.test(detail);
}

const loaded = new Map<ConcreteBackend, BackendInfo | Error>();

/**
 * Loads a backend once (later calls reuse the result).
 *
 * @param name The backend.
 * @returns What it can do.
 * @throws {BackendError} When it is not installed or cannot start, saying how to fix that.
 */
export async function loadBackend(name: ConcreteBackend): Promise<BackendInfo> {
  if (!loaded.has(name)) loaded.set(name, await tryLoad(name));
  const result = loaded.get(name)!;
  if (result instanceof Error) throw result;
  return result;
}

async function tryLoad(name: ConcreteBackend): Promise<BackendInfo | Error> {
  let tfName: string = name;
  let detail = "";
  let accelerated = false;
  try {
    if (name === "tensorflow" || name === "tensorflow-gpu") {
      const pkg = NODE_PACKAGES[name];
      try {
        import.meta.resolve(pkg);
      } catch {
        return new BackendError(
          `Cannot use backend "${name}": ${pkg} is not installed; ${installHint(name)}`,
        );
      }
      // A variable specifier keeps the optional package out of the static module graph.
      const specifier = pkg;
      await import(specifier);
      tfName = "tensorflow";
      accelerated = name === "tensorflow-gpu";
      detail = accelerated ? "libtensorflow with CUDA" : "libtensorflow on the CPU";
    } else if (name === "webgpu") {
      detail = await loadWebGpu();
      accelerated = !isSoftwareAdapter(detail);
      if (!accelerated) detail += " (software, runs on the CPU)";
    } else if (name === "wasm") {
      await import("@tensorflow/tfjs-backend-wasm");
      registerWasmTrainingKernels();
      registerWasmReduceKernels();
      keepNanInWasmClip();
      const { threads, problem } = await startWasmThreads(defaultThreadCount());
      detail = `WebAssembly with XNNPACK, ${threads} thread${threads === 1 ? "" : "s"}${
        problem ? ` (${problem})` : ""
      }`;
    } else {
      detail = "plain JavaScript";
    }
    if (!(await tf.setBackend(tfName))) throw new Error(`tf.setBackend("${tfName}") failed`);
    await tf.ready();
    if (name === "webgpu") {
      // Work the device refuses would otherwise read back as zeros, silently.
      guardWebGpuReads(tf.findBackend(tfName) as unknown as GuardedWebGpuBackend, detail);
    }
  } catch (error) {
    if (error instanceof BackendError) return error;
    const hint = installHint(name);
    return new BackendError(
      `Cannot use backend "${name}": ${(error as Error).message}${hint ? `; ${hint}` : ""}`,
      { cause: error },
    );
  }
  const canTrain = TRAINING_KERNELS.every((k) => tf.getKernel(k, tfName) !== undefined);
  return { name, tfName, canTrain, accelerated, detail };
}

const TRAIN_ORDER: ConcreteBackend[] = ["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"];

/**
 * Chooses the backend for a role.
 *
 * @param requested The recipe's choice (`auto` or a name).
 * @param role Training needs gradient kernels; inference does not.
 * @returns The backend and the reason.
 * @throws {BackendError} When a named backend cannot load or cannot train.
 */
export async function chooseBackend(
  requested: BackendName,
  role: BackendRole,
): Promise<BackendChoice> {
  if (requested !== "auto") {
    const info = await loadBackend(requested);
    if (role === "train" && !info.canTrain) {
      throw new BackendError(
        `Cannot train on backend "${requested}": it lacks ${
          TRAINING_KERNELS.filter((k) => !tf.getKernel(k, info.tfName)).join(" and ")
        }; use backend: auto or webgpu`,
      );
    }
    return { info, reason: `asked for by the recipe (${info.detail})` };
  }
  const skipped: string[] = [];
  const candidates: BackendInfo[] = [];
  for (const name of TRAIN_ORDER) {
    try {
      const info = await loadBackend(name);
      if (role === "train" && !info.canTrain) {
        skipped.push(`${name} cannot train convolutions (no Conv2DBackpropFilter kernel)`);
      } else candidates.push(info);
    } catch (error) {
      const why = (error as Error).message.replace(/^Cannot use backend "[^"]+": /, "")
        .split(";")[0];
      skipped.push(`${name}: ${why}`);
    }
  }
  // Stable sort: keeps TRAIN_ORDER among equals, moves a software WebGPU adapter behind wasm.
  candidates.sort((a, b) => rank(a) - rank(b));
  const info = candidates[0];
  if (!info) throw new BackendError(`No backend can ${role}: ${skipped.join("; ")}`);
  const passed = skipped.filter((s) => {
    const at = TRAIN_ORDER.indexOf(s.split(/[: ]/)[0] as ConcreteBackend);
    return at < 0 || at < TRAIN_ORDER.indexOf(info.name);
  });
  // Added after the filter, which keeps only notes on backends ahead of the choice.
  const slowerGpu = candidates.find((c) => c.name === "webgpu" && !c.accelerated);
  if (info.name === "wasm" && slowerGpu) {
    passed.push(
      `wasm ${role === "train" ? "trains" : "predicts"} faster than a software WebGPU adapter`,
    );
  }
  return {
    info,
    reason: `auto: ${info.name} (${info.detail})${passed.length ? `; ${passed.join("; ")}` : ""}`,
  };
}

function rank(info: BackendInfo): number {
  if (info.accelerated || info.tfName === "tensorflow") return 0;
  return info.name === "wasm" ? 1 : info.name === "webgpu" ? 2 : 3;
}

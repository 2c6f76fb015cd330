/**
 * What to make smaller when a training step runs out of memory. On `wasm`
 * (4 GiB at most) drive-full.yaml's first step at batch 64 and width 64
 * ended with `Aborted()` and nothing else (2026-12-07); batch 16 trained.
 *
 * @module
 */
import { CapillaryError, memoryBound } from "../../../mod.ts";

/** What the step asked for. */
export interface TrainingStep {
  /** Patches per batch. */
  readonly batchSize: number;
  /** Patch side. */
  readonly patchSize: number;
  /** Processes sharing each batch (`train.workers`). */
  readonly workers: number;
  /** The network's parameters. */
  readonly parameters: number;
  /** The tfjs backend (`tf.getBackend()`). */
  readonly backend: string;
}

/**
 * The error for a training step that ran out of memory: what the step held
 * and what to make smaller.
 *
 * @param error What the backend threw (an out-of-memory error, see `isOutOfMemory`).
 * @param step What the step asked for.
 * @returns The error to throw, with `error` as its cause.
 *
 * @example Usage
 * ```ts
 * import { trainingOutOfMemory } from "./memory_advice.ts";
 * const error = trainingOutOfMemory(new Error("Aborted()"), {
 *   batchSize: 64, patchSize: 48, workers: 1, parameters: 8_869_643, backend: "wasm",
 * });
 * console.assert(error.message.includes("train.batchSize: 32"));
 * ```
 */
export function trainingOutOfMemory(error: Error, step: TrainingStep): CapillaryError {
  const { batchSize, patchSize, workers, parameters, backend } = step;
  const shards = workers > 1
    ? `, shared by ${workers} processes (${Math.ceil(batchSize / workers)} patches each)`
    : "";
  const smaller = [
    batchSize > 1
      ? `a smaller batch (train.batchSize: ${Math.max(1, Math.floor(batchSize / 2))})`
      : "",
    patchSize > 16 ? "smaller patches (train.patches.size)" : "",
    "a narrower network (model.width)",
  ].filter(Boolean);
  return new CapillaryError(
    `Training a batch of ${batchSize} patches of ${patchSize} × ${patchSize}${shards} ` +
      `(${parameters.toLocaleString("en")} parameters) ran out of memory on ${backend} ` +
      `(${error.message.split("\n")[0]}; ${memoryBound(backend)}). Train ${
        smaller.slice(0, -1).join(", ")
      }${smaller.length > 1 ? " or " : ""}${smaller.at(-1)}${
        backend === "wasm" || backend === "cpu" ? ", or on a GPU backend" : ""
      }.`,
    "E_OUT_OF_MEMORY",
    { cause: error },
  );
}

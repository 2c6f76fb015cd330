/**
 * What the training and the prediction workers share: worker threads, each
 * with its own single-threaded wasm backend and a replica of a network
 * rebuilt from its topology (`model_worker.ts`); the messages they are sent
 * and answer; and starting and stopping them. While they run, the main
 * thread's wasm convolutions use one thread: the other cores are theirs.
 *
 * @module
 */
import type { tf } from "../backend/tfjs.ts";
import { startWasmThreads, stopWasmThreads, wasmThreadCount } from "../backend/wasm_threads.ts";
import type { ComponentSource } from "../component.ts";
import { CapillaryError } from "../errors.ts";

/**
 * A gradient worker's loss, `(yTrue, yPred) => per-element loss`, which is
 * averaged: either `module`'s export `factory`, called as
 * `factory(tf, ...args)`, or a plugin's loss component, built again in the
 * worker from its plugin module, name and options ({@link ComponentSource},
 * from `componentSource`) and checked as `createComponent` checks it.
 */
export type WorkerLoss =
  | { readonly module: string; readonly factory: string; readonly args: unknown[] }
  | { readonly component: ComponentSource };

/** What a worker says when it cannot build its loss component (not the network's fault). */
export const LOSS_UNBUILT = "cannot build the loss in a worker thread";

/** What every worker needs to rebuild the network. */
export interface ModelWorkerSetup {
  /** The network's topology, `model.toJSON(null, false)`. */
  readonly topology: unknown;
  /** Module URLs that register the custom layer classes the topology names. */
  readonly layerModules: readonly string[];
  /** The loss, for gradients: see {@link WorkerLoss}. */
  readonly loss?: WorkerLoss;
  /** Weights loaded once, at setup (flat, in {@link weightsInLayerOrder}): for predictions. */
  readonly weights?: Float32Array;
}

/** One shard of a batch: inputs and targets with their shapes. */
export interface Shard {
  readonly x: Float32Array;
  readonly xShape: number[];
  readonly y: Float32Array;
  readonly yShape: number[];
}

/** A worker's job: the weights to use (all of them, flat, in {@link weightsInLayerOrder}) and a shard. */
export interface GradientJob extends Shard {
  readonly weights: Float32Array;
  /** Indices into {@link weightsInLayerOrder} of the weights to differentiate. */
  readonly trainable: number[];
  /** Names of the layers held in inference mode (`inference_layers.ts`) for this job. */
  readonly heldInInference: readonly string[];
}

/** A prediction job: a batch of inputs, predicted at the weights of setup. */
export interface PredictJob {
  readonly x: Float32Array;
  readonly xShape: number[];
}

/** What a worker is sent. */
export type WorkerMessage =
  | { readonly kind: "setup"; readonly setup: ModelWorkerSetup }
  | { readonly kind: "job"; readonly job: GradientJob }
  | { readonly kind: "predict"; readonly job: PredictJob };

/** What a worker answers. */
export type WorkerReply =
  | { readonly kind: "ready" }
  | { readonly kind: "gradients"; readonly loss: number; readonly gradients: Float32Array }
  | { readonly kind: "prediction"; readonly values: Float32Array }
  | { readonly kind: "error"; readonly message: string };

/** A started worker and the answer it owes. */
export class ModelWorker {
  private pending?: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };
  private failure?: Error;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const waiting = this.pending;
      this.pending = undefined;
      waiting?.resolve(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.failure = new Error(event.message);
      this.pending?.reject(this.failure);
      this.pending = undefined;
    };
  }

  /** Sends `message` and waits for the answer, failing on an error reply. */
  ask(message: WorkerMessage, transfer: Transferable[] = []): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const answer = new Promise<WorkerReply>((resolve, reject) => {
      this.pending = { resolve, reject };
    });
    this.worker.postMessage(message, transfer);
    return answer.then((reply) => {
      if (reply.kind === "error") throw new Error(reply.message);
      return reply;
    });
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/**
 * Every weight of `model`, layer by layer: an order that freezing or thawing
 * a layer does not change, unlike `model.weights`, which lists all trainable
 * weights first (a replica built while a layer was frozen would otherwise
 * pair its weights with others once the layer thaws).
 */
export function weightsInLayerOrder(model: tf.LayersModel): tf.LayerVariable[] {
  return model.layers.flatMap((layer) => layer.weights);
}

/** Every weight of `model`, flat, in {@link weightsInLayerOrder}. */
export function flatWeights(model: tf.LayersModel): Float32Array {
  const parts = weightsInLayerOrder(model).map((w) => w.read().dataSync() as Float32Array);
  const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    flat.set(part, at);
    at += part.length;
  }
  return flat;
}

/** Started workers, and the convolution threads the main thread had before them. */
export interface StartedWorkers {
  readonly workers: ModelWorker[];
  readonly mainThreads: number;
}

/**
 * Starts `count` workers and has each rebuild the network from `setup`; the
 * main thread's wasm convolutions go down to one thread, the other cores
 * being the workers' ({@link closeModelWorkers} gives them back). `purpose` names them in errors, and `setting` the
 * recipe option that would do without them.
 *
 * @throws {CapillaryError} When a worker cannot start or rebuild the network.
 */
export async function startModelWorkers(
  count: number,
  setup: ModelWorkerSetup,
  purpose: string,
  setting: string,
): Promise<StartedWorkers> {
  const mainThreads = wasmThreadCount();
  const workers = Array.from(
    { length: count },
    () =>
      new ModelWorker(
        new Worker(new URL("./model_worker.ts", import.meta.url), { type: "module" }),
      ),
  );
  await stopWasmThreads();
  try {
    await Promise.all(workers.map((w) => w.ask({ kind: "setup", setup })));
  } catch (error) {
    await closeModelWorkers({ workers, mainThreads });
    const first = (error as Error).message.split("\n")[0];
    throw new CapillaryError(
      `Cannot start the ${purpose} workers: ${first}; ` +
        (first.includes(LOSS_UNBUILT)
          ? ""
          : "a network with custom layers must list the modules that register them " +
            "(ModelSpec.layerModules), or ") +
        `set ${setting} to 1`,
      "E_WORKERS",
      { cause: error },
    );
  }
  return { workers, mainThreads };
}

/** The error of a `purpose` worker that failed with `error`. */
export function workerFailure(purpose: string, error: unknown): CapillaryError {
  return new CapillaryError(
    `A ${purpose} worker failed: ${(error as Error).message.split("\n")[0]}`,
    "E_WORKERS",
    { cause: error },
  );
}

/** Stops the workers and gives the main thread back the convolution threads it had. */
export async function closeModelWorkers({ workers, mainThreads }: StartedWorkers): Promise<void> {
  for (const w of workers) w.terminate();
  if (mainThreads > 1) await startWasmThreads(mainThreads);
}

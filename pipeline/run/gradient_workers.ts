/**
 * Data-parallel training on the CPU: worker threads, each with its own
 * single-threaded wasm backend and a replica of the network, compute the
 * gradients of their shards of a batch while the main thread computes its
 * own; the caller averages them and applies them with its one optimizer.
 *
 * Why: a small network's step is hundreds of small kernels, and the wasm
 * backend parallelises only the large convolutions, so a width-8 BCDU-Net
 * step used one core of two. Two shards at once did 1.5× the samples per
 * second of one batch at a time (`bench/data_parallel.ts`), and a whole
 * epoch of drive.yaml took 1.36× less time.
 *
 * The workers hold no state between steps: every job carries the current
 * weights (batch norm's moving statistics too), so the main thread's model,
 * optimizer and checkpoints stay the whole truth and resuming works as
 * before. Batch norm normalises each shard by its own statistics, as in
 * PyTorch's DistributedDataParallel without SyncBatchNorm. While the
 * workers run, the main thread's wasm convolutions use one thread: the
 * other cores are the workers'.
 *
 * @example Usage
 * ```ts ignore
 * const workers = await GradientWorkers.start(1, {
 *   topology: model.toJSON(null, false),
 *   layerModules: spec.layerModules ?? [],
 *   loss: { module: lossUrl, factory: "weightedBinaryCrossentropy", args: [1] },
 * });
 * const [{ loss, gradients }] = await workers.compute(model, trainable, [shard]);
 * await workers.close();
 * ```
 *
 * @module
 */
import type { tf } from "../backend/tfjs.ts";
import { startWasmThreads, stopWasmThreads, wasmThreadCount } from "../backend/wasm_threads.ts";
import { CapillaryError } from "../errors.ts";

/** What every worker needs to rebuild the network. */
export interface ModelWorkerSetup {
  /** The network's topology, `model.toJSON(null, false)`. */
  readonly topology: unknown;
  /** Module URLs that register the custom layer classes the topology names. */
  readonly layerModules: readonly string[];
  /**
   * The loss, for gradients: `module`'s export `factory`, called as
   * `factory(tf, ...args)`, returns `(yTrue, yPred) => per-element loss`,
   * which is averaged.
   */
  readonly loss?: { readonly module: string; readonly factory: string; readonly args: unknown[] };
  /** Weights loaded once, at setup (flat, in {@link weightsInLayerOrder}): for predictions. */
  readonly weights?: Float32Array;
}

/** What every gradient worker needs: the network and its loss. */
export interface GradientWorkerSetup extends ModelWorkerSetup {
  readonly loss: { readonly module: string; readonly factory: string; readonly args: unknown[] };
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
export type GradientReply =
  | { readonly kind: "ready" }
  | { readonly kind: "gradients"; readonly loss: number; readonly gradients: Float32Array }
  | { readonly kind: "prediction"; readonly values: Float32Array }
  | { readonly kind: "error"; readonly message: string };

/** One shard's result: its mean loss and the flat gradients of the trainable weights. */
export interface ShardGradients {
  readonly loss: number;
  readonly gradients: Float32Array;
}

/** A started worker and the answer it owes. */
export class ModelWorker {
  private pending?: { resolve: (r: GradientReply) => void; reject: (e: Error) => void };
  private failure?: Error;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<GradientReply>) => {
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
  ask(message: WorkerMessage, transfer: Transferable[] = []): Promise<GradientReply> {
    if (this.failure) return Promise.reject(this.failure);
    const answer = new Promise<GradientReply>((resolve, reject) => {
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

/** Worker threads that compute the gradients of batch shards; see the module doc. */
export class GradientWorkers {
  private constructor(
    private readonly workers: ModelWorker[],
    private readonly mainThreads: number,
  ) {}

  /**
   * Starts `count` workers and has each rebuild the network and the loss.
   *
   * @throws {CapillaryError} When a worker cannot start or rebuild the network.
   */
  static async start(count: number, setup: GradientWorkerSetup): Promise<GradientWorkers> {
    const mainThreads = wasmThreadCount();
    return new GradientWorkers(
      await startModelWorkers(count, setup, "training", "train.workers"),
      mainThreads,
    );
  }

  /** How many workers there are. */
  get count(): number {
    return this.workers.length;
  }

  /**
   * Has worker `i` compute `shards[i]`'s loss and gradients at `model`'s
   * current weights, for the weights at indices `trainable` of
   * {@link weightsInLayerOrder}; resolves when all have answered.
   */
  async compute(
    model: tf.LayersModel,
    trainable: number[],
    shards: readonly Shard[],
  ): Promise<ShardGradients[]> {
    const weights = flatWeights(model);
    const replies = shards.map((shard, i) => {
      const job: GradientJob = { ...shard, weights: weights.slice(), trainable };
      return this.workers[i].ask({ kind: "job", job }, [job.weights.buffer as ArrayBuffer]);
    });
    try {
      return (await Promise.all(replies)).map((reply) => {
        if (reply.kind !== "gradients") throw new Error(`unexpected reply "${reply.kind}"`);
        return { loss: reply.loss, gradients: reply.gradients };
      });
    } catch (error) {
      throw workerFailure("training", error);
    }
  }

  /** Stops the workers and gives the main thread back the convolution threads it had. */
  close(): Promise<void> {
    return closeModelWorkers(this.workers, this.mainThreads);
  }
}

/**
 * Starts `count` workers and has each rebuild the network from `setup`; the
 * main thread's wasm convolutions go down to one thread, the other cores
 * being the workers'. `purpose` names them in errors, and `setting` the
 * recipe option that would do without them.
 *
 * @throws {CapillaryError} When a worker cannot start or rebuild the network.
 */
export async function startModelWorkers(
  count: number,
  setup: ModelWorkerSetup,
  purpose: string,
  setting: string,
): Promise<ModelWorker[]> {
  const mainThreads = wasmThreadCount();
  const workers = Array.from(
    { length: count },
    () =>
      new ModelWorker(
        new Worker(new URL("./gradient_worker.ts", import.meta.url), { type: "module" }),
      ),
  );
  await stopWasmThreads();
  try {
    await Promise.all(workers.map((w) => w.ask({ kind: "setup", setup })));
  } catch (error) {
    await closeModelWorkers(workers, mainThreads);
    throw new CapillaryError(
      `Cannot start the ${purpose} workers: ${(error as Error).message.split("\n")[0]}; ` +
        "a network with custom layers must list the modules that register them " +
        `(ModelSpec.layerModules), or set ${setting} to 1`,
      "E_WORKERS",
      { cause: error },
    );
  }
  return workers;
}

/** The error of a `purpose` worker that failed with `error`. */
export function workerFailure(purpose: string, error: unknown): CapillaryError {
  return new CapillaryError(
    `A ${purpose} worker failed: ${(error as Error).message.split("\n")[0]}`,
    "E_WORKERS",
    { cause: error },
  );
}

/** Stops `workers` and gives the main thread back its `mainThreads` convolution threads. */
export async function closeModelWorkers(
  workers: readonly ModelWorker[],
  mainThreads: number,
): Promise<void> {
  for (const w of workers) w.terminate();
  if (mainThreads > 1) await startWasmThreads(mainThreads);
}

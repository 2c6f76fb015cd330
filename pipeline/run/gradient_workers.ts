/**
 * Data-parallel training on the CPU: worker threads, each with its own
 * single-threaded wasm backend and a replica of the network, compute the
 * gradients of their shards of a batch while the main thread computes its
 * own; the caller averages them and applies them with its one optimizer.
 *
 * Why: a small network's step is hundreds of small kernels, and the wasm
 * backend parallelises only the large convolutions, so a width-8 BCDU-Net
 * step used one core of two. Two shards at once did 1.5–1.6× the samples
 * per second of one batch at a time (`bench/data_parallel.ts`; README
 * "Backends" has the runs).
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
 *   // or a plugin's loss component, built again in each worker:
 *   // loss: { component: componentSource(context.createComponent("loss", options.loss))! },
 * });
 * const [{ loss, gradients }] = await workers.compute(model, trainable, [shard]);
 * await workers.close();
 * ```
 *
 * @module
 */
import type { tf } from "../backend/tfjs.ts";
import { layersHeldInInference } from "./inference_layers.ts";
import {
  closeModelWorkers,
  flatWeights,
  type GradientJob,
  type ModelWorkerSetup,
  type Shard,
  type StartedWorkers,
  startModelWorkers,
  workerFailure,
  type WorkerLoss,
} from "./model_workers.ts";

/** What every gradient worker needs: the network and its loss. */
export interface GradientWorkerSetup extends ModelWorkerSetup {
  readonly loss: WorkerLoss;
}

/** One shard's result: its mean loss and the flat gradients of the trainable weights. */
export interface ShardGradients {
  readonly loss: number;
  readonly gradients: Float32Array;
}

/** Worker threads that compute the gradients of batch shards; see the module doc. */
export class GradientWorkers {
  private constructor(
    private readonly started: StartedWorkers,
  ) {}

  /**
   * Starts `count` workers and has each rebuild the network and the loss.
   *
   * @throws {CapillaryError} When a worker cannot start or rebuild the network.
   */
  static async start(count: number, setup: GradientWorkerSetup): Promise<GradientWorkers> {
    return new GradientWorkers(
      await startModelWorkers(count, setup, "training", "train.workers"),
    );
  }

  /** How many workers there are. */
  get count(): number {
    return this.started.workers.length;
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
    const heldInInference = layersHeldInInference(model);
    const replies = shards.map((shard, i) => {
      const job: GradientJob = { ...shard, weights: weights.slice(), trainable, heldInInference };
      return this.started.workers[i].ask({ kind: "job", job }, [job.weights.buffer as ArrayBuffer]);
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
    return closeModelWorkers(this.started);
  }
}

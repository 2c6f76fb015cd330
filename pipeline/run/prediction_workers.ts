/**
 * Parallel prediction on the CPU: worker threads, each with its own
 * single-threaded wasm backend and a copy of the network at fixed weights,
 * predict whole batches at once, the main thread handing them out.
 *
 * Why: the wasm backend spreads only large convolutions over its threads,
 * and a network's other kernels (batch norm, ConvLSTM gates, slices) then
 * run on one core: whole-image prediction of a width-8 BCDU-Net ran 1.1×
 * faster on 2 threads than on 1, and 1.6× on 2 workers (`bench/kernels.ts`).
 * The main thread does not predict beside them: its kernels are synchronous,
 * so a worker that finished would wait for it to hand out the next batch.
 * The workers' outputs equal the main thread's bit for bit: the same
 * kernels, the same weights, one thread each.
 *
 * @example Usage
 * ```ts ignore
 * const workers = await PredictionWorkers.start(1, model, spec.layerModules ?? []);
 * const values = await workers.predict(0, x, [1, 584, 584, 1]);
 * await workers.close();
 * ```
 *
 * @module
 */
import type { tf } from "../backend/tfjs.ts";
import {
  closeModelWorkers,
  flatWeights,
  type StartedWorkers,
  startModelWorkers,
  workerFailure,
} from "./model_workers.ts";

/** Worker threads that predict batches with a copy of a network; see the module doc. */
export class PredictionWorkers {
  private constructor(
    private readonly started: StartedWorkers,
  ) {}

  /**
   * Starts `count` workers, each with a copy of `model` at its current
   * weights. While they run, the main thread's wasm convolutions use one
   * thread: the cores are the workers'.
   *
   * @param layerModules Module URLs that register the custom layers `model` uses.
   * @throws {CapillaryError} When a worker cannot start or rebuild the network.
   */
  static async start(
    count: number,
    model: tf.LayersModel,
    layerModules: readonly string[],
  ): Promise<PredictionWorkers> {
    const setup = {
      topology: model.toJSON(null, false),
      layerModules,
      weights: flatWeights(model),
    };
    return new PredictionWorkers(
      await startModelWorkers(count, setup, "prediction", "evaluate.workers"),
    );
  }

  /** How many workers there are. */
  get count(): number {
    return this.started.workers.length;
  }

  /**
   * Has worker `worker` predict the batch `x` of shape `shape` (NHWC).
   *
   * @returns The network's output, flat.
   * @throws {CapillaryError} When the worker fails.
   */
  async predict(worker: number, x: Float32Array, shape: number[]): Promise<Float32Array> {
    try {
      const reply = await this.started.workers[worker].ask({
        kind: "predict",
        job: { x, xShape: shape },
      });
      if (reply.kind !== "prediction") throw new Error(`unexpected reply "${reply.kind}"`);
      return reply.values;
    } catch (error) {
      throw workerFailure("prediction", error);
    }
  }

  /**
   * One function per worker that predicts `n` windows of `window × window ×
   * channels` (NHWC, flat) on it: what `predictWindows` takes as its workers.
   */
  batchPredictors(
    window: number,
    channels: number,
  ): ((batch: Float32Array, n: number) => Promise<Float32Array>)[] {
    return this.started.workers.map((_, i) => (batch: Float32Array, n: number) =>
      this.predict(i, batch, [n, window, window, channels])
    );
  }

  /** Stops the workers and gives the main thread back the convolution threads it had. */
  close(): Promise<void> {
    return closeModelWorkers(this.started);
  }
}

/**
 * The worker side of `model_workers.ts` (for `gradient_workers.ts` and `prediction_workers.ts`): a
 * thread with its own single-threaded wasm backend and a replica of the
 * network, rebuilt from its topology. For each shard it is sent it loads the
 * weights that come with it, computes the loss and the gradients of the
 * trainable weights, and answers with them in one flat buffer; for each
 * batch to predict it answers with the network's output at the weights it
 * was set up with.
 *
 * @module
 */
import { loadBackend } from "../backend/select.ts";
import { checkedComponent, type ComponentSource } from "../component.ts";
import { pluginFromModule } from "../recipe/load_plugins.ts";
import { tf } from "../backend/tfjs.ts";
import { startWasmThreads } from "../backend/wasm_threads.ts";
import { holdLayersInInference } from "./inference_layers.ts";
import { describeThrown } from "../errors.ts";
import {
  type GradientJob,
  LOSS_UNBUILT,
  type ModelWorkerSetup,
  type PredictJob,
  weightsInLayerOrder,
  type WorkerMessage,
  type WorkerReply,
} from "./model_workers.ts";

type LossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerMessage>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
};
let model: tf.LayersModel | undefined;
let loss: LossFunction | undefined;

async function setUp(setup: ModelWorkerSetup): Promise<void> {
  await loadBackend("wasm");
  await tf.setBackend("wasm");
  // One thread here: the parallelism is one worker per core.
  await startWasmThreads(1);
  for (const module of setup.layerModules) await import(module);
  model = await tf.models.modelFromJSON({
    modelTopology: setup.topology as tf.io.ModelJSON["modelTopology"],
  });
  // Which weights to differentiate comes with each job: the topology's frozen flags (of when the
  // workers started) must not hold any back.
  for (const layer of model.layers) layer.trainable = true;
  if (setup.weights) writeWeights(setup.weights);
  if (!setup.loss) return;
  if ("component" in setup.loss) {
    const { component } = setup.loss;
    try {
      loss = await componentLoss(component);
    } catch (error) {
      throw new Error(`${LOSS_UNBUILT} "${component.id}": ${describeThrown(error)}`, {
        cause: error,
      });
    }
    return;
  }
  const lossModule = await import(setup.loss.module);
  const factory = lossModule[setup.loss.factory];
  if (typeof factory !== "function") {
    throw new Error(`${setup.loss.module} exports no function "${setup.loss.factory}"`);
  }
  loss = factory(tf, ...setup.loss.args) as LossFunction;
}

/**
 * A plugin's loss component, built here as the main thread built it: its
 * module imported and made a plugin as a recipe loads it (a factory export
 * gets this thread's engine API), the component found by kind and name and
 * built from its options, checked at each call.
 */
async function componentLoss(source: ComponentSource): Promise<LossFunction> {
  const made = await pluginFromModule(await import(source.specifier), source.specifier);
  if (!made.plugin) {
    throw new Error(`${made.failure.message}${made.failure.hint ? ` (${made.failure.hint})` : ""}`);
  }
  const component = (made.plugin.components ?? []).find((c) =>
    c.kind === source.kind && c.name === source.name
  );
  if (!component) {
    throw new Error(
      `plugin ${source.specifier} has no ${source.kind} "${source.name}" in this thread`,
    );
  }
  return checkedComponent("loss", source.id, () => component.create(source.options));
}

/** Loads `flat` (every weight, in layer order) into the replica. */
function writeWeights(flat: Float32Array): void {
  const weights = weightsInLayerOrder(model!);
  const size = weights.reduce((n, w) => n + (w.shape as number[]).reduce((a, d) => a * d, 1), 0);
  if (flat.length !== size) {
    throw new Error(`${flat.length} weight values for a network of ${size}`);
  }
  tf.tidy(() => {
    let at = 0;
    for (const w of weights) {
      const count = (w.shape as number[]).reduce((n, d) => n * d, 1);
      w.write(tf.tensor(flat.subarray(at, at + count), w.shape as number[]));
      at += count;
    }
  });
}

// The replies' arrays are read after `tf.tidy`, never returned from it: tidy walks what its
// function returns for tensors to keep, key by key, so a Float32Array of gradients or of an
// image's probabilities cost it 20 ms and more (each of its values added to a Set).

function predict(job: PredictJob): WorkerReply {
  const y = tf.tidy(() => model!.predict(tf.tensor(job.x, job.xShape)) as tf.Tensor);
  // A copy of its own: its buffer is transferred, which must never be the wasm heap's.
  const values = (y.dataSync() as Float32Array).slice();
  y.dispose();
  return { kind: "prediction", values };
}

function gradients(job: GradientJob): WorkerReply {
  if (!loss) throw new Error("a gradient job for a worker set up without a loss");
  writeWeights(job.weights);
  // As the main thread's replica is at this step (frozen batch norms, say).
  holdLayersInInference(model!, job.heldInInference);
  const weights = weightsInLayerOrder(model!);
  const variables = job.trainable.map((i) => weights[i].read() as tf.Variable);
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor(job.x, job.xShape);
    const y = tf.tensor(job.y, job.yShape);
    return tf.variableGrads(
      () => tf.mean(loss!(y, model!.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      variables,
    );
  });
  const flat = new Float32Array(variables.reduce((n, v) => n + v.size, 0));
  let at = 0;
  for (const v of variables) {
    flat.set(grads[v.name].dataSync() as Float32Array, at);
    at += v.size;
  }
  const reply: WorkerReply = { kind: "gradients", loss: value.dataSync()[0], gradients: flat };
  tf.dispose([value, ...Object.values(grads)]);
  return reply;
}

scope.onmessage = async ({ data }) => {
  try {
    if (data.kind === "setup") {
      await setUp(data.setup);
      scope.postMessage({ kind: "ready" });
    } else {
      const reply = data.kind === "job" ? gradients(data.job) : predict(data.job);
      const transfer = reply.kind === "gradients"
        ? [reply.gradients.buffer as ArrayBuffer]
        : reply.kind === "prediction"
        ? [reply.values.buffer as ArrayBuffer]
        : [];
      scope.postMessage(reply, transfer);
    }
  } catch (error) {
    scope.postMessage({ kind: "error", message: (error as Error).stack ?? String(error) });
  }
};

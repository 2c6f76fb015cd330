/**
 * `core/train`: trains the network on random patches of the training images
 * with binary cross-entropy (or a plugin's loss) and SGD with momentum (or
 * Adam, AdamW, or a plugin's optimizer) under a learning-rate schedule. Writes one line per epoch to the run's `history.jsonl`.
 *
 * @module
 */
import {
  CapillaryError,
  copyWeightsByLayer,
  countOf,
  defineStage,
  formatDuration,
  GradientWorkers,
  isOutOfMemory,
  type PatchBatch,
  safePoint,
  type TrainedModel,
  withCleanup,
} from "../../../mod.ts";
import { gatherPatches } from "../patches/gather_patches.ts";
import { samplePatches } from "../patches/sample_patches.ts";
import { dataParallelStep } from "../train/data_parallel.ts";
import { readSteps, trainStepUnread } from "../train/step_reads.ts";
import { groupedOptimizer, type OptimizerSettings } from "../train/grouped_optimizer.ts";
import { Monitor, type MonitorState } from "../train/monitor.ts";
import { belowThresholdWarning, splitByImage, ValidationScorer } from "../train/validation.ts";
import { weightedBinaryCrossentropy } from "../train/weighted_bce.ts";
import { workerLossSource } from "../train/worker_loss.ts";
import { trainingOutOfMemory } from "../train/memory_advice.ts";
import { layerControl } from "../train/layer_control.ts";
import { budgetCaveat, epochFraction, type EpochSpan, TimeBudget } from "../train/time_budget.ts";
import { selectWeights } from "../train/layer_patterns.ts";
import { trainOptions } from "../train/train_options.ts";
import { trainPlan } from "../train/train_plan.ts";

/** The checkpoint names in the run folder: the last epoch's, and the best epoch's weights. */
const CHECKPOINT = "checkpoint", BEST = "checkpoint-best";

/** One line of `history.jsonl`. */
interface EpochRecord {
  epoch: number;
  loss: number;
  valLoss: number | null;
  valDice: number | null;
  learningRate: number;
  seconds: number;
  /** Steps the epoch ran (fewer than planned where `maxMinutes` shortened it). */
  steps: number;
}

/** What a checkpoint keeps of the training loop, beside weights and optimizer. */
interface TrainState {
  /** Epochs finished. */
  epoch: number;
  random: number;
  augmentRandom: number;
  monitor: MonitorState;
  /** A schedule's own state (reduce on plateau), when it has one. */
  schedule?: unknown;
  history: EpochRecord[];
  /** Steps per epoch, once `maxMinutes` has fitted them to the budget. */
  stepsPerEpoch?: number;
}

/**
 * Steps between reads of the losses and the weights (one round trip each:
 * plugins/core/train/step_reads.ts), and at the end of each epoch. Every
 * weight is checked for finiteness at each read: the loss alone cannot tell,
 * since on wasm XNNPACK's clamps turn NaN activations into finite values, so a
 * diverged network can report a finite loss.
 */
const READ_STEPS = 50;

/** The `core/train` stage. */
export const train = defineStage({
  name: "train",
  kind: "train",
  description:
    "Binary cross-entropy (or a plugin's loss), SGD with momentum (or Adam, AdamW or a plugin's " +
    "optimizer) and a learning-rate schedule, on random patches.",
  options: trainOptions,
  plan: trainPlan,
  async run(options, { data, model: spec, augment }, context): Promise<TrainedModel> {
    const { tf, random, progress, checkpoints } = context;
    const backend = await context.useBackend("train");
    const { size } = options.patches;
    const split = splitByImage(data.train, options.validation.images, random.fork());
    const all = samplePatches(split.train, options.patches, random.fork());
    const validationPatches = split.validation.length
      ? samplePatches(split.validation, {
        ...options.patches,
        count: options.validation.patches ??
          Math.round((options.patches.count * split.validation.length) / split.train.length),
      }, random.fork())
      : undefined;
    const training = random.shuffle([...Array(all.count).keys()]);
    if (training.length < options.batchSize) {
      throw new CapillaryError(
        `Cannot train: ${training.length} training patches for batch size ${options.batchSize}; raise patches.count or lower batchSize`,
      );
    }
    const model = spec.build(size, all.channels);
    const layers = layerControl(model, options);
    // A plugin's optimizer component (`optimizer: { use, with, learningRate }`), or a built-in one.
    const chosen = options.optimizer;
    const decayPatterns = "use" in chosen ? [] : chosen.decayExclude;
    const decayExcluded = selectWeights(decayPatterns, model, "train.optimizer.decayExclude");
    if (decayExcluded.size) {
      // Of the weights training updates (frozen layers' and batch norm's statistics are not).
      const updated = model.trainableWeights;
      const spared = updated.filter((w) =>
        decayExcluded.has((w.read() as unknown as { name: string }).name)
      );
      progress.info(
        `weight decay spares ${spared.length} of ${updated.length} weights ` +
          `(${decayPatterns.join(", ")})`,
      );
    }
    // Built here, before training starts: a plugin's factory that fails is named at once.
    const settings: OptimizerSettings = "use" in chosen
      ? {
        type: "component",
        learningRate: chosen.learningRate!, // the options refuse a plugin's optimizer without one
        create: context.createComponent("optimizer", chosen),
      }
      : chosen;
    const optimizer = groupedOptimizer(tf, settings, layers.groups, layers.variables, {
      clipNorm: options.clipNorm,
      decayExcluded,
    });
    // A plugin's loss component (`loss`), or core's binary cross-entropy weighted by positiveWeight.
    const pluginLoss = options.loss ? context.createComponent("loss", options.loss) : undefined;
    const loss = pluginLoss ??
      (options.positiveWeight === 1
        ? "binaryCrossentropy"
        : weightedBinaryCrossentropy(tf, options.positiveWeight));
    const compile = () => model.compile({ optimizer, loss });
    // Data parallel: one loss for this thread and the workers (plain BCE is weight 1).
    const shardLoss = pluginLoss ?? weightedBinaryCrossentropy(tf, options.positiveWeight);
    // Where the workers build the plugin's loss again from: its module, name and options.
    const startWorkers = async () => {
      if (backend !== "wasm") {
        throw new CapillaryError(
          `Cannot train with train.workers ${options.workers} on the ${backend} backend: ` +
            "data-parallel workers run the wasm backend; set train.workers to 1, or backend: wasm " +
            "(--set backend=wasm)",
          "E_WORKERS",
        );
      }
      const started = await GradientWorkers.start(options.workers - 1, {
        topology: model.toJSON(null, false),
        layerModules: spec.layerModules ?? [],
        loss: pluginLoss ? { component: workerLossSource(options, pluginLoss) } : {
          module: new URL("../train/weighted_bce.ts", import.meta.url).href,
          factory: "weightedBinaryCrossentropy",
          args: [options.positiveWeight],
        },
      });
      progress.info(
        `data parallel: each batch of ${options.batchSize} shared by this thread and ` +
          `${started.count} worker${started.count === 1 ? "" : "s"}`,
      );
      return started;
    };
    const plannedSteps = Math.floor(training.length / options.batchSize);
    const augmentRandom = random.fork();
    let history: EpochRecord[] = [];
    let startEpoch = 0;

    // A resumed run continues from its last checkpoint: weights, optimizer,
    // generators and monitor as they were, so it ends where an unbroken run would.
    const saved = checkpoints.resuming ? await checkpoints.load<TrainState>(CHECKPOINT) : undefined;
    if (saved) {
      copyWeightsByLayer(saved.model, model, saved.path);
      saved.model.dispose();
      startEpoch = saved.state.epoch;
      for (let e = 1; e <= startEpoch; e++) layers.thaw(e);
    }
    const budget = options.maxMinutes === null ? undefined : new TimeBudget({
      minutes: options.maxMinutes,
      plannedSteps,
      epochs: options.epochs,
      batchSize: options.batchSize,
      patches: training.length,
      fitted: saved?.state.stepsPerEpoch,
    });
    compile();
    const monitor = new Monitor(options.monitor === "valLoss" ? "min" : "max", {
      patience: options.earlyStopping?.patience ?? null,
      minDelta: options.earlyStopping?.minDelta ?? 0,
    }, saved?.state.monitor);
    if (saved) {
      await optimizer.setWeights([...saved.optimizer]);
      random.restore(saved.state.random);
      augmentRandom.restore(saved.state.augmentRandom);
      history = saved.state.history;
      // Lines of epochs after the checkpoint (a kill between the two writes) go.
      await context.run.write(
        "history.jsonl",
        history.map((h) => `${JSON.stringify(h)}\n`).join(""),
      );
      progress.info(`resuming after epoch ${startEpoch} from ${saved.path}`);
    }
    progress.info(
      `${spec.name}: ${model.countParams().toLocaleString("en")} parameters on ${backend}; ` +
        `${training.length} training patches of ${size}×${size} from ${
          countOf(split.train.length, "image")
        }` +
        (validationPatches
          ? `, ${validationPatches.count} validation patches from ${split.validation.length} ` +
            `held-out images (${split.validation.map((s) => s.id).join(", ")})`
          : ""),
    );
    for (const line of layers.describe()) progress.info(line);
    // Before the workers start: a plugin schedule that fails to build or restore leaves none running.
    const schedule = context.createComponent("schedule", options.schedule);
    if (saved?.state.schedule !== undefined) schedule.restore?.(saved.state.schedule);
    const workers = options.workers > 1 ? await startWorkers() : undefined;

    const toTensors = (batch: PatchBatch) => ({
      x: tf.tensor4d(batch.images, [batch.count, size, size, batch.channels]),
      y: tf.tensor4d(batch.masks, [batch.count, size, size, 1]),
    });
    const validate = async () => {
      if (!validationPatches) return null;
      const scorer = new ValidationScorer();
      const indices = [...Array(validationPatches.count).keys()];
      for (let i = 0; i < indices.length; i += options.batchSize) {
        // Stopped here, the epoch is dropped whole: nothing of it was written yet.
        await safePoint(context.signal, "training during a validation");
        const batch = gatherPatches(validationPatches, indices.slice(i, i + options.batchSize));
        const x = tf.tensor4d(batch.images, [batch.count, size, size, batch.channels]);
        const y = model.predict(x) as import("@tensorflow/tfjs").Tensor;
        scorer.add(await y.data(), batch.masks);
        tf.dispose([x, y]);
      }
      return scorer.result();
    };
    const lastGood = (epoch: number) =>
      epoch > 0
        ? `; the checkpoint of epoch ${epoch} is in ${context.run.resolve(CHECKPOINT)}`
        : "";

    const trainingStarted = performance.now();
    let epoch = startEpoch;
    // The epochs, from `epoch` on; `epoch` ends one past the last one trained.
    async function trainEpochs() {
      for (; epoch < options.epochs; epoch++) {
        const started = performance.now();
        if (layers.thaw(epoch + 1)) {
          compile();
          for (const line of layers.describe(epoch + 1)) progress.info(line);
        }
        let span: EpochSpan = {
          fromStep: 0,
          fromFraction: 0,
          steps: budget?.stepsPerEpoch ?? plannedSteps,
        };
        const task = progress.task(`epoch ${epoch + 1}/${options.epochs}`, span.steps);
        const shuffled = random.shuffle([...training]);
        // Seconds of the epochs before this one (a resumed run's too), for the time budget.
        const spentBefore = history.reduce((sum, h) => sum + h.seconds, 0);
        let lossSum = 0;
        let rate = 0;
        // Losses not yet read back (tensors) or read already (data-parallel steps' numbers).
        const unread: (import("@tensorflow/tfjs").Tensor | number)[] = [];
        const unreadRates: number[] = [];
        let stepsRead = 0;
        for (let step = 0; step < span.steps; step++) {
          // Asked to stop (Ctrl-C): the epoch is dropped whole, the last checkpoint's kept.
          await safePoint(context.signal, `training in epoch ${epoch + 1}`);
          const fraction = epochFraction(step, span);
          optimizer.setRates((base) => schedule(epoch + fraction, base, options.epochs));
          rate = optimizer.rates[0];
          const batch = augment(
            gatherPatches(
              all,
              shuffled.slice(step * options.batchSize, (step + 1) * options.batchSize),
            ),
            augmentRandom,
          );
          if (workers) {
            unread.push(await dataParallelStep(tf, model, optimizer, shardLoss, workers, batch));
          } else {
            const { x, y } = toTensors(batch);
            unread.push(trainStepUnread(model, x, y));
            tf.dispose([x, y]);
          }
          unreadRates.push(rate);
          if (step + 1 === span.steps || (step + 1) % READ_STEPS === 0) {
            const read = await readSteps(tf, unread.splice(0), model);
            const rates = unreadRates.splice(0);
            const firstStep = step + 2 - read.losses.length;
            read.losses.forEach((value, i) => {
              if (!Number.isFinite(value)) {
                throw new CapillaryError(
                  `Cannot train: the loss became ${value} at epoch ${epoch + 1}, step ${
                    firstStep + i
                  } (learning rate ${rates[i]}); lower optimizer.learningRate or check the data` +
                    lastGood(epoch),
                  "E_NAN_LOSS",
                );
              }
              lossSum += value;
            });
            stepsRead = step + 1;
            const change = budget?.atRead({
              now: performance.now(),
              epochStart: started,
              epoch,
              stepsDone: step + 1,
              span,
              spentBefore,
            });
            if (change) {
              span = change.span;
              task.setTotal?.(span.steps);
              progress.info(change.message);
            }
            const bad = read.nonFiniteWeight;
            if (bad) {
              throw new CapillaryError(
                `Cannot train: weight "${bad.name}" became ${bad.value} by epoch ${
                  epoch + 1
                }, step ${
                  step + 1
                } (learning rate ${rate}); lower optimizer.learningRate or check the data` +
                  lastGood(epoch),
                "E_NAN_LOSS",
              );
            }
          }
          // The loss shown is the mean of the steps read so far (none before the first read).
          task.update(step + 1, stepsRead ? { loss: lossSum / stepsRead, lr: rate } : { lr: rate });
        }
        const scores = await validate();
        const entry: EpochRecord = {
          epoch: epoch + 1,
          loss: lossSum / span.steps,
          valLoss: scores?.loss ?? null,
          valDice: scores?.dice ?? null,
          learningRate: rate,
          seconds: (performance.now() - started) / 1000,
          steps: span.steps,
        };
        history.push(entry);
        const refit = budget?.atEpochEnd(
          epoch,
          entry.seconds,
          entry.steps,
          spentBefore + entry.seconds,
        );
        if (refit) progress.info(refit);
        if (scores) schedule.observe?.(epoch + 1, scores.loss);
        const verdict = scores
          ? monitor.update(options.monitor === "valLoss" ? scores.loss : scores.dice, epoch + 1)
          : { improved: false, stop: false };
        const left = ((performance.now() - trainingStarted) / 1000 / (epoch + 1 - startEpoch)) *
          (options.epochs - epoch - 1);
        task.done(
          `loss ${entry.loss.toFixed(4)}${
            scores
              ? `, validation loss ${scores.loss.toFixed(4)}, Dice ${scores.dice.toFixed(4)}${
                verdict.improved ? " (best)" : ""
              }`
              : ""
          }${left > 0 && !verdict.stop ? `; training ETA ${formatDuration(left)}` : ""}`,
        );
        const warning = scores && belowThresholdWarning(scores);
        if (warning) progress.info(`warning: epoch ${epoch + 1}: ${warning}`);
        if (verdict.improved && options.restoreBest) {
          await checkpoints.save(BEST, { model, optimizer: [], state: { epoch: epoch + 1 } });
        }
        const state: TrainState = {
          epoch: epoch + 1,
          random: random.state,
          augmentRandom: augmentRandom.state,
          monitor: monitor.state,
          schedule: schedule.state?.(),
          history,
          ...(budget?.fitted ? { stepsPerEpoch: budget.stepsPerEpoch } : {}),
        };
        await checkpoints.save(CHECKPOINT, {
          model,
          optimizer: await optimizer.getWeights(),
          state: state as unknown as Record<string, unknown>,
        });
        // After the checkpoint that holds it: history.jsonl never runs ahead of the checkpoint
        // (a kill in between leaves it a line short, which a resumed run writes from the state).
        await context.run.appendLine("history.jsonl", JSON.stringify(entry));
        if (verdict.stop) {
          progress.info(
            `early stopping after epoch ${epoch + 1}: ${options.monitor} has not improved for ` +
              `${options.earlyStopping!.patience} epochs (best ${
                monitor.state.best?.toFixed(4)
              } at epoch ${monitor.state.bestEpoch})`,
          );
          epoch++;
          break;
        }
      }
    }
    // withCleanup: after memory ran out, closing the workers can fail too; the first error counts.
    await withCleanup(async () => {
      try {
        await trainEpochs();
      } catch (error) {
        if (!isOutOfMemory(error)) throw error;
        throw trainingOutOfMemory(error as Error, {
          batchSize: options.batchSize,
          patchSize: size,
          workers: options.workers,
          parameters: model.countParams(),
          backend: tf.getBackend(),
        });
      }
    }, async () => {
      await workers?.close();
    });
    const { bestEpoch, best } = monitor.state;
    if (options.restoreBest && bestEpoch > 0 && bestEpoch !== epoch) {
      const bestSaved = await checkpoints.load(BEST);
      if (bestSaved) {
        copyWeightsByLayer(bestSaved.model, model, bestSaved.path);
        bestSaved.model.dispose();
        progress.info(
          `restored the weights of epoch ${bestEpoch} (best ${options.monitor} ${
            best?.toFixed(4)
          })`,
        );
      }
    }
    layers.thawAll(); // the trained network as a later run would start from it
    const caveat = options.maxMinutes === null ? undefined : budgetCaveat(
      history.map((h) => h.steps ?? plannedSteps),
      plannedSteps,
      options.batchSize,
      options.maxMinutes,
    );
    if (caveat) progress.info(`warning: ${caveat}`);
    return {
      spec,
      model,
      patchSize: size,
      channels: all.channels,
      validationIds: split.validation.map((s) => s.id),
      ...(caveat ? { caveats: [caveat] } : {}),
    };
  },
});

/**
 * Training checkpoints in a run folder: the network, the optimizer's state
 * and the training loop's own state (epoch, random-generator states, ...),
 * written together and atomically, so a run killed at any moment can be
 * resumed from its last complete checkpoint (`deno task run --resume`).
 *
 * A checkpoint is a folder: `model.json` + `weights.bin` (the network, as
 * `model/` is), `optimizer.json` + `optimizer.bin` (tfjs-encoded optimizer
 * weights) and `state.json`. It is written to a temporary sibling and
 * renamed into place; the previous one is removed only after that, and a
 * load falls back to it if a crash fell between the two renames.
 *
 * @module
 */
import type { tf } from "../backend/tfjs.ts";
import { tf as runtime } from "../backend/tfjs.ts";
import { CapillaryError } from "../errors.ts";
import { join } from "../path.ts";
import { checkWeightBytes, loadLayersModel, readSavedJson, saveLayersModel } from "./model_io.ts";
import { partialName } from "./run_folder.ts";

/** A named tensor, as optimizers save their state. */
export type NamedTensor = Awaited<ReturnType<tf.Optimizer["getWeights"]>>[number];

/** What a checkpoint holds. */
export interface Checkpoint<S = Record<string, unknown>> {
  /** The network's weights. */
  readonly model: tf.LayersModel;
  /** The optimizer's state, as `optimizer.getWeights()` gives it. */
  readonly optimizer: readonly NamedTensor[];
  /** The training loop's state: JSON only. */
  readonly state: S;
}

/** What a loaded checkpoint gives back: the network is a fresh copy to copy weights from. */
export interface LoadedCheckpoint<S = Record<string, unknown>> extends Checkpoint<S> {
  /** The folder it was read from. */
  readonly path: string;
}

/** Saving and loading a run's checkpoints under one name (e.g. `checkpoint`, `best`). */
export interface CheckpointStore {
  /** Writes `checkpoint` as `name`, atomically, replacing the previous one. */
  save(name: string, checkpoint: Checkpoint): Promise<void>;
  /** Reads checkpoint `name`, or `undefined` when there is none. */
  load<S = Record<string, unknown>>(name: string): Promise<LoadedCheckpoint<S> | undefined>;
  /**
   * Whether this run resumes an earlier one: only then should a stage
   * continue from its checkpoint (a fresh run's folder holds none anyway).
   */
  readonly resuming: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await saveLayersModel(checkpoint.model, dir);
  const { data, specs } = await runtime.io.encodeWeights([...checkpoint.optimizer]);
  await Deno.writeFile(join(dir, "optimizer.bin"), new Uint8Array(data));
  await Deno.writeTextFile(join(dir, "optimizer.json"), JSON.stringify(specs));
  // Last: a folder with state.json is complete.
  await Deno.writeTextFile(join(dir, "state.json"), JSON.stringify(checkpoint.state));
}

async function readCheckpoint<S>(dir: string): Promise<LoadedCheckpoint<S>> {
  const state = await readSavedJson(join(dir, "state.json")) as S;
  const model = await loadLayersModel(dir);
  try {
    const specsFile = join(dir, "optimizer.json");
    const specs = await readSavedJson(specsFile);
    if (!Array.isArray(specs)) {
      throw new CapillaryError(`${specsFile} is damaged: it is not a list`, "E_DAMAGED_FILE");
    }
    const bytesFile = join(dir, "optimizer.bin");
    const bytes = await Deno.readFile(bytesFile);
    checkWeightBytes(bytesFile, bytes, specs, specsFile);
    const named = runtime.io.decodeWeights(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      specs,
    );
    const optimizer = Object.entries(named).map(([name, tensor]) => ({ name, tensor }));
    return { path: dir, model, optimizer, state };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * The error for checkpoint `dir` of `runDir` that could not be read: the
 * damaged file and how to go on (a new run, from another checkpoint).
 */
async function damagedCheckpoint(runDir: string, dir: string, error: unknown): Promise<Error> {
  if (!(error instanceof CapillaryError) || error.code !== "E_DAMAGED_FILE") {
    // Not a damaged file (a read that failed, say): as it was.
    if (!(error instanceof Deno.errors.NotFound)) return error as Error;
  }
  const others = [];
  for (const other of await completeCheckpoints(runDir)) {
    const name = other.slice(runDir.replace(/[\\/]+$/, "").length + 1);
    if (other !== dir && !name.endsWith(".partial") && !name.endsWith(".previous")) {
      others.push(other);
    }
  }
  return new CapillaryError(
    `The checkpoint ${dir} cannot be read: ${(error as Error).message}. This run cannot be ` +
      "resumed from it; start a new run" +
      (others.length
        ? `, or start one from its weights in another checkpoint of this run (stages.model.from: ${
          others.join(" or ")
        }, e.g. --set model.from=${others[0]})`
        : ""),
    "E_CHECKPOINT",
    { cause: error },
  );
}

/**
 * The checkpoint store of the run folder `runDir`.
 *
 * @param runDir The run folder.
 * @param resuming Whether this run resumes an earlier one.
 * @returns The store.
 *
 * @example Usage
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkpointStore } from "./checkpoint.ts";
 * const dir = await Deno.makeTempDir();
 * const input = tf.input({ shape: [2] });
 * const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1, name: "d" }).apply(input) as tf.SymbolicTensor });
 * const store = checkpointStore(dir, false);
 * console.assert(await store.load("checkpoint") === undefined);
 * await store.save("checkpoint", { model, optimizer: [], state: { epoch: 3 } });
 * const loaded = await checkpointStore(dir, true).load<{ epoch: number }>("checkpoint");
 * console.assert(loaded?.state.epoch === 3);
 * ```
 */
export function checkpointStore(runDir: string, resuming: boolean): CheckpointStore {
  return {
    resuming,
    async save(name, checkpoint) {
      const target = join(runDir, name);
      const temporary = partialName(target);
      const previous = `${target}.previous`;
      try {
        await writeCheckpoint(temporary, checkpoint);
        await Deno.remove(previous, { recursive: true }).catch(() => {});
        if (await exists(target)) await Deno.rename(target, previous);
        await Deno.rename(temporary, target);
        await Deno.remove(previous, { recursive: true }).catch(() => {});
      } catch (error) {
        await Deno.remove(temporary, { recursive: true }).catch(() => {});
        throw error;
      }
    },
    async load<S>(name: string) {
      for (const dir of [join(runDir, name), join(runDir, `${name}.previous`)]) {
        if (!await exists(join(dir, "state.json"))) continue;
        try {
          return await readCheckpoint<S>(dir);
        } catch (error) {
          throw await damagedCheckpoint(runDir, dir, error);
        }
      }
      return undefined;
    },
  };
}

/**
 * The folders in `runDir` that hold a complete checkpoint: a `state.json`
 * (written last, see {@link checkpointStore}).
 *
 * @param runDir The run folder.
 * @returns Their paths; none where there is no such folder.
 */
export async function completeCheckpoints(runDir: string): Promise<string[]> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(runDir));
  } catch {
    return []; // no folder: nothing written
  }
  const found: string[] = [];
  for (const entry of entries) {
    const dir = join(runDir, entry.name);
    if (entry.isDirectory && await exists(join(dir, "state.json"))) found.push(dir);
  }
  return found;
}

/**
 * Whether `runDir` holds a complete checkpoint of a training state: weights
 * with the optimizer's state (not a best-epoch copy of the weights alone),
 * from which a resumed run continues without rebuilding its starting point.
 *
 * @param runDir The run folder.
 * @returns True when such a checkpoint (or its `.previous` copy) is complete.
 */
export async function holdsTrainingState(runDir: string): Promise<boolean> {
  for (const dir of await completeCheckpoints(runDir)) {
    if (dir.endsWith(".partial")) continue; // never renamed into place: load ignores it
    try {
      const specs = JSON.parse(await Deno.readTextFile(join(dir, "optimizer.json")));
      if (Array.isArray(specs) && specs.length > 0) return true;
    } catch {
      // not a checkpoint
    }
  }
  return false;
}

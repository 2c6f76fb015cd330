/**
 * What a run that failed leaves behind and says: a record of the error
 * (`failure.json`, the last; `failures.jsonl`, every one, so that a resumed
 * run that fails again keeps the first error too), and how to go on, which
 * depends on where it stopped: a run that trained nothing is simply run
 * again, a failed evaluation is evaluated again (with `--set` on the
 * evaluation if need be; trained again first where its train stage wrote no
 * checkpoint), and a run stopped in between continues from its checkpoint
 * once a cause outside the recipe is fixed.
 *
 * @module
 */
import { CapillaryError, describeThrown, StageError } from "../errors.ts";
import { completeCheckpoints } from "./checkpoint.ts";
import type { RunFolder } from "./run_folder.ts";

/** Where a failed run stopped, as {@link howToGoOn} needs it. */
export interface StoppedRun {
  /** The run folder. */
  readonly folder: string;
  /** Whether it failed in an evaluate stage. */
  readonly inEvaluation: boolean;
  /** Whether it holds a complete checkpoint (a trained epoch). */
  readonly checkpointed: boolean;
}

/**
 * The line a failed run prints before its error: where its files are and
 * what to do next.
 *
 * @param run Where it stopped.
 * @returns The advice.
 *
 * @example Usage
 * ```ts
 * import { howToGoOn } from "./failure.ts";
 * const advice = howToGoOn({ folder: "runs/x/1", inEvaluation: false, checkpointed: false });
 * console.assert(advice.endsWith("Nothing was trained yet: fix the cause and run the recipe again."));
 * ```
 */
export function howToGoOn(run: StoppedRun): string {
  const resume = `\`deno task run --resume ${run.folder}\``;
  const then = run.inEvaluation && run.checkpointed
    ? `${resume} evaluates it again without training, with --set on the evaluation if need be ` +
      "(stages.evaluate, inferenceBackend)."
    : run.inEvaluation
    // Evaluation starts only once the network is trained and saved; a train stage that writes
    // no checkpoint leaves nothing for a resumed run to evaluate without training again.
    ? `The network was trained (saved in ${run.folder}/model), but its train stage wrote no ` +
      `checkpoint to evaluate it again from: ${resume} trains it again and evaluates it, with ` +
      "--set on the evaluation if need be (stages.evaluate, inferenceBackend)."
    : run.checkpointed
    ? `${resume} continues it from its last checkpoint once a cause outside the recipe is ` +
      "fixed (memory, a stopped process, a file that could not be read); a resumed run trains " +
      "as it started, on the same data, so to change the recipe or the training data start a " +
      "new run (stages.model.from can start it from a run's model)."
    : "Nothing was trained yet: fix the cause and run the recipe again.";
  return `The run stopped on the error below. What it wrote stays in ${run.folder}. ${then}`;
}

/**
 * What an interrupted run (Ctrl-C) says: where its files are, and what
 * `--resume` will do with them.
 *
 * @param folder The run folder, or `undefined` when none was made yet.
 * @param checkpointed Whether it holds a complete checkpoint ({@link hasCheckpoint}).
 * @returns The line to print.
 *
 * @example Usage
 * ```ts
 * import { interruptedAdvice } from "./failure.ts";
 * console.assert(interruptedAdvice(undefined, false).endsWith("nothing was written."));
 * console.assert(interruptedAdvice("runs/x/1", true).includes("from its last checkpoint"));
 * console.assert(interruptedAdvice("runs/x/1", false).includes("starts its training again"));
 * ```
 */
export function interruptedAdvice(folder: string | undefined, checkpointed: boolean): string {
  if (folder === undefined) {
    return "Interrupted before the run folder was made; nothing was written.";
  }
  const resume = `\`deno task run --resume ${folder}\``;
  return `Interrupted. What the run wrote stays in ${folder}; ` +
    (checkpointed
      ? `${resume} continues it from its last checkpoint.`
      : `it had no checkpoint yet, so ${resume} starts its training again (on the same data, ` +
        "from the cache where the load stage has one).");
}

/**
 * What a stage's failure says: a {@link StageError} as it is, a
 * {@link CapillaryError}'s own message, anything else thrown with where in
 * the plugin's code it was thrown (`describeThrown`), all naming the stage.
 *
 * @param stage The failing stage's id.
 * @param error What its `run` (or a check of what it returned) threw.
 * @returns The error to throw.
 *
 * @example Usage
 * ```ts
 * import { stageFailure } from "./failure.ts";
 * const error = stageFailure("my/load", new RangeError("bad size"));
 * console.assert(error.message.startsWith('Stage "my/load" failed: RangeError: bad size'));
 * ```
 */
export function stageFailure(stage: string, error: unknown): StageError {
  if (error instanceof StageError) return error;
  const message = error instanceof CapillaryError ? error.message : describeThrown(error);
  return new StageError(stage, message, { cause: error });
}

/**
 * Whether `runDir` holds a complete checkpoint: a folder with a `state.json`
 * (written last, see `checkpoint.ts`).
 *
 * @param runDir The run folder.
 * @returns True when a checkpoint of some name is complete.
 */
export async function hasCheckpoint(runDir: string): Promise<boolean> {
  return (await completeCheckpoints(runDir)).length > 0;
}

/**
 * Records `error` in the run folder: `failure.json` (replaced) and a line of
 * `failures.jsonl` (appended), each with the message, the innermost error
 * code in its `cause` chain and the stage. Never throws: the error itself
 * matters more.
 *
 * @param folder The run folder.
 * @param error What stopped the run.
 */
export async function recordFailure(folder: RunFolder, error: unknown): Promise<void> {
  // The innermost code says most: a stage wraps a CapillaryError's E_WORKERS in its E_STAGE.
  let code: string | undefined;
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as never) {
    if (typeof e.code === "string") code = e.code;
    if (typeof e !== "object") break;
  }
  const record = {
    error: (error as Error)?.message ?? String(error),
    code,
    stage: (error as { stage?: string })?.stage,
    failedAt: new Date().toISOString(),
  };
  await folder.writeJson("failure.json", record).catch(() => {});
  await folder.appendLine("failures.jsonl", JSON.stringify(record)).catch(() => {});
}

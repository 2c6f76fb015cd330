/**
 * Where data-parallel workers build a plugin's loss again from, or the
 * refusal of one they cannot: said by the plan and the run alike.
 *
 * @module
 */
import { CapillaryError, type ComponentSource, componentSource } from "../../../mod.ts";
import type { TrainOptions } from "./train_options.ts";

/**
 * The module, name and options the workers build `loss` from.
 *
 * @param options The training options (`workers`, `loss`).
 * @param loss What `createComponent("loss", options.loss)` gave.
 * @returns Its source.
 * @throws {CapillaryError} `E_WORKERS` for a loss of a plugin registered in code (a built-in
 *   plugin's), which a worker thread cannot import.
 */
export function workerLossSource(options: TrainOptions, loss: unknown): ComponentSource {
  const source = componentSource(loss);
  if (!source) {
    throw new CapillaryError(
      `Cannot train with train.workers ${options.workers} and the loss ` +
        `${options.loss?.use}: it is a built-in plugin's, registered in code rather than ` +
        "loaded from a module, so the data-parallel workers cannot build it in their threads; " +
        "set train.workers to 1, or load its plugin from a module under `plugins:`",
      "E_WORKERS",
    );
  }
  return source;
}

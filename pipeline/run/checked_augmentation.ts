/**
 * An augment stage's augmentation, checked: what `deno task run` trains with
 * and what `deno task augment-preview` draws are the same wrapper, so a
 * faulty augmentation is refused in the same words by both.
 *
 * @module
 */
import { describeThrown, StageError } from "../errors.ts";
import type { Augmentation, PatchBatch } from "../stage.ts";
import { checkAugmentedBatch } from "./checks.ts";

/**
 * Checks what an augment stage's `run` returned and wraps it: every call's
 * throw and every returned batch (a Promise, a wrong shape, NaN images,
 * masks other than 0 and 1) are blamed on the stage, in words that say what
 * to change, rather than on the train stage that calls it, or on the
 * preview's PNG encoder.
 *
 * @param augmentation What the augment stage's `run` returned.
 * @param stage The augment stage's id.
 * @returns The augmentation, checked at every call.
 * @throws {StageError} When `augmentation` is not a function (and, from the
 * returned function, when a call throws or returns a wrong batch).
 *
 * @example Usage
 * ```ts
 * import { checkedAugmentation } from "./checked_augmentation.ts";
 * const batch = { images: new Float32Array(4), masks: new Float32Array(4), count: 1, size: 2, channels: 1 };
 * const invert = checkedAugmentation((b: typeof batch) => ({ ...b, images: b.images.map((v) => 1 - v) }), "my/invert");
 * console.assert(invert(batch, undefined as never).images[0] === 1);
 * let message = "";
 * try {
 *   checkedAugmentation(() => ({ ...batch, images: new Float32Array(3) }), "my/broken")(batch, undefined as never);
 * } catch (error) {
 *   message = (error as Error).message;
 * }
 * console.assert(message.startsWith('Stage "my/broken" failed: its augmentation returned images of 3 values'));
 * ```
 */
export function checkedAugmentation(augmentation: unknown, stage: string): Augmentation {
  if (typeof augmentation !== "function") {
    throw new StageError(
      stage,
      "returned no augmentation function; an augment stage returns a function (batch, random) " +
        "=> batch that returns the batch's patches changed",
    );
  }
  return (batch, random) => {
    let output: PatchBatch;
    try {
      output = augmentation(batch, random);
    } catch (error) {
      throw new StageError(stage, `its augmentation threw: ${describeThrown(error)}`, {
        cause: error,
      });
    }
    checkAugmentedBatch(output, batch, stage);
    return output;
  };
}

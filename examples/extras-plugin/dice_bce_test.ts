import { tf } from "@capillary/capillary";
import { diceBce, diceBceOptions } from "./dice_bce.ts";

function assertClose(actual: number, expected: number, what: string): void {
  if (Math.abs(actual - expected) > 1e-6) throw new Error(`${what}: ${actual} ≠ ${expected}`);
}

/** The loss of one 1×2 patch of targets `t` and probabilities `p`. */
function lossOf(options: Record<string, unknown>, t: number[], p: number[]): number {
  const loss = diceBce.create(diceBceOptions.parse(options));
  const out = loss(tf.tensor4d(t, [1, 1, 2, 1]), tf.tensor4d(p, [1, 1, 2, 1]));
  return out.dataSync()[0];
}

Deno.test("Dice alone: 1 − (2·overlap + s) / (Σt + Σp + s), by hand", () => {
  // overlap 0.8, Σt 1, Σp 1: 1 − (1.6 + 1) / (2 + 1) = 0.4 / 3
  assertClose(lossOf({ bceWeight: 0 }, [1, 0], [0.8, 0.2]), 0.4 / 3, "half right");
  // A patch without foreground predicted empty: (0 + 1) / (0 + 1) = 1, so 0.
  assertClose(lossOf({ bceWeight: 0 }, [0, 0], [0, 0]), 0, "empty");
});

Deno.test("the cross-entropy is the patch's mean, weighted", () => {
  // −(ln 0.8 + ln 0.8) / 2 = −ln 0.8, plus the Dice 0.4 / 3 of the same patch.
  assertClose(
    lossOf({ bceWeight: 2 }, [1, 0], [0.8, 0.2]),
    -2 * Math.log(0.8) + 0.4 / 3,
    "weighted",
  );
});

Deno.test("one loss per patch of a batch", () => {
  const loss = diceBce.create(diceBceOptions.parse({}));
  const out = loss(tf.zeros([3, 4, 4, 1]), tf.fill([3, 4, 4, 1], 0.5));
  if (out.shape.join() !== "3") throw new Error(`shape ${out.shape}`);
});

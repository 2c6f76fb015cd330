import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { StageError } from "../errors.ts";
import { Random } from "../random.ts";
import type { PatchBatch } from "../stage.ts";
import { checkedAugmentation } from "./checked_augmentation.ts";

/** One 2×2 one-channel patch, image in [0, 1], binary mask. */
function batch(): PatchBatch {
  return {
    images: Float32Array.of(0, 0.25, 0.5, 1),
    masks: Float32Array.of(0, 1, 1, 0),
    count: 1,
    size: 2,
    channels: 1,
  };
}

Deno.test("checkedAugmentation() passes a right batch through", () => {
  const flip = checkedAugmentation(
    (b: PatchBatch) => ({ ...b, images: b.images.toReversed(), masks: b.masks.toReversed() }),
    "my/flip",
  );
  const output = flip(batch(), new Random(1));
  assertEquals([...output.images], [1, 0.5, 0.25, 0]);
});

Deno.test("checkedAugmentation() blames the stage for no function, a throw, a Promise or a wrong batch", async () => {
  assertThrows(
    () => checkedAugmentation({ augment: () => batch() }, "my/aug"),
    StageError,
    'Stage "my/aug" failed: returned no augmentation function; an augment stage returns a ' +
      "function (batch, random) => batch",
  );
  const thrower = new TypeError("no x");
  thrower.stack = "TypeError: no x\n    at f (file:///tmp/plugin.ts:4:2)";
  const cases: [unknown, string][] = [
    [() => {
      throw thrower;
    }, "its augmentation threw: TypeError: no x (at /tmp/plugin.ts:4:2)"],
    [async (b: PatchBatch) => await b, "its augmentation returned a Promise"],
    [() => undefined, "its augmentation returned undefined for a batch of 1 patches"],
    [(b: PatchBatch) => ({ ...b, masks: b.masks.map((v) => v / 2) }), "returned masks holding 0.5"],
  ];
  for (const [augmentation, says] of cases) {
    const checked = checkedAugmentation(augmentation, "my/aug");
    const error = assertThrows(() => checked(batch(), new Random(1)), StageError, says);
    assertEquals(error.stage, "my/aug");
  }
  // The async one's (unawaited) Promise settles without an unhandled rejection.
  await new Promise((resolve) => setTimeout(resolve, 10));
});

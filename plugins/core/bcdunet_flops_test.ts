import { assertEquals, AssertionError } from "../../tests/assert.ts";
import { bcduNetForwardFlops, bcduNetLayerFlops, bcduNetTrainingFlops } from "./bcdunet_flops.ts";

function assert(condition: boolean, message: string): void {
  if (!condition) throw new AssertionError(message);
}

Deno.test("training FLOP: 234 GFLOP at width 64, 48², batch 16, less the zero-state recurrence", () => {
  const gflop = bcduNetTrainingFlops({ width: 64, size: 48, batch: 16 }) / 1e9;
  // Issue 3's 234 GFLOP counted the first step's recurrent convolution of each
  // ConvLSTM (F = 128, 64, 32 filters at 12², 24², 48²): 3 × 2·9·F·4F·side²·16.
  const skipped = [[128, 12], [64, 24], [32, 48]]
    .reduce((sum, [f, side]) => sum + 3 * 2 * 9 * f * 4 * f * side * side * 16, 0) / 1e9;
  assert(Math.abs(gflop + skipped - 234) < 0.5, `got ${gflop} + ${skipped} GFLOP`);
  assert(Math.abs(gflop - 209.66) < 0.01, `got ${gflop} GFLOP`);
});

Deno.test("training FLOP at width 64, 64², batch 16: 372.7 GFLOP", () => {
  const gflop = bcduNetTrainingFlops({ width: 64, size: 64, batch: 16 }) / 1e9;
  assert(Math.abs(gflop - 372.73) < 0.01, `got ${gflop} GFLOP`);
});

Deno.test("training is 3× forward, linear in the batch, about quadratic in the width", () => {
  const forward = bcduNetForwardFlops({ width: 16, size: 48, batch: 4 });
  assertEquals(bcduNetTrainingFlops({ width: 16, size: 48, batch: 4 }), 3 * forward);
  assertEquals(bcduNetForwardFlops({ width: 16, size: 48, batch: 8 }), 2 * forward);
  const ratio = bcduNetForwardFlops({ width: 64, size: 48 }) /
    bcduNetForwardFlops({ width: 32, size: 48 });
  assert(ratio > 3.9 && ratio <= 4, `width 64 / width 32 = ${ratio}`);
});

Deno.test("per-layer counts: a 3×3 conv, the transposed conv and the ConvLSTM", () => {
  const layers = Object.fromEntries(
    bcduNetLayerFlops({ width: 8, size: 48 }).map((l) => [l.name, l.flops]),
  );
  assertEquals(layers.down1_conv2, 2 * 9 * 8 * 8 * 48 * 48);
  assertEquals(layers.up1_deconv, 2 * 64 * 32 * 12 * 12);
  // 2 steps × input conv 32 → 4·16, 1 step × recurrent conv 16 → 4·16, 3×3, at 12×12.
  assertEquals(layers.up1_convlstm, 2 * 9 * (2 * 32 * 64 + 16 * 64) * 12 * 12);
  assertEquals(Object.keys(layers).length, 3 * 2 + 2 + 3 * 4 + 2);
});

Deno.test("concatenation skips: no ConvLSTM, and the first decoder conv takes both maps", () => {
  const lstm = bcduNetLayerFlops({ width: 8, size: 48 });
  const concat = bcduNetLayerFlops({ width: 8, size: 48, skip: "concat" });
  assertEquals(concat.some((l) => l.name.endsWith("_convlstm")), false);
  const up1 = (layers: typeof lstm) => layers.find((l) => l.name === "up1_conv1")!.flops;
  // up1 at 12×12 with f = 32: a 3×3 conv from 2f = 64 channels, against f/2 = 16.
  assertEquals(up1(concat), 2 * 9 * 64 * 32 * 12 * 12);
  assertEquals(up1(concat) / up1(lstm), 4);
});

import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { OVERLAY_COLORS, OVERLAY_LEGEND, segmentationOverlay } from "./overlay.ts";

const grey = (width: number, values: number[]) => ({
  width,
  height: values.length / width,
  channels: 1,
  data: Float32Array.from(values),
});

/** The overlay's pixels as the names of their colours. */
function names(raster: { width: number; height: number; data: Float32Array }): string[] {
  const byColor = new Map(
    Object.entries(OVERLAY_COLORS).map(([name, c]) => [c.map(Math.fround).join(), name]),
  );
  return Array.from(
    { length: raster.width * raster.height },
    (_, i) => byColor.get(Array.from(raster.data.subarray(3 * i, 3 * i + 3)).join()) ?? "?",
  );
}

Deno.test("segmentationOverlay() colours each confusion cell, and grey outside the ROI", () => {
  // A 3×2 image:   probability     truth    roi
  //                0.9 0.7 0.2     1 0 1    1 1 1
  //                0.1 0.5 0.9     0 1 1    1 1 0
  const overlay = segmentationOverlay(
    grey(3, [0.9, 0.7, 0.2, 0.1, 0.5, 0.9]),
    grey(3, [1, 0, 1, 0, 1, 1]),
    grey(3, [1, 1, 1, 1, 1, 0]),
    0.5,
  );
  assertEquals([overlay.width, overlay.height, overlay.channels], [3, 2, 3]);
  // 0.5 >= 0.5 is predicted positive, as the scorers count it.
  assertEquals(names(overlay), ["tp", "fp", "fn", "tn", "tp", "outside"]);
  // At a higher threshold the 0.7 and 0.5 pixels turn negative.
  const strict = segmentationOverlay(
    grey(3, [0.9, 0.7, 0.2, 0.1, 0.5, 0.9]),
    grey(3, [1, 0, 1, 0, 1, 1]),
    grey(3, [1, 1, 1, 1, 1, 0]),
    0.8,
  );
  assertEquals(names(strict), ["tp", "tn", "fn", "tn", "fn", "outside"]);
});

Deno.test("the overlay's five colours are far apart and the legend names each once", () => {
  const colors = Object.values(OVERLAY_COLORS);
  for (let a = 0; a < colors.length; a++) {
    for (let b = a + 1; b < colors.length; b++) {
      const distance = Math.hypot(...colors[a].map((v, c) => v - colors[b][c]));
      assertEquals(distance >= 0.5, true, `${colors[a]} vs ${colors[b]}`);
    }
  }
  assertEquals(OVERLAY_LEGEND.map((e) => e.key).sort(), Object.keys(OVERLAY_COLORS).sort());
  assertEquals(OVERLAY_COLORS.tp, [1, 1, 1]); // white
  assertEquals(OVERLAY_COLORS.tn, [0, 0, 0]); // black
});

Deno.test("segmentationOverlay() rejects rasters of other sizes or channels", () => {
  const p = grey(2, [0, 1]);
  assertThrows(
    () => segmentationOverlay(p, grey(1, [0, 1]), p),
    DataError,
    "the truth is 1×2×1, expected 2×1×1",
  );
  const rgb = { width: 2, height: 1, channels: 3, data: new Float32Array(6) };
  assertThrows(() => segmentationOverlay(p, p, rgb), DataError, "the ROI is 2×1×3");
  assertThrows(
    () => segmentationOverlay(rgb, p, p),
    DataError,
    "the probability map has 3 channels, expected 1",
  );
});

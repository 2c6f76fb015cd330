import { assertEquals } from "../../../tests/assert.ts";
import { imageMetrics, PER_IMAGE_METRICS, perImageCsv } from "./per_image.ts";

Deno.test("imageMetrics() gives the per-image scores in column order", () => {
  // tp 3, fp 1, tn 4, fn 2: Dice 6/9, IoU 3/6, accuracy 7/10, Se 3/5, Sp 4/5, precision 3/4
  const m = imageMetrics({ tp: 3, fp: 1, tn: 4, fn: 2 }, 0.875);
  assertEquals(Object.keys(m), [...PER_IMAGE_METRICS]);
  assertEquals(m, {
    auc: 0.875,
    dice: 6 / 9,
    iou: 0.5,
    accuracy: 0.7,
    sensitivity: 0.6,
    specificity: 0.8,
    precision: 0.75,
  });
});

Deno.test("imageMetrics() leaves out what is undefined for the image (0 / 0)", () => {
  // An image without vessels and 1 false alarm: no AUC, no sensitivity (0 / 0); Dice, IoU and
  // precision 0, as the false alarm makes their denominators 1.
  assertEquals(imageMetrics({ tp: 0, fp: 1, tn: 3, fn: 0 }, undefined), {
    dice: 0,
    iou: 0,
    accuracy: 0.75,
    specificity: 0.75,
    precision: 0,
  });
  // Without vessels and predicted empty: no Dice, IoU or precision either.
  assertEquals(imageMetrics({ tp: 0, fp: 0, tn: 4, fn: 0 }, undefined), {
    accuracy: 1,
    specificity: 1,
  });
  // Vessels, nothing predicted: Dice, IoU, sensitivity 0; no precision.
  assertEquals(imageMetrics({ tp: 0, fp: 0, tn: 2, fn: 2 }, 0.5), {
    auc: 0.5,
    dice: 0,
    iou: 0,
    accuracy: 0.5,
    sensitivity: 0,
    specificity: 1,
  });
});

Deno.test("perImageCsv() writes a header and one 4-decimal row per image", () => {
  const csv = perImageCsv([
    { id: "01_test", metrics: imageMetrics({ tp: 3, fp: 1, tn: 4, fn: 2 }, 0.98765) },
    { id: "02_test", metrics: imageMetrics({ tp: 0, fp: 1, tn: 3, fn: 0 }, undefined) },
  ]);
  assertEquals(csv.split("\n"), [
    "id,auc,dice,iou,accuracy,sensitivity,specificity,precision",
    "01_test,0.9877,0.6667,0.5000,0.7000,0.6000,0.8000,0.7500",
    "02_test,,0.0000,0.0000,0.7500,,0.7500,0.0000",
    "", // a line break after the last row
  ]);
});

Deno.test("perImageCsv() quotes ids that hold a comma, quote or line break", () => {
  const csv = perImageCsv(
    [{ id: 'a,"b"', metrics: { dice: 1 } }, { id: "c\nd", metrics: {} }],
    ["dice"],
  );
  assertEquals(csv, 'id,dice\n"a,""b""",1.0000\n"c\nd",\n');
  assertEquals(perImageCsv([], ["dice"]), "id,dice\n");
});

import { assertEquals } from "../../../tests/assert.ts";
import { readBinaryMask } from "../datasets/paired_sample.ts";
import { estimateFov, labelRegions } from "./fov.ts";
import { readImage } from "./read_image.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";

const DRIVE = `${DRIVE_ROOT}/training`;

/** A `w × h` grey raster from rows of digits (0-9 → 0-225). */
function grid(rows: string[]) {
  const width = rows[0].length, height = rows.length;
  const data = Float32Array.from(rows.join(""), (c) => Number(c) * 25);
  return { width, height, channels: 1, data };
}

Deno.test("labelRegions numbers 4-connected regions, not diagonal ones", () => {
  const inside = Uint8Array.from("110001100", (c) => Number(c));
  assertEquals(Array.from(labelRegions(inside, 3, 3)), [1, 1, 0, 0, 0, 2, 3, 0, 0]);
});

Deno.test("the FOV is the largest bright region, holes filled, specks dropped", () => {
  const fov = estimateFov(grid([
    "9000000",
    "0888880",
    "0810880",
    "0888880",
    "0000000",
  ]));
  assertEquals(
    Array.from(fov.data).join(""),
    [
      "0000000", // the bright speck at the corner is not the largest region
      "0111110",
      "0111110", // the dark hole inside is filled
      "0111110",
      "0000000",
    ].join(""),
  );
  // A margin of 1 erodes the region's edge.
  const eroded = estimateFov(grid(["0000000", "0888880", "0888880", "0888880", "0000000"]), {
    margin: 1,
  });
  assertEquals(Array.from(eroded.data).join(""), "00000000000000001110000000000000000");
});

Deno.test("on DRIVE the estimated FOV matches the shipped FOV masks (Dice above 0.99)", async () => {
  for (const n of [21, 22, 23]) {
    const image = await readImage(`${DRIVE}/images/${n}_training.tif`);
    const truth = await readBinaryMask(`${DRIVE}/mask/${n}_training_mask.gif`);
    const fov = estimateFov(image);
    let both = 0, a = 0, b = 0;
    for (let i = 0; i < fov.data.length; i++) {
      both += fov.data[i] * truth.data[i];
      a += fov.data[i];
      b += truth.data[i];
    }
    const dice = (2 * both) / (a + b);
    assertEquals(dice > 0.99, true, `image ${n}: Dice ${dice}`);
  }
});

/**
 * How well `estimateFov` (plugins/core/image/fov.ts) finds DRIVE's shipped
 * FOV masks on the 20 training images, per threshold and erosion margin:
 * mean and worst Dice. The defaults were chosen from this table.
 *
 * ```sh
 * deno run -A bench/fov.ts
 * ```
 *
 * @module
 */
import { findDriveRoot } from "../plugins/core/stages/drive.ts";
import { readImage } from "../plugins/core/image/read_image.ts";
import { readBinaryMask } from "../plugins/core/datasets/paired_sample.ts";
import { estimateFov } from "../plugins/core/image/fov.ts";

const root = `${await findDriveRoot(null, Deno.cwd())}/training`;
const images = [];
for (let n = 21; n <= 40; n++) {
  images.push({
    image: await readImage(`${root}/images/${n}_training.tif`),
    truth: await readBinaryMask(`${root}/mask/${n}_training_mask.gif`),
  });
}
console.log("threshold | margin | mean Dice | worst Dice");
for (const threshold of [0.1, 0.15, 0.2, 0.25]) {
  for (const margin of [0, 2, 4]) {
    const dice = images.map(({ image, truth }) => {
      const fov = estimateFov(image, { threshold, margin });
      let both = 0, a = 0, b = 0;
      for (let i = 0; i < fov.data.length; i++) {
        both += fov.data[i] * truth.data[i];
        a += fov.data[i];
        b += truth.data[i];
      }
      return (2 * both) / (a + b);
    });
    console.log(
      `${threshold} | ${margin} | ${(dice.reduce((s, d) => s + d, 0) / dice.length).toFixed(4)} | ${
        Math.min(...dice).toFixed(4)
      }`,
    );
  }
}

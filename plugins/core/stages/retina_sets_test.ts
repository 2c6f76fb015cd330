import { Image } from "imagescript";
import { assertEquals } from "../../../tests/assert.ts";
import { encodeGrayPng } from "../../../mod.ts";
import { quietStageContext } from "../../../tests/stage_context.ts";
import { chaseDb1, stare } from "./retina_sets.ts";

const context = () => quietStageContext("core/stare");

const SIZE = 24;
/** Inside the disc of radius 9 about the centre: the fundus' aperture. */
const inDisc = (x: number, y: number) => (x - 11.5) ** 2 + (y - 11.5) ** 2 < 81;
/** A vertical vessel along column 11. */
const vessel = (x: number, y: number) => x === 11 && inDisc(x, y);

function ppm(value: (x: number, y: number) => number): Uint8Array {
  const header = new TextEncoder().encode(`P6\n${SIZE} ${SIZE}\n255\n`);
  const out = new Uint8Array(header.length + SIZE * SIZE * 3);
  out.set(header);
  for (let p = 0; p < SIZE * SIZE; p++) {
    const v = value(p % SIZE, Math.floor(p / SIZE));
    out.set([v, v * 0.5, v * 0.2], header.length + 3 * p);
  }
  return out;
}

const png = (f: (x: number, y: number) => boolean) =>
  encodeGrayPng({
    width: SIZE,
    height: SIZE,
    channels: 1,
    data: Float32Array.from({ length: SIZE * SIZE }, (_, p) =>
      f(p % SIZE, Math.floor(p / SIZE)) ? 1 : 0),
  });

const fundus = (x: number, y: number) => (vessel(x, y) ? 90 : inDisc(x, y) ? 200 : 3);

Deno.test("core/stare reads the STARE layout, estimates FOVs and splits by trainCount", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/stare-images`);
    await Deno.mkdir(`${root}/labels-ah`);
    await Deno.mkdir(`${root}/labels-vk`);
    for (const id of ["im0001", "im0002", "im0003"]) {
      await Deno.writeFile(`${root}/stare-images/${id}.ppm`, ppm(fundus));
      await Deno.writeFile(
        `${root}/labels-ah/${id}.ah.ppm`,
        ppm((x, y) => (vessel(x, y) ? 255 : 0)),
      );
    }
    await Deno.writeFile(
      `${root}/labels-vk/im0003.vk.ppm`,
      ppm((x, y) => (vessel(x, y) ? 255 : 0)),
    );
    const data = await stare.run(
      stare.options.parse({ root, trainCount: 2 }),
      undefined,
      context(),
    );
    assertEquals([data.name, data.train.map((s) => s.id), data.test.map((s) => s.id)], [
      "STARE",
      ["im0001", "im0002"],
      ["im0003"],
    ]);
    const sample = data.test[0];
    assertEquals(Object.keys(sample.extra ?? {}), ["2nd_manual"]);
    // The estimated FOV is the disc (the vessel inside it is a filled hole).
    const disc: number[] = Array.from(
      { length: SIZE * SIZE },
      (_, p) => inDisc(p % SIZE, Math.floor(p / SIZE)) ? 1 : 0,
    );
    assertEquals(Array.from(sample.roi.data), disc);
    assertEquals(
      sample.mask.data.reduce((s, v) => s + v, 0),
      disc.filter((_, p) => p % SIZE === 11).reduce((s, v) => s + v, 0),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/chase_db1 reads JPEG images with PNG observers", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const id of ["Image_01L", "Image_01R", "Image_02L"]) {
      const image = new Image(SIZE, SIZE);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const v = fundus(x, y);
          image.setPixelAt(x + 1, y + 1, Image.rgbToColor(v, v * 0.5, v * 0.2));
        }
      }
      await Deno.writeFile(`${root}/${id}.jpg`, await image.encodeJPEG(95));
      await Deno.writeFile(`${root}/${id}_1stHO.png`, png(vessel));
      await Deno.writeFile(`${root}/${id}_2ndHO.png`, png(vessel));
    }
    const data = await chaseDb1.run(
      chaseDb1.options.parse({ root, trainCount: 2 }),
      undefined,
      context(),
    );
    assertEquals([data.train.length, data.test.length], [2, 1]);
    assertEquals(data.train.map((s) => s.id), ["Image_01L", "Image_01R"]);
    assertEquals(data.test[0].image.channels, 3);
    // JPEG blurs edges a little: the estimated FOV still covers the disc's interior.
    const roi = data.test[0].roi.data;
    assertEquals(roi[12 * SIZE + 12], 1);
    assertEquals(roi[0], 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

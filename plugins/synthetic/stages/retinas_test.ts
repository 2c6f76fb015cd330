import { assert, assertEquals } from "../../../tests/assert.ts";
import { generateRetinas, retinasOptions } from "./retinas.ts";

Deno.test("generateRetinas() is seeded by its own seed; a training image ignores the test count", () => {
  const a = generateRetinas(retinasOptions.parse({ train: 2, test: 1, size: 64 }));
  const b = generateRetinas(retinasOptions.parse({ train: 2, test: 3, size: 64 }));
  const c = generateRetinas(retinasOptions.parse({ train: 2, test: 1, size: 64, seed: 2 }));
  assertEquals(a.train.map((s) => s.id), ["synthetic_001", "synthetic_002"]);
  assertEquals(b.test.map((s) => s.id), ["synthetic_003", "synthetic_004", "synthetic_005"]);
  assertEquals(a.train[1].image.data, b.train[1].image.data);
  assertEquals(a.test[0].mask.data, b.test[0].mask.data);
  assert(a.train[0].mask.data.some((v, i) => v !== c.train[0].mask.data[i]), "seed ignored");
  assert(a.train[0].mask.data.some((v, i) => v !== a.train[1].mask.data[i]), "images repeat");
});

Deno.test("generateRetinas() gives RGB images in [0, 255], binary masks inside circular ROIs", () => {
  const { train: [sample] } = generateRetinas(
    retinasOptions.parse({ train: 1, test: 1, size: 96 }),
  );
  assertEquals([sample.image.width, sample.image.height, sample.image.channels], [96, 96, 3]);
  assert(sample.image.data.every((v) => v >= 0 && v <= 255), "image range");
  assert(sample.mask.data.every((v, i) => (v === 0 || v === 1) && v <= sample.roi.data[i]), "mask");
  // Corners lie outside the circle, the centre inside.
  assertEquals([sample.roi.data[0], sample.roi.data[48 * 96 + 48]], [0, 1]);
});

import { assertEquals, assertRejects, assertThrows } from "../../../tests/assert.ts";
import { DataError, encodeGrayPng, encodeRgbPng } from "../../../mod.ts";
import { quietStageContext } from "../../../tests/stage_context.ts";
import { drive, driveOptions } from "./drive.ts";
import { folder, folderOptions } from "./folder.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";

const DRIVE = DRIVE_ROOT;

const context = () => quietStageContext("core/folder");

Deno.test("core/folder with DRIVE's patterns reads what core/drive reads", async () => {
  const options = folderOptions.parse({
    root: DRIVE,
    name: "DRIVE",
    train: {
      images: "training/images/{id}_training.tif",
      masks: "training/1st_manual/{id}_manual1.gif",
      fov: "training/mask/{id}_training_mask.gif",
    },
    test: {
      images: "test/images/{id}_test.tif",
      masks: "test/1st_manual/{id}_manual1.gif",
      fov: "test/mask/{id}_test_mask.gif",
    },
    trainLimit: 2,
    testLimit: 1,
  });
  const viaFolder = await folder.run(options, undefined, context());
  const viaDrive = await drive.run(
    driveOptions.parse({ root: DRIVE, trainLimit: 2, testLimit: 1 }),
    undefined,
    context(),
  );
  assertEquals(viaFolder.train.map((s) => s.id), ["21", "22"]);
  for (
    const [a, b] of [...viaFolder.train.map((s, i) => [s, viaDrive.train[i]]), [
      viaFolder.test[0],
      viaDrive.test[0],
    ]]
  ) {
    for (const key of ["image", "mask", "roi"] as const) {
      assertEquals(a[key].data.every((v, i) => v === b[key].data[i]), true, `${a.id} ${key}`);
    }
  }
});

/** Writes a grey PNG of `size` whose values come from `value(x, y)`. */
async function png(
  path: string,
  width: number,
  height: number,
  value: (x: number, y: number) => number,
) {
  const data = Float32Array.from(
    { length: width * height },
    (_, i) => value(i % width, Math.floor(i / width)),
  );
  await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.writeFile(path, encodeGrayPng({ width, height, channels: 1, data }));
}

Deno.test("core/folder names the file for a missing pair, a size mismatch, an empty mask and bad bytes", async () => {
  const root = await Deno.makeTempDir();
  try {
    const split = { images: "train/{id}.png", masks: "train/{id}_mask.png" };
    const options = (train = split) => folderOptions.parse({ root, train, test: train });
    await png(`${root}/train/a.png`, 8, 6, (x) => x / 8);
    await assertRejects(
      async () => await folder.run(options(), undefined, context()),
      DataError,
      `Cannot pair "${root}/train/a.png" with its mask: "${root}/train/a_mask.png" is missing`,
    );
    await png(`${root}/train/a_mask.png`, 8, 5, (x) => (x > 3 ? 1 : 0));
    await assertRejects(
      async () => await folder.run(options(), undefined, context()),
      DataError,
      `Cannot pair "${root}/train/a_mask.png" (8×5) with "${root}/train/a.png" (8×6): sizes differ`,
    );
    await png(`${root}/train/a_mask.png`, 8, 6, () => 0);
    await assertRejects(
      async () => await folder.run(options(), undefined, context()),
      DataError,
      `Cannot use mask "${root}/train/a_mask.png": it has no foreground pixel`,
    );
    await png(`${root}/train/a_mask.png`, 8, 6, (x) => (x > 3 ? 1 : 0));
    const data = await folder.run(options(), undefined, context());
    // No FOV pattern: the whole image counts.
    assertEquals(data.train[0].roi.data.every((v) => v === 1), true);
    assertEquals(Array.from(data.train[0].mask.data.subarray(0, 8)), [0, 0, 0, 0, 1, 1, 1, 1]);
    await Deno.writeFile(`${root}/train/b.png`, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await png(`${root}/train/b_mask.png`, 8, 6, () => 1);
    await assertRejects(
      async () => await folder.run(options(), undefined, context()),
      DataError,
      `Cannot read image "${root}/train/b.png": unsupported format`,
    );
    await assertRejects(
      async () =>
        await folder.run(
          options({ images: "nowhere/{id}.png", masks: "nowhere/{id}_m.png" }),
          undefined,
          context(),
        ),
      DataError,
      `Cannot read folder "${root}/nowhere"`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder patterns need one {id}, in the file name", () => {
  for (const bad of ["train/a.png", "train/{id}/{id}.png", "{id}/a.png"]) {
    assertEquals(
      folderOptions.safeParse({
        root: ".",
        train: { images: bad, masks: "m/{id}.png" },
        test: { images: "t/{id}.png", masks: "m/{id}.png" },
      }).success,
      false,
      bad,
    );
  }
  assertThrows(() => folderOptions.parse({ root: "." }));
});

Deno.test('core/folder with fov "estimate" finds DRIVE\'s field of view from the image', async () => {
  const split = {
    images: "training/images/{id}_training.tif",
    masks: "training/1st_manual/{id}_manual1.gif",
    fov: "estimate",
  };
  const options = folderOptions.parse({
    root: DRIVE,
    train: split,
    test: split,
    trainLimit: 1,
    testLimit: 1,
  });
  const estimated = (await folder.run(options, undefined, context())).train[0].roi;
  const shipped = (await drive.run(
    driveOptions.parse({ root: DRIVE, trainLimit: 1, testLimit: 1 }),
    undefined,
    context(),
  )).train[0].roi;
  let both = 0, a = 0, b = 0;
  for (let i = 0; i < shipped.data.length; i++) {
    both += estimated.data[i] * shipped.data[i];
    a += estimated.data[i];
    b += shipped.data[i];
  }
  assertEquals((2 * both) / (a + b) > 0.99, true);
});

Deno.test("core/folder reads 0/1 label maps and colour-on-black masks as their drawn pixels", async () => {
  const root = await Deno.makeTempDir();
  try {
    const split = { images: "train/{id}.png", masks: "train/{id}_mask.png" };
    const options = folderOptions.parse({ root, train: split, test: split });
    await png(`${root}/train/a.png`, 4, 2, (x) => x / 4);
    // Values 0 and 1 of 255, as label maps are saved: 1 is inside.
    await png(`${root}/train/a_mask.png`, 4, 2, (x) => (x >= 2 ? 1 / 255 : 0));
    await png(`${root}/train/b.png`, 4, 2, (x) => x / 4);
    // Pure red vessels on black: luminance 76, yet drawn.
    const red = new Float32Array(4 * 2 * 3).map((_, i) => (i % 3 === 0 && (i / 3) % 4 < 2 ? 1 : 0));
    await Deno.writeFile(
      `${root}/train/b_mask.png`,
      encodeRgbPng({ width: 4, height: 2, channels: 3, data: red }),
    );
    const data = await folder.run(options, undefined, context());
    assertEquals(Array.from(data.train[0].mask.data), [0, 0, 1, 1, 0, 0, 1, 1]);
    assertEquals(Array.from(data.train[1].mask.data), [1, 1, 0, 0, 1, 1, 0, 0]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder says when the image pattern also takes a mask file (no fov pattern given)", async () => {
  const root = await Deno.makeTempDir();
  try {
    const split = { images: "train/{id}.png", masks: "train/{id}_mask.png" };
    await png(`${root}/train/21.png`, 4, 2, (x) => x / 4);
    await png(`${root}/train/21_mask.png`, 4, 2, (x) => (x > 1 ? 1 : 0));
    await png(`${root}/train/21_fov.png`, 4, 2, () => 1);
    await assertRejects(
      async () =>
        await folder.run(
          folderOptions.parse({ root, train: split, test: split }),
          undefined,
          context(),
        ),
      DataError,
      `Cannot pair "${root}/train/21_fov.png" with its mask: "${root}/train/21_fov_mask.png" is ` +
        `missing. Its id "21_fov" is the id "21" plus "_fov": if it is not an image but a mask of ` +
        `"21" (a FOV mask?), give those files their own pattern (e.g. fov: "train/{id}_fov.png") ` +
        `or narrow the images pattern "train/{id}.png"`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder shows what a folder holds when its pattern matches nothing", async () => {
  const root = await Deno.makeTempDir();
  try {
    const split = { images: "train/{id}.png", masks: "train/{id}_mask.png" };
    const run = () =>
      folder.run(folderOptions.parse({ root, train: split, test: split }), undefined, context());
    await Deno.mkdir(`${root}/train`);
    await assertRejects(
      async () => await run(),
      DataError,
      `Cannot load data: no file in "${root}/train" matches "{id}.png" (it holds no file)`,
    );
    for (const n of [10, 2, 1, 3, 4, 5]) await Deno.writeTextFile(`${root}/train/img_${n}.tif`, "");
    await assertRejects(
      async () => await run(),
      DataError,
      `Cannot load data: no file in "${root}/train" matches "{id}.png" (it holds 6 files: ` +
        '"img_1.tif", "img_2.tif", "img_3.tif", "img_4.tif", "img_5.tif", …; fix the pattern, ' +
        "where {id} stands for the part that varies)",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

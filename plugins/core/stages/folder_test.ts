import { assertEquals, assertRejects, assertThrows } from "../../../tests/assert.ts";
import { DataError, encodeGrayPng, encodeRgbPng } from "../../../mod.ts";
import { quietStageContext } from "../../../tests/stage_context.ts";
import { drive, driveOptions } from "./drive.ts";
import { folder, folderOptions } from "./folder.ts";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";
import { checkSegmentationData } from "../../../pipeline/run/checks.ts";
import type { StageContext } from "../../../mod.ts";
import { pngChunk, pngFile } from "../image/png_fixture.ts";

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

Deno.test("core/folder names the file for a missing pair, a size mismatch, only empty masks and bad bytes", async () => {
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

Deno.test("core/folder patterns need one {id}, in the file name or in one folder name", () => {
  const problem = (images: string) =>
    folderOptions.safeParse({
      root: ".",
      train: { images, masks: "m/{id}.png" },
      test: { images: "t/{id}.png", masks: "m/{id}.png" },
    }).error?.issues.map((i) => i.message);
  const where = 'in the file name (e.g. "train/{id}.png") or in one folder name (e.g. ' +
    '"cases/{id}/image.png")';
  for (
    const good of [
      "train/{id}.png",
      "{id}.png",
      "cases/{id}/image.png",
      "patients/{id}/scans/t1.png",
      "cases/case_{id}/img.png",
      "{id}/a.png",
    ]
  ) assertEquals(problem(good), undefined, good);
  assertEquals(problem("train/a.png"), [`the image pattern needs an {id}, ${where}`]);
  assertEquals(problem("train/{id}/{id}.png"), [
    `the image pattern has 2 {id}s; it needs exactly one, ${where}`,
  ]);
  assertEquals(problem("{id}/{id}/{id}_x.png"), [
    `the image pattern has 3 {id}s; it needs exactly one, ${where}`,
  ]);
  assertEquals(problem("cases/{id}/"), [
    'the image pattern ends in "/"; it needs a file name (e.g. "cases/{id}/image.png")',
  ]);
  assertEquals(problem("cases/{id}/../a.png"), [
    'the image pattern goes up ("..") from its {id} folder; name the file inside it (e.g. ' +
    '"cases/{id}/image.png")',
  ]);
  // ".." before the {id} folder is only a path.
  assertEquals(problem("../cases/{id}/a.png"), undefined);
  const fov = folderOptions.safeParse({
    root: ".",
    train: { images: "t/{id}.png", masks: "m/{id}/{id}.png", fov: "f/x.png" },
    test: { images: "t/{id}.png", masks: "m/{id}.png" },
  }).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  assertEquals(
    fov?.[0],
    `train.masks: the mask pattern has 2 {id}s; it needs exactly one, ${where}`,
  );
  assertEquals(fov?.length, 2);
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
    // With a FOV pattern of its own elsewhere, the hint does not offer fov: again.
    await png(`${root}/fov/21.png`, 4, 2, () => 1);
    const withFov = { ...split, fov: "fov/{id}.png" };
    await assertRejects(
      async () =>
        await folder.run(
          folderOptions.parse({ root, train: withFov, test: withFov }),
          undefined,
          context(),
        ),
      DataError,
      `missing. Its id "21_fov" is the id "21" plus "_fov": if it is not an image but a mask of ` +
        `"21" (a FOV mask?), narrow the images pattern "train/{id}.png" so that it does not ` +
        `take "train/{id}_fov.png"`,
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

/** A stage context that keeps the lines the stage reports. */
function listeningContext(): { context: StageContext; lines: string[] } {
  const lines: string[] = [];
  const context = quietStageContext("core/folder");
  return {
    context: { ...context, progress: { ...context.progress, info: (l) => lines.push(l) } },
    lines,
  };
}

/** A mask of `width × height` whose pixels left of `from` are 0 and the rest 1. */
const stripe = (from: number) => (x: number) => (x >= from ? 1 : 0);

Deno.test("core/folder takes a file beside the images as a mask only when its image is there", async () => {
  const root = await Deno.makeTempDir();
  try {
    // scan_1.png matches the mask pattern "{id}_1.png" as the mask of "scan", but there is no
    // scan.png: it is an image. scan_1_1.png is the mask of scan_1, whose image is there.
    for (const id of ["scan_1", "scan_2"]) {
      await png(`${root}/train/${id}.png`, 6, 2, (x) => x / 6);
      await png(`${root}/train/${id}_1.png`, 6, 2, stripe(id === "scan_1" ? 2 : 4));
    }
    const split = { images: "train/{id}.png", masks: "train/{id}_1.png" };
    const options = folderOptions.parse({ root, train: split, test: split });
    const { context, lines } = listeningContext();
    const data = await folder.run(options, undefined, context);
    assertEquals(data.train.map((s) => s.id), ["scan_1", "scan_2"]);
    // Each image got its own mask: 4 and 2 marked pixels of 6 per row.
    assertEquals(Array.from(data.train[0].mask.data.subarray(0, 6)), [0, 0, 1, 1, 1, 1]);
    assertEquals(Array.from(data.train[1].mask.data.subarray(0, 6)), [0, 0, 0, 0, 1, 1]);
    assertEquals(lines.filter((l) => l.startsWith("warning:")), []);

    // With a scan.png the names read both ways: scan_1.png becomes the mask of scan, and
    // scan_1_1.png, whose image is now a mask, is left out and said so.
    await png(`${root}/train/scan.png`, 6, 2, (x) => x / 6);
    const both = listeningContext();
    const again = await folder.run(options, undefined, both.context);
    assertEquals(again.train.map((s) => s.id), ["scan", "scan_2"]);
    // (scan_1.png, an image taken as a mask, also draws the mask reader's label-map warning.)
    assertEquals(both.lines.filter((l) => l.startsWith("warning: 1 file")), [
      `warning: 1 file in "${root}/train" (training and test images) is taken by no ` +
      'pattern and left out: "scan_1_1.png" (mask of "scan_1" by "train/{id}_1.png"; its ' +
      'image "scan_1.png" is taken as a mask itself)',
    ]);
    await Deno.remove(`${root}/train/scan.png`);

    // A mask whose image is missing reads as an image without a mask too: refused, both said.
    await png(`${root}/train/scan_9_1.png`, 6, 2, stripe(3));
    await assertRejects(
      async () => await folder.run(options, undefined, context),
      DataError,
      `Cannot pair "${root}/train/scan_9_1.png" with its mask: "${root}/train/scan_9_1_1.png" ` +
        'is missing. Its name also reads as the mask ("train/{id}_1.png") of "scan_9", whose ' +
        'image "train/scan_9.png" is missing: if it is a mask, add its image or move it out of ' +
        "the folder; if it is an image, add its mask",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder pairs {id}_img.png images with {id}.png masks in one folder", async () => {
  const root = await Deno.makeTempDir();
  try {
    // Every image matches the mask pattern "{id}.png" (c01_img.png as the mask of "c01_img"),
    // but no c01_img_img.png is there: they are images.
    for (const [id, from] of [["c01", 1], ["c02", 5]] as const) {
      await png(`${root}/train/${id}_img.png`, 6, 2, (x) => x / 6);
      await png(`${root}/train/${id}.png`, 6, 2, stripe(from));
    }
    const split = { images: "train/{id}_img.png", masks: "train/{id}.png" };
    const data = await folder.run(
      folderOptions.parse({ root, train: split, test: split }),
      undefined,
      context(),
    );
    assertEquals(data.train.map((s) => s.id), ["c01", "c02"]);
    assertEquals(data.train.map((s) => s.source), [
      `${root}/train/c01_img.png`,
      `${root}/train/c02_img.png`,
    ]);
    assertEquals(Array.from(data.train[1].mask.data.subarray(0, 6)), [0, 0, 0, 0, 0, 1]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test('core/folder takes "./train/{id}_mask.png" as the folder of "train/{id}.png"', async () => {
  const root = await Deno.makeTempDir();
  try {
    await png(`${root}/train/c01.png`, 4, 2, (x) => x / 4);
    await png(`${root}/train/c01_mask.png`, 4, 2, stripe(2));
    const split = { images: "train/{id}.png", masks: "./train/{id}_mask.png" };
    const data = await folder.run(
      folderOptions.parse({ root, train: split, test: split }),
      undefined,
      context(),
    );
    assertEquals(data.train.map((s) => s.id), ["c01"]);
    // The same files under both spellings: refused, not every image taken as its own mask.
    const same = { images: "train/{id}.png", masks: "./train/{id}.png" };
    await assertRejects(
      async () =>
        await folder.run(
          folderOptions.parse({ root, train: same, test: same }),
          undefined,
          context(),
        ),
      DataError,
      'Cannot tell images from masks: "./train/{id}.png" names the same files as the images ' +
        'pattern "train/{id}.png"; give the masks a pattern of their own (e.g. ' +
        '"train/{id}_mask.png")',
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder says which files in an image folder no pattern takes, in plan and run", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const id of ["c01", "c02", "c03"]) {
      await png(`${root}/train/${id}_img.png`, 4, 2, (x) => x / 4);
      await png(`${root}/train/${id}.png`, 4, 2, stripe(2));
      await png(`${root}/test/${id}.png`, 4, 2, (x) => x / 4);
      await png(`${root}/test/masks/${id}.png`, 4, 2, stripe(2));
    }
    // Names a pattern does not take: another case, another extension, a mask without its image.
    await png(`${root}/train/case04_img.PNG`, 4, 2, (x) => x / 4);
    await png(`${root}/train/c05_img.jpg`, 4, 2, (x) => x / 4);
    await png(`${root}/train/c09.png`, 4, 2, stripe(2));
    await Deno.writeTextFile(`${root}/train/.DS_Store`, ""); // hidden: not reported
    const options = folderOptions.parse({
      root,
      train: { images: "train/{id}_img.png", masks: "train/{id}.png" },
      test: { images: "test/{id}.png", masks: "test/masks/{id}.png" },
      testLimit: 1, // c02 and c03 past the limit are not "skipped"
    });
    // A mask in a folder of its own whose image is missing.
    await png(`${root}/test/masks/c04.png`, 4, 2, stripe(2));
    const expected = [
      `warning: 3 files in "${root}/train" (training images) are taken by no pattern and left ` +
      'out: "c05_img.jpg", "c09.png" (mask of "c09" by "train/{id}.png"; its image ' +
      '"c09_img.png" is missing), "case04_img.PNG" (patterns match file names exactly, case ' +
      "and extension included)",
      `warning: 1 file in "${root}/test/masks" (test masks) is taken by no pattern and left ` +
      'out: "c04.png" (no image has its id "c04")',
    ];
    const { context, lines } = listeningContext();
    const data = await folder.run(options, undefined, context);
    assertEquals([data.train.length, data.test.length], [3, 1]);
    assertEquals(lines.filter((l) => l.startsWith("warning:")), expected);
    const plan = await folder.plan!(options, undefined, context);
    assertEquals(plan.lines.filter((l) => l.startsWith("warning:")), expected);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder warns when truth lies outside the field of view, naming the images", async () => {
  const root = await Deno.makeTempDir();
  try {
    // 20×4 images: two bright sections, x 0..10 and x 13..19 (7 wide), a dark gap x 11..12.
    // The estimated FOV is the larger section: 44 of 80 pixels, 55%.
    const image = (x: number) => (x <= 10 || x >= 13 ? 0.8 : 0);
    for (const id of ["a", "b", "d"]) await png(`${root}/train/images/${id}.png`, 20, 4, image);
    // c's left section is x 0..8: its estimated FOV is 36 of 80 pixels, 45%.
    await png(`${root}/train/images/c.png`, 20, 4, (x) => (x <= 8 || x >= 13 ? 0.8 : 0));
    // a: truth at x 7..14 → in the FOV x 7..10 (4 columns), outside x 11..14 (4): 50%.
    await png(`${root}/train/masks/a.png`, 20, 4, (x) => (x >= 7 && x <= 14 ? 1 : 0));
    // b: truth x 0..9 and x 19: 1 column of 11 outside, 9.1%.
    await png(`${root}/train/masks/b.png`, 20, 4, (x) => (x <= 9 || x === 19 ? 1 : 0));
    // c: truth in rows 1..3 (a mask all foreground is refused), 11 of its 20 columns outside
    // x 0..8: 55%.
    await png(`${root}/train/masks/c.png`, 20, 4, (_, y) => (y >= 1 ? 1 : 0));
    // d: truth x 0..9, all inside: not named, but counted.
    await png(`${root}/train/masks/d.png`, 20, 4, (x) => (x <= 9 ? 1 : 0));
    const split = { images: "train/images/{id}.png", masks: "train/masks/{id}.png" };
    const run = async (fov: string | null) => {
      const { context, lines } = listeningContext();
      const withFov = { ...split, fov };
      await folder.run(
        folderOptions.parse({ root, train: withFov, test: withFov }),
        undefined,
        context,
      );
      return lines.filter((l) => l.startsWith("warning:"));
    };
    const estimated = await run("estimate");
    assertEquals(
      estimated[0],
      "warning: training images whose estimated field of view leaves out more than 5% of " +
        "their truth or covers less than 50% of the image: 3 of 4 (a.png: 50% of its truth " +
        "outside; b.png: 9.1% of its truth outside; c.png: the FOV covers 45% of the image, 55% " +
        "of its truth outside); training patches are centred inside the field of view " +
        "(train.patches.insideRoi) and the evaluation scores only pixels inside it: fov: " +
        '"estimate" keeps the largest bright region, as a fundus camera\'s aperture is; for ' +
        "images with several regions or dark tissue set fov: null to use the whole image, or " +
        'give FOV masks (e.g. fov: "train/images/{id}_fov.png", white inside)',
    );
    assertEquals(estimated[1].startsWith("warning: test images whose estimated field"), true);
    assertEquals(estimated.length, 2);
    // The whole image: nothing lies outside it, nothing to say.
    assertEquals(await run(null), []);
    // FOV masks given as files, the right section only (x 13..19): a has 6 of 8 columns
    // outside (75%), b 10 of 11 (90.9%, shown 91%), c 13 of 20 (65%), d 10 of 10 (100%).
    for (const id of ["a", "b", "c", "d"]) {
      await png(`${root}/train/fov/${id}.png`, 20, 4, (x) => (x >= 13 ? 1 : 0));
    }
    assertEquals(
      (await run("train/fov/{id}.png"))[0],
      "warning: training truth masks with more than 5% of their marked pixels outside their " +
        "FOV mask: 4 of 4 (a.png: 75% of its truth outside; b.png: 91% of its truth outside; " +
        "c.png: 65% of its truth outside; …); training patches are centred inside the field of " +
        "view (train.patches.insideRoi) and the evaluation scores only pixels inside it: check " +
        'the FOV masks ("train/fov/{id}.png", white inside the field of view), or set fov: null ' +
        "to use the whole image",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder reports no mask as left out that the other split takes", async () => {
  const root = await Deno.makeTempDir();
  try {
    // One masks folder for both splits: a is training's, b test's; c has no image anywhere.
    await png(`${root}/train/a.png`, 4, 2, (x) => x / 4);
    await png(`${root}/test/b.png`, 4, 2, (x) => x / 4);
    for (const id of ["a", "b", "c"]) await png(`${root}/masks/${id}.png`, 4, 2, stripe(2));
    const options = folderOptions.parse({
      root,
      train: { images: "train/{id}.png", masks: "masks/{id}.png" },
      test: { images: "test/{id}.png", masks: "masks/{id}.png" },
    });
    const { context, lines } = listeningContext();
    await folder.run(options, undefined, context);
    assertEquals(lines.filter((l) => l.startsWith("warning:")), [
      `warning: 1 file in "${root}/masks" (training and test masks) is taken by no pattern and ` +
      'left out: "c.png" (no image has its id "c")',
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder's maskForeground reads instance-label masks that auto refuses", async () => {
  const root = await Deno.makeTempDir();
  try {
    // Four 3×3 cells labelled 1, 2, 3 and 200 on a 12×12 background of 0.
    const label = (x: number, y: number) =>
      y >= 3 && y < 6 && x % 3 === 0 && x < 12 ? [1, 2, 3, 200][x / 3] / 255 : 0;
    const cell = (x: number, y: number) => label(x - (x % 3), y);
    for (const id of ["a", "b"]) {
      await png(`${root}/images/${id}.png`, 12, 12, (x) => x / 12);
      await png(`${root}/labels/${id}.png`, 12, 12, cell);
    }
    const split = { images: "images/{id}.png", masks: "labels/{id}.png" };
    const auto = folderOptions.parse({ root, train: split, test: split });
    await assertRejects(
      async () => await folder.run(auto, undefined, context()),
      DataError,
      "it looks like a label map, not a binary mask: its values are 0, 1, 2, 3, 200",
    );
    const nonzero = folderOptions.parse({
      root,
      train: split,
      test: split,
      maskForeground: "nonzero",
    });
    const data = await folder.run(nonzero, undefined, context());
    // Every cell is foreground: 4 cells of 9 pixels.
    assertEquals(data.train[0].mask.data.reduce((n, v) => n + v, 0), 36);
    // A threshold of 3 keeps the cells labelled 3 and 200.
    const three = folderOptions.parse({ root, train: split, test: split, maskForeground: 3 });
    const kept = await folder.run(three, undefined, context());
    assertEquals(kept.train[0].mask.data.reduce((n, v) => n + v, 0), 18);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder's maskIgnore takes VOC palette masks' 255 out of the roi", async () => {
  const root = await Deno.makeTempDir();
  try {
    // 6×6 palette masks: index 1 in the middle 2×2, 255 around it, 0 outside.
    const index = (x: number, y: number) => {
      const ring = Math.max(Math.abs(2 * x - 5), Math.abs(2 * y - 5));
      return ring <= 1 ? 1 : ring === 3 ? 255 : 0;
    };
    const rows = Array.from(
      { length: 6 },
      (_, y) => Array.from({ length: 6 }, (_, x) => index(x, y)),
    );
    const mask = pngFile({
      width: 6,
      height: 6,
      bitDepth: 8,
      colourType: 3,
      scanlines: rows.flatMap((r) => [0, ...r]),
      chunks: [pngChunk("PLTE", Array.from({ length: 256 }, (_, i) => [i, 0, 0]).flat())],
    });
    for (const id of ["a", "b"]) {
      await png(`${root}/images/${id}.png`, 6, 6, (x) => x / 6);
      await Deno.mkdir(`${root}/labels`, { recursive: true });
      await Deno.writeFile(`${root}/labels/${id}.png`, mask);
    }
    const split = { images: "images/{id}.png", masks: "labels/{id}.png" };
    const options = folderOptions.parse({ root, train: split, test: split, maskIgnore: [255] });
    assertEquals(folderOptions.parse({ root, train: split, test: split }).maskIgnore, []);
    const data = await folder.run(options, undefined, context());
    assertEquals(Array.from(data.train[0].mask.data), rows.flat().map((v) => (v === 1 ? 1 : 0)));
    assertEquals(Array.from(data.test[1].roi.data), rows.flat().map((v) => (v === 255 ? 0 : 1)));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder reads one folder per case: ids from folder names, limits, plan and skipped folders", async () => {
  const root = await Deno.makeTempDir();
  try {
    // Training: cases/case_<id>/image.png and mask.png, in an order names would not give.
    for (const [id, from] of [["10", 5], ["2", 2], ["1", 1]] as const) {
      await png(`${root}/cases/case_${id}/image.png`, 6, 2, (x) => x / 6);
      await png(`${root}/cases/case_${id}/mask.png`, 6, 2, stripe(from));
    }
    // case_7 has its mask but a .jpg image: left out, said once (not again for its mask).
    await png(`${root}/cases/case_7/mask.png`, 6, 2, stripe(1));
    await png(`${root}/cases/case_7/image.jpg`, 6, 2, (x) => x / 6);
    // Case_8 does not match "case_{id}"; hidden folders and files beside the cases are not said.
    await png(`${root}/cases/Case_8/image.png`, 6, 2, (x) => x / 6);
    await png(`${root}/cases/.ipynb_checkpoints/image.png`, 6, 2, (x) => x / 6);
    await Deno.writeTextFile(`${root}/cases/README.txt`, "");
    // Test: the {id} folder two levels above the file.
    for (const id of ["p02", "p01"]) {
      await png(`${root}/patients/${id}/scans/t1.png`, 6, 2, (x) => x / 6);
      await png(`${root}/patients/${id}/scans/vessels.png`, 6, 2, stripe(3));
    }
    await png(`${root}/patients/p03/scans/t2.png`, 6, 2, (x) => x / 6);
    const options = (limits: { trainLimit?: number; testLimit?: number } = {}) =>
      folderOptions.parse({
        root,
        train: { images: "cases/case_{id}/image.png", masks: "cases/case_{id}/mask.png" },
        test: { images: "patients/{id}/scans/t1.png", masks: "patients/{id}/scans/vessels.png" },
        ...limits,
      });
    const expected = [
      `warning: 2 folders in "${root}/cases" (training images) are taken by no pattern and left ` +
      'out: "case_7" (no image.png in it), "Case_8" (patterns match folder names exactly, case ' +
      "included)",
      `warning: 1 folder in "${root}/patients" (test images) is taken by no pattern and left ` +
      'out: "p03" (no scans/t1.png in it)',
    ];
    const { context, lines } = listeningContext();
    const data = await folder.run(options(), undefined, context);
    assertEquals(data.train.map((s) => s.id), ["1", "2", "10"]);
    assertEquals(data.train.map((s) => s.source), [
      `${root}/cases/case_1/image.png`,
      `${root}/cases/case_2/image.png`,
      `${root}/cases/case_10/image.png`,
    ]);
    // Each image got its own case's mask: marked from x = 1, 2 and 5.
    assertEquals(data.train.map((s) => Array.from(s.mask.data.subarray(0, 6))), [
      [0, 1, 1, 1, 1, 1],
      [0, 0, 1, 1, 1, 1],
      [0, 0, 0, 0, 0, 1],
    ]);
    assertEquals(data.test.map((s) => s.id), ["p01", "p02"]);
    assertEquals(lines.filter((l) => l.startsWith("warning:")), expected);

    // Limits keep the first ids by id; case_10 past the limit is taken, not reported.
    const limited = options({ trainLimit: 2, testLimit: 1 });
    assertEquals(await folder.fingerprint!(limited, context), [
      `${root}/cases/case_1/image.png`,
      `${root}/cases/case_1/mask.png`,
      `${root}/cases/case_2/image.png`,
      `${root}/cases/case_2/mask.png`,
      `${root}/patients/p01/scans/t1.png`,
      `${root}/patients/p01/scans/vessels.png`,
    ]);
    const plan = await folder.plan!(limited, undefined, context);
    assertEquals(plan.lines, [
      `folder at ${root}: 2 training and 1 test samples`,
      "→ images 6×2×1; each mask the size of its image (every file's header read)",
      ...expected,
    ]);

    // A case with its image but no mask is refused, as beside the images.
    await Deno.remove(`${root}/cases/case_2/mask.png`);
    await assertRejects(
      async () => await folder.run(options(), undefined, context),
      DataError,
      `Cannot pair "${root}/cases/case_2/image.png" with its mask: ` +
        `"${root}/cases/case_2/mask.png" is missing`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder pairs case-folder images with masks whose {id} is in the file name, and back", async () => {
  const root = await Deno.makeTempDir();
  try {
    // Images in case folders right under root, masks in masks/{id}.png; the "masks" folder
    // matches "{id}" but holds taken masks: it is not said to be left out.
    for (const [id, from] of [["a", 1], ["b", 3]] as const) {
      await png(`${root}/${id}/image.png`, 4, 2, (x) => x / 4);
      await png(`${root}/masks/${id}.png`, 4, 2, stripe(from));
    }
    await png(`${root}/masks/c.png`, 4, 2, stripe(2));
    const split = { images: "{id}/image.png", masks: "masks/{id}.png" };
    const { context, lines } = listeningContext();
    const data = await folder.run(
      folderOptions.parse({ root, train: split, test: split }),
      undefined,
      context,
    );
    assertEquals(data.train.map((s) => s.id), ["a", "b"]);
    assertEquals(data.train.map((s) => Array.from(s.mask.data.subarray(0, 4))), [
      [0, 1, 1, 1],
      [0, 0, 0, 1],
    ]);
    assertEquals(lines.filter((l) => l.startsWith("warning:")), [
      `warning: 1 file in "${root}/masks" (training and test masks) is taken by no pattern and ` +
      'left out: "c.png" (no image has its id "c")',
    ]);

    // The other way round: images/{id}.png with labels/{id}/mask.png.
    for (const [id, from] of [["a", 2], ["b", 1]] as const) {
      await png(`${root}/images/${id}.png`, 4, 2, (x) => x / 4);
      await png(`${root}/labels/${id}/mask.png`, 4, 2, stripe(from));
    }
    await png(`${root}/labels/z/mask.png`, 4, 2, stripe(2)); // no image z
    await Deno.mkdir(`${root}/labels/y`); // no mask, no image: none of the split's business
    const back = { images: "images/{id}.png", masks: "labels/{id}/mask.png" };
    const other = listeningContext();
    const again = await folder.run(
      folderOptions.parse({ root, train: back, test: back }),
      undefined,
      other.context,
    );
    assertEquals(again.train.map((s) => Array.from(s.mask.data.subarray(0, 4))), [
      [0, 0, 1, 1],
      [0, 1, 1, 1],
    ]);
    assertEquals(other.lines.filter((l) => l.startsWith("warning:")), [
      `warning: 1 file in "${root}/labels" (training and test masks) is taken by no pattern ` +
      'and left out: "z/mask.png" (no image has its id "z")',
    ]);
    // A case-folder mask missing is named by its path.
    await Deno.remove(`${root}/labels/b/mask.png`);
    await assertRejects(
      async () =>
        await folder.run(
          folderOptions.parse({ root, train: back, test: back }),
          undefined,
          context,
        ),
      DataError,
      `Cannot pair "${root}/images/b.png" with its mask: "${root}/labels/b/mask.png" is missing`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder says what a case folder pattern misses, and refuses masks named as the images", async () => {
  const root = await Deno.makeTempDir();
  try {
    const run = (images: string, masks = "cases/{id}/mask.png") =>
      folder.run(
        folderOptions.parse({ root, train: { images, masks }, test: { images, masks } }),
        undefined,
        context(),
      );
    await assertRejects(
      async () => await run("cases/case_{id}/image.png"),
      DataError,
      `Cannot read folder "${root}/cases" (from the pattern "cases/case_{id}/image.png"): it is ` +
        "missing",
    );
    await Deno.mkdir(`${root}/cases`);
    await assertRejects(
      async () => await run("cases/case_{id}/image.png"),
      DataError,
      `Cannot load data: no folder in "${root}/cases" matches "case_{id}" (it holds no folder)`,
    );
    // A flat layout given a case-folder pattern.
    for (const id of ["02", "01"]) await png(`${root}/cases/${id}.png`, 4, 2, (x) => x / 4);
    await assertRejects(
      async () => await run("cases/case_{id}/image.png"),
      DataError,
      `Cannot load data: no folder in "${root}/cases" matches "case_{id}" (it holds no folder, ` +
        'only files: "01.png", "02.png")',
    );
    for (const id of ["02", "01"]) {
      await png(`${root}/cases/${id}/Image.PNG`, 4, 2, (x) => x / 4);
      await png(`${root}/cases/${id}/mask.png`, 4, 2, stripe(2));
    }
    await assertRejects(
      async () => await run("cases/case_{id}/image.png"),
      DataError,
      `Cannot load data: no folder in "${root}/cases" matches "case_{id}" (it holds 2 folders: ` +
        '"01", "02"; fix the pattern, where {id} stands for the part that varies)',
    );
    await assertRejects(
      async () => await run("cases/{id}/image.png"),
      DataError,
      `Cannot load data: no folder in "${root}/cases" that matches "{id}" holds "image.png" (2 ` +
        'folders match; "01" holds "Image.PNG", "mask.png"); fix the pattern\'s file name ' +
        '"image.png"',
    );
    // The same files under two spellings: refused, with a mask pattern to use instead.
    await assertRejects(
      async () => await run("cases/{id}/Image.PNG", "./cases/{id}/Image.PNG"),
      DataError,
      'Cannot tell images from masks: "./cases/{id}/Image.PNG" names the same files as the ' +
        'images pattern "cases/{id}/Image.PNG"; give the masks a pattern of their own (e.g. ' +
        '"cases/{id}/mask.PNG")',
    );
    assertEquals((await run("cases/{id}/Image.PNG")).train.map((s) => s.id), ["01", "02"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder with one case-folder pattern for both splits is refused as one file in both", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const id of ["a", "b"]) {
      await png(`${root}/cases/${id}/image.png`, 4, 2, (x) => x / 4);
      await png(`${root}/cases/${id}/mask.png`, 4, 2, stripe(2));
    }
    const split = { images: "cases/{id}/image.png", masks: "cases/{id}/mask.png" };
    const data = await folder.run(
      folderOptions.parse({ root, train: split, test: split }),
      undefined,
      context(),
    );
    assertThrows(
      () => checkSegmentationData(data, false),
      DataError,
      `data set "folder": ${root}/cases/a/image.png is both a training and a test sample`,
    );
    // The plan says it from the file lists, before any image is read.
    await assertRejects(
      async () =>
        await folder.plan!(
          folderOptions.parse({ root, train: split, test: split }),
          undefined,
          context(),
        ),
      DataError,
      `data set "folder": ${root}/cases/a/image.png is both a training and a test sample`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test('core/folder with fov "estimate" suggests FOV masks beside a case folder\'s image', async () => {
  const root = await Deno.makeTempDir();
  try {
    // As above: the estimated FOV is x 0..8 of 20 (45% of the image), half the truth outside.
    await png(`${root}/cases/a/image.png`, 20, 4, (x) => (x <= 8 || x >= 13 ? 0.8 : 0));
    await png(`${root}/cases/a/mask.png`, 20, 4, (x) => (x >= 5 && x <= 12 ? 1 : 0));
    const split = { images: "cases/{id}/image.png", masks: "cases/{id}/mask.png", fov: "estimate" };
    const { context, lines } = listeningContext();
    await folder.run(folderOptions.parse({ root, train: split, test: split }), undefined, context);
    const warnings = lines.filter((l) => l.startsWith("warning: training images whose"));
    assertEquals(warnings.length, 1);
    assertEquals(
      warnings[0].endsWith('give FOV masks (e.g. fov: "cases/{id}/fov.png", white inside)'),
      true,
      warnings[0],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder takes images and masks that are symbolic links, as files", async () => {
  const root = await Deno.makeTempDir();
  try {
    // c1 a file, c2 and its mask links to files elsewhere.
    await png(`${root}/real/c2.png`, 6, 2, (x) => x / 6);
    await png(`${root}/real/c2_mask.png`, 6, 2, stripe(3));
    await png(`${root}/train/c1.png`, 6, 2, (x) => x / 6);
    await png(`${root}/train/c1_mask.png`, 6, 2, stripe(2));
    await Deno.symlink(`${root}/real/c2.png`, `${root}/train/c2.png`);
    await Deno.symlink(`${root}/real/c2_mask.png`, `${root}/train/c2_mask.png`);
    const split = { images: "train/{id}.png", masks: "train/{id}_mask.png" };
    const { context, lines } = listeningContext();
    const data = await folder.run(
      folderOptions.parse({ root, train: split, test: split }),
      undefined,
      context,
    );
    assertEquals(data.train.map((s) => s.id), ["c1", "c2"]);
    assertEquals(Array.from(data.train[1].mask.data.subarray(0, 6)), [0, 0, 0, 1, 1, 1]);
    assertEquals(lines.filter((l) => l.includes("taken by no pattern")), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("core/folder's plan reads every file's header: sizes that vary, masks that do not fit", async () => {
  const root = await Deno.makeTempDir();
  try {
    const split = (dir: string) => ({ images: `${dir}/{id}.png`, masks: `${dir}/{id}_mask.png` });
    const options = folderOptions.parse({ root, train: split("train"), test: split("test") });
    const stripe = (x: number) => (x % 3 === 0 ? 1 : 0);
    for (
      const [path, width, height] of [["train/a", 8, 6], ["train/b", 12, 5], [
        "test/c",
        9,
        9,
      ]] as const
    ) {
      await png(`${root}/${path}.png`, width, height, (x) => x / width);
      await png(`${root}/${path}_mask.png`, width, height, stripe);
    }
    const plan = await folder.plan!(options, undefined, context());
    assertEquals(
      plan.lines[1],
      "→ images of 3 sizes, 8×6 to 9×9, ×1; each mask the size of its image (every file's header read)",
    );
    // No one size: the least width and height bound the patches.
    assertEquals(plan.output, {
      train: 2,
      test: 1,
      channels: 1,
      height: null,
      width: null,
      smallest: { width: 8, height: 5 },
    });
    const data = await folder.run(options, undefined, context());
    assertEquals(data.train.map((s) => [s.image.width, s.image.height]), [[8, 6], [12, 5]]);

    // Masks of another size and a file cut inside its header: named together, before any run.
    await png(`${root}/train/b_mask.png`, 12, 6, stripe);
    const bytes = await Deno.readFile(`${root}/test/c.png`);
    await Deno.writeFile(`${root}/test/c.png`, bytes.subarray(0, 20));
    await assertRejects(
      async () => await folder.plan!(options, undefined, context()),
      DataError,
      `Cannot use 2 of 3 samples:\n- Cannot pair "${root}/train/b_mask.png" (12×6) with ` +
        `"${root}/train/b.png" (12×5): sizes differ\n- Cannot read image "${root}/test/c.png": ` +
        "its PNG header is truncated or corrupt",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

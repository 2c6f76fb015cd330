import { componentCreator } from "../../../pipeline/registry.ts";
import { checkpointStore } from "../../../pipeline/run/checkpoint.ts";
import { drive, driveOptions, findDriveRoot } from "./drive.ts";
import { encodeGrayPng, encodeRgbPng } from "../../../mod.ts";
import { readBinaryMask } from "../datasets/paired_sample.ts";
import { readImage } from "../image/read_image.ts";
import { DataError, Random, type RunFolder, type StageContext, tf } from "../../../mod.ts";
import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import { join } from "node:path";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";

const DRIVE = DRIVE_ROOT;
/** Where findDriveRoot() looks without an option or $CAPILLARY_DRIVE: beside the checkout. */
const DEFAULT_DRIVE = new URL("../../../../shared/data/DRIVE", import.meta.url).pathname;

/** Every file of one training number (21) and one test number (01), DRIVE's layout. */
const FILES = [
  "training/images/21_training.tif",
  "training/1st_manual/21_manual1.gif",
  "training/mask/21_training_mask.gif",
  "test/images/01_test.tif",
  "test/1st_manual/01_manual1.gif",
  "test/2nd_manual/01_manual2.gif",
  "test/mask/01_test_mask.gif",
];

/**
 * A one-plus-one-image copy of DRIVE in a fresh temporary folder; with
 * `links`, of symbolic links to DRIVE's files (as `cp -rs`, DVC or git-annex make).
 */
async function fakeDrive(links = false): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "capillary_drive_test_" });
  for (const file of FILES) {
    await Deno.mkdir(join(root, file, ".."), { recursive: true });
    if (links) await Deno.symlink(join(DRIVE, file), join(root, file));
    else await Deno.copyFile(join(DRIVE, file), join(root, file));
  }
  return root;
}

function context(recipeDir = "/nonexistent", lines: string[] = []): StageContext {
  return {
    stageId: "core/drive",
    tf,
    useBackend: () => Promise.resolve("cpu"),
    random: new Random(1),
    run: undefined as unknown as RunFolder,
    progress: {
      info: (message) => void lines.push(message),
      task: () => ({ update() {}, done() {} }),
    },
    recipeDir,
    // Loading uses no components.
    createComponent: componentCreator(new Map()),
    checkpoints: checkpointStore("/nonexistent", false),
  };
}

/** Runs `fn` with $CAPILLARY_DRIVE set to `value` (or unset), restoring it after. */
async function withEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = Deno.env.get("CAPILLARY_DRIVE");
  if (value === undefined) Deno.env.delete("CAPILLARY_DRIVE");
  else Deno.env.set("CAPILLARY_DRIVE", value);
  try {
    return await fn();
  } finally {
    if (saved === undefined) Deno.env.delete("CAPILLARY_DRIVE");
    else Deno.env.set("CAPILLARY_DRIVE", saved);
  }
}

Deno.test("findDriveRoot() takes the option first, then $CAPILLARY_DRIVE, then the default", async () => {
  const a = await fakeDrive();
  const b = await fakeDrive();
  try {
    await withEnv(b, async () => {
      // The option wins over the environment, absolute or relative to the recipe's folder.
      assertEquals(await findDriveRoot(a, "/nonexistent"), a);
      assertEquals(await findDriveRoot(a.split("/").pop()!, join(a, "..")), a);
      // Without an option, the environment.
      assertEquals(await findDriveRoot(null, "/nonexistent"), b);
    });
    // Without either, ../shared/data/DRIVE (from the working directory or the checkout).
    await withEnv(undefined, async () => {
      const present = await Deno.stat(DEFAULT_DRIVE).then(() => true, () => false);
      if (present) assertEquals(await findDriveRoot(null, "/nonexistent"), DEFAULT_DRIVE);
      else await assertRejects(() => findDriveRoot(null, "/nonexistent"), DataError);
    });
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("findDriveRoot() does not fall back when the named folder is missing, and names the layout", async () => {
  const empty = await Deno.makeTempDir({ prefix: "capillary_drive_test_" });
  try {
    await withEnv(DRIVE, async () => {
      const error = await assertRejects(
        () => findDriveRoot(empty, "/nonexistent"),
        DataError,
        `no training/images folder under "${empty}" (from the recipe's root option)`,
      );
      assertEquals(error.message.includes("expected layout:"), true, error.message);
      assertEquals(
        error.message.includes("<root>/training/images/21_training.tif"),
        true,
        error.message,
      );
      assertEquals(error.message.includes("<root>/test/mask/01_test_mask.gif"), true);
    });
    await withEnv(empty, async () => {
      await assertRejects(
        () => findDriveRoot(null, "/nonexistent"),
        DataError,
        `"${empty}" (from $CAPILLARY_DRIVE)`,
      );
    });
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("drive loads a one-training, one-test copy of DRIVE with binary masks", async () => {
  const root = await fakeDrive();
  try {
    const lines: string[] = [];
    const data = await drive.run(
      driveOptions.parse({ root }),
      undefined,
      context("/nonexistent", lines),
    );
    assertEquals(data.name, "DRIVE");
    assertEquals(data.train.map((s) => s.id), ["21_training"]);
    assertEquals(data.test.map((s) => s.id), ["01_test"]);
    const [train] = data.train, [test] = data.test;
    assertEquals([train.image.width, train.image.height, train.image.channels], [565, 584, 3]);
    assertEquals(train.source, join(root, "training/images/21_training.tif"));
    for (const raster of [train.mask, train.roi, test.mask, test.roi, test.extra!["2nd_manual"]]) {
      assertEquals([raster.width, raster.height, raster.channels], [565, 584, 1]);
      assertEquals(raster.data.every((v) => v === 0 || v === 1), true);
    }
    // The masks are the GIFs' 255s; the second observer's near-white (252,254,252) too.
    const manual = await readImage(join(root, "test/1st_manual/01_manual1.gif"));
    assertEquals(test.mask.data, manual.data.map((v) => (v > 127 ? 1 : 0)));
    const second = test.extra!["2nd_manual"].data.reduce((a, b) => a + b, 0);
    const first = test.mask.data.reduce((a, b) => a + b, 0);
    assertEquals(second > 0.5 * first && second < 1.5 * first, true, `${second} vs ${first}`);
    assertEquals(train.extra, undefined);
    assertEquals(lines, [`DRIVE: ${root}`, "loaded 1 training and 1 test images"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("drive loads a copy made of symbolic links as it loads the files", async () => {
  const [copy, links] = [await fakeDrive(), await fakeDrive(true)];
  try {
    const [a, b] = await Promise.all(
      [copy, links].map((root) => drive.run(driveOptions.parse({ root }), undefined, context())),
    );
    assertEquals(b.train.map((s) => s.id), ["21_training"]);
    assertEquals(b.test.map((s) => s.id), ["01_test"]);
    assertEquals(b.train[0].image.data, a.train[0].image.data);
    assertEquals(b.test[0].mask.data, a.test[0].mask.data);
  } finally {
    for (const root of [copy, links]) await Deno.remove(root, { recursive: true });
  }
});

Deno.test("drive loads a copy whose images and masks were converted to PNG, pixel for pixel", async () => {
  const original = await fakeDrive();
  const converted = await fakeDrive();
  try {
    // Every file of the copy becomes a PNG under DRIVE's name with .png for its extension.
    for (const file of FILES) {
      const from = join(converted, file), to = from.replace(/\.(tif|gif)$/, ".png");
      const png = file.includes("/images/")
        ? encodeRgbPng(
          await readImage(from).then((r) => ({ ...r, data: r.data.map((v) => v / 255) })),
        )
        : encodeGrayPng(await readBinaryMask(from));
      await Deno.writeFile(to, png);
      await Deno.remove(from);
    }
    const load = async (root: string) =>
      await drive.run(driveOptions.parse({ root }), undefined, context());
    const [a, b] = [await load(original), await load(converted)];
    assertEquals(b.train[0].source, join(converted, "training/images/21_training.png"));
    for (const split of ["train", "test"] as const) {
      assertEquals(b[split].map((s) => s.id), a[split].map((s) => s.id));
      const [x, y] = [a[split][0], b[split][0]];
      assertEquals(y.image, x.image);
      assertEquals([y.mask, y.roi, y.extra], [x.mask, x.roi, x.extra]);
    }
  } finally {
    await Deno.remove(original, { recursive: true });
    await Deno.remove(converted, { recursive: true });
  }
});

Deno.test("drive rejects a mask whose size differs from its image, naming the file and both sizes", async () => {
  const root = await fakeDrive();
  try {
    // A 100×50 PNG under the GIF's name (the reader goes by the bytes, not the name).
    const wrong = { width: 100, height: 50, channels: 1, data: new Float32Array(5000) };
    const path = join(root, "training/1st_manual/21_manual1.gif");
    await Deno.writeFile(path, encodeGrayPng(wrong));
    const error = await assertRejects(
      async () => await drive.run(driveOptions.parse({ root }), undefined, context()),
      DataError,
      `"${path}" (100×50)`,
    );
    assertEquals(
      error.message.includes(`"${join(root, "training/images/21_training.tif")}" (565×584)`),
      true,
      error.message,
    );
    assertEquals(error.message.includes("sizes differ"), true, error.message);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("drive names a missing 1st_manual file", async () => {
  const root = await fakeDrive();
  try {
    const path = join(root, "test/1st_manual/01_manual1.gif");
    await Deno.remove(path);
    await assertRejects(
      async () => await drive.run(driveOptions.parse({ root }), undefined, context()),
      DataError,
      `Cannot read image "${path}": file not found`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("drive names a missing split folder and the expected layout", async () => {
  const root = await fakeDrive();
  try {
    await Deno.remove(join(root, "test"), { recursive: true });
    const error = await assertRejects(
      async () => await drive.run(driveOptions.parse({ root }), undefined, context()),
      DataError,
      `Cannot read DRIVE folder "${join(root, "test/images")}": it is missing`,
    );
    assertEquals(error.message.includes("<root>/test/images/01_test.tif"), true, error.message);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("drive takes only the first trainLimit and testLimit images, in number order", async () => {
  const lines: string[] = [];
  const data = await drive.run(
    driveOptions.parse({ root: DRIVE, trainLimit: 1, testLimit: 2 }),
    undefined,
    context("/nonexistent", lines),
  );
  assertEquals(data.train.map((s) => s.id), ["21_training"]);
  assertEquals(data.test.map((s) => s.id), ["01_test", "02_test"]);
  assertEquals(lines[1], "loaded 1 training and 2 test images");
});

import { assertEquals } from "../../../tests/assert.ts";
import { encodeGrayPng } from "../../../mod.ts";
import { listSplit } from "./folder_listing.ts";
import { skippedFileLines } from "./skipped_files.ts";

/** Writes a 4×2 grey PNG, making its folder. */
async function png(path: string) {
  const data = Float32Array.from({ length: 8 }, (_, i) => (i % 4 >= 2 ? 1 : 0));
  await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.writeFile(path, encodeGrayPng({ width: 4, height: 2, channels: 1, data }));
}

Deno.test("listSplit() with case folders at the root: a folder the other split takes is not said", async () => {
  const root = await Deno.makeTempDir();
  try {
    // Training cases right under root, test cases under test/: "test" matches "{id}" but lacks
    // image.png; the test split takes files in it.
    for (const id of ["a", "b"]) {
      await png(`${root}/${id}/image.png`);
      await png(`${root}/${id}/mask.png`);
      await png(`${root}/test/${id}/image.png`);
      await png(`${root}/test/${id}/mask.png`);
    }
    await png(`${root}/c/notes/image.png`); // matches, but image.png is not in it
    const train = await listSplit(
      root,
      { images: "{id}/image.png", masks: "{id}/mask.png", fov: null },
      1,
    );
    const test = await listSplit(
      root,
      { images: "test/{id}/image.png", masks: "test/{id}/mask.png", fov: null },
      null,
    );
    assertEquals(train.files, [
      { id: "a", image: `${root}/a/image.png`, masks: { mask: `${root}/a/mask.png` } },
    ]);
    assertEquals(test.files.map((f) => f.id), ["a", "b"]);
    assertEquals(train.candidates.map((c) => [c.name, c.note]), [
      ["c", "no image.png in it"],
      ["test", "no image.png in it"],
    ]);
    assertEquals(
      [...train.taken].sort(),
      ["a/image.png", "a/mask.png", "b/image.png", "b/mask.png"].map((p) => `${root}/${p}`),
    );
    // Alone, training says both folders.
    assertEquals(skippedFileLines([{ split: "training", listing: train }]), [
      `2 folders in "${root}" (training images) are taken by no pattern and left out: "c" (no ` +
      'image.png in it), "test" (no image.png in it)',
    ]);
    assertEquals(
      skippedFileLines([{ split: "training", listing: train }, { split: "test", listing: test }]),
      [
        `1 folder in "${root}" (training images) is taken by no pattern and left out: "c" (no ` +
        "image.png in it)",
      ],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

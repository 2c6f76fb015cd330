import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { CapillaryError, type Sample } from "../../mod.ts";
import { checkDataDigest, DATA_DIGEST_FILE, dataDigest } from "./data_digest.ts";
import { RunFolder } from "./run_folder.ts";

const raster = (v: number) => ({ width: 2, height: 1, channels: 1, data: Float32Array.of(v, 0) });
const sample = (id: string, v: number, source = `data/${id}.png`): Sample => ({
  id,
  image: raster(v),
  mask: raster(1),
  roi: raster(1),
  source,
});

Deno.test("checkDataDigest() records a new run's data and compares a resumed run's with it", async () => {
  const folder = new RunFolder(await Deno.makeTempDir());
  try {
    const data = {
      name: "d",
      train: [sample("a", 0.5), sample("b", 0.25)],
      test: [sample("t", 1)],
    };
    assertEquals(await checkDataDigest(folder, await dataDigest(data), false), {});
    assert((await Deno.stat(folder.resolve(DATA_DIGEST_FILE))).isFile);
    // The same pixels read from elsewhere (the data moved, another root): nothing changed.
    const moved = {
      ...data,
      train: data.train.map((s) => ({ ...s, source: `/elsewhere/${s.id}.png` })),
    };
    assertEquals(await checkDataDigest(folder, await dataDigest(moved), true), {});
    // A test image changed: resumed, with a caveat naming it.
    const test = { ...data, test: [sample("t", 0.75)] };
    assertEquals(await checkDataDigest(folder, await dataDigest(test), true), {
      caveat: 'the test data changed after this run started (1 changed ("t"); its training ' +
        "data did not): the scores are of the test images as they are now",
    });
    // A training image changed, one added: refused, naming them.
    const train = { ...data, train: [sample("a", 0.5), sample("b", 0.3), sample("c", 0)] };
    const error = await assertRejects(
      async () => await checkDataDigest(folder, await dataDigest(train), true),
      CapillaryError,
    );
    assertEquals(error.code, "E_RESUME_DATA");
    assert(
      error.message.includes('(samples as loaded and preprocessed: 1 changed ("b"), 1 new ("c"))'),
      error.message,
    );
    // A run from before the digests: resumed, saying that nothing could be compared.
    await Deno.remove(folder.resolve(DATA_DIGEST_FILE));
    const { note } = await checkDataDigest(folder, await dataDigest(train), true);
    assert(note?.includes("cannot be checked"), note);
  } finally {
    await Deno.remove(folder.path, { recursive: true });
  }
});

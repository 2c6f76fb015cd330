/**
 * What data a run trained and is evaluated on, as SHA-256 digests of the
 * loaded and preprocessed samples (`data_digest.json` in the run folder), so
 * that `--resume` never goes on with data other than the run started with:
 * a checkpoint trained on masks since fixed would otherwise be evaluated as
 * if nothing had changed.
 *
 * @module
 */
import type { Sample, SegmentationData } from "../data.ts";
import { CapillaryError } from "../errors.ts";
import { encodeData } from "./data_cache.ts";
import { sha256 } from "./sha256.ts";
import type { RunFolder } from "./run_folder.ts";

/** The run folder's file. */
export const DATA_DIGEST_FILE = "data_digest.json";

/** Per split, each sample's id and the digest of its rasters (not of where they were read from). */
export interface DataDigest {
  readonly train: readonly (readonly [string, string])[];
  readonly test: readonly (readonly [string, string])[];
}

/**
 * The digests of `data`'s samples, split by split: each over the sample's
 * id, image, masks, region of interest and extra masks as the stages after
 * preprocessing see them, but not its source path, so that data moved or
 * found through another root digests the same.
 *
 * @example Usage
 * ```ts
 * import { dataDigest } from "./data_digest.ts";
 * const raster = (v: number) => ({ width: 1, height: 1, channels: 1, data: Float32Array.of(v) });
 * const sample = (v: number, source: string) =>
 *   ({ id: "a", image: raster(v), mask: raster(1), roi: raster(1), source });
 * const before = await dataDigest({ name: "d", train: [sample(0.5, "x/a.png")], test: [] });
 * const moved = await dataDigest({ name: "d", train: [sample(0.5, "y/a.png")], test: [] });
 * const changed = await dataDigest({ name: "d", train: [sample(0.25, "x/a.png")], test: [] });
 * console.assert(before.train[0][1] === moved.train[0][1] && before.train[0][1] !== changed.train[0][1]);
 * ```
 */
export async function dataDigest(data: SegmentationData): Promise<DataDigest> {
  const of = (samples: readonly Sample[]) =>
    Promise.all(samples.map(async (sample) =>
      [
        sample.id,
        await sha256(encodeData({ name: "", train: [{ ...sample, source: undefined }], test: [] })),
      ] as const
    ));
  return { train: await of(data.train), test: await of(data.test) };
}

/** How `now` differs from `then`, naming the first few samples; undefined when it does not. */
function differences(
  then: DataDigest["train"],
  now: DataDigest["train"],
): string | undefined {
  const before = new Map(then), after = new Map(now);
  const changed = now.filter(([id, digest]) => before.has(id) && before.get(id) !== digest)
    .map(([id]) => id);
  const added = now.filter(([id]) => !before.has(id)).map(([id]) => id);
  const gone = then.filter(([id]) => !after.has(id)).map(([id]) => id);
  const list = (ids: string[]) =>
    ids.slice(0, 3).map((id) => `"${id}"`).join(", ") + (ids.length > 3 ? ", …" : "");
  const parts = [
    changed.length ? `${changed.length} changed (${list(changed)})` : "",
    added.length ? `${added.length} new (${list(added)})` : "",
    gone.length ? `${gone.length} gone (${list(gone)})` : "",
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : undefined;
}

/**
 * Records `digest` in a new run's folder; for a resumed run, compares it
 * with what the run recorded when it started.
 *
 * @returns For a resumed run, a note when nothing could be compared (a run
 * from before the digests), or the caveat its scores carry when its test
 * samples changed (its training ones did not); else undefined.
 * @throws {CapillaryError} `E_RESUME_DATA` when a resumed run's training
 * samples changed: its checkpoint learned from other data.
 */
export async function checkDataDigest(
  folder: RunFolder,
  digest: DataDigest,
  resuming: boolean,
): Promise<{ caveat?: string; note?: string }> {
  if (!resuming) {
    await folder.writeJson(DATA_DIGEST_FILE, digest);
    return {};
  }
  let recorded: DataDigest | undefined;
  try {
    recorded = JSON.parse(await Deno.readTextFile(folder.resolve(DATA_DIGEST_FILE)));
  } catch {
    recorded = undefined;
  }
  if (!Array.isArray(recorded?.train) || !Array.isArray(recorded?.test)) {
    return {
      note: "this run recorded no digest of its data when it started, so whether the data " +
        "changed since cannot be checked",
    };
  }
  const training = differences(recorded.train, digest.train);
  if (training) {
    throw new CapillaryError(
      `Cannot resume ${folder.path}: its training data changed since it started (samples as ` +
        `loaded and preprocessed: ${training}); its checkpoint learned from the data as it was. ` +
        "Start a new run (deno task run <recipe>), or put the files back",
      "E_RESUME_DATA",
    );
  }
  const test = differences(recorded.test, digest.test);
  return test
    ? {
      caveat: `the test data changed after this run started (${test}; its training data did ` +
        "not): the scores are of the test images as they are now",
    }
    : {};
}

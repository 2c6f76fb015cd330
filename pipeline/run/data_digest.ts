/**
 * What data a run trained and is evaluated on, as SHA-256 digests of the
 * loaded and preprocessed samples (`data_digest.json` in the run folder), so
 * that `--resume` never goes on with data other than the run started with:
 * a checkpoint trained on masks since fixed would otherwise be evaluated as
 * if nothing had changed.
 *
 * @module
 */
import type { SegmentationData } from "../data.ts";
import { CapillaryError } from "../errors.ts";
import { encodeData } from "./data_cache.ts";
import type { RunFolder } from "./run_folder.ts";

/** The run folder's file. */
export const DATA_DIGEST_FILE = "data_digest.json";

/** The digests of the training and the test samples, each over ids, sources and every value. */
export interface DataDigest {
  readonly train: string;
  readonly test: string;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The digests of `data`'s training and test samples (images, masks, regions
 * of interest and extra masks, as the stages after preprocessing see them).
 *
 * @example Usage
 * ```ts
 * import { dataDigest } from "./data_digest.ts";
 * const raster = (v: number) => ({ width: 1, height: 1, channels: 1, data: Float32Array.of(v) });
 * const sample = (v: number) => ({ id: "a", image: raster(v), mask: raster(1), roi: raster(1) });
 * const before = await dataDigest({ name: "d", train: [sample(0.5)], test: [sample(0.5)] });
 * const after = await dataDigest({ name: "d", train: [sample(0.5)], test: [sample(0.25)] });
 * console.assert(before.train === after.train && before.test !== after.test);
 * ```
 */
export async function dataDigest(data: SegmentationData): Promise<DataDigest> {
  const of = (split: "train" | "test") =>
    sha256(
      encodeData({
        name: data.name,
        train: split === "train" ? data.train : [],
        test: split === "test" ? data.test : [],
      }),
    );
  return { train: await of("train"), test: await of("test") };
}

/**
 * Records `digest` in a new run's folder; for a resumed run, compares it
 * with what the run recorded when it started.
 *
 * @returns For a resumed run whose test samples changed (its training ones
 * did not), the caveat its scores carry; else undefined.
 * @throws {CapillaryError} `E_RESUME_DATA` when a resumed run's training
 * samples changed: its checkpoint learned from other data.
 */
export async function checkDataDigest(
  folder: RunFolder,
  digest: DataDigest,
  resuming: boolean,
): Promise<string | undefined> {
  if (!resuming) {
    await folder.writeJson(DATA_DIGEST_FILE, digest);
    return undefined;
  }
  let recorded: DataDigest;
  try {
    recorded = JSON.parse(await Deno.readTextFile(folder.resolve(DATA_DIGEST_FILE)));
  } catch {
    return undefined; // a run from before the digests: nothing to compare with
  }
  if (recorded.train !== digest.train) {
    throw new CapillaryError(
      `Cannot resume ${folder.path}: its training data changed since it started (the load and ` +
        "preprocess stages now give other images, masks or regions); its checkpoint learned from " +
        "the data as it was. Start a new run (deno task run <recipe>), or put the files back",
      "E_RESUME_DATA",
    );
  }
  if (recorded.test !== digest.test) {
    return "the test data changed after this run started (its training data did not): the " +
      "scores are of the test images as they are now";
  }
  return undefined;
}

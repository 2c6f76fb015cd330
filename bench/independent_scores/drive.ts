/**
 * Where the independent scorer finds DRIVE, and the names of the annotation files it reads.
 *
 * The same places the repository's tests and `core/drive` look (`$CAPILLARY_DRIVE`, else
 * `../shared/data/DRIVE` beside the checkout), written again here rather than imported: this
 * tool imports nothing from the repository's `pipeline/` or `plugins/`.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A pixel of a DRIVE mask or manual annotation is marked (inside the FOV, a vessel) when its
 * grey value is above this: the GIFs hold 0/255, except `2nd_manual`, which holds 4/254.
 */
export const MARKED_ABOVE = 127;

/**
 * The DRIVE folder (holding `test/` and `training/`) read when none is named:
 * `$CAPILLARY_DRIVE`, else `../shared/data/DRIVE` relative to the repository's root.
 */
export function defaultDriveRoot(): string {
  return Deno.env.get("CAPILLARY_DRIVE") ??
    fileURLToPath(new URL("../../../shared/data/DRIVE", import.meta.url));
}

/** The annotation files of one DRIVE image. */
export interface DriveFiles {
  /** The first observer's vessels (`1st_manual`): the ground truth. */
  readonly truth: string;
  /** The field-of-view mask. */
  readonly fov: string;
  /** The second observer's vessels (`2nd_manual`; test images only). */
  readonly secondObserver?: string;
}

/**
 * The annotation files of a DRIVE image by its id as a run names it (`01_test`, `22_training`:
 * the image number, an underscore, the split).
 *
 * @throws {Error} When the id is not of that form.
 */
export function driveFiles(root: string, id: string): DriveFiles {
  const match = /^(\d+)_(test|training)$/.exec(id);
  if (!match) {
    throw new Error(`"${id}" is not a DRIVE image id (<number>_test or <number>_training)`);
  }
  const [, number, split] = match;
  return {
    truth: join(root, split, "1st_manual", `${number}_manual1.gif`),
    fov: join(root, split, "mask", `${number}_${split}_mask.gif`),
    ...(split === "test"
      ? { secondObserver: join(root, split, "2nd_manual", `${number}_manual2.gif`) }
      : {}),
  };
}

/** Whether `root` holds DRIVE's test annotations (what every check here reads). */
export function hasDrive(root: string): boolean {
  try {
    return Deno.statSync(join(root, "test", "mask")).isDirectory;
  } catch {
    return false;
  }
}

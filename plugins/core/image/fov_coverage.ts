/**
 * Checks of a loaded field of view (FOV) against its image and truth mask:
 * training patches are centred inside the FOV (by default) and the evaluation
 * scores only pixels inside it, so truth drawn outside it is neither learnt
 * nor scored. `fov: "estimate"` (image/fov.ts) keeps the largest bright
 * region, a fundus camera's aperture; on other images (two tissue sections, a
 * dark background with bright objects) it can drop whole regions, and only a
 * warning makes that visible.
 *
 * @module
 */
import { basename } from "node:path";
import type { Raster } from "../../../mod.ts";

/** Above this share of a truth mask's marked pixels outside the FOV, loaders warn. */
export const OUTSIDE_SHARE = 0.05;

/** Below this share of the image, an estimated FOV is warned about (DRIVE's cover about 0.69). */
export const SMALL_FOV_SHARE = 0.5;

/** How many images a warning names before "…". */
const SHOWN = 3;

/** How much of an image its FOV covers, and how much of its truth lies outside it. */
export interface FovCoverage {
  /** The share of the image's pixels inside the FOV. */
  readonly fovShare: number;
  /** The share of the truth mask's marked pixels outside the FOV (0 for an empty mask). */
  readonly outsideShare: number;
}

/**
 * The coverage of one sample's FOV (`roi`, > 0.5 inside) and its truth
 * (`mask`, > 0.5 marked; channel 0 of each).
 *
 * @example Usage
 * ```ts
 * import { fovCoverage } from "./fov_coverage.ts";
 * const r = (data: number[]) => ({ width: 4, height: 1, channels: 1, data: Float32Array.from(data) });
 * const { fovShare, outsideShare } = fovCoverage({ mask: r([1, 0, 1, 1]), roi: r([1, 1, 0, 0]) });
 * console.assert(fovShare === 0.5 && outsideShare === 2 / 3);
 * ```
 */
export function fovCoverage(
  { mask, roi }: { readonly mask: Raster; readonly roi: Raster },
): FovCoverage {
  const n = roi.width * roi.height;
  let inside = 0, marked = 0, outside = 0;
  for (let p = 0; p < n; p++) {
    const inFov = roi.data[p * roi.channels] > 0.5;
    if (inFov) inside++;
    if (mask.data[p * mask.channels] > 0.5) {
      marked++;
      if (!inFov) outside++;
    }
  }
  return { fovShare: n ? inside / n : 0, outsideShare: marked ? outside / marked : 0 };
}

/** A share as a percentage: whole from 10 % up, else to one decimal (5.4%, 5%). */
function percent(share: number): string {
  const p = share * 100;
  return `${p >= 10 ? Math.round(p) : Math.round(p * 10) / 10}%`;
}

/** How a split's FOV came about, for {@link fovCoverageWarning}. */
export interface FovWarningOptions {
  /** The split's name in the lines: `training`, `test`. */
  readonly split: string;
  /** Whether the FOV was estimated from the image (`fov: "estimate"`) rather than read. */
  readonly estimated: boolean;
  /** The split's FOV pattern, or one to suggest when estimated (e.g. `train/{id}_fov.png`). */
  readonly fovPattern: string;
}

/**
 * A warning for one split's samples whose FOV looks wrong, or `undefined`:
 * more than {@link OUTSIDE_SHARE} of a truth mask's marked pixels outside the
 * FOV, or (when estimated) a FOV that covers less than
 * {@link SMALL_FOV_SHARE} of the image. One line for the split, naming the
 * first few such images with their shares and saying what to do. A warning,
 * not an error: a data set may mark objects outside its region of interest on
 * purpose.
 *
 * @param samples The split's samples, their `roi` the FOV.
 * @param options The split's name and how its FOV came about.
 * @returns The line, without a "warning: " prefix.
 *
 * @example Usage
 * ```ts
 * import { fovCoverageWarning } from "./fov_coverage.ts";
 * const r = (data: number[]) => ({ width: 4, height: 1, channels: 1, data: Float32Array.from(data) });
 * const sample = { id: "a", image: r([9, 9, 0, 9]), mask: r([1, 0, 0, 1]), roi: r([1, 1, 0, 0]), source: "x/a.png" };
 * const line = fovCoverageWarning([sample], { split: "test", estimated: false, fovPattern: "x/{id}_fov.png" });
 * console.assert(line!.includes("1 of 1 (a.png: 50% of its truth outside)"));
 * ```
 */
export function fovCoverageWarning(
  samples: readonly {
    readonly id: string;
    readonly mask: Raster;
    readonly roi: Raster;
    readonly source?: string;
  }[],
  options: FovWarningOptions,
): string | undefined {
  const { split, estimated, fovPattern } = options;
  const flagged = samples.flatMap((s) => {
    const { fovShare, outsideShare } = fovCoverage(s);
    const small = estimated && fovShare < SMALL_FOV_SHARE;
    const outside = outsideShare > OUTSIDE_SHARE;
    if (!small && !outside) return [];
    const parts = [
      ...(small ? [`the FOV covers ${percent(fovShare)} of the image`] : []),
      ...(outside ? [`${percent(outsideShare)} of its truth outside`] : []),
    ];
    return [`${s.source === undefined ? s.id : basename(s.source)}: ${parts.join(", ")}`];
  });
  if (!flagged.length) return undefined;
  const what = estimated
    ? `${split} images whose estimated field of view leaves out more than ` +
      `${percent(OUTSIDE_SHARE)} of their truth or covers less than ` +
      `${percent(SMALL_FOV_SHARE)} of the image`
    : `${split} truth masks with more than ${percent(OUTSIDE_SHARE)} of their marked pixels ` +
      "outside their FOV mask";
  return `${what}: ${flagged.length} of ${samples.length} (` +
    `${flagged.slice(0, SHOWN).join("; ")}${flagged.length > SHOWN ? "; …" : ""}); ` +
    "training patches are centred inside the field of view (train.patches.insideRoi) and the " +
    "evaluation scores only pixels inside it: " +
    (estimated
      ? 'fov: "estimate" keeps the largest bright region, as a fundus camera\'s aperture is; ' +
        "for images with several regions or dark tissue set fov: null to use the whole image, " +
        `or give FOV masks (e.g. fov: "${fovPattern}", white inside)`
      : `check the FOV masks ("${fovPattern}", white inside the field of view), or set ` +
        "fov: null to use the whole image");
}

// The DRIVE scoring protocol on the real data: the field-of-view pixel counts
// and the second observer's scores against the first must match the published
// sanity figures (shared/reference/drive-and-bcdunet.md). Skipped, with the
// reason in the test name, when the data set is not on this machine.

import { assertAlmostEquals, assertEquals } from "../../../tests/assert.ts";
import { readImage } from "../image/read_image.ts";
import type { Raster } from "../../../pipeline/data.ts";
import { ConfusionAccumulator } from "./confusion.ts";
import { SegmentationScorer } from "./segmentation_metrics.ts";

/** Where DRIVE is looked for when `CAPILLARY_DRIVE` is not set: `shared/` inside or beside the repo. */
const CANDIDATES = [
  "../../../shared/data/DRIVE",
  "../../../../shared/data/DRIVE",
].map((path) => new URL(path, import.meta.url).pathname);

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function driveRoot(): { root: string; missing?: string } {
  try {
    const fromEnv = Deno.env.get("CAPILLARY_DRIVE");
    const candidates = fromEnv ? [fromEnv] : CANDIDATES;
    const root = candidates.find((path) => isDirectory(`${path}/test/2nd_manual`));
    if (root) return { root };
    return {
      root: candidates[0],
      missing: `no DRIVE test set (test/2nd_manual) at ${candidates.join(" or ")}; ` +
        `set CAPILLARY_DRIVE to the folder that holds DRIVE's test/ and training/`,
    };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      root: "",
      missing: `cannot look for DRIVE (${why}); run with --allow-read --allow-env`,
    };
  }
}

const { root, missing } = driveRoot();
if (missing) console.warn(`drive_protocol_test.ts skipped: ${missing}`);

/** Channel 0 of every pixel binarised with > 127, as 0/1. */
function binary(raster: Raster): Uint8Array {
  const out = new Uint8Array(raster.width * raster.height);
  for (let i = 0; i < out.length; i++) out[i] = raster.data[i * raster.channels] > 127 ? 1 : 0;
  return out;
}

async function readBinary(path: string): Promise<Uint8Array> {
  const raster = await readImage(path);
  assertEquals([raster.width, raster.height], [565, 584], path);
  return binary(raster);
}

Deno.test({
  name: `DRIVE test set: FOV counts and second observer scores match the protocol${
    missing ? ` (skipped: ${missing})` : ""
  }`,
  ignore: missing !== undefined,
  async fn() {
    const ids = Array.from({ length: 20 }, (_, i) => String(i + 1).padStart(2, "0"));
    const images = await Promise.all(ids.map(async (id) => ({
      roi: await readBinary(`${root}/test/mask/${id}_test_mask.gif`),
      first: await readBinary(`${root}/test/1st_manual/${id}_manual1.gif`),
      second: await readBinary(`${root}/test/2nd_manual/${id}_manual2.gif`),
    })));

    const scorer = new SegmentationScorer();
    const self = new ConfusionAccumulator();
    for (const { roi, first, second } of images) {
      // the second observer's 0/1 map stands in for a model's probabilities
      scorer.add(second, first, roi);
      self.add(first, first, roi);
    }
    const r = scorer.result();
    console.log(
      `DRIVE 2nd vs 1st manual: pixels ${r.pixels}, vessel ${r.positives}, ` +
        `Acc ${r.accuracy.toFixed(6)}, Se ${r.sensitivity.toFixed(6)}, ` +
        `Sp ${r.specificity.toFixed(6)}, F1 ${r.f1.toFixed(6)}, ` +
        `Precision ${r.precision.toFixed(6)}, AUC ${r.auc.toFixed(6)}`,
    );

    assertEquals(r.pixels, 4_538_143);
    assertEquals(r.positives, 577_649);
    assertAlmostEquals(r.accuracy, 0.9473, 1e-4, "accuracy");
    assertAlmostEquals(r.sensitivity, 0.7746, 1e-4, "sensitivity");
    assertAlmostEquals(r.specificity, 0.9725, 1e-4, "specificity");
    assertAlmostEquals(r.f1, 0.7891, 1e-4, "F1");
    assertAlmostEquals(r.precision, 0.8040, 1e-4, "precision");
    // a binary score's ROC curve has one corner: its area is (Se + Sp) / 2
    assertAlmostEquals(r.auc, (r.sensitivity + r.specificity) / 2, 1e-12, "AUC");
    // the first observer against itself is perfect
    assertEquals({ fp: self.fp, fn: self.fn, tp: self.tp }, { fp: 0, fn: 0, tp: 577_649 });
  },
});

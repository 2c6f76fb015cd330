import { assertEquals } from "../../../tests/assert.ts";
import { fovCoverage, fovCoverageWarning } from "./fov_coverage.ts";

/** A 1-row raster from a string of digits, each one pixel. */
const row = (digits: string, channels = 1) => ({
  width: digits.length,
  height: 1,
  channels,
  data: Float32Array.from(digits.split("").flatMap((d) => Array(channels).fill(Number(d)))),
});

/** A sample of one row: image all 1, truth and FOV from digits. */
const sample = (id: string, mask: string, roi: string, source?: string) => ({
  id,
  image: row("1".repeat(mask.length)),
  mask: row(mask),
  roi: row(roi),
  ...(source === undefined ? {} : { source }),
});

Deno.test("fovCoverage() counts the FOV's share of the image and the truth's share outside it", () => {
  // 10 pixels, FOV 4 of them (40%); truth 5 pixels, 2 of them outside the FOV (40%).
  assertEquals(fovCoverage({ mask: row("0011100011"), roi: row("0111100000") }), {
    fovShare: 0.4,
    outsideShare: 0.4,
  });
  // Channel 0 of multi-channel rasters: "1" in channel 0 and channel 1 alike here.
  assertEquals(fovCoverage({ mask: row("1100", 2), roi: row("1000", 3) }), {
    fovShare: 0.25,
    outsideShare: 0.5,
  });
  // An empty truth has nothing outside.
  assertEquals(fovCoverage({ mask: row("0000"), roi: row("0000") }).outsideShare, 0);
});

Deno.test("fovCoverageWarning() says nothing at exactly 5% of the truth outside and a 50% FOV", () => {
  // 20 truth pixels, 1 outside: 5%, not more. FOV 20 of 40 pixels: 50%, not less.
  const truth = "1".repeat(20) + "0".repeat(20);
  const fov = "1".repeat(19) + "0" + "0".repeat(19) + "1";
  const at = [sample("a", truth, fov)];
  assertEquals(
    fovCoverageWarning(at, { split: "training", estimated: true, fovPattern: "" }),
    undefined,
  );
  // Pixel 18 outside too (2 of 20, 10%) and the FOV one pixel smaller (19 of 40, 47.5%, shown 48%).
  const over = [sample("a", truth, "1".repeat(18) + "0".repeat(21) + "1")];
  assertEquals(
    fovCoverageWarning(over, { split: "training", estimated: true, fovPattern: "t/{id}_fov.png" }),
    "training images whose estimated field of view leaves out more than 5% of their truth " +
      "or covers less than 50% of the image: 1 of 1 (a: the FOV covers 48% of the image, 10% " +
      "of its truth outside); training patches are centred inside the field of view " +
      "(train.patches.insideRoi) and the evaluation scores only pixels inside it: fov: " +
      '"estimate" keeps the largest bright region, as a fundus camera\'s aperture is; for ' +
      "images with several regions or dark tissue set fov: null to use the whole image, or " +
      'give FOV masks (e.g. fov: "t/{id}_fov.png", white inside)',
  );
});

Deno.test("fovCoverageWarning() names the first three images by file, and FOV masks given as files", () => {
  // Truth 4 pixels each; outside: a 1 (25%), b 0, c 2 (50%), d 3 (75%), e 4 (100%).
  const samples = [
    sample("a", "1111", "1110", "data/img/a.png"),
    sample("b", "1111", "1111", "data/img/b.png"),
    sample("c", "1111", "1100", "data/img/c.png"),
    sample("d", "1111", "1000", "data/img/d.png"),
    sample("e", "1111", "0000", "data/img/e.png"),
  ];
  assertEquals(
    fovCoverageWarning(samples, { split: "test", estimated: false, fovPattern: "fov/{id}.png" }),
    "test truth masks with more than 5% of their marked pixels outside their FOV mask: 4 of " +
      "5 (a.png: 25% of its truth outside; c.png: 50% of its truth outside; d.png: 75% of its " +
      "truth outside; …); training patches are centred inside the field of view " +
      "(train.patches.insideRoi) and the evaluation scores only pixels inside it: check the " +
      'FOV masks ("fov/{id}.png", white inside the field of view), or set fov: null to use ' +
      "the whole image",
  );
  // A small FOV read from files is what its masks say: only the truth outside counts.
  assertEquals(
    fovCoverageWarning([sample("b", "1000", "1000")], {
      split: "test",
      estimated: false,
      fovPattern: "fov/{id}.png",
    }),
    undefined,
  );
});

/**
 * Compares the independent scorer's decoders (decode.ts) with a third party's, imagescript:
 * every DRIVE GIF (masks and manual annotations, test and training) pixel by pixel, and the
 * PNG maps of any run folders (their `predictions/*.png`) or PNG files named.
 *
 * ```sh
 * deno run -A bench/independent_scores/check_decoders.ts [--drive <root>] [<run folder or PNG> ...]
 * ```
 *
 * Like the scorer, it imports nothing from the repository's `pipeline/` or `plugins/`.
 * Exit status: 0 when every image decodes the same, 1 when any differs, 2 on bad arguments.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { GIF, Image } from "imagescript";
import { decodeGif, decodePng, type GreyImage } from "./decode.ts";
import { defaultDriveRoot, hasDrive } from "./drive.ts";

/** Pixels where `ours` differs from imagescript's RGBA bitmap read as max(R, G, B); -1: sizes differ. */
function differingPixels(
  ours: GreyImage,
  theirs: { width: number; height: number; bitmap: Uint8ClampedArray },
): number {
  if (ours.width !== theirs.width || ours.height !== theirs.height) return -1;
  let differing = 0;
  for (let i = 0; i < ours.data.length; i++) {
    const rgb = theirs.bitmap.subarray(4 * i, 4 * i + 3);
    if (Math.max(rgb[0], rgb[1], rgb[2]) !== ours.data[i]) differing++;
  }
  return differing;
}

/**
 * The grey values of an image and how many pixels hold each ("0×105583 255×224377"), or for
 * a map of many values, their number and range.
 */
function valueCounts(image: GreyImage): string {
  const counts = new Map<number, number>();
  for (const v of image.data) counts.set(v, (counts.get(v) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => a[0] - b[0]);
  if (sorted.length > 4) {
    return `${sorted.length} distinct, ${sorted[0][0]} to ${sorted.at(-1)![0]}`;
  }
  return sorted.map(([v, n]) => `${v}×${n}`).join(" ");
}

/** Checks every image; returns the exit status. */
async function main(args: readonly string[]): Promise<number> {
  let drive = defaultDriveRoot();
  const pngs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--drive" && args[i + 1]) drive = args[++i];
    else if (args[i].startsWith("--drive=")) drive = args[i].slice("--drive=".length);
    else if (args[i].startsWith("-")) {
      console.error(
        `unknown option ${
          args[i]
        }\nusage: check_decoders.ts [--drive <root>] [<run folder or PNG> ...]`,
      );
      return 2;
    } else if (Deno.statSync(args[i]).isDirectory) {
      const folder = join(args[i], "predictions");
      for (const e of [...Deno.readDirSync(folder)].sort((a, b) => a.name < b.name ? -1 : 1)) {
        if (e.isFile && e.name.endsWith(".png")) pngs.push(join(folder, e.name));
      }
    } else pngs.push(args[i]);
  }
  drive = resolve(drive);
  if (!hasDrive(drive)) {
    console.error(`no DRIVE at ${drive} (set --drive or $CAPILLARY_DRIVE)`);
    return 2;
  }
  let images = 0, mismatches = 0;
  const report = (path: string, differing: number, ours: GreyImage, show: boolean) => {
    images++;
    if (differing) mismatches++;
    if (differing || show) {
      console.log(
        `${path}: ${ours.width}×${ours.height}, ${
          differing < 0 ? "SIZE DIFFERS" : differing ? `${differing} PIXELS DIFFER` : "same"
        }; values ${valueCounts(ours)}`,
      );
    }
  };
  for (const split of ["test", "training"]) {
    for (const folder of ["1st_manual", "2nd_manual", "mask"]) {
      let names: string[];
      try {
        names = [...Deno.readDirSync(join(drive, split, folder))].map((e) => e.name).sort();
      } catch {
        continue; // training has no 2nd_manual
      }
      for (const name of names.filter((n) => n.endsWith(".gif"))) {
        const bytes = await Deno.readFile(join(drive, split, folder, name));
        const ours = decodeGif(bytes);
        const theirs = (await GIF.decode(bytes, true))[0];
        // One file per folder in full, so the values (0/255, 4/254) are seen, not only compared.
        report(
          `${split}/${folder}/${name}`,
          differingPixels(ours, theirs),
          ours,
          name === names[0],
        );
      }
    }
  }
  const gifs = images;
  for (const path of pngs) {
    const bytes = await Deno.readFile(path);
    const ours = decodePng(bytes);
    const theirs = await Image.decode(bytes);
    report(path, differingPixels(ours, theirs), ours, true);
  }
  console.log(
    `${gifs} DRIVE GIFs and ${pngs.length} PNGs: ${
      mismatches ? `${mismatches} DIFFER from imagescript` : "all the same as imagescript"
    }`,
  );
  return mismatches ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));

/**
 * Copies DRIVE with its fundus images re-encoded as PNG, for `bench/gpu.sh`
 * to carry to a machine that cannot reach the data: DRIVE's LZW TIFFs take
 * 30 MB and stay 29 MB under xz, the same pixels as PNG about 23 MB, which
 * leaves room in the device tool's 64 MiB for Deno and the bundles. The masks
 * (small GIFs) are copied as they are. `core/drive` finds each file by DRIVE's
 * name whatever its extension, so the copy loads as DRIVE does.
 *
 * Every PNG is read back with Capillary's own reader and compared with the
 * TIFF value for value before it is kept.
 *
 * ```sh
 * deno run -A bench/drive_png.ts ../shared/data/DRIVE .gpu/DRIVE
 * ```
 *
 * @module
 */
import { Image } from "imagescript";
import { join } from "node:path";
import { writeFileAtomic } from "../mod.ts";
import { readImage } from "../plugins/core/image/read_image.ts";

/** The folders of DRIVE that `core/drive` reads, by split. */
const MASK_FOLDERS = {
  training: ["1st_manual", "mask"],
  test: ["1st_manual", "2nd_manual", "mask"],
} as const;

/** The PNG (RGBA, opaque, zlib level 9) of a decoded 8-bit image of 1 or 3 channels. */
async function toPng(raster: Awaited<ReturnType<typeof readImage>>): Promise<Uint8Array> {
  const { width, height, channels, data } = raster;
  const image = new Image(width, height);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      image.bitmap[i * 4 + c] = data[i * channels + (channels === 3 ? c : 0)];
    }
    image.bitmap[i * 4 + 3] = 255;
  }
  return await image.encode(9);
}

/** Throws unless the two rasters hold the same values. */
function assertSame(a: Awaited<ReturnType<typeof readImage>>, b: typeof a, what: string): void {
  const same = a.width === b.width && a.height === b.height && a.channels === b.channels &&
    a.data.every((v, i) => v === b.data[i]);
  if (!same) throw new Error(`${what}: the PNG does not decode to the TIFF's pixels`);
}

if (import.meta.main) {
  const [from, to] = Deno.args;
  if (!from || !to) {
    console.error("usage: deno run -A bench/drive_png.ts <DRIVE folder> <output folder>");
    Deno.exit(2);
  }
  let tiffBytes = 0, pngBytes = 0, images = 0;
  for (const split of ["training", "test"] as const) {
    await Deno.mkdir(join(to, split, "images"), { recursive: true });
    for await (const entry of Deno.readDir(join(from, split, "images"))) {
      if (!entry.isFile || !/\.tiff?$/.test(entry.name)) continue;
      const source = join(from, split, "images", entry.name);
      const target = join(to, split, "images", entry.name.replace(/\.tiff?$/, ".png"));
      const raster = await readImage(source);
      const png = await toPng(raster);
      await writeFileAtomic(target, png);
      assertSame(raster, await readImage(target), source);
      tiffBytes += (await Deno.stat(source)).size;
      pngBytes += png.length;
      images++;
    }
    for (const folder of MASK_FOLDERS[split]) {
      await Deno.mkdir(join(to, split, folder), { recursive: true });
      for await (const entry of Deno.readDir(join(from, split, folder))) {
        if (entry.isFile) {
          await Deno.copyFile(
            join(from, split, folder, entry.name),
            join(to, split, folder, entry.name),
          );
          await Deno.chmod(join(to, split, folder, entry.name), 0o644);
        }
      }
    }
  }
  const mb = (n: number) => (n / 1e6).toFixed(1);
  console.log(
    `${images} images as PNG: ${mb(pngBytes)} MB (the TIFFs: ${
      mb(tiffBytes)
    } MB), each read back ` +
      `identical; masks copied`,
  );
}

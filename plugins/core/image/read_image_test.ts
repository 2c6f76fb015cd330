import { decodeImage, decodeImageWithAlpha, readImage, readImageWithAlpha } from "./read_image.ts";
import { encodeGrayPng } from "../../../mod.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import type { Raster } from "../../../pipeline/data.ts";
import { Image } from "imagescript";
import UTIF from "utif2";
import { DRIVE_ROOT } from "../../../tests/drive_root.ts";

const DRIVE = `${DRIVE_ROOT}/`;

/**
 * sha256 of each DRIVE TIFF's pixels as 584 x 565 x 3 interleaved RGB bytes,
 * decoded independently with Pillow 9.4 (Debian's python3-pil):
 * `hashlib.sha256(np.array(Image.open(p).convert("RGB")).tobytes())`.
 */
const PIL_SHA256: Record<string, string> = {
  "test/images/01_test.tif": "c8d50e71e7dec0ff9f279ef3b5ca79d3ab52fc894a015c2ef4cc91a0e5aee8df",
  "test/images/02_test.tif": "7cd74d4ec2d79d0b2d4244218073f08a9d75dedac831cb8db2a8672a730c8d0e",
  "test/images/03_test.tif": "d21d884d7250b26dc277a32a4845557eda606d36e17a1bf7c389bcbd59a818b2",
  "test/images/04_test.tif": "631168376a10028d906a32a2683f8d8289882bd3be812ae49960b51e7c4eccec",
  "test/images/05_test.tif": "df26c9e70c6b7fbf27b7fe28c45586f2f88a8aad04e034349d6bd8fe7da3baf4",
  "test/images/06_test.tif": "d3db1eee81d50e38e4a94cf47fc5c7ec2ee7551a747777861dddbb994693e29a",
  "test/images/07_test.tif": "19f221aae9f7f8fb3ea51737dd9105fd7c9185d523d7847b1ed47fb67d43931b",
  "test/images/08_test.tif": "d8ef5d5bb97b73361e8b1c71d3552f7936d08712a91ee1d0234737e5b097b3b2",
  "test/images/09_test.tif": "be7ca3d1289e7510af698de7cdd28bdc9ec3c6943dd4e6263d3569415c01b1bf",
  "test/images/10_test.tif": "ad79a905cceca977ad8921bfa15596c57a28736125f9102b0be067e0bd5af073",
  "test/images/11_test.tif": "6278ec295049d04d649c1b21bc3b4f54f95a3e0eee1d23ddf0abf712d7c54c9b",
  "test/images/12_test.tif": "efe51ebae5888359e8c3666aa9945b71129a5b0cf28679993cf91440e443db0a",
  "test/images/13_test.tif": "29eb569d729df7baa15892b1699971eb5b8637494148ac801c0dcac849f497c6",
  "test/images/14_test.tif": "49e2e9690a8d563837bb2387d3a31387f6560b571d3f167b7384f2671f7c25f5",
  "test/images/15_test.tif": "747feb7a97a31eb6064d40c235e1a31617c4df3fa9b6bff92b4681f4725e8a33",
  "test/images/16_test.tif": "2a79b23dd5d99c915b12d3767027b4842cb75de851722617d3f90d9fc051ef50",
  "test/images/17_test.tif": "ff30cf3e19f5f873af8b620446c2f71525395472a158535ed782639fa08341d8",
  "test/images/18_test.tif": "827205e055cc2d69a5114655bbf0447032673adbb9f39977811ecd1822d3d8d4",
  "test/images/19_test.tif": "cc767c7314d2212467bc9a0708361ecbe42615ecfc99687e69c569439b074634",
  "test/images/20_test.tif": "ca6b94c74bffb5e6cfb07ebdfc0d89d0be230a5f6ded6aa4972895c4dee5ad86",
  "training/images/21_training.tif":
    "1f85335253132351be931aa365fc5095f8e0b5137351429e0b9829d6f07cc146",
  "training/images/22_training.tif":
    "550296a7663f8aa347797728092aea09e41ace57595cd91131d2ea7114bd5c06",
  "training/images/23_training.tif":
    "f7e9e936887918511a78bc5be2e6521035af7115af14af612c89b57a1709c9ae",
  "training/images/24_training.tif":
    "b3d148b34c738b79a45691dcc0fceeb83b0e1cd32a7c433bee0275b5e9eb9c60",
  "training/images/25_training.tif":
    "333e5dbe0fccde1e252bc45a49a6b7d5e92410a11b85a13e1b6fbfa8869ced5b",
  "training/images/26_training.tif":
    "fa446fb33a7d7eca95077bc6181be18a5792b57069052b47fece668650167b05",
  "training/images/27_training.tif":
    "211d24d9815a5ce35b700efffd2025796fac552e9fa93e061cd630bd25c5f515",
  "training/images/28_training.tif":
    "ddbb0df2b5487141d90048e8d042be65f845383069f51967ab5cead75593a9ee",
  "training/images/29_training.tif":
    "3eedb8d42267c3b9de10eb23ebac89b8ed14399bc9b8a802cfa25325b6029ffe",
  "training/images/30_training.tif":
    "9851ff7671490894c04ed7a485bc18043719e8c401889d9a3d4bf21a368e0f02",
  "training/images/31_training.tif":
    "29e7405a17ffab1e4b394f7f89264700f015837e900cafa603aa59a0fb18733b",
  "training/images/32_training.tif":
    "de2a2e87eea7ac8ea75be9dda1958700d606f4fa6d136fe8b5c13313707f6157",
  "training/images/33_training.tif":
    "e8891dcf058a164f36bd7bfad92214b66efbe0f3948e6473683dd199dd4672f9",
  "training/images/34_training.tif":
    "673b1ea4350c0c79a5a8b47b37ee7abc73ad6ba89567e0d063134110bfb0a40c",
  "training/images/35_training.tif":
    "7dbc26777b4b735f82919a497e1ce9ad53c82853681fb27799907fa14e8e7a76",
  "training/images/36_training.tif":
    "3abc8634b23bbcb53a28df87b91585d9143bff71701b619a715fd76cac2d089d",
  "training/images/37_training.tif":
    "bfea22f51645b123c49f96e2031b1e738f6f75d75694cd2457b750f236fab551",
  "training/images/38_training.tif":
    "1415f13106b7592f2525268f1ebc2be91b886f1dc6e81eeda13b3e398309083e",
  "training/images/39_training.tif":
    "854444034e316ab2dbbc7843f4b75a44d0724142c58f834bbb524ad80362aa0a",
  "training/images/40_training.tif":
    "57cecd917edfdd80a751614e72f08db829c7e55bfba8df0805da330848bb573f",
};

async function sha256(values: Float32Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", Uint8Array.from(values));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function pixel(raster: Raster, x: number, y: number): number[] {
  const at = (y * raster.width + x) * raster.channels;
  return Array.from(raster.data.subarray(at, at + raster.channels));
}

function distinct(raster: Raster): number[] {
  return [...new Set(raster.data)].sort((a, b) => a - b);
}

async function tempFile(bytes: Uint8Array, suffix: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "capillary_read_image_", suffix });
  await Deno.writeFile(path, bytes);
  return path;
}

Deno.test("readImage() decodes all 40 DRIVE TIFFs to 565x584x3 exactly as Pillow does", async () => {
  const names = Object.keys(PIL_SHA256);
  assertEquals(names.length, 40);
  for (const name of names) {
    const raster = await readImage(DRIVE + name);
    assertEquals([raster.width, raster.height, raster.channels], [565, 584, 3], name);
    assertEquals(raster.data.length, 565 * 584 * 3, name);
    assertEquals(await sha256(raster.data), PIL_SHA256[name], name);
  }
});

Deno.test("readImage() gives 21_training.tif the RGB values Pillow reads at sample pixels", async () => {
  // Values from Debian's Pillow 9.4: np.array(Image.open(path))[y, x].
  const raster = await readImage(DRIVE + "training/images/21_training.tif");
  assertEquals(raster.data instanceof Float32Array, true);
  assertEquals(pixel(raster, 0, 0), [0, 0, 0]);
  assertEquals(pixel(raster, 282, 292), [199, 110, 66]);
  assertEquals(pixel(raster, 100, 300), [245, 149, 89]);
  assertEquals(pixel(raster, 400, 150), [170, 106, 71]);
  assertEquals(pixel(raster, 300, 50), [177, 115, 76]);
  assertEquals(pixel(raster, 564, 583), [1, 1, 1]);
});

Deno.test("readImage() decodes a 1st_manual GIF to one channel of only 0 and 255", async () => {
  const raster = await readImage(DRIVE + "training/1st_manual/21_manual1.gif");
  assertEquals([raster.width, raster.height, raster.channels], [565, 584, 1]);
  assertEquals(distinct(raster), [0, 255]);
  // Vessel pixel count from Pillow.
  assertEquals(raster.data.filter((v) => v === 255).length, 24658);
});

Deno.test("readImage() decodes a FOV mask GIF to one channel of only 0 and 255", async () => {
  const raster = await readImage(DRIVE + "training/mask/21_training_mask.gif");
  assertEquals([raster.width, raster.height, raster.channels], [565, 584, 1]);
  assertEquals(distinct(raster), [0, 255]);
  assertEquals(raster.data.filter((v) => v === 255).length, 225600);
});

Deno.test("readImage() decodes a 2nd_manual GIF with a near-grey palette that binarises with > 127", async () => {
  const raster = await readImage(DRIVE + "test/2nd_manual/01_manual2.gif");
  // The palette is (4, 2, 4) and (252, 254, 252): not R = G = B, so 3 channels.
  assertEquals([raster.width, raster.height, raster.channels], [565, 584, 3]);
  assertEquals(distinct(raster), [2, 4, 252, 254]);
  let vessels = 0;
  for (let p = 0; p < raster.width * raster.height; p++) {
    const [r, g, b] = pixel(raster, p % raster.width, Math.floor(p / raster.width));
    assertEquals(r > 127, g > 127);
    assertEquals(r > 127, b > 127);
    if (r > 127) vessels++;
  }
  assertEquals(vessels, 28848); // From Pillow.
});

Deno.test("decodeImage() detects the format by magic bytes, not by the name", async () => {
  const gif = await Deno.readFile(DRIVE + "training/mask/21_training_mask.gif");
  const raster = await decodeImage(gif, "mask.tif");
  assertEquals([raster.width, raster.height, raster.channels], [565, 584, 1]);
});

Deno.test("decodeImage() decodes PNG and JPEG through imagescript, dropping alpha", async () => {
  const image = new Image(3, 2);
  image.bitmap.set([
    [255, 0, 0, 128],
    [0, 255, 0, 255],
    [0, 0, 255, 0],
    [10, 20, 30, 255],
    [40, 50, 60, 255],
    [70, 80, 90, 255],
  ].flat());
  const png = await decodeImage(await image.encode(), "rgba.png");
  assertEquals([png.width, png.height, png.channels], [3, 2, 3]);
  assertEquals(pixel(png, 0, 0), [255, 0, 0]);
  assertEquals(pixel(png, 2, 1), [70, 80, 90]);
  const jpeg = await decodeImage(await new Image(16, 8).fill(0x808080ff).encodeJPEG(95), "x.jpg");
  assertEquals([jpeg.width, jpeg.height], [16, 8]);
  for (const v of jpeg.data) assertEquals(Math.abs(v - 128) <= 2, true);
});

Deno.test("readImage() throws DataError naming a missing file", async () => {
  const path = DRIVE + "training/images/99_training.tif";
  await assertRejects(
    () => readImage(path),
    DataError,
    `Cannot read image "${path}": file not found`,
  );
});

Deno.test("readImage() throws DataError naming a truncated TIFF", async () => {
  const bytes = await Deno.readFile(DRIVE + "training/images/21_training.tif");
  for (const length of [4, 8, 200, Math.floor(bytes.length / 2), bytes.length - 1]) {
    const path = await tempFile(bytes.slice(0, length), ".tif");
    try {
      const error = await assertRejects(() => readImage(path), DataError, `"${path}"`);
      assertEquals(error.message.includes("truncated"), true, error.message);
    } finally {
      await Deno.remove(path);
    }
  }
});

Deno.test("decodeImage() reads a big-endian TIFF with pixels after its directory, and rejects it cut short", async () => {
  // UTIF's encoder writes big-endian, uncompressed RGBA, directory first, pixels at byte 1000.
  const rgba = new Uint8Array(4 * 6 * 4).map((_, i) => (i * 7) % 256);
  const tif = new Uint8Array(UTIF.encodeImage(rgba, 4, 6));
  assertEquals(Array.from(tif.subarray(0, 4)), [0x4d, 0x4d, 0x00, 0x2a]);
  const raster = await decodeImage(tif, "be.tif");
  assertEquals([raster.width, raster.height, raster.channels], [4, 6, 3]);
  assertEquals(pixel(raster, 1, 0), [28, 35, 42]);
  await assertRejects(
    () => decodeImage(tif.slice(0, tif.length - 10), "be.tif"),
    DataError,
    `Cannot read image "be.tif": TIFF is truncated`,
  );
});

Deno.test("readImage() throws DataError naming truncated GIF and PNG files", async () => {
  const gif = await Deno.readFile(DRIVE + "training/1st_manual/21_manual1.gif");
  const png = await new Image(64, 64).fill(0x336699ff).encode();
  for (
    const [bytes, suffix] of [[gif.slice(0, 300), ".gif"], [png.slice(0, 60), ".png"]] as const
  ) {
    const path = await tempFile(bytes, suffix);
    try {
      await assertRejects(() => readImage(path), DataError, `Cannot read image "${path}"`);
    } finally {
      await Deno.remove(path);
    }
  }
});

Deno.test("readImage() throws DataError for random bytes, listing the supported formats", async () => {
  const bytes = new Uint8Array(4096);
  crypto.getRandomValues(bytes);
  bytes[0] = 0x00; // No format starts with a zero byte.
  const path = await tempFile(bytes, ".tif");
  try {
    await assertRejects(
      () => readImage(path),
      DataError,
      `Cannot read image "${path}": unsupported format`,
    );
    await assertRejects(() => readImage(path), DataError, "TIFF, PNG, JPEG, GIF and PGM/PPM");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("decodeImage() throws DataError for an empty file and for a corrupt TIFF body", async () => {
  await assertRejects(
    () => decodeImage(new Uint8Array(0), "empty.tif"),
    DataError,
    `Cannot read image "empty.tif": file is empty`,
  );
  const junk = new Uint8Array(1024).fill(0xff);
  junk.set([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]);
  await assertRejects(() => decodeImage(junk, "junk.tif"), DataError, `"junk.tif"`);
});

Deno.test("decodeImage() reads a PNG written by encodeGrayPng() as one channel", async () => {
  const data = new Float32Array([0, 0.5, 1, 0.25]);
  const raster = await decodeImage(
    encodeGrayPng({ width: 2, height: 2, channels: 1, data }),
    "g.png",
  );
  assertEquals([raster.width, raster.height, raster.channels], [2, 2, 1]);
  assertEquals(Array.from(raster.data), [0, 128, 255, 64]);
});

/**
 * An uncompressed one-strip TIFF of 16-bit samples (8-bit with `bits: 8`),
 * built byte by byte: header, one directory (sorted tags), BitsPerSample's
 * array, the pixels.
 */
function tiff16(options: {
  bits?: 8 | 16;
  le: boolean;
  width: number;
  height: number;
  spp: number;
  photometric: number;
  samples: number[];
  extraSamples?: number;
  sampleFormat?: number;
}): Uint8Array {
  const { le, width, height, spp, photometric, samples } = options;
  const bits = options.bits ?? 16, bytes = bits / 8;
  const entries: [number, number, number, number[]][] = [
    [256, 4, 1, [width]],
    [257, 4, 1, [height]],
    [258, 3, spp, Array(spp).fill(bits)],
    [259, 3, 1, [1]],
    [262, 3, 1, [photometric]],
    [273, 4, 1, [0]], // patched below
    [277, 3, 1, [spp]],
    [278, 4, 1, [height]],
    [279, 4, 1, [samples.length * bytes]],
  ];
  if (options.extraSamples !== undefined) entries.push([338, 3, 1, [options.extraSamples]]);
  if (options.sampleFormat !== undefined) entries.push([339, 3, 1, [options.sampleFormat]]);
  const ifdEnd = 8 + 2 + 12 * entries.length + 4;
  const bpsAt = ifdEnd, pixelsAt = ifdEnd + (spp > 2 ? 2 * spp : 0);
  entries[5][3] = [pixelsAt];
  const out = new Uint8Array(pixelsAt + samples.length * bytes);
  const view = new DataView(out.buffer);
  out.set(le ? [0x49, 0x49, 42, 0] : [0x4d, 0x4d, 0, 42]);
  view.setUint32(4, 8, le);
  view.setUint16(8, entries.length, le);
  entries.forEach(([tag, type, count, values], k) => {
    const at = 10 + 12 * k;
    view.setUint16(at, tag, le);
    view.setUint16(at + 2, type, le);
    view.setUint32(at + 4, count, le);
    if (type === 4) view.setUint32(at + 8, values[0], le);
    else if (count <= 2) values.forEach((v, i) => view.setUint16(at + 8 + 2 * i, v, le));
    else {
      view.setUint32(at + 8, bpsAt, le);
      values.forEach((v, i) => view.setUint16(bpsAt + 2 * i, v, le));
    }
  });
  samples.forEach((v, i) =>
    bits === 16 ? view.setUint16(pixelsAt + 2 * i, v, le) : view.setUint8(pixelsAt + i, v)
  );
  return out;
}

/** A 16-bit sample on the rasters' 0..255 scale, as float32: `v · 255 / 65535`. */
const scaled16 = (v: number) => Math.fround((v * 255) / 65535);

Deno.test("a 16-bit grey TIFF ramp 0..4032 keeps all its 64 levels at full precision", async () => {
  const ramp = Array.from({ length: 64 }, (_, i) => i * 64);
  const tif = tiff16({ le: true, width: 64, height: 1, spp: 1, photometric: 1, samples: ramp });
  const raster = await decodeImage(tif, "ramp16.tif");
  assertEquals([raster.width, raster.height, raster.channels, raster.maxValue], [64, 1, 1, 65535]);
  assertEquals(distinct(raster).length, 64);
  assertEquals(Array.from(raster.data), ramp.map(scaled16));
  assertEquals(Math.abs(raster.data[63] - 15.6887159) < 1e-5, true); // 4032 · 255 / 65535
});

Deno.test("0..252 in a big-endian 16-bit TIFF reads as small nonzero values, not black", async () => {
  const low = Array.from({ length: 64 }, (_, i) => i * 4);
  const tif = tiff16({ le: false, width: 8, height: 8, spp: 1, photometric: 1, samples: low });
  const raster = await decodeImage(tif, "ramp16_low.tif");
  assertEquals(Array.from(raster.data), low.map(scaled16));
  assertEquals(Math.abs(raster.data[1] - 0.0155642) < 1e-6, true); // 4 · 255 / 65535
  assertEquals(raster.data.slice(1).every((v) => v > 0), true);
});

Deno.test("16-bit RGBA and WhiteIsZero TIFFs decode at full precision, alpha apart", async () => {
  const rgba = tiff16({
    le: true,
    width: 2,
    height: 1,
    spp: 4,
    photometric: 2,
    extraSamples: 2, // unassociated alpha
    samples: [65535, 1, 0, 65535, 300, 300, 300, 0],
  });
  const decoded = await decodeImageWithAlpha(rgba, "rgba16.tif");
  assertEquals(decoded.raster.channels, 3);
  assertEquals(Array.from(decoded.raster.data), [65535, 1, 0, 300, 300, 300].map(scaled16));
  assertEquals(Array.from(decoded.alpha!), [255, 0]);
  const white = tiff16({
    le: false,
    width: 2,
    height: 1,
    spp: 1,
    photometric: 0,
    samples: [0, 65535 - 1],
  });
  assertEquals(Array.from((await decodeImage(white, "wiz.tif")).data), [255, scaled16(1)]);
  await assertRejects(
    () =>
      decodeImage(
        tiff16({
          le: true,
          width: 1,
          height: 1,
          spp: 1,
          photometric: 1,
          sampleFormat: 2,
          samples: [5],
        }),
        "signed.tif",
      ),
    DataError,
    'Cannot read image "signed.tif": 16-bit TIFF with sample format 2',
  );
});

Deno.test("decodeImageWithAlpha() keeps an 8-bit PNG's alpha, and gives none for opaque files", async () => {
  const image = new Image(3, 1);
  image.bitmap.set([[255, 255, 255, 0], [255, 0, 0, 255], [0, 0, 0, 128]].flat());
  const { raster, alpha } = await decodeImageWithAlpha(await image.encode(), "rgba.png");
  assertEquals([raster.channels, raster.maxValue], [3, 255]);
  assertEquals(Array.from(raster.data), [255, 255, 255, 255, 0, 0, 0, 0, 0]);
  assertEquals(Array.from(alpha!), [0, 255, 128]);
  const opaque = await decodeImageWithAlpha(
    await new Image(2, 2).fill(0x336699ff).encode(),
    "o.png",
  );
  assertEquals(opaque.alpha, undefined);
  const gif = await readImageWithAlpha(DRIVE + "training/1st_manual/21_manual1.gif");
  assertEquals([gif.raster.maxValue, gif.alpha], [255, undefined]);
});

Deno.test("every decoder sets maxValue: 255 for 8-bit files, a PGM's maxval", async () => {
  const tif = await readImage(DRIVE + "training/images/21_training.tif");
  assertEquals(tif.maxValue, 255);
  const pgm = new TextEncoder().encode("P2\n2 1\n4095\n0 4095\n");
  const raster = await decodeImage(pgm, "12bit.pgm");
  assertEquals([raster.maxValue, ...raster.data], [4095, 0, 255]);
});

Deno.test("8-bit grey+alpha TIFFs keep their alpha, in either byte order, WhiteIsZero too", async () => {
  // UTIF's toRGBA8 drops a grey image's alpha sample (and reads WhiteIsZero's samples out of step).
  for (const le of [true, false]) {
    const tif = tiff16({
      bits: 8,
      le,
      width: 3,
      height: 1,
      spp: 2,
      photometric: 1,
      extraSamples: 2,
      samples: [255, 0, 255, 255, 7, 128],
    });
    const { raster, alpha } = await decodeImageWithAlpha(tif, "ga8.tif");
    assertEquals([raster.width, raster.height, raster.channels, raster.maxValue], [3, 1, 1, 255]);
    assertEquals(Array.from(raster.data), [255, 255, 7]);
    assertEquals(Array.from(alpha!), [0, 255, 128]);
  }
  const white = tiff16({
    bits: 8,
    le: true,
    width: 3,
    height: 1,
    spp: 2,
    photometric: 0,
    extraSamples: 1,
    samples: [0, 255, 255, 0, 200, 255],
  });
  const decoded = await decodeImageWithAlpha(white, "wiz_ga8.tif");
  assertEquals(Array.from(decoded.raster.data), [255, 0, 55]);
  assertEquals(Array.from(decoded.alpha!), [255, 0, 255]);
  // Opaque everywhere: no alpha, as for other files.
  const opaque = tiff16({
    bits: 8,
    le: true,
    width: 2,
    height: 1,
    spp: 2,
    photometric: 1,
    samples: [10, 255, 20, 255],
  });
  const o = await decodeImageWithAlpha(opaque, "opaque_ga8.tif");
  assertEquals([Array.from(o.raster.data), o.alpha], [[10, 20], undefined]);
});

Deno.test("8-bit RGBA TIFFs keep their alpha; an extra sample marked as not alpha is dropped", async () => {
  const rgba = (extraSamples: number) =>
    tiff16({
      bits: 8,
      le: false,
      width: 2,
      height: 1,
      spp: 4,
      photometric: 2,
      extraSamples,
      samples: [255, 0, 0, 255, 1, 2, 3, 0],
    });
  for (const extra of [1, 2]) {
    const { raster, alpha } = await decodeImageWithAlpha(rgba(extra), "rgba8.tif");
    assertEquals(raster.channels, 3);
    assertEquals(Array.from(raster.data), [255, 0, 0, 1, 2, 3]);
    assertEquals(Array.from(alpha!), [255, 0]);
  }
  const unspecified = await decodeImageWithAlpha(rgba(0), "rgbx8.tif");
  assertEquals([Array.from(unspecified.raster.data), unspecified.alpha], [
    [255, 0, 0, 1, 2, 3],
    undefined,
  ]);
});

/**
 * A cache of loaded and preprocessed data, so a second run of the same data
 * and options skips decoding and preprocessing. The key is the SHA-256 of
 * the load and preprocess stages (ids, plugin versions, resolved options),
 * the engine version and the content of every file the load stage reads
 * (its `fingerprint` hook lists them). Entries are written atomically.
 *
 * @module
 */
import type { Raster, Sample, SegmentationData } from "../data.ts";
import { join } from "../path.ts";
import type { ResolvedStage } from "../recipe/validate.ts";
import { VERSION } from "../version.ts";
import { writeFileAtomic } from "./run_folder.ts";

/** Where entries go: `CAPILLARY_CACHE`, else `.cache/capillary` under the working folder. */
export function dataCacheDir(): string {
  return Deno.env.get("CAPILLARY_CACHE") || join(".cache", "capillary");
}

/** The SHA-256 of `bytes`, as lower-case hex (the cache's keys, the run's data digests). */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The cache key of the data `stages` produce from `files`.
 *
 * @param stages The load stage, then the preprocess stages, in order.
 * @param files What the load stage reads (its fingerprint).
 * @returns The key; undefined when a file cannot be read, so that the load
 * stage runs and says what is wrong with it in its own words.
 */
export async function dataCacheKey(
  stages: readonly ResolvedStage[],
  files: readonly string[],
): Promise<string | undefined> {
  const contents = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch {
      return undefined;
    }
    contents.push([file, await sha256(bytes)]);
  }
  const description = {
    engine: VERSION,
    // Raised when what a loader makes of the same files changes without a version change
    // (2: 16-bit samples kept whole, masks' alpha and label-map rules; 3: "auto" at half a
    // mask's largest value, FOV masks always "auto"; 4: palette masks by index), so old entries
    // go unused.
    revision: 4,
    stages: stages.map((s) => ({
      id: s.id,
      version: s.registered.plugin.version,
      options: s.options,
    })),
    files: contents,
  };
  return await sha256(new TextEncoder().encode(JSON.stringify(description)));
}

interface RasterRecord {
  width: number;
  height: number;
  channels: number;
  offset: number;
}

/**
 * Serialises data as a JSON header (sample ids, sources and raster shapes)
 * and the rasters' float32 values, 4-byte aligned.
 */
export function encodeData(data: SegmentationData): Uint8Array {
  const rasters: Raster[] = [];
  let floats = 0;
  const record = (r: Raster): RasterRecord => {
    rasters.push(r);
    const out = { width: r.width, height: r.height, channels: r.channels, offset: floats };
    floats += r.data.length;
    return out;
  };
  const describe = (s: Sample) => ({
    id: s.id,
    source: s.source,
    image: record(s.image),
    mask: record(s.mask),
    roi: record(s.roi),
    extra: s.extra
      ? Object.fromEntries(Object.entries(s.extra).map(([k, r]) => [k, record(r)]))
      : undefined,
  });
  const header = new TextEncoder().encode(JSON.stringify({
    name: data.name,
    train: data.train.map(describe),
    test: data.test.map(describe),
  }));
  const headerBytes = Math.ceil((4 + header.length) / 4) * 4;
  const out = new Uint8Array(headerBytes + floats * 4);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  const values = new Float32Array(out.buffer, headerBytes, floats);
  let at = 0;
  for (const r of rasters) {
    values.set(r.data, at);
    at += r.data.length;
  }
  return out;
}

/** The inverse of {@link encodeData}. */
export function decodeData(bytes: Uint8Array): SegmentationData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  const headerBytes = Math.ceil((4 + length) / 4) * 4;
  const values = new Float32Array(
    bytes.slice(headerBytes).buffer,
  );
  const raster = (r: RasterRecord): Raster => ({
    width: r.width,
    height: r.height,
    channels: r.channels,
    data: values.subarray(r.offset, r.offset + r.width * r.height * r.channels),
  });
  const sample = (s: {
    id: string;
    source?: string;
    image: RasterRecord;
    mask: RasterRecord;
    roi: RasterRecord;
    extra?: Record<string, RasterRecord>;
  }): Sample => ({
    id: s.id,
    ...(s.source !== undefined ? { source: s.source } : {}),
    image: raster(s.image),
    mask: raster(s.mask),
    roi: raster(s.roi),
    ...(s.extra
      ? { extra: Object.fromEntries(Object.entries(s.extra).map(([k, r]) => [k, raster(r)])) }
      : {}),
  });
  return { name: header.name, train: header.train.map(sample), test: header.test.map(sample) };
}

/**
 * Reads the entry for `key`, if there is a readable one: a missing, truncated
 * or corrupt entry is a miss (the run recomputes and rewrites it).
 */
export async function readCachedData(key: string): Promise<SegmentationData | undefined> {
  try {
    return decodeData(await Deno.readFile(join(dataCacheDir(), `${key}.bin`)));
  } catch {
    return undefined;
  }
}

/**
 * Writes the entry for `key` atomically, with the warning lines its stages
 * printed (`<key>.warnings.json`, written first: an entry's data is never
 * there without them).
 */
export async function writeCachedData(
  key: string,
  data: SegmentationData,
  warnings: readonly string[] = [],
): Promise<void> {
  const dir = dataCacheDir();
  if (warnings.length) {
    await writeFileAtomic(join(dir, `${key}.warnings.json`), JSON.stringify(warnings));
  }
  await writeFileAtomic(join(dir, `${key}.bin`), encodeData(data));
}

/** The warning lines the stages printed when they made the entry for `key` (none if unreadable). */
export async function readCachedWarnings(key: string): Promise<string[]> {
  try {
    const lines = JSON.parse(await Deno.readTextFile(join(dataCacheDir(), `${key}.warnings.json`)));
    return Array.isArray(lines) ? lines.filter((l): l is string => typeof l === "string") : [];
  } catch {
    return [];
  }
}

/**
 * A cache of loaded and preprocessed data, so a second run of the same data
 * and options skips decoding and preprocessing. The key is the SHA-256 of
 * the load and preprocess stages (ids, plugin versions, resolved options,
 * where a plugin that is not built in came from and, for a local one, its
 * source: {@link pluginSource}), the engine version and the content of every
 * file the load stage reads (its `fingerprint` hook lists them). Data that
 * the stages made with their `context.random` is kept under a key that adds
 * the recipe's seed ({@link seededKey}), so only a run with that seed gets it
 * back; data made without it serves every seed. Entries are written
 * atomically and end with the SHA-256 of what precedes it, checked on every
 * read: a truncated or damaged entry is said and recomputed.
 *
 * @module
 */
import type { Raster, Sample, SegmentationData } from "../data.ts";
import { dirname, join, resolve } from "../path.ts";
import type { ResolvedStage } from "../recipe/validate.ts";
import { BUILT_IN } from "../registry.ts";
import { VERSION } from "../version.ts";
import { type PluginSource, pluginSource } from "./plugin_source.ts";
import { removeStalePartials, writeFileAtomic } from "./run_folder.ts";
import { sha256 } from "./sha256.ts";

/** Where entries go: `CAPILLARY_CACHE`, else `.cache/capillary` under the working folder. */
export function dataCacheDir(): string {
  return Deno.env.get("CAPILLARY_CACHE") || join(".cache", "capillary");
}

/**
 * The cache key of the data `stages` produce from `files`.
 *
 * @param stages The load stage, then the preprocess stages, in order.
 * @param files What the load stage reads (its fingerprint).
 * @param recipeFile The recipe file, whose folder a plugin path is relative to
 * (as when the recipe loaded its plugins); the working folder when absent.
 * @returns The key; undefined when a file, or a local plugin's module, cannot
 * be read, so that the load stage runs and says what is wrong with it in its
 * own words.
 */
export async function dataCacheKey(
  stages: readonly ResolvedStage[],
  files: readonly string[],
  recipeFile?: string,
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
  const pluginDir = dirname(resolve(recipeFile ?? join(".", "recipe.yaml")));
  const sources = new Map<string, Promise<PluginSource | undefined>>();
  const described = [];
  for (const s of stages) {
    const origin = s.registered.origin;
    let source: PluginSource | undefined;
    if (origin && origin !== BUILT_IN) {
      if (!sources.has(origin)) sources.set(origin, pluginSource(origin, pluginDir));
      source = await sources.get(origin);
      if (!source) return undefined;
    }
    described.push({
      id: s.id,
      version: s.registered.plugin.version,
      options: s.options,
      // Absent for the built-in plugins (the engine version and the revision cover them), so
      // their entries stay as they were.
      ...(source ? { source } : {}),
    });
  }
  const description = {
    engine: VERSION,
    // Raised when what a loader makes of the same files changes without a version change
    // (2: 16-bit samples kept whole, masks' alpha and label-map rules; 3: "auto" at half a
    // mask's largest value, FOV masks always "auto"; 4: palette masks by index; 5: entries end
    // with their checksum, so one written before is not taken for a damaged one), so old
    // entries go unused.
    revision: 5,
    stages: described,
    files: contents,
  };
  return await sha256(new TextEncoder().encode(JSON.stringify(description)));
}

/**
 * The key of the entry for data that stages made with their random
 * generators, in a run seeded with `seed`: only a run with that seed finds it.
 *
 * @param key The data's key ({@link dataCacheKey}).
 * @param seed The recipe's seed.
 */
export async function seededKey(key: string, seed: number): Promise<string> {
  return await sha256(new TextEncoder().encode(`${key} seed ${seed}`));
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
  return encodeInto(data, 0);
}

/** {@link encodeData}, with `spare` zero bytes after the values (for an entry's seal). */
function encodeInto(data: SegmentationData, spare: number): Uint8Array {
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
  const out = new Uint8Array(headerBytes + floats * 4 + spare);
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

/** The inverse of {@link encodeData}; the rasters view `bytes` where it is 4-byte aligned. */
export function decodeData(bytes: Uint8Array): SegmentationData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  if (4 + length > bytes.length) {
    throw new Error(`its header needs ${4 + length} bytes and it has ${bytes.length}`);
  }
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  const headerBytes = Math.ceil((4 + length) / 4) * 4;
  // Every raster's values must be there: a short entry is refused, not read as fewer values.
  let floats = 0;
  for (const s of [...header.train, ...header.test]) {
    for (const r of [s.image, s.mask, s.roi, ...Object.values(s.extra ?? {})] as RasterRecord[]) {
      floats = Math.max(floats, r.offset + r.width * r.height * r.channels);
    }
  }
  if (bytes.length !== headerBytes + floats * 4) {
    throw new Error(
      `its header describes ${headerBytes + floats * 4} bytes and it has ${bytes.length}`,
    );
  }
  // A view where the values are 4-byte aligned in memory (as a file read gives them), else a copy.
  const values = (bytes.byteOffset + headerBytes) % 4 === 0
    ? new Float32Array(bytes.buffer, bytes.byteOffset + headerBytes, floats)
    : new Float32Array(bytes.slice(headerBytes).buffer);
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

/** What ends an entry: the SHA-256 of all that precedes it, then these 8 bytes. */
const SEAL = new TextEncoder().encode("CAPSHA01");
const SEAL_BYTES = 32 + SEAL.length;

/** The path of the entry for `key`. */
export function dataCachePath(key: string): string {
  return join(dataCacheDir(), `${key}.bin`);
}

/**
 * The data in an entry's bytes, checked: its length and its checksum.
 *
 * @throws {Error} Saying what is wrong (truncated, checksum mismatch, bad header).
 */
async function openEntry(bytes: Uint8Array): Promise<SegmentationData> {
  const end = bytes.length - SEAL.length;
  if (end < 32 || SEAL.some((b, i) => bytes[end + i] !== b)) {
    throw new Error(
      `it does not end with its checksum (${bytes.length} bytes: truncated, or written by an ` +
        "earlier Capillary)",
    );
  }
  const payload = bytes.subarray(0, end - 32);
  const stored = [...bytes.subarray(end - 32, end)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  if (await sha256(payload) !== stored) {
    throw new Error(`its content does not match its SHA-256 (${bytes.length} bytes: damaged)`);
  }
  return decodeData(payload);
}

/**
 * Reads the entry for `key`, if there is a sound one: a missing entry is a
 * miss; a truncated or damaged one (its length or SHA-256 wrong) is a miss
 * that `warn` is told of, and it is removed, so that the run recomputes and
 * rewrites it.
 *
 * @param key The entry's key.
 * @param warn Told of a damaged entry, naming it (without "warning: ").
 */
export async function readCachedData(
  key: string,
  warn: (line: string) => void = () => {},
): Promise<SegmentationData | undefined> {
  const path = dataCachePath(key);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return undefined;
  }
  try {
    return await openEntry(bytes);
  } catch (error) {
    warn(
      `the preprocessing cache entry ${path} is unusable: ${
        (error as Error)?.message ?? String(error)
      }; recomputing it (the entry is rewritten)`,
    );
    await Deno.remove(path).catch(() => {});
    return undefined;
  }
}

/**
 * The entry for data with key `key` in a run seeded with `seed`: the one
 * made without randomness (any seed's), else the one made with randomness
 * under `seed` ({@link seededKey}).
 *
 * @param warn Told of a damaged entry ({@link readCachedData}).
 * @returns The data and the key of the entry it came from (for its warnings).
 */
export async function readCachedEntry(
  key: string,
  seed: number,
  warn?: (line: string) => void,
): Promise<{ data: SegmentationData; key: string } | undefined> {
  for (const entry of [key, await seededKey(key, seed)]) {
    const data = await readCachedData(entry, warn);
    if (data) return { data, key: entry };
  }
  return undefined;
}

/**
 * Writes the entry for `key` atomically, sealed with its SHA-256, with the
 * warning lines its stages printed (`<key>.warnings.json`, written first: an
 * entry's data is never there without them). Temporary files that killed
 * processes left in the cache folder are removed first.
 *
 * @throws {Error} The OS's error when the folder cannot be written ({@link unwritableCache}
 * says it).
 */
export async function writeCachedData(
  key: string,
  data: SegmentationData,
  warnings: readonly string[] = [],
): Promise<void> {
  const dir = dataCacheDir();
  await removeStalePartials(dir);
  if (warnings.length) {
    await writeFileAtomic(join(dir, `${key}.warnings.json`), JSON.stringify(warnings));
  }
  const bytes = encodeInto(data, SEAL_BYTES);
  const end = bytes.length - SEAL.length;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes.subarray(0, end - 32) as Uint8Array<ArrayBuffer>,
  );
  bytes.set(new Uint8Array(digest), end - 32);
  bytes.set(SEAL, end);
  await writeFileAtomic(join(dir, `${key}.bin`), bytes);
}

/**
 * The warning for a cache that could not be written (a read-only folder,
 * `CAPILLARY_CACHE` naming a file): the folder, the OS's reason and what to
 * do; the run goes on without caching.
 *
 * @example Usage
 * ```ts
 * import { unwritableCache } from "./data_cache.ts";
 * const line = unwritableCache(new Error("Permission denied (os error 13): mkdir 'x'"));
 * console.assert(line.includes("Permission denied (os error 13)") && line.includes("--no-cache"));
 * ```
 */
export function unwritableCache(error: unknown): string {
  const dir = dataCacheDir();
  let reason = ((error as Error)?.message ?? String(error)).replace(/: \w+ '.*'$/s, "");
  try {
    if (!Deno.statSync(dir).isDirectory) reason = "it is a file";
  } catch {
    // missing, or not to be looked at: the OS's reason stands
  }
  return `cannot write the preprocessing cache in "${
    resolve(dir)
  }" (${reason}); going on without caching the data. Set CAPILLARY_CACHE to a folder you can ` +
    "write, or pass --no-cache";
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

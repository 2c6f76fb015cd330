/**
 * Listing a folder data set's files by patterns with one `{id}`: which
 * files are samples, which are their masks (also beside the images), which
 * are missing, and which no pattern takes. `core/folder` reads what this
 * lists.
 *
 * @module
 */
import { DataError } from "../../../mod.ts";
import type { SampleFiles } from "./paired_sample.ts";
import { basename, dirname, join } from "node:path";

/** The placeholder of the sample's id in a pattern. */
export const ID = "{id}";

/** One split's file-name patterns, relative to the data folder (`core/folder`'s `train`, `test`). */
export interface SplitPatterns {
  /** The images, e.g. `train/{id}.png`. */
  readonly images: string;
  /** The truth masks, e.g. `train/{id}_mask.png`. */
  readonly masks: string;
  /** The FOV masks, `"estimate"`, or null (the whole image). */
  readonly fov: string | null;
}

function regexOf(fileName: string): RegExp {
  const [before, after] = fileName.split(ID).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${before}(.+)${after}$`);
}

/** A file a split's patterns may have been meant to take (see {@link SplitListing}). */
export interface CandidateFile {
  /** The file's path. */
  readonly path: string;
  /** Its folder. */
  readonly folder: string;
  /** Its name in the folder. */
  readonly name: string;
  /** The folder's role in the split. */
  readonly role: "images" | "masks" | "FOV masks";
  /** What it may be, where that is known (a mask whose image is missing). */
  readonly note?: string;
}

/** One split's files as its patterns take them (see {@link listSplit}). */
export interface SplitListing {
  /** The samples after the split's limit, with their files. */
  readonly files: SampleFiles[];
  /**
   * The files the patterns could have been meant to take: every file in the
   * image folder but hidden ones (`.DS_Store`), and the files a mask or FOV
   * pattern of another folder matches.
   */
  readonly candidates: readonly CandidateFile[];
  /** The paths the split takes: the image, mask and FOV mask of every id, within the limit or not. */
  readonly taken: ReadonlySet<string>;
}

/**
 * Lists one split's samples and their files, checking that every pair exists.
 *
 * Masks kept beside the images (`train/{id}.png` with `train/{id}_mask.png`,
 * or `train/{id}_img.png` with `train/{id}.png`) can match the image pattern
 * too. The rule: a file the image pattern matches is a mask, not an image,
 * when it is the mask (or FOV mask) file of an id whose image file is in the
 * folder. `scan_1_1.png` is the mask of `scan_1` (pattern `{id}_1.png`) when
 * `scan_1.png` is there; `scan_1.png` is not the mask of `scan` unless
 * `scan.png` is there; `c01_img.png` would be the mask of `c01_img` (pattern
 * `{id}.png`) only beside a `c01_img_img.png`. Where a name reads both ways
 * (`scan.png`, `scan_1.png` and `scan_1_1.png` all present), the mask reading
 * wins: `scan_1.png` is the mask of `scan`, and `scan_1_1.png`, whose image is
 * then no sample, is left out and reported with the other files no pattern
 * takes ({@link skippedFileLines}). A file that could be either an image
 * whose mask is missing or a mask whose image is missing is refused, the
 * error giving both readings.
 *
 * @param root The data folder.
 * @param split The split's patterns.
 * @param limit Keep only the first `limit` samples by id (null: all).
 * @returns The samples' files, and the files in their folders the patterns leave out.
 * @throws {DataError} On a missing folder, a pattern that matches no file, identical image and
 *   mask patterns, or a sample whose mask or FOV mask is missing.
 */
export async function listSplit(
  root: string,
  split: SplitPatterns,
  limit: number | null,
): Promise<SplitListing> {
  // join() normalises: "./train/{id}_mask.png" is in the folder of "train/{id}.png".
  const folder = join(root, dirname(split.images));
  const imagePattern = basename(split.images);
  const imageName = (id: string) => imagePattern.replace(ID, id);
  const match = regexOf(imagePattern);
  // The mask and FOV patterns whose files lie beside the images.
  const beside = [split.masks, split.fov]
    .filter((p): p is string =>
      p !== null && p !== "estimate" && join(root, dirname(p)) === folder
    );
  for (const p of beside) {
    if (basename(p) === imagePattern) {
      throw new DataError(
        `Cannot tell images from masks: "${p}" names the same files as the images pattern ` +
          `"${split.images}"; give the masks a pattern of their own (e.g. "${
            split.images.replace(ID, `{id}_mask`)
          }")`,
      );
    }
  }
  const besideMatchers = beside.map((p) => ({ pattern: p, regex: regexOf(basename(p)) }));
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isFile && !entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch {
    throw new DataError(
      `Cannot read folder "${folder}" (from the pattern "${split.images}"): it is missing`,
    );
  }
  names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const present = new Set(names);
  /** The ids whose mask file `name` would be, by pattern (at most one id per pattern). */
  const maskReadings = (name: string) =>
    besideMatchers.flatMap(({ pattern, regex }) => {
      const m = regex.exec(name);
      return m ? [{ pattern, id: m[1] }] : [];
    });
  const ids: string[] = [];
  for (const name of names) {
    const m = match.exec(name);
    if (m && !maskReadings(name).some((r) => present.has(imageName(r.id)))) ids.push(m[1]);
  }
  if (!ids.length) {
    const shown = names.slice(0, 5).map((n) => `"${n}"`).join(", ");
    throw new DataError(
      `Cannot load data: no file in "${folder}" matches "${imagePattern}" (` +
        (names.length
          ? `it holds ${names.length} file${names.length === 1 ? "" : "s"}: ${shown}` +
            `${names.length > 5 ? ", …" : ""}; fix the pattern, where {id} stands for the part ` +
            "that varies"
          : "it holds no file") +
        ")",
    );
  }
  // ids come in name order, which is not always id order ("a_img.png" < "a1_img.png").
  ids.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const patterns = [split.images, split.masks, split.fov]
    .filter((p): p is string => p !== null && p !== "estimate");
  const taken = new Set(ids.flatMap((id) => patterns.map((p) => join(root, p.replace(ID, id)))));
  const candidates: CandidateFile[] = names.map((name) => {
    const reading = taken.has(join(folder, name)) ? undefined : maskReadings(name)[0];
    const image = reading && imageName(reading.id);
    return {
      path: join(folder, name),
      folder,
      name,
      role: "images",
      ...(reading && {
        note: `mask of "${reading.id}" by "${reading.pattern}"; its image "${image}" ` +
          (present.has(image!) ? "is taken as a mask itself" : "is missing"),
      }),
    };
  });
  // Masks in folders of their own: those whose image is missing are candidates too. Other files
  // there (a second annotator's masks) are none of this split's business.
  const idSet = new Set(ids);
  for (const [role, pattern] of [["masks", split.masks], ["FOV masks", split.fov]] as const) {
    if (pattern === null || pattern === "estimate" || beside.includes(pattern)) continue;
    const maskFolder = join(root, dirname(pattern));
    const regex = regexOf(basename(pattern));
    try {
      for await (const entry of Deno.readDir(maskFolder)) {
        const m = entry.isFile ? regex.exec(entry.name) : null;
        if (!m || idSet.has(m[1])) continue;
        candidates.push({
          path: join(maskFolder, entry.name),
          folder: maskFolder,
          name: entry.name,
          role,
          note: `no image has its id "${m[1]}"`,
        });
      }
    } catch {
      // A missing folder: pairing the first sample below says so.
    }
  }
  const files: SampleFiles[] = [];
  for (const id of ids.slice(0, limit ?? undefined)) {
    const image = join(root, split.images.replace(ID, id));
    const masks: Record<string, string> = { mask: join(root, split.masks.replace(ID, id)) };
    if (split.fov && split.fov !== "estimate") masks.roi = join(root, split.fov.replace(ID, id));
    for (const [role, path] of Object.entries(masks)) {
      try {
        await Deno.stat(path);
      } catch {
        throw new DataError(
          `Cannot pair "${image}" with its ${role === "roi" ? "FOV mask" : "mask"}: "${path}" ` +
            `is missing${missingPairHint(split, ids, id, maskReadings(imageName(id))[0])}`,
        );
      }
    }
    files.push({ id, image, masks });
  }
  return { files, candidates, taken };
}

/**
 * What may be wrong when the image of `id` has no mask: its file is also the
 * mask file of another id whose image is missing, or its id is another id
 * plus a suffix ("21_fov" beside "21"; not "10" beside "1"), which is most
 * often a mask file the image pattern also takes.
 */
function missingPairHint(
  split: SplitPatterns,
  ids: readonly string[],
  id: string,
  maskReading: { pattern: string; id: string } | undefined,
): string {
  if (maskReading) {
    return `. Its name also reads as the mask ("${maskReading.pattern}") of "${maskReading.id}", ` +
      `whose image "${split.images.replace(ID, maskReading.id)}" is missing: if it is a mask, ` +
      "add its image or move it out of the folder; if it is an image, add its mask";
  }
  const base = ids.find((other) =>
    id.startsWith(other) && /^[^A-Za-z0-9]/.test(id.slice(other.length))
  );
  if (base === undefined) return "";
  const suffix = id.slice(base.length);
  const own = split.images.replace(ID, `{id}${suffix}`);
  return `. Its id "${id}" is the id "${base}" plus "${suffix}": if it is not an image but a ` +
    `mask of "${base}" (a FOV mask?), ` +
    (split.fov === null || split.fov === "estimate"
      ? `give those files their own pattern (e.g. fov: "${own}") or narrow the images pattern ` +
        `"${split.images}"`
      : `narrow the images pattern "${split.images}" so that it does not take "${own}"`);
}

/** Lists one split's samples and their files, checking that every pair exists ({@link listSplit}). */
export async function folderSplitFiles(
  root: string,
  split: SplitPatterns,
  limit: number | null,
): Promise<SampleFiles[]> {
  return (await listSplit(root, split, limit)).files;
}

/** How many skipped files a line names before "…". */
const SHOWN_SKIPPED = 5;

/**
 * One line per folder that holds files no pattern takes: in an image folder
 * any file (a `case02.PNG` or a `.jpg` among `{id}.png` images, a mask
 * beside the images whose image is missing), in a mask folder the masks whose
 * image is missing. How many and the first few, so that nothing is dropped
 * without a word. Files past a split's limit are taken, not skipped, and a
 * file one split leaves and the other takes (a folder both list) is taken.
 *
 * @param listings Each split's name (`training`, `test`) and listing.
 * @returns The lines, without a "warning: " prefix (empty when every file is taken).
 */
export function skippedFileLines(
  listings: readonly { readonly split: string; readonly listing: SplitListing }[],
): string[] {
  const taken = new Set(listings.flatMap(({ listing }) => [...listing.taken]));
  const seen = new Set<string>(); // a folder both splits list gives its files twice
  const skipped = new Map<string, { roles: Map<string, string[]>; files: CandidateFile[] }>();
  for (const { split, listing } of listings) {
    for (const file of listing.candidates) {
      const folder = skipped.get(file.folder) ??
        { roles: new Map<string, string[]>(), files: [] as CandidateFile[] };
      skipped.set(file.folder, folder);
      const splits = folder.roles.get(file.role) ?? [];
      if (!splits.includes(split)) folder.roles.set(file.role, [...splits, split]);
      if (!taken.has(file.path) && !seen.has(file.path)) folder.files.push(file);
      seen.add(file.path);
    }
  }
  const lines: string[] = [];
  for (const [folder, { roles, files }] of skipped) {
    if (!files.length) continue;
    files.sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
    const shown = files.slice(0, SHOWN_SKIPPED).map((f) =>
      `"${f.name}"${f.note ? ` (${f.note})` : ""}`
    );
    const whose = [...roles].map(([role, splits]) => `${splits.join(" and ")} ${role}`);
    const one = files.length === 1;
    lines.push(
      `${files.length} file${one ? "" : "s"} in "${folder}" (${whose.join(", ")}) ` +
        `${one ? "is" : "are"} taken by no pattern and left out: ${shown.join(", ")}` +
        `${files.length > SHOWN_SKIPPED ? ", …" : ""}` +
        (files.some((f) => f.note === undefined)
          ? " (patterns match file names exactly, case and extension included)"
          : ""),
    );
  }
  return lines;
}

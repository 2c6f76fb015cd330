/**
 * Listing a folder data set's files by patterns with one `{id}`, in the file
 * name (`train/{id}.png`) or in one folder name (`cases/{id}/image.png`):
 * which files are samples, which are their masks (also beside the images),
 * which are missing, and which no pattern takes. `core/folder` reads what
 * this lists.
 *
 * @module
 */
import { DataError } from "../../../mod.ts";
import { isFileEntry, isFolderEntry } from "./dir_entries.ts";
import type { SampleFiles } from "./paired_sample.ts";
import { basename, dirname, join } from "node:path";
import {
  companionPattern,
  ID,
  type PatternParts,
  patternParts,
  regexOf,
  type SplitPatterns,
} from "./folder_patterns.ts";

/** The first few names, quoted, with "…" when there are more. */
function shown(names: readonly string[], count = 5): string {
  return names.slice(0, count).map((n) => `"${n}"`).join(", ") +
    (names.length > count ? ", …" : "");
}

/** The path patterns among a split's mask and FOV patterns. */
function maskPatterns(split: SplitPatterns): { role: "masks" | "FOV masks"; pattern: string }[] {
  return ([["masks", split.masks], ["FOV masks", split.fov]] as const).flatMap(([role, pattern]) =>
    pattern === null || pattern === "estimate" ? [] : [{ role, pattern }]
  );
}

async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile, () => false);
}

/** The case folders of a pattern with `{id}` in a folder name (see {@link caseFolders}). */
interface CaseFolders {
  /** The folders that match and hold the pattern's file, with their ids, in name order. */
  readonly found: { readonly id: string; readonly name: string }[];
  /** The folders that match but lack the file. */
  readonly lacking: { readonly id: string; readonly name: string }[];
  /** The other folders (hidden ones aside). */
  readonly others: string[];
  /** The files beside the folders (hidden ones aside). */
  readonly files: string[];
}

/**
 * The subfolders of `parent` whose names match `parts.name`, by whether the
 * file `parts.inside` is in them. Folders reached by a link count.
 *
 * @throws {Deno.errors.NotFound} When `parent` cannot be read.
 */
async function caseFolders(parent: string, parts: PatternParts): Promise<CaseFolders> {
  const folders: string[] = [];
  const files: string[] = [];
  for await (const entry of Deno.readDir(parent)) {
    if (entry.name.startsWith(".")) continue;
    const folder = await isFolderEntry(parent, entry);
    (folder ? folders : files).push(entry.name);
  }
  const order = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
  folders.sort(order);
  files.sort(order);
  const regex = regexOf(parts.name);
  const found: CaseFolders["found"] = [];
  const lacking: CaseFolders["lacking"] = [];
  const others: string[] = [];
  for (const name of folders) {
    const m = regex.exec(name);
    if (!m) others.push(name);
    else if (await isFile(join(parent, name, parts.inside!))) found.push({ id: m[1], name });
    else lacking.push({ id: m[1], name });
  }
  return { found, lacking, others, files };
}

/** A file a split's patterns may have been meant to take (see {@link SplitListing}). */
export interface CandidateFile {
  /** The file's path. */
  readonly path: string;
  /** Its folder. */
  readonly folder: string;
  /** Its name in the folder (`case07/mask.png` for a file in a case folder). */
  readonly name: string;
  /** The folder's role in the split. */
  readonly role: "images" | "masks" | "FOV masks";
  /** What it may be, where that is known (a mask whose image is missing). */
  readonly note?: string;
  /** Whether it is a folder: a case folder of an image pattern with `{id}` in a folder name. */
  readonly isFolder?: true;
}

/** One split's files as its patterns take them (see {@link listSplit}). */
export interface SplitListing {
  /** The samples after the split's limit, with their files. */
  readonly files: SampleFiles[];
  /**
   * The files the patterns could have been meant to take: every file in the
   * image folder but hidden ones (`.DS_Store`), and the files a mask or FOV
   * pattern of another folder matches. With `{id}` in a folder name of the
   * image pattern: the folders beside the case folders (hidden ones aside)
   * that do not match, or match but lack the image file.
   */
  readonly candidates: readonly CandidateFile[];
  /** The paths the split takes: the image, mask and FOV mask of every id, within the limit or not. */
  readonly taken: ReadonlySet<string>;
}

/** A mask pattern's reading of a file name: whose mask it would be. */
interface MaskReading {
  readonly pattern: string;
  readonly id: string;
}

/** The image side of a split's listing (see {@link listSplit}). */
interface ImageSide {
  /** The ids, in id order. */
  readonly ids: string[];
  /** The image side's candidates, given the paths the split takes. */
  readonly candidates: (taken: ReadonlySet<string>) => CandidateFile[];
  /** The mask and FOV patterns whose files lie beside the images (`{id}` in the file name). */
  readonly beside: readonly string[];
  /** Whose mask an id's image file would be, if anyone's (`{id}` in the file name). */
  readonly maskReading: (id: string) => MaskReading | undefined;
}

/**
 * Lists one split's samples and their files, checking that every pair exists.
 *
 * With `{id}` in the image pattern's file name, masks kept beside the images
 * (`train/{id}.png` with `train/{id}_mask.png`, or `train/{id}_img.png` with
 * `train/{id}.png`) can match the image pattern too. The rule: a file the
 * image pattern matches is a mask, not an image, when it is the mask (or FOV
 * mask) file of an id whose image file is in the folder. `scan_1_1.png` is
 * the mask of `scan_1` (pattern `{id}_1.png`) when `scan_1.png` is there;
 * `scan_1.png` is not the mask of `scan` unless `scan.png` is there;
 * `c01_img.png` would be the mask of `c01_img` (pattern `{id}.png`) only
 * beside a `c01_img_img.png`. Where a name reads both ways (`scan.png`,
 * `scan_1.png` and `scan_1_1.png` all present), the mask reading wins:
 * `scan_1.png` is the mask of `scan`, and `scan_1_1.png`, whose image is then
 * no sample, is left out and reported with the other files no pattern takes
 * ({@link skippedFileLines}). A file that could be either an image whose mask
 * is missing or a mask whose image is missing is refused, the error giving
 * both readings.
 *
 * With `{id}` in a folder name (`cases/{id}/image.png`, `cases/case_{id}/img.png`),
 * the ids are those of the folders beside each other (`cases/`) whose names
 * match and that hold the image file; a matching folder without it is left
 * out and reported. Images and masks are told apart by their file names
 * (`cases/{id}/image.png`, `cases/{id}/mask.png`), and masks may have their
 * `{id}` in the file name elsewhere (`masks/{id}.png`), or the other way round.
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
  const parts = patternParts(split.images);
  const side = parts.inside === null
    ? await imagesByFileName(root, split, parts)
    : await imagesByFolder(root, split, parts);
  const { ids } = side;
  const patterns = [split.images, ...maskPatterns(split).map((m) => m.pattern)];
  const taken = new Set(ids.flatMap((id) => patterns.map((p) => join(root, p.replace(ID, id)))));
  const candidates = side.candidates(taken);
  // Masks in folders of their own: those whose image is missing are candidates too. Other files
  // there (a second annotator's masks) are none of this split's business.
  const idSet = new Set(ids);
  for (const { role, pattern } of maskPatterns(split)) {
    if (side.beside.includes(pattern)) continue;
    const mask = patternParts(pattern);
    const maskFolder = join(root, mask.folder);
    const regex = regexOf(mask.name);
    try {
      if (mask.inside === null) {
        for await (const entry of Deno.readDir(maskFolder)) {
          const m = await isFileEntry(maskFolder, entry) ? regex.exec(entry.name) : null;
          if (!m || idSet.has(m[1])) continue;
          candidates.push({
            path: join(maskFolder, entry.name),
            folder: maskFolder,
            name: entry.name,
            role,
            note: `no image has its id "${m[1]}"`,
          });
        }
      } else {
        for (const { id, name } of (await caseFolders(maskFolder, mask)).found) {
          const path = join(maskFolder, name, mask.inside);
          if (idSet.has(id)) continue;
          candidates.push({
            path,
            folder: maskFolder,
            name: `${name}/${mask.inside}`,
            role,
            note: `no image has its id "${id}"`,
          });
        }
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
      if (!await isFile(path)) {
        throw new DataError(
          `Cannot pair "${image}" with its ${role === "roi" ? "FOV mask" : "mask"}: "${path}" ` +
            `is missing${missingPairHint(split, ids, id, side.maskReading(id))}`,
        );
      }
    }
    files.push({ id, image, masks });
  }
  return { files, candidates, taken };
}

/** Refuses a mask or FOV pattern that names the image pattern's files. */
function refuseSameFiles(split: SplitPatterns, same: (p: string) => boolean): void {
  for (const { pattern } of maskPatterns(split)) {
    if (same(pattern)) {
      throw new DataError(
        `Cannot tell images from masks: "${pattern}" names the same files as the images pattern ` +
          `"${split.images}"; give the masks a pattern of their own (e.g. "${
            companionPattern(split.images, "mask")
          }")`,
      );
    }
  }
}

/** The image side with `{id}` in the image pattern's file name, masks perhaps beside the images. */
async function imagesByFileName(
  root: string,
  split: SplitPatterns,
  parts: PatternParts,
): Promise<ImageSide> {
  // join() normalises: "./train/{id}_mask.png" is in the folder of "train/{id}.png".
  const folder = join(root, parts.folder);
  const imagePattern = parts.name;
  const imageName = (id: string) => imagePattern.replace(ID, id);
  const match = regexOf(imagePattern);
  // The mask and FOV patterns whose files lie beside the images.
  const beside = maskPatterns(split).map((m) => m.pattern)
    .filter((p) => patternParts(p).inside === null && join(root, dirname(p)) === folder);
  refuseSameFiles(split, (p) => beside.includes(p) && basename(p) === imagePattern);
  const besideMatchers = beside.map((p) => ({ pattern: p, regex: regexOf(basename(p)) }));
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (!entry.name.startsWith(".") && await isFileEntry(folder, entry)) names.push(entry.name);
    }
  } catch {
    throw new DataError(
      `Cannot read folder "${folder}" (from the pattern "${split.images}"): it is missing`,
    );
  }
  names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const present = new Set(names);
  /** The ids whose mask file `name` would be, by pattern (at most one id per pattern). */
  const maskReadings = (name: string): MaskReading[] =>
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
    throw new DataError(
      `Cannot load data: no file in "${folder}" matches "${imagePattern}" (` +
        (names.length
          ? `it holds ${names.length} file${names.length === 1 ? "" : "s"}: ${shown(names)}; ` +
            "fix the pattern, where {id} stands for the part that varies"
          : "it holds no file") +
        ")",
    );
  }
  // ids come in name order, which is not always id order ("a_img.png" < "a1_img.png").
  ids.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return {
    ids,
    beside,
    maskReading: (id) => maskReadings(imageName(id))[0],
    candidates: (taken) =>
      names.map((name) => {
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
      }),
  };
}

/** The image side with `{id}` in a folder name of the image pattern (`cases/{id}/image.png`). */
async function imagesByFolder(
  root: string,
  split: SplitPatterns,
  parts: PatternParts,
): Promise<ImageSide> {
  refuseSameFiles(split, (p) => join(root, p) === join(root, split.images));
  const parent = join(root, parts.folder);
  const inside = parts.inside!;
  let listed: CaseFolders;
  try {
    listed = await caseFolders(parent, parts);
  } catch {
    throw new DataError(
      `Cannot read folder "${parent}" (from the pattern "${split.images}"): it is missing`,
    );
  }
  const { found, lacking, others, files } = listed;
  if (!found.length) {
    const folders = [...lacking.map((f) => f.name), ...others]
      .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    if (lacking.length) {
      const first = join(parent, lacking[0].name);
      const held: string[] = [];
      for await (const entry of Deno.readDir(first)) {
        if (!entry.name.startsWith(".")) held.push(entry.name + (entry.isDirectory ? "/" : ""));
      }
      held.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
      const n = lacking.length;
      throw new DataError(
        `Cannot load data: no folder in "${parent}" that matches "${parts.name}" holds ` +
          `"${inside}" (${n} folder${n === 1 ? " matches" : "s match"}; "${lacking[0].name}" ` +
          `${held.length ? `holds ${shown(held)}` : "is empty"}); fix the pattern's file name ` +
          `"${inside}"`,
      );
    }
    throw new DataError(
      `Cannot load data: no folder in "${parent}" matches "${parts.name}" (` +
        (folders.length
          ? `it holds ${folders.length} folder${folders.length === 1 ? "" : "s"}: ` +
            `${shown(folders)}; fix the pattern, where {id} stands for the part that varies`
          : `it holds no folder${files.length ? `, only files: ${shown(files)}` : ""}`) +
        ")",
    );
  }
  const ids = found.map((f) => f.id).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return {
    ids,
    beside: [],
    maskReading: () => undefined,
    candidates: () =>
      [
        ...lacking.map(({ name }): [string, string?] => [name, `no ${inside} in it`]),
        ...others.map((name): [string, string?] => [name]),
      ].map(([name, note]) => ({
        path: join(parent, name),
        folder: parent,
        name,
        role: "images" as const,
        ...(note && { note }),
        isFolder: true as const,
      })),
  };
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

/**
 * The warning lines of `core/folder` about files and folders no pattern
 * takes, from the splits' listings (`folder_listing.ts`): nothing in a data
 * folder is left out without a word.
 *
 * @module
 */
import { dirname, sep } from "node:path";
import type { CandidateFile, SplitListing } from "./folder_listing.ts";

/** How many skipped files a line names before "…". */
const SHOWN_SKIPPED = 5;

/**
 * One line per folder that holds files no pattern takes: in an image folder
 * any file (a `case02.PNG` or a `.jpg` among `{id}.png` images, a mask
 * beside the images whose image is missing), in a mask folder the masks whose
 * image is missing; with `{id}` in a folder name of the image pattern, the
 * folders beside the case folders that do not match or lack the image file.
 * How many and the first few, so that nothing is dropped without a word.
 * Files past a split's limit are taken, not skipped, and a file one split
 * leaves and the other takes (a folder both list) is taken, as is a folder
 * that holds a file a split takes.
 *
 * @param listings Each split's name (`training`, `test`) and listing.
 * @returns The lines, without a "warning: " prefix (empty when every file is taken).
 */
export function skippedFileLines(
  listings: readonly { readonly split: string; readonly listing: SplitListing }[],
): string[] {
  const taken = new Set(listings.flatMap(({ listing }) => [...listing.taken]));
  const takenFolders = new Set<string>();
  for (const path of taken) {
    for (let d = dirname(path); !takenFolders.has(d) && d !== dirname(d); d = dirname(d)) {
      takenFolders.add(d);
    }
  }
  const isTaken = (file: CandidateFile) => (file.isFolder ? takenFolders : taken).has(file.path);
  // A case folder left out is said once, not again for the masks in it.
  const leftFolders = listings.flatMap(({ listing }) =>
    listing.candidates.filter((f) => f.isFolder && !isTaken(f)).map((f) => f.path + sep)
  );
  const inLeftFolder = (path: string) => leftFolders.some((f) => path.startsWith(f));
  const seen = new Set<string>(); // a folder both splits list gives its files twice
  const skipped = new Map<string, { roles: Map<string, string[]>; files: CandidateFile[] }>();
  for (const { split, listing } of listings) {
    for (const file of listing.candidates) {
      if (inLeftFolder(file.path)) continue;
      const folder = skipped.get(file.folder) ??
        { roles: new Map<string, string[]>(), files: [] as CandidateFile[] };
      skipped.set(file.folder, folder);
      const splits = folder.roles.get(file.role) ?? [];
      if (!splits.includes(split)) folder.roles.set(file.role, [...splits, split]);
      if (!isTaken(file) && !seen.has(file.path)) folder.files.push(file);
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
    const folders = files.filter((f) => f.isFolder).length;
    const counts = [[files.length - folders, "file"], [folders, "folder"]] as const;
    const unexplained = files.filter((f) => f.note === undefined);
    const unexplainedFolders = unexplained.filter((f) => f.isFolder).length;
    lines.push(
      `${
        counts.filter(([n]) => n).map(([n, what]) => `${n} ${what}${n === 1 ? "" : "s"}`)
          .join(" and ")
      } in "${folder}" (${whose.join(", ")}) ${files.length === 1 ? "is" : "are"} taken by ` +
        `no pattern and left out: ${shown.join(", ")}` +
        `${files.length > SHOWN_SKIPPED ? ", …" : ""}` +
        (!unexplained.length
          ? ""
          : !unexplainedFolders
          ? " (patterns match file names exactly, case and extension included)"
          : unexplainedFolders === unexplained.length
          ? " (patterns match folder names exactly, case included)"
          : " (patterns match folder and file names exactly, case and extension included)"),
    );
  }
  return lines;
}

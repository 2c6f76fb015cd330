/**
 * A run's output folder. Every file is written atomically (to a temporary
 * name, then renamed), so a killed run never leaves a half-written file, and
 * each run gets a fresh folder, so no earlier run's results are touched.
 *
 * @module
 */
import { CapillaryError } from "../errors.ts";
import { dirname, join } from "../path.ts";

/**
 * Writes `data` to `path` atomically: a sibling temporary file, then rename.
 *
 * @example Usage
 * ```ts
 * import { writeFileAtomic } from "./run_folder.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello");
 * console.assert(await Deno.readTextFile(`${dir}/a.txt`) === "hello");
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.partial`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(temporary, data);
    else await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** How {@link createFolder}'s errors name what it makes. */
export interface FolderWords {
  /** What goes under the folder: `"the run"` gives `Cannot write the run under "<root>"`. */
  readonly contents: string;
  /** The folder: `"run folder"` gives `Cannot create the run folder "<path>"`. */
  readonly folder: string;
}

/**
 * The error for a folder under `root` that `mkdir` could not make: the file
 * in its way, else the OS's reason (e.g. permission), with what to do,
 * rather than a bare `mkdir` error.
 */
async function folderError(
  error: unknown,
  root: string,
  path: string,
  words: FolderWords,
): Promise<CapillaryError> {
  // A trailing slash would make stat fail on a file, and "it" miss the root.
  const trim = (p: string) => p.replace(/(?<=[^\\/])[\\/]+$/, "");
  // The nearest existing folder on the way, or the file that stands in for one.
  for (let at = trim(path);; at = dirname(at)) {
    const info = await Deno.stat(at).catch(() => undefined);
    if (info && !info.isDirectory) {
      return new CapillaryError(
        `Cannot write ${words.contents} under "${root}": ${
          at === trim(root) ? "it" : `"${at}"`
        } is a file; give a folder (--output DIR)`,
        "E_OUTPUT",
      );
    }
    if (info || dirname(at) === at) break;
  }
  // Deno's message ends with ": mkdir '<path>'", which the message names already.
  const reason = ((error as Error)?.message ?? String(error)).replace(/: \w+ '.*'$/s, "");
  return new CapillaryError(
    `Cannot create the ${words.folder} "${path}": ${reason}; give a folder you can write (--output DIR)`,
    "E_OUTPUT",
  );
}

/**
 * Creates the folder `path` and its parents, if missing, before anything is
 * written there, so that a file in the way or a folder that cannot be made
 * stops the work up front, with what to do.
 *
 * @example Usage
 * ```ts
 * import { createFolder } from "./run_folder.ts";
 * const file = await Deno.makeTempFile();
 * const words = { contents: "the predictions", folder: "prediction folder" };
 * const error = await createFolder(file, words).then(() => undefined, (e) => e);
 * console.assert(
 *   error?.message ===
 *     `Cannot write the predictions under "${file}": it is a file; give a folder (--output DIR)`,
 * );
 * await Deno.remove(file);
 * ```
 *
 * @param path The folder.
 * @param words How the error names what goes there and the folder.
 * @throws {CapillaryError} `E_OUTPUT` when `path` or a folder on its way is
 * a file, or the folder cannot be made (e.g. no permission).
 */
export async function createFolder(path: string, words: FolderWords): Promise<void> {
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (error) {
    throw await folderError(error, path, path, words);
  }
}

/** A run's folder with atomic writers. */
export class RunFolder {
  /** The folder's path. */
  readonly path: string;

  /** @param path An existing, empty folder. */
  constructor(path: string) {
    this.path = path;
  }

  /**
   * Creates `root/<name>/<timestamp>/`, adding `-2`, `-3`, ... if a run of the
   * same second exists; never reuses a folder.
   *
   * @param root The runs root (e.g. `runs`).
   * @param name The recipe's name.
   * @param now The timestamp to use.
   * @throws {CapillaryError} `E_OUTPUT` when `root` or a folder on its way
   * is a file, or the run folder cannot be made (e.g. no permission).
   */
  static async create(root: string, name: string, now = new Date()): Promise<RunFolder> {
    const stamp = now.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
    const words = { contents: "the run", folder: "run folder" };
    try {
      await Deno.mkdir(join(root, name), { recursive: true });
    } catch (error) {
      throw await folderError(error, root, join(root, name, stamp), words);
    }
    for (let i = 1;; i++) {
      const path = join(root, name, i === 1 ? stamp : `${stamp}-${i}`);
      try {
        await Deno.mkdir(path);
        return new RunFolder(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) {
          throw await folderError(error, root, path, words);
        }
      }
    }
  }

  /** The absolute-or-relative path of `relative` inside the run. */
  resolve(relative: string): string {
    return join(this.path, relative);
  }

  /** Writes a text or binary file atomically. */
  write(relative: string, data: string | Uint8Array): Promise<void> {
    return writeFileAtomic(this.resolve(relative), data);
  }

  /** Writes `value` as pretty JSON atomically. */
  writeJson(relative: string, value: unknown): Promise<void> {
    return this.write(relative, JSON.stringify(value, null, 2) + "\n");
  }

  /**
   * Appends one line to a log file (e.g. `history.jsonl`). The line is
   * written with a single append, so a crash loses at most that line.
   */
  async appendLine(relative: string, line: string): Promise<void> {
    const path = this.resolve(relative);
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, line.replace(/\n/g, " ") + "\n", { append: true });
  }
}

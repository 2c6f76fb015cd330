/**
 * A run's output folder. Every file is written atomically (to a temporary
 * name, then renamed), so a killed run never leaves a half-written file, and
 * each run gets a fresh folder, so no earlier run's results are touched.
 *
 * @module
 */
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
   */
  static async create(root: string, name: string, now = new Date()): Promise<RunFolder> {
    const stamp = now.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
    await Deno.mkdir(join(root, name), { recursive: true });
    for (let i = 1;; i++) {
      const path = join(root, name, i === 1 ? stamp : `${stamp}-${i}`);
      try {
        await Deno.mkdir(path);
        return new RunFolder(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
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

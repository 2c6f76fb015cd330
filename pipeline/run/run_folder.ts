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
  const temporary = partialName(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(temporary, data);
    else await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/**
 * The temporary name `path` is written under before it is renamed into
 * place: `<path>.<pid>-<random>.partial`, so that {@link removeStalePartials}
 * can tell whether the process writing it is still running.
 */
export function partialName(path: string): string {
  return `${path}.${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.partial`;
}

/** A leftover older than this is removed whoever wrote it: no file takes an hour to write. */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

/**
 * Whether process `pid` is running: true or false where the system tells
 * (Linux's `/proc`, else `kill -0`), undefined where it cannot be told.
 *
 * @param pid The process id.
 * @param started Its start time as {@link processStart} gave it, to tell a
 * reused id from the process itself (Linux).
 */
export async function processAlive(pid: number, started?: string): Promise<boolean | undefined> {
  if (pid === Deno.pid) return true;
  if (Deno.build.os === "linux") {
    const now = await processStart(pid);
    if (now === undefined) return false;
    return started === undefined || now === started;
  }
  if (Deno.build.os === "windows") return undefined;
  try {
    const { code } = await new Deno.Command("kill", {
      args: ["-0", String(pid)],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0;
  } catch {
    return undefined;
  }
}

/** When process `pid` started, in the kernel's clock ticks (Linux); undefined elsewhere or gone. */
export async function processStart(pid: number): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // After the command name in parentheses: state is field 3, start time field 22.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Removes the `.partial` files and folders (half-written files, checkpoints,
 * cache entries) that processes no longer running left in `dir`: those whose
 * name holds the id of a process that is gone, those older than an hour, and,
 * with `all`, those of any process but this one and a running one (for a run
 * folder this process holds the lock of, where no other run writes).
 *
 * @param dir The folder; a missing one has nothing to remove.
 * @param options `recursive`: its subfolders too; `all`: leftovers whose
 * writer cannot be told are removed whatever their age.
 * @returns The paths removed.
 *
 * @example Usage
 * ```ts
 * import { removeStalePartials } from "./run_folder.ts";
 * const dir = await Deno.makeTempDir();
 * // No process has id 2^22 + 1 (Linux's largest is 2^22).
 * await Deno.writeTextFile(`${dir}/a.png.4194305-0a1b2c3d.partial`, "half");
 * console.assert((await removeStalePartials(dir)).length === 1);
 * await Deno.remove(dir);
 * ```
 */
export async function removeStalePartials(
  dir: string,
  options: { recursive?: boolean; all?: boolean } = {},
): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const partial = /\.(?:(\d+)-)?[0-9a-f]{8}\.partial$/.exec(entry.name);
    if (!partial) {
      if (options.recursive && entry.isDirectory) {
        removed.push(...await removeStalePartials(path, options));
      }
      continue;
    }
    const pid = partial[1] === undefined ? undefined : Number(partial[1]);
    if (pid === Deno.pid) continue;
    let stale = pid !== undefined && await processAlive(pid) === false;
    if (!stale && (options.all && pid === undefined)) stale = true;
    if (!stale) {
      const info = await Deno.lstat(path).catch(() => undefined);
      stale = !!info?.mtime && Date.now() - info.mtime.getTime() > STALE_PARTIAL_MS;
    }
    if (!stale) continue;
    try {
      await Deno.remove(path, { recursive: true });
      removed.push(path);
    } catch {
      // gone already, or not ours to remove: left
    }
  }
  return removed;
}

/** This machine's name, where the permissions give it. */
function hostname(): string | undefined {
  try {
    return Deno.hostname();
  } catch {
    return undefined;
  }
}

/** What `run.lock` holds: who runs the folder. */
interface LockRecord {
  pid: number;
  /** When the run took the lock (ISO time). */
  startedAt: string;
  /** The process's start time (Linux), to tell a reused process id from it. */
  processStart?: string;
  hostname?: string;
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

  /**
   * Takes the run's lock, `run.lock` (created only where absent, with this
   * process's id and start time), for as long as the run goes on, so that
   * two processes never run the same folder (two `--resume`s of it). A lock
   * whose process is no longer running is taken over, with a note. Then
   * removes the `.partial` leftovers of killed writes in the folder.
   *
   * @param note Told of a lock taken over and of leftovers removed.
   * @returns What releases the lock (removes `run.lock`); never throws.
   * @throws {CapillaryError} `E_RUN_LOCKED` when a running process holds the lock.
   */
  async lock(note: (line: string) => void = () => {}): Promise<() => Promise<void>> {
    const path = this.resolve("run.lock");
    const record: LockRecord = {
      pid: Deno.pid,
      startedAt: new Date().toISOString(),
      processStart: await processStart(Deno.pid),
      hostname: hostname(),
    };
    const text = JSON.stringify(record) + "\n";
    for (let attempt = 0;; attempt++) {
      try {
        await Deno.writeTextFile(path, text, { createNew: true });
        break;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        if (attempt >= 5) {
          // Taken again each time it was freed: other processes keep starting in this folder.
          throw new CapillaryError(
            `Cannot run in "${this.path}": other processes keep taking its run.lock; wait for ` +
              "them to finish, then try again",
            "E_RUN_LOCKED",
            { cause: error },
          );
        }
      }
      const held = await Deno.readTextFile(path).catch(() => undefined);
      if (held === undefined) continue; // released meanwhile
      let holder: Partial<LockRecord> = {};
      try {
        holder = JSON.parse(held);
      } catch {
        // half-written by a process killed at that moment: stale
      }
      const alive = typeof holder.pid === "number" &&
          (holder.hostname === undefined || holder.hostname === record.hostname)
        ? await processAlive(holder.pid, holder.processStart)
        : false;
      if (alive !== false) {
        throw new CapillaryError(
          `Cannot run in "${this.path}": ${
            alive ? "another process" : "a process this system cannot check"
          } (pid ${holder.pid}, since ${holder.startedAt}) is running it (it holds ${path}); ` +
            `wait for it to end, or stop it${
              alive ? "" : `; if it is gone, remove ${path}`
            }, then resume the run`,
          "E_RUN_LOCKED",
        );
      }
      // Set aside under a name of our own, then checked: a process that took it over meanwhile
      // gets it back.
      const aside = partialName(path);
      try {
        await Deno.rename(path, aside);
      } catch {
        continue;
      }
      const moved = await Deno.readTextFile(aside).catch(() => undefined);
      if (moved !== held) await Deno.link(aside, path).catch(() => {});
      await Deno.remove(aside).catch(() => {});
      if (moved === held) {
        note(
          `${path} was left by process ${holder.pid ?? "?"}${
            holder.startedAt ? ` (since ${holder.startedAt})` : ""
          }, which is no longer running: taken over`,
        );
      }
    }
    const removed = await removeStalePartials(this.path, { recursive: true, all: true });
    if (removed.length) {
      note(
        `removed ${removed.length} half-written file${removed.length === 1 ? "" : "s"} that a ` +
          `killed run left in ${this.path} (${
            removed.map((p) => p.slice(this.path.length + 1)).join(", ")
          })`,
      );
    }
    return async () => {
      const now = await Deno.readTextFile(path).catch(() => undefined);
      if (now === text) await Deno.remove(path).catch(() => {});
    };
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

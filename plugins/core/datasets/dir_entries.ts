/**
 * What a folder entry is once links are followed: data folders are often
 * made of symbolic links (`cp -rs`, DVC, git-annex), and `Deno.readDir`
 * reports a link as neither a file nor a folder.
 *
 * @module
 */
import { join } from "node:path";

/** Whether `entry` of `folder` is a file, or a link to one. */
export async function isFileEntry(folder: string, entry: Deno.DirEntry): Promise<boolean> {
  if (entry.isFile) return true;
  if (!entry.isSymlink) return false;
  return await Deno.stat(join(folder, entry.name)).then((s) => s.isFile, () => false);
}

/** Whether `entry` of `folder` is a folder, or a link to one. */
export async function isFolderEntry(folder: string, entry: Deno.DirEntry): Promise<boolean> {
  if (entry.isDirectory) return true;
  if (!entry.isSymlink) return false;
  return await Deno.stat(join(folder, entry.name)).then((s) => s.isDirectory, () => false);
}

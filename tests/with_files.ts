/**
 * Files for a test in a fresh temporary folder, removed afterwards.
 *
 * @module
 */
import { join } from "node:path";

/**
 * Writes `files` (name to bytes) into a fresh temporary folder, runs `body`
 * with its path, and removes the folder, whatever `body` does.
 *
 * @example Usage
 * ```ts
 * import { withFiles } from "./with_files.ts";
 * const size = await withFiles({ "a.bin": new Uint8Array(3) }, async (dir) =>
 *   (await Deno.stat(`${dir}/a.bin`)).size);
 * console.assert(size === 3);
 * ```
 */
export async function withFiles<T>(
  files: Record<string, Uint8Array>,
  body: (dir: string) => Promise<T>,
  prefix = "capillary_test_files_",
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(join(dir, name), bytes);
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

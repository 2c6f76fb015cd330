/**
 * SHA-256 digests as hex: the data cache's keys and checksums, the run's data
 * digests, and plugins' source digests.
 *
 * @module
 */

/** The SHA-256 of `bytes`, as lower-case hex (the cache's keys, the run's data digests). */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

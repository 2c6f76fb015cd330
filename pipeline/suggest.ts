/**
 * Did-you-mean suggestions for misspelled names.
 *
 * @module
 */

/** Edit distance (insert, delete, substitute, swap adjacent) between two strings. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1, cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => [i, ...Array(cols - 1).fill(0)]);
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidates closest to `word`, best first: those within a third of the
 * word's length in edits (at least 2), or containing it case-insensitively.
 *
 * @example Usage
 * ```ts
 * import { closest } from "./suggest.ts";
 * console.assert(closest("core/trian", ["core/train", "core/evaluate"])[0] === "core/train");
 * ```
 */
export function closest(word: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  return [...candidates]
    .map((c) => ({ c, d: editDistance(lower, c.toLowerCase()) }))
    .filter(({ c, d }) => d <= limit || (lower.length > 2 && c.toLowerCase().includes(lower)))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map(({ c }) => c);
}

/** A hint such as `did you mean "epochs"?`, or a list of the valid names when none is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const all = [...candidates];
  const near = closest(word, all);
  if (near.length) return `did you mean ${near.map((n) => `"${n}"`).join(" or ")}?`;
  return all.length ? `expected one of ${all.map((n) => `"${n}"`).join(", ")}` : "";
}

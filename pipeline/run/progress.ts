/**
 * Progress output: stage headers, counted steps with ETA, and plain lines.
 * On a terminal a step line is redrawn in place; elsewhere (CI, a pipe) each
 * update is a plain line, at most one every few seconds.
 *
 * @module
 */

/** Formats seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * `n` and the word, plural unless `n` is 1: `1 image`, `3 images`.
 *
 * @example Usage
 * ```ts
 * import { countOf } from "./progress.ts";
 * console.assert(countOf(1, "image") === "1 image" && countOf(0, "step") === "0 steps");
 * ```
 */
export function countOf(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A counted task with a live line: `label 12/40 30% ETA 1m20s loss=0.31`. */
export interface ProgressTask {
  /** Reports `done` of the total, with extra fields to show. */
  update(done: number, fields?: Record<string, string | number>): void;
  /** Ends the task and prints its final line. */
  done(summary?: string): void;
  /** Changes the total (a task found shorter or longer than planned); optional. */
  setTotal?(total: number): void;
}

/** Where progress goes. */
export interface Progress {
  /** Prints a plain line. */
  info(message: string): void;
  /** Starts a counted task. */
  task(label: string, total: number): ProgressTask;
}

/** Cells of the bar drawn on a terminal. */
const BAR_WIDTH = 20;

/**
 * A bar of {@link BAR_WIDTH} cells, `fraction` of them full, in eighths.
 *
 * @example Usage
 * ```ts
 * import { progressBar } from "./progress.ts";
 * console.assert(progressBar(0.5) === "██████████          ");
 * ```
 */
export function progressBar(fraction: number): string {
  const eighths = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH * 8);
  const full = Math.floor(eighths / 8), part = eighths % 8;
  return ("█".repeat(full) + (part ? "▏▎▍▌▋▊▉"[part - 1] : "")).padEnd(BAR_WIDTH, " ");
}

const fmt = (v: string | number) =>
  typeof v === "number" ? (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2)) : v;

/**
 * Progress written to a stream (stderr by default so stdout stays clean).
 *
 * @param write Where lines go.
 * @param isTerminal Whether to redraw lines in place.
 * @param now A clock in seconds, for tests.
 */
export function consoleProgress(
  write: (text: string) => void = (t) => Deno.stderr.writeSync(new TextEncoder().encode(t)),
  isTerminal: boolean = Deno.stderr.isTerminal(),
  now: () => number = () => performance.now() / 1000,
): Progress {
  return {
    info: (message) => write(message + "\n"),
    task(label, planned) {
      const start = now();
      let total = planned;
      let lastPrint = -Infinity;
      let last = "";
      const line = (done: number, fields: Record<string, string | number>) => {
        const elapsed = now() - start;
        const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
        const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
        const extra = Object.entries(fields).map(([k, v]) => `${k}=${fmt(v)}`).join(" ");
        const bar = isTerminal ? `▕${progressBar(total > 0 ? done / total : 1)}▏ ` : "";
        return `${label} ${bar}${done}/${total} ${pct}% ${formatDuration(elapsed)} elapsed, ETA ${
          formatDuration(eta)
        }${extra ? ` ${extra}` : ""}`;
      };
      return {
        update(done, fields = {}) {
          last = line(done, fields);
          const t = now();
          if (isTerminal) write(`\r\x1b[2K${last}`);
          else if (t - lastPrint >= 5 || done === total) {
            write(last + "\n");
            lastPrint = t;
          }
        },
        setTotal(value) {
          total = value;
        },
        done(summary) {
          const text = `${label} done in ${formatDuration(now() - start)}${
            summary ? `: ${summary}` : ""
          }`;
          write(isTerminal ? `\r\x1b[2K${text}\n` : text + "\n");
        },
      };
    },
  };
}

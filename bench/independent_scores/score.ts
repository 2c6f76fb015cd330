/**
 * Rescores a Capillary run on DRIVE from its saved probability maps (`predictions/<id>.png`)
 * and DRIVE's own annotation files, and compares every score it can with the run's
 * `metrics.json`: an independent check of the evaluation.
 *
 * ```sh
 * deno run -A bench/independent_scores/score.ts <run folder> [--drive <root>] [--validation ID=MAP.png ...]
 * ```
 *
 * Independence is its point: it imports nothing from the repository's `pipeline/` or
 * `plugins/`. It decodes the maps and DRIVE's GIFs with its own decoders (decode.ts) and
 * computes each metric here from its definition, so a bug in the pipeline's readers, FOV
 * handling or metrics cannot pass by being shared. The protocol: pixels inside DRIVE's FOV
 * mask only (grey > 127), vessel where `1st_manual` is > 127, the run's test images pooled.
 *
 * What it compares, each as a row of metrics.json beside the value recomputed:
 * - `metrics`: every threshold score at the recipe's threshold (`evaluate.with.threshold`,
 *   0.5 by default), the mean per-image Dice, the ROC AUC;
 * - `perImage`: each image's scores;
 * - `chosenThreshold` and `atReferencePoints`: the scores at those thresholds;
 * - `references.<observer>` (`2nd_manual`): DRIVE's second observer against the first;
 * - `validation`, from the maps the run saved in `predictions/validation/`, or given with
 *   `--validation 22_training=MAP.png` for a run made before it saved them:
 *   `deno task predict --model <run>/model <images> --output DIR` writes
 *   `DIR/22_training_probability.png`. Give it all the run's training images (the scorer
 *   prints the command): predict z-scores with the statistics of the images it is given, and
 *   only the run's own reproduce its maps to the last bit (given the two validation images
 *   alone, 2 of a run's 455,913 validation FOV pixels crossed 0.5).
 * The PR-AUC is shown but not checked: it has no tight bound from 8-bit maps.
 *
 * The maps hold round(255·p), rounded half up. At a threshold t, a pixel whose byte b has
 * b − 0.5 ≥ 255t surely has p ≥ t, one with b + 0.5 ≤ 255t surely has p < t, and the rest
 * (at most one byte value) could be either: a score there is checked against the interval
 * those pixels allow. At 0.5 none is ambiguous (255 · 0.5 = 127.5: byte ≥ 128 ⇔ p ≥ 0.5), so
 * the scores at 0.5 must agree exactly (to 1e-12, the last bits of a division). The AUC is
 * checked within half the share of vessel–background pairs that share a byte (their order is
 * lost).
 *
 * Exit status: 0 when every value agrees, 1 when any falls outside its bound, 2 when the
 * arguments or files do not allow a check.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import {
  ByteHistogram,
  type Confusion,
  type CountBox,
  scoreAtUpper,
  scoreRange,
  scoresOf,
  THRESHOLD_SCORES,
} from "./byte_scores.ts";
import { decodeGif, decodePng, type GreyImage } from "./decode.ts";
import { defaultDriveRoot, driveFiles, hasDrive, MARKED_ABOVE } from "./drive.ts";

const USAGE =
  "usage: deno run -A bench/independent_scores/score.ts <run folder> [--drive <root>] [--validation ID=MAP.png ...]";

/** Slack for values that must agree exactly: the same counts divided in another order differ in the last bits. */
const SLACK = 1e-12;

/** Arguments or files that do not allow a check (exit status 2). */
class CannotCheck extends Error {}

/** The scores metrics.json keeps per image (besides `auc`), by their names there. */
const PER_IMAGE_SCORES = [
  ["dice", "f1"],
  ["iou", "iou"],
  ["accuracy", "accuracy"],
  ["sensitivity", "sensitivity"],
  ["specificity", "specificity"],
  ["precision", "precision"],
] as const;

/** One value of metrics.json beside its recomputation. */
interface Row {
  name: string;
  /** The value in metrics.json; undefined where it has none. */
  json: number | undefined;
  recomputed: number;
  /** What the json value may be; equal ends: exactly `recomputed` (within {@link SLACK}). */
  allowed: readonly [number, number];
  /** Shown, never failing. */
  informational?: boolean;
}

/** Whether a row's json value is within its bound (rows without one pass). */
function agrees(row: Row): boolean {
  if (row.json === undefined || row.informational) return true;
  const [low, high] = row.allowed;
  return row.json >= Math.min(low, high) - SLACK && row.json <= Math.max(low, high) + SLACK;
}

const decimals = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(6));

/** A row's verdict: ok, by how much it differs, or why it is not judged. */
function verdict(row: Row): string {
  if (row.json === undefined) return "not in metrics.json";
  if (row.informational) return "shown only (no bound)";
  if (agrees(row)) return "ok";
  const [low, high] = row.allowed;
  const off = row.json < low ? row.json - low : row.json - high;
  return `${low === high ? "DIFFERS" : "OUTSIDE"} by ${off.toExponential(2)}`;
}

/** Prints columns padded to their widest cell, numbers right-aligned. */
function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) =>
    "  " +
    cells.map((cell, c) =>
      /^-?[\d.,]+$/.test(cell) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])
    ).join("  ").trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(row));
}

/** Prints a section's rows side by side and returns how many disagree. */
function printRows(title: string, notes: readonly string[], rows: readonly Row[]): number {
  console.log(`\n${title}`);
  for (const note of notes) console.log(`  ${note}`);
  printTable(
    ["metric", "metrics.json", "recomputed", "allowed", "verdict"],
    rows.map((row) => [
      row.name,
      decimals(row.json),
      decimals(row.recomputed),
      row.informational
        ? "-"
        : row.allowed[0] === row.allowed[1]
        ? "exact"
        : `[${decimals(row.allowed[0])}, ${decimals(row.allowed[1])}]`,
      verdict(row),
    ]),
  );
  return rows.filter((row) => !agrees(row)).length;
}

/** A number from a JSON object, or undefined where it is absent or not a number. */
function numberIn(object: unknown, key: string): number | undefined {
  const value = (object as Record<string, unknown> | undefined)?.[key];
  return typeof value === "number" ? value : undefined;
}

/** The threshold rows of a box, with `dice` (the mean per-image Dice) from the per-image boxes. */
function thresholdRows(json: unknown, box: CountBox, perImage: readonly CountBox[]): Row[] {
  const rows: Row[] = THRESHOLD_SCORES.map((name) => ({
    name,
    json: numberIn(json, name),
    recomputed: scoreAtUpper(box, name),
    allowed: scoreRange(box, name),
  }));
  if (perImage.length) {
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    rows.push({
      name: "dice",
      json: numberIn(json, "dice"),
      recomputed: mean(perImage.map((b) => scoreAtUpper(b, "f1"))),
      allowed: [
        mean(perImage.map((b) => scoreRange(b, "f1")[0])),
        mean(perImage.map((b) => scoreRange(b, "f1")[1])),
      ],
    });
  }
  return rows;
}

/** The AUC row of a histogram, and PR-AUC shown beside it. */
function rankingRows(json: unknown, histogram: ByteHistogram): Row[] {
  const { value, bound } = histogram.auc();
  const ap = histogram.averagePrecision();
  return [
    {
      name: "auc",
      json: numberIn(json, "auc"),
      recomputed: value,
      allowed: [value - bound, value + bound],
    },
    {
      name: "prAuc",
      json: numberIn(json, "prAuc"),
      recomputed: ap,
      allowed: [ap, ap],
      informational: true,
    },
  ];
}

/** How a threshold splits the bytes, for a section's notes. */
function describeCut(t: number, box: CountBox): string {
  if (box.ambiguous === 0 && 255 * t === box.sureFrom - 0.5) {
    return `threshold ${t}: byte >= ${box.sureFrom} <=> p >= ${t} exactly (255·${t} = ${
      255 * t
    }), no pixel ambiguous`;
  }
  return `threshold ${t}: bytes >= ${box.sureFrom} are above it, byte ${box.sureFrom - 1} ` +
    `(${box.ambiguous} FOV pixels) either side; "recomputed" counts them above`;
}

/** The command line: the run folder, DRIVE's folder, and validation maps by image id. */
interface Arguments {
  run: string;
  drive: string;
  validation: Map<string, string>;
}

/** Reads the command line. @throws {CannotCheck} On anything it does not understand. */
function parseArguments(args: readonly string[]): Arguments {
  let run: string | undefined, drive: string | undefined;
  const validation = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith("--") && args[i].includes("=")
      ? [args[i].slice(0, args[i].indexOf("=")), args[i].slice(args[i].indexOf("=") + 1)]
      : [args[i], undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new CannotCheck(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === "--drive") drive = value();
    else if (flag === "--validation") {
      const pair = value(), at = pair.indexOf("=");
      if (at < 1) throw new CannotCheck(`--validation takes ID=MAP.png, got "${pair}"\n${USAGE}`);
      validation.set(pair.slice(0, at), pair.slice(at + 1));
    } else if (flag === "--help" || flag === "-h") throw new CannotCheck(USAGE);
    else if (flag.startsWith("-")) throw new CannotCheck(`unknown option ${flag}\n${USAGE}`);
    else if (run === undefined) run = flag;
    else throw new CannotCheck(`one run folder only (got "${run}" and "${flag}")\n${USAGE}`);
  }
  if (run === undefined) throw new CannotCheck(USAGE);
  return { run: resolve(run), drive: resolve(drive ?? defaultDriveRoot()), validation };
}

/** What the scorer needs of the run's recipe. */
interface RunSettings {
  /** The evaluation's threshold (`evaluate.with.threshold`). */
  threshold: number;
  /** The evaluation's extra annotation scored as a reference row, or null for none. */
  observer: string | null;
  /** How many DRIVE training images the run loaded (`core/drive`'s trainLimit); null: all. */
  trainLimit: number | null;
  /** Where these came from, for the header. */
  from: string;
}

/** The run's settings, from its recipe.resolved.yaml (the stages' defaults where it has none). */
async function runSettings(run: string): Promise<RunSettings> {
  const settings: RunSettings = {
    threshold: 0.5,
    observer: "2nd_manual",
    trainLimit: null,
    from: "defaults (no recipe.resolved.yaml)",
  };
  let text: string;
  try {
    text = await Deno.readTextFile(join(run, "recipe.resolved.yaml"));
  } catch {
    return settings;
  }
  settings.from = "recipe.resolved.yaml";
  const stages = (parseYaml(text) as { stages?: Record<string, unknown> })?.stages ?? {};
  for (const entry of Object.values(stages).flat()) {
    const stage = entry as { use?: string; with?: Record<string, unknown> };
    const options = stage?.with ?? {};
    if (stage?.use === "core/segmentation_metrics") {
      if (typeof options.threshold === "number") settings.threshold = options.threshold;
      if (typeof options.observer === "string" || options.observer === null) {
        settings.observer = options.observer;
      }
    } else if (stage?.use === "core/drive" && typeof options.trainLimit === "number") {
      settings.trainLimit = options.trainLimit;
    }
  }
  return settings;
}

/** "1 image", "2 images". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Decodes a GIF file. */
async function readGif(path: string): Promise<GreyImage> {
  return decodeGif(await Deno.readFile(path));
}

/** A map's histogram against its DRIVE image's annotations. @throws {CannotCheck} On a size mismatch. */
async function histogramOf(mapPath: string, drive: string, id: string): Promise<ByteHistogram> {
  const map = decodePng(await Deno.readFile(mapPath));
  const files = driveFiles(drive, id);
  const [truth, fov] = await Promise.all([readGif(files.truth), readGif(files.fov)]);
  if (map.width !== truth.width || map.height !== truth.height || map.colorType !== 0) {
    throw new CannotCheck(
      `${mapPath} is ${map.width}×${map.height} (PNG colour type ${map.colorType}); DRIVE's ` +
        `${id} is ${truth.width}×${truth.height}, and a map is 8-bit grey (type 0)`,
    );
  }
  return new ByteHistogram().add(map, truth, fov);
}

/** The second observer's confusion matrix against the first, inside the FOV. */
async function observerConfusion(drive: string, id: string): Promise<Confusion> {
  const files = driveFiles(drive, id);
  if (!files.secondObserver) throw new CannotCheck(`${id} has no second observer`);
  const [truth, second, fov] = await Promise.all(
    [files.truth, files.secondObserver, files.fov].map(readGif),
  );
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < fov.data.length; i++) {
    if (fov.data[i] <= MARKED_ABOVE) continue;
    const vessel = truth.data[i] > MARKED_ABOVE, marked = second.data[i] > MARKED_ABOVE;
    if (vessel && marked) c.tp++;
    else if (vessel) c.fn++;
    else if (marked) c.fp++;
    else c.tn++;
  }
  return c;
}

/** An exact row (no quantisation between the two). */
function exactRow(name: string, json: number | undefined, recomputed: number): Row {
  return { name, json, recomputed, allowed: [recomputed, recomputed] };
}

/** Checks one run; returns the exit status. */
async function main(args: readonly string[]): Promise<number> {
  const { run, drive, validation } = parseArguments(args);
  if (!hasDrive(drive)) {
    throw new CannotCheck(`no DRIVE at ${drive} (name it with --drive or $CAPILLARY_DRIVE)`);
  }
  let metrics: Record<string, unknown>;
  try {
    metrics = JSON.parse(await Deno.readTextFile(join(run, "metrics.json")));
  } catch (error) {
    throw new CannotCheck(`cannot read ${join(run, "metrics.json")}: ${(error as Error).message}`);
  }
  let ids: string[];
  try {
    ids = [...Deno.readDirSync(join(run, "predictions"))]
      .filter((e) => e.isFile && e.name.endsWith(".png"))
      .map((e) => e.name.slice(0, -4))
      .sort();
  } catch {
    throw new CannotCheck(`${run} has no predictions/ folder (savePredictions: false?)`);
  }
  if (!ids.length) throw new CannotCheck(`${join(run, "predictions")} holds no .png map`);
  const { threshold, observer, trainLimit, from } = await runSettings(run);
  // Checked before any output: a map for an image the run did not validate on is a mistake.
  const validationJson = metrics.validation as { on?: string; metrics?: unknown } | undefined;
  const validationIds = /\(([^)]*)\)\s*$/.exec(validationJson?.on ?? "")?.[1].split(/,\s*/) ?? [];
  for (const id of validation.keys()) {
    if (!validationIds.includes(id)) {
      throw new CannotCheck(
        `--validation ${id}: the run validated on ${validationIds.join(", ") || "no image"}`,
      );
    }
  }
  // The run's own validation maps, where it saved them and none were given.
  for (const id of validationIds) {
    const saved = join(run, "predictions", "validation", `${id}.png`);
    if (!validation.has(id) && (await Deno.stat(saved).then((f) => f.isFile, () => false))) {
      validation.set(id, saved);
    }
  }
  let failures = 0, compared = 0;
  const tally = (title: string, notes: string[], rows: Row[]) => {
    failures += printRows(title, notes, rows);
    compared += rows.filter((r) => r.json !== undefined && !r.informational).length;
  };

  console.log(`run:   ${run}`);
  console.log(`DRIVE: ${drive}`);
  console.log(`evaluation threshold ${threshold}, observer ${observer ?? "none"} (from ${from})`);
  const perImageJson = (metrics.perImage ?? []) as { id: string; metrics: unknown }[];
  const jsonIds = perImageJson.map((p) => p.id).sort();
  const sameIds = JSON.stringify(jsonIds) === JSON.stringify(ids);
  console.log(
    `${count(ids.length, "test map")} (${ids.join(", ")}); metrics.json perImage: ${
      sameIds ? "the same images" : `DIFFERENT (${jsonIds.join(", ")})`
    }`,
  );
  if (!sameIds) failures++;

  const histograms = await Promise.all(
    ids.map((id) => histogramOf(join(run, "predictions", `${id}.png`), drive, id)),
  );
  const pooled = histograms.reduce((all, h) => all.merge(h), new ByteHistogram());
  const box = pooled.box(threshold);
  tally(
    `metrics (pooled over ${
      count(ids.length, "test image")
    } at ${threshold}; dice: mean per image)`,
    [
      `FOV pixels ${pooled.vessels + pooled.backgrounds}, vessel ${pooled.vessels}`,
      describeCut(threshold, box),
      `AUC allowed: ± half the share of vessel–background pairs sharing a byte (±${
        pooled.auc().bound.toExponential(2)
      })`,
    ],
    [
      ...rankingRows(metrics.metrics, pooled),
      ...thresholdRows(metrics.metrics, box, histograms.map((h) => h.box(threshold))),
    ],
  );

  // Per image: one line each; the full rows of any that disagree follow.
  console.log(`\nperImage (at ${threshold}; each image's ${PER_IMAGE_SCORES.length + 1} scores)`);
  const detail: [string, Row[]][] = [];
  printTable(
    [
      "image",
      "FOV px",
      "vessel px",
      "dice json",
      "dice",
      "auc json",
      "auc",
      "auc allowed",
      "verdict",
    ],
    ids.map((id, i) => {
      const h = histograms[i], imageBox = h.box(threshold);
      const json = perImageJson.find((p) => p.id === id)?.metrics;
      const rows: Row[] = [
        ...PER_IMAGE_SCORES.map(([jsonName, name]) => ({
          name: jsonName,
          json: numberIn(json, jsonName),
          recomputed: scoreAtUpper(imageBox, name),
          allowed: scoreRange(imageBox, name),
        })),
        rankingRows(json, h)[0],
      ];
      const bad = rows.filter((row) => !agrees(row));
      failures += bad.length;
      compared += rows.filter((r) => r.json !== undefined).length;
      if (bad.length) detail.push([id, rows]);
      const auc = rows.at(-1)!;
      return [
        id,
        String(h.vessels + h.backgrounds),
        String(h.vessels),
        decimals(rows[0].json),
        decimals(rows[0].recomputed),
        decimals(auc.json),
        decimals(auc.recomputed),
        `[${decimals(auc.allowed[0])}, ${decimals(auc.allowed[1])}]`,
        json === undefined
          ? "not in metrics.json"
          : bad.length
          ? `DIFFERS: ${bad.map((r) => r.name).join(", ")}`
          : "ok",
      ];
    }),
  );
  for (const [id, rows] of detail) printRows(`perImage ${id}`, [], rows);

  const chosen = metrics.chosenThreshold as { threshold?: number; metrics?: unknown } | undefined;
  if (typeof chosen?.threshold === "number") {
    const t = chosen.threshold, chosenBox = pooled.box(t);
    tally(
      `chosenThreshold (pooled test scores at ${t}, chosen on the validation images)`,
      [describeCut(t, chosenBox)],
      thresholdRows(chosen.metrics, chosenBox, histograms.map((h) => h.box(t))),
    );
  }

  const points = (metrics.atReferencePoints ?? {}) as Record<
    string,
    Record<string, { threshold: number; sensitivity: number; specificity: number }>
  >;
  const pointRows: Row[] = [];
  for (const [reference, byTarget] of Object.entries(points)) {
    for (const [target, point] of Object.entries(byTarget)) {
      const pointBox = pooled.box(point.threshold);
      for (const name of ["sensitivity", "specificity"] as const) {
        pointRows.push({
          name: `${reference} ${target} ${name} (t ${point.threshold.toFixed(6)})`,
          json: point[name],
          recomputed: scoreAtUpper(pointBox, name),
          allowed: scoreRange(pointBox, name),
        });
      }
    }
  }
  if (pointRows.length) {
    tally(
      "atReferencePoints (pooled test rates at each point's threshold)",
      ["each threshold's ambiguous byte allowed for, as above"],
      pointRows,
    );
  }

  const references = metrics.references as Record<string, unknown> | undefined;
  if (observer === "2nd_manual") {
    const confusions = await Promise.all(ids.map((id) => observerConfusion(drive, id)));
    const total = confusions.reduce((a, c) => ({
      tp: a.tp + c.tp,
      fp: a.fp + c.fp,
      tn: a.tn + c.tn,
      fn: a.fn + c.fn,
    }));
    const scores = scoresOf(total);
    const json = references?.[observer];
    const rows = THRESHOLD_SCORES.map((name) => exactRow(name, numberIn(json, name), scores[name]));
    rows.push(exactRow(
      "dice",
      numberIn(json, "dice"),
      confusions.reduce((a, c) => a + scoresOf(c).f1, 0) / confusions.length,
    ));
    tally(
      `references.2nd_manual (DRIVE's second observer against the first, the run's ${
        count(ids.length, "test image")
      })`,
      json === undefined
        ? ["metrics.json has no references.2nd_manual row: recomputed values shown only"]
        : [],
      rows,
    );
  } else if (observer !== null) {
    console.log(`\nreferences.${observer}: not checked (only DRIVE's 2nd_manual is known here)`);
  }

  if (validationJson && validationIds.every((id) => validation.has(id))) {
    const maps = await Promise.all(
      validationIds.map((id) => histogramOf(resolve(validation.get(id)!), drive, id)),
    );
    const all = maps.reduce((a, h) => a.merge(h), new ByteHistogram());
    const validationBox = all.box(threshold);
    tally(
      `validation (${validationJson.on}, from ${
        validationIds.every((id) => validation.get(id)!.startsWith(join(run, "predictions")))
          ? "the run's maps"
          : "the maps given"
      })`,
      [
        `FOV pixels ${all.vessels + all.backgrounds}, vessel ${all.vessels}`,
        describeCut(threshold, validationBox),
      ],
      [
        ...rankingRows(validationJson.metrics, all),
        ...thresholdRows(validationJson.metrics, validationBox, maps.map((h) => h.box(threshold))),
      ],
    );
  } else if (validationJson) {
    const missing = validationIds.filter((id) => !validation.has(id));
    // predict z-scores its images with their own statistics: the run's training images give
    // the run's own to the last bit (others can move a pixel across 0.5; min-max only cancels
    // the z-score up to rounding).
    const folder = join(drive, "training", "images");
    let images: string[];
    try {
      images = [...Deno.readDirSync(folder)].map((e) => e.name)
        .filter((name) => /^\d+_training\.tif$/.test(name))
        .sort((a, b) => parseInt(a) - parseInt(b))
        .slice(0, trainLimit ?? undefined)
        .map((name) => join(folder, name));
    } catch {
      images = [join(folder, "<the run's training images>")];
    }
    console.log(
      `\nvalidation (${validationJson.on}): not checked; the run saved no maps of them ` +
        "(predictions/validation/, saved since 2026-12-07). " +
        `To check it, make them from the run's ${count(images.length, "training image")} ` +
        `(the same z-score statistics):\n  deno task predict --model ${join(run, "model")} ` +
        `${images.join(" ")} --output DIR\nand pass ` +
        missing.map((id) => `--validation ${id}=DIR/${id}_probability.png`).join(" "),
    );
  }

  console.log(
    failures
      ? `\nFAIL: ${failures} value(s) of metrics.json disagree with the recomputation (of ${compared} compared)`
      : `\nPASS: all ${compared} values compared agree (exactly, or inside their 8-bit interval)`,
  );
  return failures ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(error instanceof CannotCheck ? error.message : error);
    Deno.exit(2);
  }
}

/**
 * The run report as one self-contained HTML page: inline CSS, every image a
 * base64 `data:` URI, no script and no external resource, so the single file
 * can be mailed, archived or opened offline. It holds the metrics table (this
 * run beside the chosen-threshold column and the references, e.g. the
 * paper's figures and the second human observer), the ROC and
 * precision-recall figures, the training curve, the per-image scores, and
 * each test image's probability map beside its error overlay.
 *
 * @module
 */

import {
  type Evaluation,
  metricsColumns,
  referencePointLines,
  shortThreshold,
} from "../../../mod.ts";
import { OVERLAY_COLORS, OVERLAY_LEGEND } from "./overlay.ts";

/** One test image in the report. */
export interface ReportImage {
  /** The sample id, e.g. `01_test`. */
  readonly id: string;
  /** Its error overlay (overlay.ts), a PNG. */
  readonly overlay: Uint8Array;
  /** Its probability map, a grey PNG, when there is one. */
  readonly probability?: Uint8Array;
}

/** What {@link reportHtml} shows. */
export interface ReportHtmlInput {
  /** The page's title and heading. */
  readonly title: string;
  /** A line under the heading (e.g. the run folder and data set). */
  readonly subtitle?: string;
  /** What the evaluate stage returned: metrics, references, per-image scores, chosen threshold. */
  readonly evaluation: Evaluation;
  /** The threshold of the `this run` column and of the overlays. */
  readonly threshold: number;
  /** The figures as PNGs; a missing one is said to be missing. */
  readonly figures: {
    readonly roc?: Uint8Array;
    readonly pr?: Uint8Array;
    readonly training?: Uint8Array;
  };
  /** The test images, in report order. */
  readonly images: readonly ReportImage[];
  /** How training departed from the recipe as written (`TrainedModel.caveats`), shown first. */
  readonly caveats?: readonly string[];
}

/** How the metrics table names each metric. */
const METRIC_NAMES: Readonly<Record<string, string>> = {
  auc: "AUC",
  prAuc: "PR-AUC (AP)",
  f1: "F1",
  accuracy: "Accuracy",
  sensitivity: "Sensitivity",
  specificity: "Specificity",
  precision: "Precision",
  iou: "IoU",
  mcc: "MCC",
  dice: "Dice (mean per image)",
};

/** Where the per-image table names a metric otherwise. */
const PER_IMAGE_NAMES: Readonly<Record<string, string>> = { dice: "Dice" };

/**
 * The display name of a metric key (`auc` → `AUC`); unknown keys as they are.
 *
 * @param key A key of `Evaluation.metrics`.
 * @returns The name the report shows.
 *
 * @example Usage
 * ```ts
 * import { metricName } from "./report_html.ts";
 * import { assert } from "../../../tests/assert.ts";
 * assert(metricName("prAuc") === "PR-AUC (AP)" && metricName("custom") === "custom");
 * ```
 */
export function metricName(key: string): string {
  return METRIC_NAMES[key] ?? key;
}

/**
 * Escapes text for HTML content and attribute values.
 *
 * @param text Any text.
 * @returns The text with `&`, `<`, `>`, `"` and `'` as entities.
 *
 * @example Usage
 * ```ts
 * import { escapeHtml } from "./report_html.ts";
 * import { assert } from "../../../tests/assert.ts";
 * assert(escapeHtml(`<a href="x">&</a>`) === "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * A PNG as a `data:` URI, for an `<img src>` that needs no other file.
 *
 * @param png The PNG file's bytes.
 * @returns `data:image/png;base64,` and the bytes in base64.
 *
 * @example Usage
 * ```ts
 * import { pngDataUri } from "./report_html.ts";
 * import { assert } from "../../../tests/assert.ts";
 * assert(pngDataUri(new Uint8Array([0x89, 0x50, 0x4e, 0x47])) === "data:image/png;base64,iVBORw==");
 * ```
 */
export function pngDataUri(png: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < png.length; i += 0x8000) {
    binary += String.fromCharCode(...png.subarray(i, i + 0x8000));
  }
  return `data:image/png;base64,${btoa(binary)}`;
}

/** A table cell of a value with 4 decimals, or an empty one. */
function cell(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value)
    ? `<td class="empty"></td>`
    : `<td>${value.toFixed(4)}</td>`;
}

/** An `<img>` of a PNG with its alternative text. */
function img(png: Uint8Array, alt: string, className = ""): string {
  return `<img src="${pngDataUri(png)}" alt="${escapeHtml(alt)}"` +
    (className ? ` class="${className}"` : "") + ">";
}

/** The metrics table: a row per metric, the columns of `metricsColumns`. */
function metricsTable(evaluation: Evaluation, threshold: number): string {
  const chosen = evaluation.chosenThreshold;
  const columns = metricsColumns(evaluation, `this run (at ${shortThreshold(threshold)})`);
  const head = `<tr><th scope="col">metric</th>${
    columns.map(([name]) => `<th scope="col">${escapeHtml(name)}</th>`).join("")
  }</tr>`;
  const rows = Object.keys(evaluation.metrics).map((key) =>
    `<tr data-metric="${escapeHtml(key)}"><th scope="row">${escapeHtml(metricName(key))}</th>${
      columns.map(([, values]) => cell(values[key])).join("")
    }</tr>`
  );
  const note = chosen
    ? `<p class="note">(val): the threshold ${shortThreshold(chosen.threshold)} maximises F1 on ${
      escapeHtml(chosen.chosenOn)
    }, never on the test images; only the metrics that depend on a threshold are shown.</p>`
    : "";
  const validationNote = evaluation.validation
    ? `<p class="note">validation: the same scores on ${
      escapeHtml(evaluation.validation.on)
    }, held out of training; not test images.</p>`
    : "";
  const pointNotes = referencePointLines(evaluation)
    .map((line) => `<p class="note">${escapeHtml(line)}.</p>`).join("");
  return `<table id="metrics" class="numbers"><thead>${head}</thead><tbody>\n${
    rows.join("\n")
  }\n</tbody></table>\n${note}${validationNote}${pointNotes}`;
}

/** The per-image table: a row per test image, a column per metric any image has. */
function perImageTable(perImage: NonNullable<Evaluation["perImage"]>): string {
  const keys = [...new Set(perImage.flatMap((p) => Object.keys(p.metrics)))];
  const head = `<tr><th scope="col">image</th>${
    keys.map((k) => `<th scope="col">${escapeHtml(PER_IMAGE_NAMES[k] ?? metricName(k))}</th>`)
      .join("")
  }</tr>`;
  const rows = perImage.map((p) =>
    `<tr data-image="${escapeHtml(p.id)}"><th scope="row">${escapeHtml(p.id)}</th>${
      keys.map((k) => cell(p.metrics[k])).join("")
    }</tr>`
  );
  return `<table id="per-image" class="numbers"><thead>${head}</thead><tbody>\n${
    rows.join("\n")
  }\n</tbody></table>`;
}

/** A figure, or a line saying why it is missing. */
function figure(png: Uint8Array | undefined, id: string, alt: string, caption: string): string {
  return png
    ? `<figure id="${id}">${img(png, alt, "chart")}<figcaption>${caption}</figcaption></figure>`
    : `<p class="missing" id="${id}">${escapeHtml(alt)}: not available for this run.</p>`;
}

const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
  background: #fff; margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 1280px; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.subtitle, .note, .missing, figcaption { color: #555; font-size: .9rem; }
table.numbers { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.numbers th, table.numbers td { border: 1px solid #d4d4d4; padding: .25rem .6rem; }
table.numbers td { text-align: right; }
table.numbers thead th { background: #f3f3f3; }
table.numbers tbody th { text-align: left; font-weight: 600; background: #fafafa; }
table.numbers tbody tr:nth-child(even) td { background: #fcfcfc; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; }
.figures figure { width: 542px; max-width: 100%; }
img.chart { width: 540px; max-width: 100%; height: auto; border: 1px solid #eee; }
.images { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1.5rem; }
.sample { border: 1px solid #e3e3e3; padding: .6rem; border-radius: 4px; }
.sample h3 { font-size: 1rem; margin: 0 0 .4rem; }
.pair { display: flex; gap: .5rem; }
.pair figure { flex: 1 1 0; min-width: 0; }
.pair img { width: 100%; height: auto; display: block; background: #000; }
.legend { display: flex; flex-wrap: wrap; gap: 1rem; margin: .3rem 0 1rem; font-size: .9rem; }
.caveat { border-left: 4px solid #c77700; background: #fff6e5; padding: .4rem .8rem; }
.swatch { display: inline-block; width: .9rem; height: .9rem; border: 1px solid #888;
  vertical-align: -.15rem; margin-right: .3rem; }
`;

/**
 * The report page (see the module doc): headed by `title` and any caveats
 * (each a `p.caveat`), then the metrics
 * table (id `metrics`, a row per metric with `data-metric`), the ROC and PR
 * figures, the training curve, the per-image table (id `per-image`) and a
 * card per test image with its probability map and overlay and a legend of
 * the overlay's colours. Self-contained: every image is a `data:` URI.
 *
 * @param input The evaluation, the figures' PNGs and the test images.
 * @returns The HTML document.
 *
 * @example Usage
 * ```ts
 * import { reportHtml } from "./report_html.ts";
 * import { assert } from "../../../tests/assert.ts";
 * const html = reportHtml({
 *   title: "Capillary report",
 *   evaluation: { metrics: { auc: 0.9583, f1: 0.7646 }, references: { paper: { auc: 0.9773 } } },
 *   threshold: 0.5,
 *   figures: { roc: new Uint8Array([0x89, 0x50]) },
 *   images: [],
 * });
 * assert(html.startsWith("<!DOCTYPE html>"));
 * assert(html.includes(`<tr data-metric="auc"><th scope="row">AUC</th><td>0.9583</td><td>0.9773</td></tr>`));
 * assert(html.includes(`src="data:image/png;base64,iVA="`));
 * ```
 */
export function reportHtml(input: ReportHtmlInput): string {
  const { evaluation, figures, images } = input;
  const perImage = evaluation.perImage ?? [];
  const byId = new Map(perImage.map((p) => [p.id, p.metrics]));
  const rgb = (c: readonly number[]) => `rgb(${c.map((v) => Math.round(v * 255)).join(" ")})`;
  const legend = `<div class="legend">${
    OVERLAY_LEGEND.map(({ key, label }) =>
      `<span><span class="swatch" style="background:${
        rgb(OVERLAY_COLORS[key])
      }"></span>${label}</span>`
    ).join("")
  }</div>`;
  const cards = images.map((image) => {
    const m = byId.get(image.id);
    const scores = m
      ? ` <span class="note">${
        ["dice", "auc"].filter((k) => m[k] !== undefined)
          .map((k) => `${PER_IMAGE_NAMES[k] ?? metricName(k)} ${m[k].toFixed(4)}`).join(", ")
      }</span>`
      : "";
    const probability = image.probability
      ? `<figure>${img(image.probability, `probability map of ${image.id}`)}` +
        `<figcaption>probability</figcaption></figure>`
      : "";
    return `<section class="sample" id="image-${escapeHtml(image.id)}"><h3>${
      escapeHtml(image.id)
    }${scores}</h3><div class="pair">${probability}<figure>${
      img(image.overlay, `error overlay of ${image.id}`)
    }<figcaption>overlay at ${
      shortThreshold(input.threshold)
    }</figcaption></figure></div></section>`;
  });
  const threshold = shortThreshold(input.threshold);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(input.title)}</h1>
${input.subtitle ? `<p class="subtitle">${escapeHtml(input.subtitle)}</p>` : ""}
</header>
<main>
${
    (input.caveats ?? []).map((c) =>
      `<p class="caveat"><strong>Caveat:</strong> ${escapeHtml(c)}</p>`
    ).join("\n")
  }
<h2>Metrics</h2>
<p class="note">All test images pooled, only pixels inside each image's region of interest;
a pixel is foreground when its probability is at least the threshold. AUC and PR-AUC do not
depend on the threshold.</p>
${metricsTable(evaluation, input.threshold)}
<h2>ROC and precision-recall curves</h2>
<div class="figures">
${
    figure(
      figures.roc,
      "roc",
      "ROC curve",
      "ROC curve of all test pixels pooled; dots: this run at its thresholds and the references.",
    )
  }
${
    figure(
      figures.pr,
      "pr",
      "Precision-recall curve",
      "Precision-recall curve of all test pixels pooled; dashed: the prevalence (chance).",
    )
  }
</div>
<h2>Training</h2>
${
    figure(
      figures.training,
      "training",
      "Training curve",
      "Loss and validation loss per epoch, from history.jsonl.",
    )
  }
${perImage.length ? `<h2>Per-image scores (at ${threshold})</h2>\n${perImageTable(perImage)}` : ""}
${
    images.length
      ? `<h2>Test images</h2>\n${legend}\n<div class="images">\n${cards.join("\n")}\n</div>`
      : ""
  }
</main>
</body>
</html>
`;
}

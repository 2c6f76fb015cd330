import { assert, assertEquals } from "../../../tests/assert.ts";
import type { Evaluation } from "../../../pipeline/stage.ts";
import { escapeHtml, pngDataUri, reportHtml } from "./report_html.ts";

const EVALUATION: Evaluation = {
  metrics: { auc: 0.95834, f1: 0.7646, sensitivity: 0.7, prAuc: 0.85 },
  references: {
    paper: { auc: 0.9773, f1: 0.7947, sensitivity: 0.7153 },
    "2nd_manual": { f1: 0.7891, sensitivity: 0.7746 },
  },
  perImage: [
    { id: "01_test", metrics: { auc: 0.97, dice: 0.8 } },
    { id: "<02>", metrics: { dice: 0.75 } }, // no AUC: one class only
  ],
  chosenThreshold: { threshold: 0.43, chosenOn: "4 validation images", metrics: { f1: 0.77 } },
};

const PNG_A = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
const PNG_B = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 4, 5]);

function html(overrides: Partial<Parameters<typeof reportHtml>[0]> = {}): string {
  return reportHtml({
    title: "Capillary report: DRIVE",
    subtitle: "runs/drive/2026-11-27T10-00-00Z",
    evaluation: EVALUATION,
    threshold: 0.5,
    figures: { roc: PNG_A, pr: PNG_B, training: PNG_A },
    images: [
      { id: "01_test", overlay: PNG_A, probability: PNG_B },
      { id: "<02>", overlay: PNG_B },
    ],
    ...overrides,
  });
}

/** The cells of the table row whose `data-metric` (or `data-image`) is `key`. */
function row(page: string, attribute: string, key: string): string[] {
  const match = page.match(new RegExp(`<tr ${attribute}="${key}">(.*?)</tr>`));
  assert(match, `no row ${key}`);
  return [...match[1].matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((m) => m[1]);
}

Deno.test("reportHtml() puts a row per metric: this run, the chosen threshold, each reference", () => {
  const page = html();
  const header = page.match(/<table id="metrics"[^>]*><thead><tr>(.*?)<\/tr>/)![1];
  assertEquals([...header.matchAll(/<th scope="col">(.*?)<\/th>/g)].map((m) => m[1]), [
    "metric",
    "this run (at 0.5)",
    "at 0.43 (val)",
    "paper",
    "2nd_manual",
  ]);
  assertEquals(row(page, "data-metric", "auc"), ["AUC", "0.9583", "", "0.9773", ""]);
  assertEquals(row(page, "data-metric", "f1"), ["F1", "0.7646", "0.7700", "0.7947", "0.7891"]);
  assertEquals(row(page, "data-metric", "prAuc"), ["PR-AUC (AP)", "0.8500", "", "", ""]);
  // Rows in the evaluation's order, and only its metrics.
  assertEquals(
    [...page.matchAll(/data-metric="(\w+)"/g)].map((m) => m[1]),
    ["auc", "f1", "sensitivity", "prAuc"],
  );
  assert(page.includes("the threshold 0.43 maximises F1 on 4 validation images"), page);
});

Deno.test("reportHtml() says under the table where the ROC curve passes the paper's point", () => {
  const page = html({
    evaluation: {
      ...EVALUATION,
      atReferencePoints: {
        paper: {
          atSpecificity: { threshold: 0.52, sensitivity: 0.7301, specificity: 0.9877 },
          atSensitivity: { threshold: 0.55, sensitivity: 0.7154, specificity: 0.989 },
        },
      },
    },
  });
  assert(
    page.includes(
      '<p class="note">paper&#39;s point on this run&#39;s ROC curve: sensitivity 0.7301 ' +
        "(paper 0.7153) at its specificity, specificity 0.9890 at its sensitivity.</p>",
    ),
    page.match(/<p class="note">paper.*?<\/p>/)?.[0],
  );
  assert(!html().includes("point on this run"));
});

Deno.test("reportHtml() lists each image's scores and escapes ids", () => {
  const page = html();
  const header = page.match(/<table id="per-image"[^>]*><thead><tr>(.*?)<\/tr>/)![1];
  assertEquals([...header.matchAll(/<th scope="col">(.*?)<\/th>/g)].map((m) => m[1]), [
    "image",
    "AUC",
    "Dice",
  ]);
  assertEquals(row(page, "data-image", "01_test"), ["01_test", "0.9700", "0.8000"]);
  assertEquals(row(page, "data-image", "&lt;02&gt;"), ["&lt;02&gt;", "", "0.7500"]);
  assert(!page.includes("<02>"), "an id is escaped everywhere");
  assert(page.includes(`<section class="sample" id="image-01_test"><h3>01_test`), page);
});

Deno.test("reportHtml() embeds every image as a data URI and loads nothing else", () => {
  const page = html();
  const sources = [...page.matchAll(/<img src="([^"]*)" alt="([^"]*)"/g)].map((m) => [m[1], m[2]]);
  assertEquals(sources.map(([, alt]) => alt), [
    "ROC curve",
    "Precision-recall curve",
    "Training curve",
    "probability map of 01_test",
    "error overlay of 01_test",
    "error overlay of &lt;02&gt;",
  ]);
  assertEquals(sources.map(([src]) => src), [
    pngDataUri(PNG_A),
    pngDataUri(PNG_B),
    pngDataUri(PNG_A),
    pngDataUri(PNG_B),
    pngDataUri(PNG_A),
    pngDataUri(PNG_B),
  ]);
  // The base64 decodes back to the bytes.
  const decoded = atob(pngDataUri(PNG_A).split(",")[1]);
  assertEquals(Uint8Array.from(decoded, (c) => c.charCodeAt(0)), PNG_A);
  // Self-contained: no script, no stylesheet link, no URL other than data: ones.
  assertEquals(/<script|<link|<iframe|@import|url\(/i.test(page), false);
  assertEquals([...page.matchAll(/(?:src|href)="(?!data:)/g)].length, 0);
  // The overlay's colour legend.
  for (const label of ["true positive", "false positive", "false negative", "true negative"]) {
    assert(page.includes(label), label);
  }
  assert(page.includes("background:rgb(255 51 51)"), "false positives red");
});

Deno.test("reportHtml() says which figures are missing and leaves out empty sections", () => {
  const page = html({
    figures: {},
    images: [],
    evaluation: { metrics: { auc: 0.9 } },
  });
  assert(page.includes(`<p class="missing" id="training">Training curve: not available`), page);
  assert(page.includes(`<p class="missing" id="roc">ROC curve: not available`), page);
  assertEquals(page.includes("<img"), false);
  assertEquals(page.includes("per-image"), false);
  assertEquals(page.includes("Test images"), false);
  assertEquals(row(page, "data-metric", "auc"), ["AUC", "0.9000"]);
});

Deno.test("escapeHtml() and pngDataUri() of longer inputs", () => {
  assertEquals(escapeHtml(`a'b"c`), "a&#39;b&quot;c");
  // More than one 32 KiB chunk of bytes encodes as one base64 string.
  const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256);
  const back = atob(pngDataUri(big).slice("data:image/png;base64,".length));
  assertEquals(back.length, big.length);
  assertEquals(Uint8Array.from(back, (c) => c.charCodeAt(0)), big);
});

Deno.test("reportHtml() shows each caveat above the metrics, escaped, and none when there are none", () => {
  assertEquals(html().includes('class="caveat"'), false);
  const page = html({ caveats: ["train.maxMinutes 22 shortened the epochs: 10 of 3750 <steps>"] });
  const caveat = page.indexOf(
    '<p class="caveat"><strong>Caveat:</strong> train.maxMinutes 22 shortened the epochs: 10 of ' +
      "3750 &lt;steps&gt;</p>",
  );
  assert(caveat > 0, page.slice(0, 2000));
  assert(caveat < page.indexOf("<h2>Metrics</h2>"));
});

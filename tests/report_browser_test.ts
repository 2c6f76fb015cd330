/**
 * The run report in a real browser: a tiny `recipes/synthetic.yaml` run
 * (64² generated retinas, width 4, 2 epochs, one validation image, the
 * paper's figures as a reference) writes `report.html`; headless Chromium
 * loads a copy of it with a probe script appended, which records after the
 * page's `load` event what the browser made of it: the metrics and per-image
 * table rows, and each `<img>`'s decoded (natural) and laid-out size. The
 * DOM is read back with `--dump-dom`; a `--screenshot` then shows the
 * figures were painted. Skipped (ignored) where no Chromium is installed
 * (`apt-get install chromium`; `.ci/run` installs it); set
 * `CAPILLARY_CHROMIUM` to use another binary.
 */
import { Image } from "imagescript";
import { loadRecipe, runRecipe, type RunResult } from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { assert, assertEquals } from "./assert.ts";
import { sanitizers, silent, SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";

/** The tiny synthetic run with 2 test images, 1 held out for validation, and a reference. */
const TINY = [
  ...TINY_SYNTHETIC,
  "load.test=2",
  "train.validation.images=1",
  "evaluate.references={paper: {auc: 0.9773, f1: 0.7947, accuracy: 0.9529, " +
  "sensitivity: 0.7153, specificity: 0.9876, precision: 0.894}}",
];

/** The Chromium binary: `$CAPILLARY_CHROMIUM`, else the first of the usual names on the PATH. */
function findChromium(): string | undefined {
  const given = Deno.env.get("CAPILLARY_CHROMIUM");
  if (given) return given;
  const names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    for (const name of names) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const CHROMIUM = findChromium();

/**
 * Appended to the copy the browser opens: after `load` (every image decoded
 * or failed), each image gets `data-natural` and `data-shown` (width x
 * height) and the body `data-probe`, a JSON summary of the tables.
 */
const PROBE = `<script>
addEventListener("load", () => {
  for (const img of document.images) {
    const box = img.getBoundingClientRect();
    img.setAttribute("data-natural", img.naturalWidth + "x" + img.naturalHeight);
    img.setAttribute("data-shown", Math.round(box.width) + "x" + Math.round(box.height));
  }
  const cells = (selector) => [...document.querySelectorAll(selector)].map((tr) =>
    [...tr.children].map((c) => c.textContent.trim()));
  document.body.setAttribute("data-probe", JSON.stringify({
    title: document.title,
    metrics: cells("#metrics tbody tr"),
    header: cells("#metrics thead tr")[0],
    perImage: cells("#per-image tbody tr"),
    images: document.images.length,
  }));
});
</script>`;

/** Runs Chromium headless on `args`, giving up after a minute; returns stdout. */
async function chromium(args: string[]): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "capillary_chromium_" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(CHROMIUM!, {
      args: [
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const err = new TextDecoder().decode(stderr);
    assertEquals(code, 0, `${CHROMIUM} ${args.join(" ")} failed:\n${err}`);
    return new TextDecoder().decode(stdout);
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** An attribute of an element's start tag. */
function attribute(tag: string, name: string): string | undefined {
  return tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
}

Deno.test({
  name: CHROMIUM
    ? "report.html of a real run shows its tables and every image in headless Chromium"
    : "report.html in a browser (ignored: no chromium on the PATH; apt-get install chromium)",
  ignore: !CHROMIUM,
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_report_" });
    try {
      const { recipe } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: TINY,
      });
      const run: RunResult = await runRecipe(recipe, { outputRoot: root, progress: silent });
      const { evaluation } = run;
      const testIds = evaluation.perImage!.map((p) => p.id);
      assertEquals(testIds.length, 2);

      // A copy with the probe, beside the report, so the page is exactly the run's plus a script.
      const html = await Deno.readTextFile(`${run.folder}/report.html`);
      assert(html.includes("</body>"), "report.html has a body");
      assertEquals(/<script|(?:src|href)="(?!data:)/.test(html), false, "self-contained");
      const probed = `${root}/probed.html`;
      await Deno.writeTextFile(probed, html.replace("</body>", `${PROBE}\n</body>`));

      const dom = await chromium(["--virtual-time-budget=10000", "--dump-dom", `file://${probed}`]);
      const body = dom.match(/<body[^>]*>/)?.[0] ?? "";
      const json = attribute(body, "data-probe");
      assert(json, `the probe did not run; the DOM:\n${dom.slice(0, 2000)}`);
      const probe = JSON.parse(json.replace(/&quot;/g, '"').replace(/&amp;/g, "&"));

      // The metrics table: a row per metric, this run, the chosen threshold, the validation
      // images' own scores, the references.
      const chosen = evaluation.chosenThreshold!;
      const validation = evaluation.validation!.metrics;
      assertEquals(probe.header, [
        "metric",
        "this run (at 0.5)",
        `at ${Number(chosen.threshold.toFixed(4))} (val)`,
        "validation",
        "paper", // generated retinas have no second observer
      ]);
      assertEquals(probe.metrics.length, Object.keys(evaluation.metrics).length);
      const auc = probe.metrics.find((r: string[]) => r[0] === "AUC");
      assertEquals(auc, [
        "AUC",
        evaluation.metrics.auc.toFixed(4),
        "",
        validation.auc.toFixed(4),
        "0.9773",
      ]);
      const f1 = probe.metrics.find((r: string[]) => r[0] === "F1");
      assertEquals(f1, [
        "F1",
        evaluation.metrics.f1.toFixed(4),
        chosen.metrics.f1.toFixed(4),
        validation.f1.toFixed(4),
        "0.7947",
      ]);
      assertEquals(probe.perImage.map((r: string[]) => r[0]), testIds);

      // Every image decoded and laid out at a non-zero size: 3 figures, then per test image
      // its probability map and its overlay (the 64² generated images).
      const images = [...dom.matchAll(/<img\b[^>]*>/g)].map((m) => m[0]);
      assertEquals(probe.images, 3 + 2 * testIds.length);
      assertEquals(images.length, probe.images);
      assertEquals(images.map((tag) => attribute(tag, "data-natural")), [
        "720x540",
        "720x540",
        "720x540",
        ...testIds.flatMap(() => ["64x64", "64x64"]),
      ]);
      for (const tag of images) {
        const [w, h] = attribute(tag, "data-shown")!.split("x").map(Number);
        assert(w > 0 && h > 0, `not laid out: ${tag.slice(0, 120)}`);
      }

      // Painted: the screenshot holds the curves' blue where the figures are.
      const shot = `${root}/report.png`;
      await chromium(["--window-size=1280,2400", `--screenshot=${shot}`, `file://${probed}`]);
      const png = await Image.decode(await Deno.readFile(shot));
      assertEquals([png.width, png.height], [1280, 2400]);
      let blue = 0; // the series colour (31, 120, 181), allowing for scaling
      for (let i = 0; i < png.bitmap.length; i += 4) {
        const [r, g, b] = png.bitmap.subarray(i, i + 3);
        if (Math.abs(r - 31) < 30 && Math.abs(g - 120) < 30 && Math.abs(b - 181) < 30) blue++;
      }
      assert(blue > 200, `only ${blue} pixels of the curves' blue in the screenshot`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/**
 * The ablation table of issue 7: `recipes/drive.yaml` and one variant per
 * component (preprocessing, augmentation, the schedule, the ConvLSTM skip,
 * synthetic pretraining), each a full run through the CLI, tabulated with
 * the commit, seed and wall time into `ABLATION.md`. Every row is measured;
 * rows not run keep their earlier values and say when they were measured.
 *
 * ```sh
 * deno run -A bench/ablation.ts                       # every variant (hours on 2 cores)
 * deno run -A bench/ablation.ts --only baseline,concat  # some of them
 * deno run -A bench/ablation.ts --set train.epochs=1    # applied to every variant (a proxy)
 * deno run -A bench/ablation.ts --only pretrained --from runs/synthetic-pretrain
 * ```
 *
 * Settings are chosen on the validation images, never on the test set: the
 * table shows test metrics only to report the finished variants.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../mod.ts";

/** One row: what differs from drive.yaml, as recipe and `--set` overrides. */
interface Variant {
  readonly name: string;
  readonly what: string;
  readonly recipe: string;
  readonly sets: readonly string[];
  /** Takes `--from` as its `model.from` (the pretrained network). */
  readonly takesFrom?: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: "baseline", what: "drive.yaml as it is", recipe: "recipes/drive.yaml", sets: [] },
  {
    name: "no-preprocessing",
    what: "grey ÷ 255 only (no z-score, CLAHE or gamma)",
    recipe: "recipes/drive.yaml",
    sets: [
      "preprocess=[{use: core/retina_preprocess, with: {standardize: false, clahe: null, gamma: null}}]",
    ],
  },
  {
    name: "no-augmentation",
    what: "no flips or turns",
    recipe: "recipes/drive.yaml",
    sets: ["augment=null"],
  },
  {
    name: "no-schedule",
    what: "SGD at a constant learning rate",
    recipe: "recipes/drive.yaml",
    sets: ["train.schedule={use: core/constant}"],
  },
  {
    name: "concat",
    what: "U-Net concatenation instead of the ConvLSTM skips",
    recipe: "recipes/drive.yaml",
    sets: ["model.skip=concat"],
  },
  {
    name: "pretrained",
    what: "started from synthetic-pretrain.yaml's network (run that first)",
    recipe: "recipes/drive-finetune.yaml",
    sets: [],
    takesFrom: true,
  },
];

const METRICS = ["auc", "f1", "accuracy", "sensitivity", "specificity", "precision"] as const;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string" },
    set: { type: "string", multiple: true },
    output: { type: "string", default: "ABLATION.md" },
    from: { type: "string" },
  },
});
const only = values.only?.split(",");
const unknown = only?.filter((n) => !VARIANTS.some((v) => v.name === n)) ?? [];
if (unknown.length) {
  console.error(`unknown variant(s) ${unknown.join(", ")}; ${VARIANTS.map((v) => v.name)}`);
  Deno.exit(2);
}
/** The CPU's model name where the OS says it (Linux), so each row names the machine it ran on. */
function cpuModel(): string {
  try {
    const line = Deno.readTextFileSync("/proc/cpuinfo").split("\n").find((l) =>
      l.startsWith("model name")
    );
    return line?.split(":")[1]?.trim() ?? "";
  } catch {
    return "";
  }
}

const commit = new TextDecoder().decode(
  (await new Deno.Command("git", { args: ["rev-parse", "--short", "HEAD"] }).output()).stdout,
).trim();

/** Earlier rows of the table, by variant name, kept when a variant is not rerun. */
async function earlierRows(file: string): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  try {
    for (const line of (await Deno.readTextFile(file)).split("\n")) {
      const name = /^\| `([^`]+)` +\|/.exec(line)?.[1];
      if (!name) continue;
      const cells = line.split("|").slice(1, -1);
      // Rows from before the validation-AUC column get a blank one.
      if (cells.length === 12) cells.splice(4, 0, " — ");
      rows.set(name, `|${cells.join("|")}|`);
    }
  } catch { /* no table yet */ }
  return rows;
}

/** Writes the table as it stands, after every row, so a run stopped part-way keeps its rows. */
async function writeTable(rows: Map<string, string>): Promise<void> {
  const table = [
    "# Ablation of recipes/drive.yaml",
    "",
    "Written by `deno run -A bench/ablation.ts`: each row a full run from the command line on the",
    "machine named below, DRIVE test set (20 images, FOV, threshold 0.5), seed of the recipe.",
    "",
    `Machine: ${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} cores.`,
    "",
    "Validation loss and Dice are on the 2 held-out training images at the best epoch (by validation",
    "loss), validation AUC on the same images as the test images are predicted: settings are chosen",
    "on those. The test columns only report the finished variants. Minutes are of the machine",
    "the row names, and two machines of one name can differ 1.6× in speed.",
    "",
    "| variant | what differs | val loss | val Dice | val AUC | AUC | F1 | Acc | Se | Sp | Precision | minutes | measured at |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...VARIANTS.map((v) => rows.get(v.name)).filter((r): r is string => r !== undefined),
    "",
  ].join("\n");
  await writeFileAtomic(values.output!, table);
}

const rows = await earlierRows(values.output!);
for (const variant of VARIANTS.filter((v) => !only || only.includes(v.name))) {
  const output = await Deno.makeTempDir({ prefix: `capillary-ablation-${variant.name}-` });
  const from = variant.takesFrom && values.from ? [`model.from=${values.from}`] : [];
  const sets = [...variant.sets, ...from, ...(values.set ?? [])].flatMap((s) => ["--set", s]);
  console.log(`▶ ${variant.name}: deno task run ${variant.recipe} ${sets.join(" ")}`);
  const started = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "run", variant.recipe, ...sets, "--output", output],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const minutes = (performance.now() - started) / 60_000;
  if (code !== 0) {
    console.error(`${variant.name} failed (exit ${code}); its row is left as it was`);
    continue;
  }
  const [name] = [...Deno.readDirSync(output)].map((e) => e.name);
  const [run] = [...Deno.readDirSync(`${output}/${name}`)].map((e) => e.name);
  const summary = JSON.parse(await Deno.readTextFile(`${output}/${name}/${run}/metrics.json`));
  const cells = METRICS.map((m) => (summary.metrics[m] as number).toFixed(4));
  // The validation images' scores at the monitored best epoch: what settings are chosen on.
  const history = (await Deno.readTextFile(`${output}/${name}/${run}/history.jsonl`)).trim()
    .split("\n").map((l) => JSON.parse(l) as { valLoss?: number; valDice?: number });
  const lossOf = (h: { valLoss?: number }) => h.valLoss ?? Infinity;
  const best = history.reduce((a, b) => lossOf(b) < lossOf(a) ? b : a);
  // Every metric on the validation images, at the threshold, where the run has them (2026-12-02 on).
  const validationAuc = summary.validation?.metrics?.auc as number | undefined;
  const validation = [best.valLoss, best.valDice, validationAuc].map((v) => v?.toFixed(4) ?? "—");
  const extra = values.set?.length ? `; --set ${values.set.join(" ")}` : "";
  rows.set(
    variant.name,
    `| \`${variant.name}\` | ${variant.what}${extra} | ${validation.join(" | ")} | ${
      cells.join(" | ")
    } | ${minutes.toFixed(1)} | ${
      [commit, new Date().toISOString().slice(0, 10), cpuModel()].filter(Boolean).join(", ")
    } |`,
  );
  await Deno.remove(output, { recursive: true });
  await writeTable(rows);
  console.log(`Wrote ${values.output}`);
}

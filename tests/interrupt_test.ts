/**
 * Stopping a run (Ctrl-C): `runRecipe`'s `signal` stops training at the next
 * step, keeping no partial epoch, its checkpoint and `history.jsonl` in
 * agreement, and a resumed run ends as one never interrupted; the CLI's first
 * SIGINT stops it so, promptly, though a training step is synchronous.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import {
  isInterruption,
  loadRecipe,
  type Progress,
  type ResolvedRecipe,
  runRecipe,
} from "../mod.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";
import { sanitizers, silent, SYNTHETIC, TINY_SYNTHETIC } from "./tiny_runs.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/**
 * Tiny, on cpu (bit for bit repeatable), with a held-out image so that epochs validate and save
 * their best weights too: two epochs of 4 steps of some tens of milliseconds each.
 */
const SETTINGS = [
  ...TINY_SYNTHETIC,
  "backend=cpu",
  "inferenceBackend=cpu",
  "load.train=3",
  "model.width=2",
  "train.epochs=2",
  "train.patches={size: 8, count: 16}",
  "train.validation={images: 1, patches: 4}",
];

const checkpointState = (folder: string) =>
  JSON.parse(Deno.readTextFileSync(`${folder}/checkpoint/state.json`));

const historyLines = (folder: string) =>
  Deno.readTextFileSync(`${folder}/history.jsonl`).trim().split("\n").filter((l) => l)
    .map((line) => JSON.parse(line));

const withoutTimes = (records: { seconds: number }[]) => records.map((r) => ({ ...r, seconds: 0 }));

/** What an interrupted run must leave: a checkpoint of `epoch` and the history that agrees. */
function assertStoppedAfter(folder: string, epoch: number) {
  const names = [...Deno.readDirSync(folder)].map((e) => e.name);
  assertEquals(names.filter((n) => n.includes(".partial") || n.endsWith(".previous")), [], "");
  assertEquals(names.includes("metrics.json"), false);
  const state = checkpointState(folder);
  assertEquals(state.epoch, epoch);
  const history = historyLines(folder);
  assertEquals(history.map((h) => h.epoch), [...Array(epoch).keys()].map((e) => e + 1));
  assertEquals(history, state.history);
}

/**
 * Runs `recipe` under `root`, aborted when `when(label, done)` first says so (a task's update
 * with its steps done, or its end with `done` -1): its interruption, its folder, and how many
 * steps ran, or epochs ended, after the abort.
 */
async function stoppedRun(
  recipe: ResolvedRecipe,
  root: string,
  when: (label: string, done: number) => boolean,
): Promise<{ error: unknown; folder: string; afterAbort: number }> {
  const stop = new AbortController();
  let afterAbort = 0;
  const seen = (label: string, done: number) => {
    if (stop.signal.aborted) afterAbort++;
    else if (when(label, done)) stop.abort();
  };
  const progress: Progress = {
    info() {},
    task: (label) => ({ update: (done) => seen(label, done), done: () => seen(label, -1) }),
  };
  let folder = "";
  const error = await assertRejects(() =>
    runRecipe(recipe, {
      outputRoot: root,
      cache: false,
      progress,
      signal: stop.signal,
      onFolder: (path) => folder = path,
    })
  );
  assert(isInterruption(error), String(error));
  assertEquals((error as { code?: string }).code, "E_INTERRUPTED");
  return { error, folder, afterAbort };
}

Deno.test({
  name: "a run aborted in an epoch stops at the next step and resumes to the unbroken run's end",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_interrupt_" });
    try {
      const { recipe } = await loadRecipe(SYNTHETIC, {
        builtins: BUILTIN_PLUGINS,
        overrides: SETTINGS,
      });
      const whole = await runRecipe(recipe, {
        outputRoot: `${root}/whole`,
        cache: false,
        progress: silent,
      });

      // Aborted once epoch 2 has run its first step (each step updates the epoch's task).
      const inEpoch = await stoppedRun(
        recipe,
        `${root}/in-epoch`,
        (label, done) => label.startsWith("epoch 2/") && done === 1,
      );
      assertEquals(inEpoch.afterAbort, 0, "no step ran, and no epoch ended, after the abort");
      assertStoppedAfter(inEpoch.folder, 1);
      const resumed = await runRecipe(recipe, {
        resume: inEpoch.folder,
        cache: false,
        progress: silent,
      });
      assertEquals(resumed.evaluation.metrics, whole.evaluation.metrics);
      assertEquals(
        withoutTimes(historyLines(inEpoch.folder)),
        withoutTimes(historyLines(whole.folder)),
      );
      assertEquals(
        await Deno.readFile(`${inEpoch.folder}/model/weights.bin`),
        await Deno.readFile(`${whole.folder}/model/weights.bin`),
      );

      // Aborted as epoch 1 ends, before its checkpoints are written: they are, then it stops.
      const atEnd = await stoppedRun(
        recipe,
        `${root}/at-end`,
        (label, done) => label.startsWith("epoch 1/") && done === -1,
      );
      assertEquals(atEnd.afterAbort, 0);
      assertStoppedAfter(atEnd.folder, 1);
      assertEquals(
        JSON.parse(Deno.readTextFileSync(`${atEnd.folder}/checkpoint-best/state.json`)),
        {
          epoch: 1,
        },
      );

      // Aborted before it starts: no run folder.
      const early = new AbortController();
      early.abort();
      const before = await assertRejects(() =>
        runRecipe(recipe, {
          outputRoot: `${root}/never`,
          cache: false,
          progress: silent,
          signal: early.signal,
        })
      );
      assert(isInterruption(before), String(before));
      assertEquals(await Deno.stat(`${root}/never`).then(() => true, () => false), false);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "cli: the first SIGINT stops training within its epoch, exit 130, checkpoint kept whole",
  ...sanitizers,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capillary_sigint_" });
    try {
      // Epochs of 80 steps, some seconds (about 5 on 2 busy cores), so that one stopped before its
      // end shows: without a turn of the event loop between steps, SIGINT waits for the epoch's end.
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CLI,
          "run",
          SYNTHETIC,
          "--no-cache",
          "--output",
          root,
          ...[...SETTINGS, "train.patches={size: 8, count: 320}"].flatMap((s) => ["--set", s]),
        ],
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      const runFolder = () => {
        try {
          const [entry] = [...Deno.readDirSync(`${root}/synthetic`)];
          return entry && `${root}/synthetic/${entry.name}`;
        } catch {
          return undefined;
        }
      };
      const epoch = () => {
        try {
          return checkpointState(runFolder()!).epoch;
        } catch {
          return 0;
        }
      };
      const deadline = Date.now() + 60_000;
      while (epoch() < 1) {
        assert(Date.now() < deadline, "no checkpoint within a minute");
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 100)); // into epoch 2
      child.kill("SIGINT");
      const { code, stderr } = await output;
      const said = new TextDecoder().decode(stderr);
      assertEquals(code, 130, said);
      assert(said.includes("Stopping at the next safe point"), said);
      const folder = runFolder()!;
      assert(
        said.includes(
          `Interrupted. What the run wrote stays in ${folder}; ` +
            `\`deno task run --resume ${folder}\` continues it from its last checkpoint.`,
        ),
        said,
      );
      // Stopped within epoch 2, not at its end.
      assert(said.includes("epoch 1/2 done"), said);
      assert(!said.includes("epoch 2/2 done"), said);
      assertStoppedAfter(folder, 1);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

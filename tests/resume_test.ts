/**
 * `deno task run --resume`: a run killed with SIGKILL in the middle of an
 * epoch, then resumed, ends with weights bit for bit equal to those of a
 * run that was never interrupted (cpu backend, generated data).
 */
import { assert, assertEquals } from "./assert.ts";
import { encodeGrayPng } from "../mod.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const SYNTHETIC = new URL("../recipes/synthetic.yaml", import.meta.url).pathname;
const SETTINGS = [
  "backend=cpu",
  "inferenceBackend=cpu",
  "load.train=3",
  "load.test=1",
  "load.size=64",
  "model.width=2",
  "train.epochs=2",
  "train.batchSize=2",
  "train.patches={size: 8, count: 16}",
  "train.validation={images: 1, patches: 4}",
  "evaluate.window=32",
  "evaluate.stride=32",
].flatMap((s) => ["--set", s]);

function cli(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finished(child: Deno.ChildProcess): Promise<string> {
  const { code, stderr, stdout } = await child.output();
  const text = new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout);
  assertEquals(code, 0, text);
  return text;
}

/** The one run folder under `root/synthetic/`. */
function runFolder(root: string): string | undefined {
  try {
    const [entry] = [...Deno.readDirSync(`${root}/synthetic`)];
    return entry && `${root}/synthetic/${entry.name}`;
  } catch {
    return undefined;
  }
}

function checkpointEpoch(folder: string | undefined): number {
  try {
    return JSON.parse(Deno.readTextFileSync(`${folder}/checkpoint/state.json`)).epoch;
  } catch {
    return 0;
  }
}

const historyWithoutTimes = (folder: string) =>
  Deno.readTextFileSync(`${folder}/history.jsonl`).trim().split("\n")
    .map((line) => ({ ...JSON.parse(line), seconds: 0 }));

Deno.test("a run killed mid-epoch and resumed ends with the uninterrupted run's weights", async () => {
  const root = await Deno.makeTempDir({ prefix: "capillary_resume_" });
  try {
    await finished(cli(["run", SYNTHETIC, ...SETTINGS, "--output", `${root}/whole`]));
    const whole = runFolder(`${root}/whole`)!;

    const killed = cli(["run", SYNTHETIC, ...SETTINGS, "--output", `${root}/killed`]);
    // Wait for the first epoch's checkpoint, then kill the process in the second epoch.
    const deadline = Date.now() + 120_000;
    while (checkpointEpoch(runFolder(`${root}/killed`)) < 1) {
      assert(Date.now() < deadline, "no checkpoint within two minutes");
      await new Promise((r) => setTimeout(r, 10));
    }
    killed.kill("SIGKILL");
    const status = await killed.status;
    assertEquals(status.signal, "SIGKILL");
    const folder = runFolder(`${root}/killed`)!;
    assertEquals(checkpointEpoch(folder), 1, "the run was killed in its second (last) epoch");
    assertEquals([...Deno.readDirSync(folder)].some((e) => e.name === "metrics.json"), false);

    const log = await finished(cli(["run", "--resume", folder]));
    assert(log.includes("resuming after epoch 1 from"), log);
    assertEquals(
      await Deno.readFile(`${folder}/model/weights.bin`),
      await Deno.readFile(`${whole}/model/weights.bin`),
    );
    assertEquals(historyWithoutTimes(folder), historyWithoutTimes(whole));
    assertEquals(
      JSON.parse(Deno.readTextFileSync(`${folder}/metrics.json`)).metrics,
      JSON.parse(Deno.readTextFileSync(`${whole}/metrics.json`)).metrics,
    );
    // A finished run cannot be resumed again.
    const again = await cli(["run", "--resume", folder]).output();
    assertEquals(again.code, 1);
    assert(new TextDecoder().decode(again.stderr).includes("the run finished"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a run that failed in its evaluation is evaluated again with --set, training nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "capillary_resume_eval_" });
  try {
    await finished(cli(["run", SYNTHETIC, ...SETTINGS, "--output", `${root}/whole`]));
    const whole = runFolder(`${root}/whole`)!;
    // Prediction workers run wasm only: on cpu the evaluation fails, after the training.
    const failed = await cli([
      "run",
      SYNTHETIC,
      ...SETTINGS,
      "--set",
      "evaluate.workers=2",
      "--output",
      `${root}/failed`,
    ]).output();
    assertEquals(failed.code, 1);
    const said = new TextDecoder().decode(failed.stderr);
    assert(said.includes("Cannot evaluate with evaluate.workers 2 on the cpu backend"), said);
    const folder = runFolder(`${root}/failed`)!;
    assert(
      said.includes(
        `\`deno task run --resume ${folder}\` evaluates it again without training, with --set ` +
          "on the evaluation if need be (stages.evaluate, inferenceBackend).",
      ),
      said,
    );
    assertEquals(checkpointEpoch(folder), 2);
    assertEquals([...Deno.readDirSync(folder)].some((e) => e.name === "metrics.json"), false);
    const failures = () => Deno.readTextFileSync(`${folder}/failures.jsonl`).trim().split("\n");
    assertEquals(failures().length, 1);

    // A setting that trains differently is refused, naming it.
    const refused = await cli(["run", "--resume", folder, "--set", "train.epochs=3"]).output();
    assertEquals(refused.code, 1);
    const why = new TextDecoder().decode(refused.stderr);
    assert(why.includes("it changes stages.train.with.epochs"), why);
    assert(why.includes("only how it is evaluated (inferenceBackend, stages.evaluate)"), why);

    const set = ["evaluate.workers=1", "evaluate.window=16", "evaluate.stride=16"];
    const log = await finished(
      cli(["run", "--resume", folder, ...set.flatMap((s) => ["--set", s])]),
    );
    assert(log.includes("resuming after epoch 2 from"), log);
    // Nothing trained again: the uninterrupted run's weights and history.
    assertEquals(
      await Deno.readFile(`${folder}/model/weights.bin`),
      await Deno.readFile(`${whole}/model/weights.bin`),
    );
    assertEquals(historyWithoutTimes(folder), historyWithoutTimes(whole));
    // The evaluation ran as set, and the record says so.
    const resolved = Deno.readTextFileSync(`${folder}/recipe.resolved.yaml`);
    assert(resolved.includes(`with --set ${set.join(" --set ")}`), resolved);
    assert(/^ {6}window: 16$/m.test(resolved) && /^ {6}workers: 1$/m.test(resolved), resolved);
    const resumed = JSON.parse(Deno.readTextFileSync(`${folder}/resumed.jsonl`).trim());
    assertEquals(resumed.set, set);
    // The failure stays on record beside the finished run.
    assertEquals(JSON.parse(failures()[0]).code, "E_WORKERS");
    const metrics = JSON.parse(Deno.readTextFileSync(`${folder}/metrics.json`)).metrics;
    const before = JSON.parse(Deno.readTextFileSync(`${whole}/metrics.json`)).metrics;
    // Windows of 16 instead of 32 predict the borders differently: other scores, same network.
    assert(metrics.auc >= 0 && metrics.auc <= 1, JSON.stringify(metrics));
    assert(metrics.auc !== before.auc, `AUC ${metrics.auc} both times`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a run whose recipe names its data by a relative root resumes from its own folder", async () => {
  const root = await Deno.makeTempDir({ prefix: "capillary_resume_root_" });
  try {
    // A tiny core/folder data set beside the recipe, named by the relative root "data".
    const write = (file: string, value: (x: number, y: number) => number) =>
      Deno.mkdir(`${root}/project/data/${file.split("/")[0]}`, { recursive: true }).then(() =>
        Deno.writeFile(
          `${root}/project/data/${file}`,
          encodeGrayPng({
            width: 32,
            height: 32,
            channels: 1,
            data: Float32Array.from({ length: 1024 }, (_, i) => value(i % 32, Math.floor(i / 32))),
          }),
        )
      );
    for (const [split, ids] of [["train", ["1", "2", "3"]], ["test", ["4"]]] as const) {
      for (const id of ids) {
        const offset = Number(id);
        await write(`${split}/${id}.png`, (x, y) => ((x + offset) % 7 === 0 ? 0.9 : 0.2) + y / 320);
        await write(`${split}/${id}_vessels.png`, (x) => ((x + offset) % 7 === 0 ? 1 : 0));
      }
    }
    await Deno.writeTextFile(
      `${root}/project/recipe.yaml`,
      [
        "name: folder-root",
        "stages:",
        "  load:",
        "    use: core/folder",
        "    with:",
        "      root: data",
        '      train: { images: "train/{id}.png", masks: "train/{id}_vessels.png" }',
        '      test: { images: "test/{id}.png", masks: "test/{id}_vessels.png" }',
        "  model: { use: core/bcdunet, with: { width: 2 } }",
        "  train:",
        "    use: core/train",
        "    with:",
        "      epochs: 1",
        "      batchSize: 2",
        "      patches: { size: 8, count: 8 }",
        "      validation: { images: 1, patches: 4 }",
        "  evaluate:",
        "    use: core/segmentation_metrics",
        // Prediction workers run wasm only: on cpu the evaluation fails, after the training.
        "    with: { window: 32, stride: 32, workers: 2 }",
        "",
      ].join("\n"),
    );
    const inProject = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, ...args],
        cwd: `${root}/project`,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const backends = ["--set", "backend=cpu", "--set", "inferenceBackend=cpu"];
    const failed = await inProject(["run", "recipe.yaml", ...backends, "--output", `${root}/runs`]);
    assertEquals(failed.code, 1, new TextDecoder().decode(failed.stderr));
    const folder = `${root}/runs/folder-root/${
      [...Deno.readDirSync(`${root}/runs/folder-root`)][0].name
    }`;
    const resolved = Deno.readTextFileSync(`${folder}/recipe.resolved.yaml`);
    assert(resolved.includes(`relativeTo: ${root}/project\n`), resolved);

    // From the run's folder, not the project's: "data" still means the project's data.
    const resume = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "run", "--resume", ".", "--set", "evaluate.workers=1"],
        cwd: folder,
        stdout: "piped",
        stderr: "piped",
      }).output();
    // A training image changed since the run started: its checkpoint learned from the old one.
    const image = `${root}/project/data/train/2.png`;
    const original = await Deno.readFile(image);
    await write("train/2.png", (x) => (x % 5 === 0 ? 0.9 : 0.2));
    const refused = await resume();
    const why = new TextDecoder().decode(refused.stderr);
    assertEquals(refused.code, 1, why);
    assert(
      why.includes("Cannot resume .: its training data changed since it started"),
      why,
    );
    assert(!why.includes("deno task run --resume"), why); // not the advice it refuses
    await Deno.writeFile(image, original);
    // A test mask fixed since: evaluated as it is now, and the scores say so.
    await write("test/4_vessels.png", (x) => ((x + 4) % 7 === 0 || x === 0 ? 1 : 0));
    const resumed = await resume();
    assertEquals(resumed.code, 0, new TextDecoder().decode(resumed.stderr));
    const metrics = JSON.parse(Deno.readTextFileSync(`${folder}/metrics.json`));
    assertEquals(metrics.perImage.map((p: { id: string }) => p.id), ["4"]);
    assertEquals(metrics.caveats, [
      'the test data changed after this run started (1 changed ("4"); its training data did ' +
      "not): the scores are of the test images as they are now",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Ctrl-C (SIGINT) stops a run with exit code 130 and says how to resume it", async () => {
  const root = await Deno.makeTempDir({ prefix: "capillary_sigint_" });
  try {
    const run = cli(["run", SYNTHETIC, ...SETTINGS, "--set", "train.epochs=4", "--output", root]);
    const deadline = Date.now() + 120_000;
    while (checkpointEpoch(runFolder(root)) < 1) {
      assert(Date.now() < deadline, "no checkpoint within two minutes");
      await new Promise((r) => setTimeout(r, 10));
    }
    run.kill("SIGINT");
    const { code, stderr } = await run.output();
    const folder = runFolder(root)!;
    const said = new TextDecoder().decode(stderr);
    assertEquals(code, 130, said);
    assert(
      said.includes(
        `Interrupted. What the run wrote stays in ${folder}; \`deno task run --resume ${folder}\` ` +
          "continues it from its last checkpoint.",
      ),
      said,
    );
    assert(checkpointEpoch(folder) >= 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/**
 * The `capillary` command line, run as a subprocess: exit codes, what goes
 * to stdout and stderr, and that a failing run leaves earlier runs alone.
 */
import { assertEquals } from "./assert.ts";
import { loadRecipe } from "../mod.ts";
import { resolvedRecipeObject } from "../pipeline/recipe/render.ts";
import core from "../plugins/core/mod.ts";
import { TINY_SYNTHETIC } from "./tiny_runs.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SMOKE = new URL("../recipes/drive-smoke.yaml", import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "cli.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capillary-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli validate prints the resolved recipe, which loads back the same", async () => {
  const { code, stdout, stderr } = await cli("validate", "recipes/drive-smoke.yaml");
  assertEquals(code, 0, stderr);
  assertEquals(stdout.startsWith("# Resolved from recipes/drive-smoke.yaml by Capillary "), true);
  for (const filled of ["momentum: 0.9", "nesterov: false", "insideRoi: true", "backend: auto"]) {
    assertEquals(stdout.includes(filled), true, `${filled} in\n${stdout}`);
  }
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/drive-smoke.yaml`, stdout);
    const again = await loadRecipe(`${dir}/drive-smoke.yaml`, { builtins: [core] });
    const original = await loadRecipe(SMOKE, { builtins: [core] });
    assertEquals(resolvedRecipeObject(again.recipe), resolvedRecipeObject(original.recipe));
  });
});

Deno.test("cli validate of a malformed recipe exits 1 with positions and no stack trace", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bad.yaml`;
    await Deno.writeTextFile(file, "sed: 1\nstages:\n  load: { use: core/drive }\n");
    const plain = await cli("validate", file);
    assertEquals(plain.code, 1);
    assertEquals(plain.stdout, "");
    assertEquals(plain.stderr.startsWith("error: Cannot use recipe: 4 problems\n"), true);
    assertEquals(plain.stderr.includes(`${file}:1:1: sed: unknown option "sed"`), true);
    assertEquals(plain.stderr.includes('did you mean "seed"?'), true);
    assertEquals(plain.stderr.includes(`${file}:2:1: stages.model: missing stage "model"`), true);
    assertEquals(plain.stderr.includes("    at "), false, plain.stderr);
    const debug = await cli("validate", file, "--debug");
    assertEquals(debug.code, 1);
    assertEquals(debug.stderr.includes(`${file}:1:1: sed: unknown option "sed"`), true);
    assertEquals(debug.stderr.includes("    at "), true, debug.stderr);
  });
});

Deno.test("cli --debug shows where a plugin's own code threw while loading", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/throws.ts`,
      'function setUp() {\n  throw new Error("boom at import");\n}\nsetUp();\nexport default {};\n',
    );
    await Deno.writeTextFile(`${dir}/recipe.yaml`, `extends: ${SMOKE}\nplugins: [./throws.ts]\n`);
    const plain = await cli("validate", `${dir}/recipe.yaml`);
    assertEquals(plain.code, 1);
    assertEquals(
      plain.stderr.includes(`threw while loading: boom at import (at ${dir}/throws.ts:2:9)`),
      true,
      plain.stderr,
    );
    assertEquals(
      plain.stderr.includes("(run with --debug for the stack trace)"),
      true,
      plain.stderr,
    );
    const debug = await cli("validate", `${dir}/recipe.yaml`, "--debug");
    // The plugin's frames, not only the engine's: the function that threw and its caller.
    assertEquals(
      debug.stderr.includes(`at setUp (file://${dir}/throws.ts:2:9)`),
      true,
      debug.stderr,
    );
    assertEquals(debug.stderr.includes(`at file://${dir}/throws.ts:4:1`), true, debug.stderr);
  });
});

Deno.test("cli exits 2 on an unknown command and 1 on a missing recipe", async () => {
  // One line, with what was meant, rather than the whole usage.
  for (
    const [command, says] of [
      ["rn", 'did you mean "run"?'],
      ["valdiate", 'did you mean "validate"?'],
      [
        "xyz",
        'expected one of "run", "validate", "explain", "plan", "augment-preview", "schema", ' +
        '"predict"',
      ],
    ]
  ) {
    const unknown = await cli(command, "recipes/drive-smoke.yaml");
    assertEquals(unknown.code, 2);
    assertEquals(unknown.stderr, `Unknown command "${command}": ${says}\n`);
    assertEquals(unknown.stdout, "");
  }
  for (const bad of ["0", "two", "1.5"]) {
    const threads = await cli("run", "recipes/drive-smoke.yaml", "--threads", bad);
    assertEquals(threads.code, 2);
    assertEquals(
      threads.stderr.startsWith(`--threads must be a whole number of at least 1, not "${bad}"`),
      true,
      threads.stderr,
    );
  }
  const missing = await cli("validate", "recipes/no-such-recipe.yaml");
  assertEquals(missing.code, 1);
  assertEquals(
    missing.stderr.trim(),
    'error: Cannot read recipe "recipes/no-such-recipe.yaml": file not found',
  );
});

Deno.test("cli refuses an option its command does not take, and names the --set of a recipe setting of that name", async () => {
  const run = ["run", "recipes/synthetic.yaml"];
  const set = "recipe settings go through --set, e.g.";
  const cases: [string[], string][] = [
    [[...run, "--epochs", "3"], `Unknown option --epochs; ${set} --set train.epochs=3`],
    // Before the recipe, its value is still its value, not the recipe.
    [
      ["run", "--epochs", "3", "recipes/synthetic.yaml"],
      `Unknown option --epochs; ${set} --set train.epochs=3`,
    ],
    // Any case and dashes; several settings of the name are all named.
    [
      [...run, "--batchSize=4"],
      `Unknown option --batchSize; ${set} --set train.batchSize=4 or --set evaluate.batchSize=4`,
    ],
    [
      [...run, "--learning-rate", "0.01"],
      `Unknown option --learning-rate; ${set} --set train.optimizer.learningRate=0.01`,
    ],
    [[...run, "--seed", "7"], `Unknown option --seed; ${set} --set seed=7 or --set load.seed=7`],
    // No value given: the recipe's, as an example.
    [
      ["validate", "recipes/synthetic.yaml", "--width"],
      `Unknown option --width; ${set} --set model.width=8`,
    ],
    // Another command's option is refused, not ignored.
    [
      [...run, "--batch-size", "4"],
      `Unknown option --batch-size for run (predict takes it); ${set} --set train.batchSize=4 or ` +
      "--set evaluate.batchSize=4",
    ],
    [
      ["validate", "recipes/synthetic.yaml", "--resume", "runs/x"],
      "Unknown option --resume for validate (run takes it); see --help",
    ],
    [[...run, "--fast"], "Unknown option --fast; see --help"],
    [["predict", "--model", "m", "x.png", "--epochs", "3"], "Unknown option --epochs; see --help"],
    [
      ["validate", "recipes/no-such-recipe.yaml", "--epochs", "3"],
      "Unknown option --epochs; see --help",
    ],
  ];
  for (const [args, says] of cases) {
    const { code, stdout, stderr } = await cli(...args);
    assertEquals(code, 2, args.join(" "));
    assertEquals(stderr, `${says}\n`);
    assertEquals(stdout, "");
  }
  await withTempDir(async (dir) => {
    // A resumed run takes --set only on its evaluation; a stage in a list (its preprocess) is
    // no --set path.
    const resolved = await cli("validate", "recipes/synthetic.yaml");
    await Deno.writeTextFile(`${dir}/recipe.resolved.yaml`, resolved.stdout);
    const resumed = await cli("run", "--resume", dir, "--batch-size", "4");
    assertEquals(
      resumed.stderr,
      `Unknown option --batch-size for run (predict takes it); ${set} --set evaluate.batchSize=4\n`,
    );
    const gamma = await cli("validate", `${dir}/recipe.resolved.yaml`, "--gamma", "1");
    assertEquals(gamma.stderr, "Unknown option --gamma; see --help\n");
    const direct = await cli("validate", "recipes/synthetic.yaml", "--gamma", "1");
    assertEquals(direct.stderr, `Unknown option --gamma; ${set} --set preprocess.gamma=1\n`);
  });
});

Deno.test("cli run --resume of a folder that does not exist says so", async () => {
  const { code, stderr } = await cli("run", "--resume", "/no-such-run");
  assertEquals(code, 1);
  assertEquals(
    stderr,
    'error: Cannot resume "/no-such-run": the folder does not exist; give a run folder, ' +
      "e.g. runs/drive/2026-11-27T10-00-00Z\n",
  );
});

Deno.test("cli offers the stack trace for a plugin's bug", async () => {
  await withTempDir(async (dir) => {
    const plugin = new URL("./fixtures/faulty_augment_plugin.ts", import.meta.url).pathname;
    const sets = [
      ...TINY_SYNTHETIC,
      `plugins=[${plugin}]`,
      "augment={use: faulty/augment, with: {fault: throw}}",
    ].flatMap((s) => ["--set", s]);
    const { code, stderr } = await cli("run", "recipes/synthetic.yaml", ...sets, "--output", dir);
    assertEquals(code, 1, stderr);
    // Capillary's message, wrapping a TypeError: its stack is the plugin's line to fix.
    const said = stderr.split("\n").slice(-3);
    assertEquals(said.slice(1), ["  (run with --debug for the stack trace)", ""], stderr);
    assertEquals(
      said[0].startsWith(
        'error: Stage "faulty/augment" failed: its augmentation threw: TypeError: Cannot read ' +
          `properties of undefined (reading 'images') (at ${plugin}:`,
      ),
      true,
      stderr,
    );
  });
});

Deno.test("cli run without the data exits 1, names the layout, leaves earlier runs alone", async () => {
  await withTempDir(async (dir) => {
    const recipe = (await Deno.readTextFile(SMOKE))
      .replace("      trainLimit: 2", "      root: ./no-drive-here\n      trainLimit: 2");
    assertEquals(recipe.includes("root: ./no-drive-here"), true);
    await Deno.writeTextFile(`${dir}/smoke.yaml`, recipe);
    const earlier = `${dir}/out/drive-smoke/2020-01-01T00-00-00Z`;
    await Deno.mkdir(earlier, { recursive: true });
    await Deno.writeTextFile(`${earlier}/metrics.json`, '{"auc": 0.5}\n');
    const before = await Deno.stat(`${earlier}/metrics.json`);
    const folderBefore = await Deno.stat(earlier);

    const { code, stderr } = await cli("run", `${dir}/smoke.yaml`, "--output", `${dir}/out`);
    assertEquals(code, 1, stderr);
    assertEquals(stderr.includes('error: Stage "core/drive" failed: Cannot find DRIVE'), true);
    assertEquals(stderr.includes(`"${dir}/no-drive-here"`), true, stderr);
    assertEquals(stderr.includes("expected layout:"), true, stderr);
    assertEquals(stderr.includes("<root>/training/images/21_training.tif"), true, stderr);
    assertEquals(stderr.includes("    at "), false, stderr);
    // The new run's folder keeps what it wrote and says how to go on.
    const stopped =
      /What it wrote stays in (\S+)\. Nothing was trained yet: fix the cause and run the recipe again\./;
    assertEquals(stopped.exec(stderr)?.[1].startsWith(`${dir}/out/drive-smoke/`), true, stderr);

    const entries: string[] = [];
    for await (const entry of Deno.readDir(earlier)) entries.push(entry.name);
    assertEquals(entries, ["metrics.json"]);
    assertEquals(await Deno.readTextFile(`${earlier}/metrics.json`), '{"auc": 0.5}\n');
    const after = await Deno.stat(`${earlier}/metrics.json`);
    assertEquals(after.mtime?.getTime(), before.mtime?.getTime());
    assertEquals((await Deno.stat(earlier)).mtime?.getTime(), folderBefore.mtime?.getTime());
  });
});

Deno.test("cli run --output FILE exits 1 at once, says it is a file, and leaves it alone", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "kept");
    const { code, stdout, stderr } = await cli(
      "run",
      "recipes/synthetic.yaml",
      "--output",
      `${dir}/file`,
    );
    assertEquals(code, 1, stderr);
    // Nothing before it: no line of a run (its backend, its data) went out.
    assertEquals(
      stderr,
      `error: Cannot write the run under "${dir}/file": it is a file; ` +
        "give a folder (--output DIR)\n",
    );
    assertEquals(stdout, "");
    assertEquals(await Deno.readTextFile(`${dir}/file`), "kept");
  });
});

Deno.test("cli schema writes the committed recipe schema, and more with --plugin", async () => {
  await withTempDir(async (dir) => {
    const core = await cli("schema", "--output", `${dir}/core.json`);
    assertEquals(core.code, 0, core.stderr);
    assertEquals(
      await Deno.readTextFile(`${dir}/core.json`),
      await Deno.readTextFile(`${ROOT}/schema/recipe.schema.json`),
    );
    const plugin = "tests/fixtures/invert_plugin.ts";
    const extended = await cli("schema", "--output", `${dir}/more.json`, "--plugin", plugin);
    assertEquals(extended.code, 0, extended.stderr);
    const text = await Deno.readTextFile(`${dir}/more.json`);
    assertEquals(text.includes('"const": "fixture/invert"'), true);
    const missing = await cli("schema", "--output", `${dir}/x.json`, "--plugin", "./nope.ts");
    assertEquals(missing.code, 1);
    assertEquals(missing.stderr.includes("nope.ts"), true, missing.stderr);
  });
});

Deno.test("cli validate and explain take --set overrides, checked like the recipe", async () => {
  const ok = await cli("explain", "recipes/drive-smoke.yaml", "--set", "train.epochs=2");
  assertEquals(ok.code, 0, ok.stderr);
  const line = ok.stdout.split("\n").find((l) => l.startsWith("stages.train.with.epochs:"));
  assertEquals(line?.replace(/ +/g, " "), "stages.train.with.epochs: 2 # --set train.epochs=2");
  const validated = await cli("validate", "recipes/drive-smoke.yaml", "--set", "model.width=6");
  assertEquals(validated.code, 0, validated.stderr);
  assertEquals(validated.stdout.includes("width: 6"), true, validated.stdout);
  const bad = await cli("validate", "recipes/drive-smoke.yaml", "--set", "train.epochs=many");
  assertEquals(bad.code, 1);
  assertEquals(
    bad.stderr.includes(
      '--set train.epochs=many: stages.train.with.epochs: expected a number, got "many"',
    ),
    true,
    bad.stderr,
  );
});

Deno.test("cli run whose time budget shortened training says so, as do metrics.json and the report", async () => {
  await withTempDir(async (dir) => {
    // Generated retinas cut down to seconds, with a budget long overrun by the first read.
    const tiny = [...TINY_SYNTHETIC, "train.maxMinutes=0.000001"].flatMap((s) => ["--set", s]);
    const { code, stdout, stderr } = await cli(
      "run",
      "recipes/synthetic.yaml",
      ...tiny,
      "--output",
      dir,
    );
    assertEquals(code, 0, stderr);
    // 6 steps an epoch planned: the pace is known only at the first epoch's end (losses are read
    // every 50 steps), so it runs all 6, and the second 1.
    const caveat = stdout.split("\n").find((l) => l.startsWith("caveat: "));
    assertEquals(
      caveat?.startsWith("caveat: train.maxMinutes 0.000001 shortened the epochs: "),
      true,
      stdout,
    );
    assertEquals(
      caveat?.includes(": 7 of 12 planned steps ran (28 of 48 patches)"),
      true,
      caveat,
    );
    const folder = stdout.match(/^Results: (.+)$/m)?.[1];
    const summary = JSON.parse(await Deno.readTextFile(`${folder}/metrics.json`));
    assertEquals(summary.caveats, [caveat!.slice("caveat: ".length)]);
    // And the report, above its metrics.
    const report = await Deno.readTextFile(`${folder}/report.html`);
    assertEquals(
      report.includes('<p class="caveat"><strong>Caveat:</strong> train.maxMinutes'),
      true,
    );
  });
});

Deno.test("cli usage errors show the command's own usage lines, not the whole help", async () => {
  const missing = await cli("run", "recipes/drive-smoke.yaml", "--output");
  assertEquals(missing.code, 2);
  const lines = missing.stderr.trimEnd().split("\n");
  assertEquals(lines[0], "Option '--output <value>' argument missing");
  assertEquals(lines.slice(2).every((l) => !l.includes("deno task predict")), true, missing.stderr);
  assertEquals(
    lines[2].startsWith("  deno task run <recipe.yaml> [--set key.path=value ...]"),
    true,
  );
  assertEquals(lines.at(-1), "(add --help for every option)");
  const noImage = await cli("predict");
  assertEquals(noImage.code, 2);
  assertEquals(noImage.stderr.split("\n")[2].startsWith("  deno task predict --model"), true);
});

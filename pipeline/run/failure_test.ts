import { assertEquals } from "../../tests/assert.ts";
import { CapillaryError, DataError, StageError } from "../errors.ts";
import { hasCheckpoint, howToGoOn, recordFailure, stageFailure } from "./failure.ts";
import { RunFolder } from "./run_folder.ts";

Deno.test("howToGoOn: run again, evaluate again, or resume, by where the run stopped", () => {
  const before = "The run stopped on the error below. What it wrote stays in runs/x/1. ";
  assertEquals(
    howToGoOn({ folder: "runs/x/1", inEvaluation: false, checkpointed: false }),
    `${before}Nothing was trained yet: fix the cause and run the recipe again.`,
  );
  assertEquals(
    howToGoOn({ folder: "runs/x/1", inEvaluation: true, checkpointed: true }),
    `${before}\`deno task run --resume runs/x/1\` evaluates it again without training, with --set ` +
      "on the evaluation if need be (stages.evaluate, inferenceBackend).",
  );
  assertEquals(
    howToGoOn({ folder: "runs/x/1", inEvaluation: false, checkpointed: true }),
    `${before}\`deno task run --resume runs/x/1\` continues it from its last checkpoint once a ` +
      "cause outside the recipe is fixed (memory, a stopped process, a file that could not be " +
      "read); a resumed run trains as it started, on the same data, so to change the recipe or " +
      "the training data start a new run (stages.model.from can start it from a run's model).",
  );
  // An evaluation runs only once the network is trained and saved: a failed one never says
  // nothing was trained, even where the train stage wrote no checkpoint.
  assertEquals(
    howToGoOn({ folder: "runs/x/1", inEvaluation: true, checkpointed: false }),
    `${before}The network was trained (saved in runs/x/1/model), but its train stage wrote no ` +
      "checkpoint to evaluate it again from: `deno task run --resume runs/x/1` trains it again " +
      "and evaluates it, with --set on the evaluation if need be (stages.evaluate, " +
      "inferenceBackend).",
  );
});

Deno.test("stageFailure: names the stage, and where a plugin's own error was thrown", () => {
  const thrown = new TypeError("x is undefined");
  thrown.stack = "TypeError: x is undefined\n    at f (file:///tmp/my_plugin.ts:3:57)";
  const error = stageFailure("my/load", thrown);
  assertEquals(
    error.message,
    'Stage "my/load" failed: TypeError: x is undefined (at /tmp/my_plugin.ts:3:57)',
  );
  assertEquals([error.stage, error.cause], ["my/load", thrown]);
  const data = new DataError("sample a: bad");
  assertEquals(stageFailure("my/load", data).message, 'Stage "my/load" failed: sample a: bad');
  const own = new StageError("my/augment", "its augmentation threw");
  assertEquals(stageFailure("my/load", own), own);
  assertEquals(stageFailure("my/load", "text") instanceof CapillaryError, true);
});

Deno.test("hasCheckpoint: a folder with state.json, whatever its name; not a partial one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(await hasCheckpoint(`${dir}/missing`), false);
    assertEquals(await hasCheckpoint(dir), false);
    await Deno.mkdir(`${dir}/checkpoint.1234.partial`);
    await Deno.writeTextFile(`${dir}/checkpoint.1234.partial/model.json`, "{}");
    await Deno.writeTextFile(`${dir}/state.json`, "{}"); // a file beside, not in, a folder
    assertEquals(await hasCheckpoint(dir), false);
    await Deno.mkdir(`${dir}/best`);
    await Deno.writeTextFile(`${dir}/best/state.json`, "{}");
    assertEquals(await hasCheckpoint(dir), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recordFailure: the last failure in failure.json, every one in failures.jsonl", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const folder = new RunFolder(dir);
    const inner = Object.assign(new Error("inner"), { code: "E_A" });
    await recordFailure(
      folder,
      Object.assign(new Error("first", { cause: inner }), { code: "E_STAGE", stage: "x/y" }),
    );
    await recordFailure(folder, new Error("second"));
    const last = JSON.parse(await Deno.readTextFile(`${dir}/failure.json`));
    assertEquals([last.error, last.code], ["second", undefined]);
    const all = (await Deno.readTextFile(`${dir}/failures.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assertEquals(all.map((f) => [f.error, f.code, f.stage]), [
      ["first", "E_A", "x/y"],
      ["second", undefined, undefined],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

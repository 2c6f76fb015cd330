import { assertEquals } from "../../tests/assert.ts";
import { hasCheckpoint, howToGoOn, recordFailure } from "./failure.ts";
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

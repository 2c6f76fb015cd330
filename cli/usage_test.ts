import { assertEquals } from "../tests/assert.ts";
import { COMMAND_OPTIONS, COMMON_OPTIONS, OPTIONS, USAGE, usageOf } from "./usage.ts";

Deno.test("usageOf gives a command's own usage lines, continuation included", () => {
  assertEquals(
    usageOf("validate"),
    "  deno task validate <recipe.yaml> [--set key.path=value ...]\n" +
      "(add --help for every option)",
  );
  const run = usageOf("run").split("\n");
  assertEquals(run.length, 3); // two usages and the pointer
  assertEquals(run[1].startsWith("  deno task run --resume <run folder>"), true);
  const preview = usageOf("augment-preview").split("\n");
  assertEquals(preview.length, 3); // one usage, continued, and the pointer
  assertEquals(preview[1].trim(), "[--columns 4] [--size 64]");
});

Deno.test("usageOf gives every command's usage when the command is unknown or missing", () => {
  const all = usageOf(undefined);
  for (const command of Object.keys(COMMAND_OPTIONS)) {
    assertEquals(all.includes(`deno task ${command} `), true, command);
  }
  assertEquals(usageOf("rn"), all);
});

Deno.test("every option a command takes is parsed, and the help names it", () => {
  for (const [command, options] of Object.entries(COMMAND_OPTIONS)) {
    for (const option of [...COMMON_OPTIONS, ...options]) {
      assertEquals(Object.hasOwn(OPTIONS, option), true, `${command} --${option}`);
      assertEquals(USAGE.includes(`--${option}`), true, `--${option} in the help`);
    }
  }
});

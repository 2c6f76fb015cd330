import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { join } from "../path.ts";
import { RunFolder, writeFileAtomic } from "./run_folder.ts";

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

Deno.test("writeFileAtomic() writes text and bytes and leaves no .partial file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(join(dir, "a.txt"), "first");
    await writeFileAtomic(join(dir, "a.txt"), "second");
    await writeFileAtomic(join(dir, "deep", "er", "b.bin"), new Uint8Array([1, 2, 255]));
    assertEquals(await Deno.readTextFile(join(dir, "a.txt")), "second");
    assertEquals(
      await Deno.readFile(join(dir, "deep", "er", "b.bin")),
      new Uint8Array([1, 2, 255]),
    );
    assertEquals(await names(dir), ["a.txt", "deep"]);
    assertEquals(await names(join(dir, "deep", "er")), ["b.bin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() removes its temporary file when the rename fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "taken"));
    await Deno.writeTextFile(join(dir, "taken", "keep.txt"), "kept");
    await assertRejects(() => writeFileAtomic(join(dir, "taken"), "data"));
    assertEquals(await names(dir), ["taken"]);
    assertEquals(await names(join(dir, "taken")), ["keep.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RunFolder.create() never reuses a folder of the same second", async () => {
  const root = await Deno.makeTempDir();
  try {
    const now = new Date("2024-01-02T03:04:05.678Z");
    const first = await RunFolder.create(root, "demo", now);
    await first.write("metrics.json", "{}");
    const second = await RunFolder.create(root, "demo", now);
    const third = await RunFolder.create(root, "demo", now);
    assertEquals(first.path, join(root, "demo", "2024-01-02T03-04-05Z"));
    assertEquals(second.path, join(root, "demo", "2024-01-02T03-04-05Z-2"));
    assertEquals(third.path, join(root, "demo", "2024-01-02T03-04-05Z-3"));
    assertEquals(await names(join(root, "demo")), [
      "2024-01-02T03-04-05Z",
      "2024-01-02T03-04-05Z-2",
      "2024-01-02T03-04-05Z-3",
    ]);
    assertEquals(await names(first.path), ["metrics.json"]);
    assertEquals(await names(second.path), []);
    const later = await RunFolder.create(root, "demo", new Date("2024-01-02T03:04:06Z"));
    assertEquals(later.path, join(root, "demo", "2024-01-02T03-04-06Z"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("RunFolder.appendLine() appends one line per call, newlines flattened", async () => {
  const root = await Deno.makeTempDir();
  try {
    const folder = new RunFolder(root);
    await folder.appendLine("logs/history.jsonl", '{"epoch":1}');
    await folder.appendLine("logs/history.jsonl", '{"epoch":2}');
    await folder.appendLine("logs/history.jsonl", "two\nlines");
    assertEquals(
      await Deno.readTextFile(join(root, "logs", "history.jsonl")),
      '{"epoch":1}\n{"epoch":2}\ntwo lines\n',
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("RunFolder.writeJson() writes indented JSON ending in a newline", async () => {
  const root = await Deno.makeTempDir();
  try {
    const folder = new RunFolder(root);
    assertEquals(folder.resolve("a/b.json"), join(root, "a", "b.json"));
    await folder.writeJson("a/b.json", { auc: 0.98, list: [1] });
    assertEquals(
      await Deno.readTextFile(join(root, "a", "b.json")),
      '{\n  "auc": 0.98,\n  "list": [\n    1\n  ]\n}\n',
    );
    assertEquals(await names(join(root, "a")), ["b.json"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { CapillaryError } from "../errors.ts";
import { join } from "../path.ts";
import { createFolder, RunFolder, writeFileAtomic } from "./run_folder.ts";

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

Deno.test("RunFolder.create() under a file says which file, and leaves it alone", async () => {
  const root = await Deno.makeTempDir();
  try {
    const file = join(root, "file");
    await Deno.writeTextFile(file, "kept");
    const under = (output: string) =>
      assertRejects(() => RunFolder.create(output, "demo"), CapillaryError);
    assertEquals(
      (await under(file)).message,
      `Cannot write the run under "${file}": it is a file; give a folder (--output DIR)`,
    );
    // --output DIR/ names the same file.
    assertEquals(
      (await under(`${file}/`)).message,
      `Cannot write the run under "${file}/": it is a file; give a folder (--output DIR)`,
    );
    assertEquals(
      (await under(join(file, "deeper"))).message,
      `Cannot write the run under "${join(file, "deeper")}": "${file}" is a file; ` +
        "give a folder (--output DIR)",
    );
    // A file where the recipe's folder goes: runs/demo.
    await Deno.mkdir(join(root, "runs"));
    await Deno.writeTextFile(join(root, "runs", "demo"), "kept");
    const error = await under(join(root, "runs"));
    assertEquals(
      error.message,
      `Cannot write the run under "${join(root, "runs")}": "${join(root, "runs", "demo")}" ` +
        "is a file; give a folder (--output DIR)",
    );
    assertEquals(error.code, "E_OUTPUT");
    assertEquals(await names(root), ["file", "runs"]);
    assertEquals(await names(join(root, "runs")), ["demo"]);
    assertEquals(await Deno.readTextFile(file), "kept");
    assertEquals(await Deno.readTextFile(join(root, "runs", "demo")), "kept");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// Write access denied by Deno rather than by the OS, so the test means the same as root.
Deno.test({
  name: "RunFolder.create() and createFolder() name the folder they cannot make, and why",
  permissions: { read: true, write: false },
  async fn() {
    const root = join(Deno.cwd(), "never-written");
    const now = new Date("2024-01-02T03:04:05.678Z");
    // Deno's own words in the middle, between ours.
    const said = (error: Error, start: string) => {
      assert(error.message.startsWith(start), error.message);
      assert(error.message.endsWith("; give a folder you can write (--output DIR)"), error.message);
    };
    said(
      await assertRejects(() => RunFolder.create(root, "demo", now), CapillaryError),
      `Cannot create the run folder "${join(root, "demo", "2024-01-02T03-04-05Z")}": ` +
        `Requires write access to "${join(root, "demo")}"`,
    );
    const predictions = await assertRejects(
      () => createFolder(root, { contents: "the predictions", folder: "prediction folder" }),
      CapillaryError,
    );
    said(predictions, `Cannot create the prediction folder "${root}": Requires write access`);
    assertEquals(predictions.code, "E_OUTPUT");
  },
});

Deno.test("createFolder() makes a folder and its parents, keeps one that exists, refuses a file", async () => {
  const root = await Deno.makeTempDir();
  try {
    const words = { contents: "the predictions", folder: "prediction folder" };
    await createFolder(join(root, "a", "b"), words);
    await Deno.writeTextFile(join(root, "a", "b", "kept.png"), "kept");
    await createFolder(join(root, "a", "b"), words);
    assertEquals(await names(join(root, "a", "b")), ["kept.png"]);
    const file = join(root, "a", "b", "kept.png");
    const error = await assertRejects(() => createFolder(file, words), CapillaryError);
    assertEquals(
      error.message,
      `Cannot write the predictions under "${file}": it is a file; give a folder (--output DIR)`,
    );
    assertEquals(await Deno.readTextFile(file), "kept");
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

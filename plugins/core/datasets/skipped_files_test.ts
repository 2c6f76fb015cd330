import { assertEquals } from "../../../tests/assert.ts";
import type { CandidateFile } from "./folder_listing.ts";
import { skippedFileLines } from "./skipped_files.ts";

Deno.test("skippedFileLines() counts folders and files apart, and says why names may not match", () => {
  const file = (name: string, note?: string): CandidateFile => ({
    path: `/d/cases/${name}`,
    folder: "/d/cases",
    name,
    role: "images",
    ...(note && { note }),
  });
  const folder = (name: string, note?: string): CandidateFile => ({
    ...file(name, note),
    isFolder: true,
  });
  const line = (candidates: CandidateFile[], taken: string[] = []) =>
    skippedFileLines([
      { split: "training", listing: { files: [], candidates, taken: new Set(taken) } },
    ]);
  const head = '"/d/cases" (training images)';
  assertEquals(line([folder("c2", "no image.png in it")]), [
    `1 folder in ${head} is taken by no pattern and left out: "c2" (no image.png in it)`,
  ]);
  assertEquals(line([folder("C3"), file("c1.png", "mask of c1")]), [
    `1 file and 1 folder in ${head} are taken by no pattern and left out: "c1.png" (mask of ` +
    'c1), "C3" (patterns match folder names exactly, case included)',
  ]);
  assertEquals(line([folder("C3"), file("c1.PNG")]), [
    `1 file and 1 folder in ${head} are taken by no pattern and left out: "c1.PNG", "C3" ` +
    "(patterns match folder and file names exactly, case and extension included)",
  ]);
  // A folder holding a taken file is taken; so is a file under a folder already said.
  assertEquals(line([folder("C3")], ["/d/cases/C3/x/image.png"]), []);
  assertEquals(
    line([folder("c2", "no image.png in it"), { ...file("c2/mask.png"), role: "masks" }]),
    [`1 folder in ${head} is taken by no pattern and left out: "c2" (no image.png in it)`],
  );
});

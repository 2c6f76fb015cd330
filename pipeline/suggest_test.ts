import { assertEquals } from "../tests/assert.ts";
import { closest, didYouMean, editDistance } from "./suggest.ts";

Deno.test("editDistance() counts inserts, deletes, substitutions and adjacent swaps", () => {
  const cases: [string, string, number][] = [
    ["", "", 0],
    ["", "abc", 3],
    ["abc", "", 3],
    ["abc", "abc", 0],
    ["seed", "sed", 1],
    ["epoch", "epochs", 1],
    ["webgp", "webgpu", 1],
    ["cat", "cut", 1],
    ["ab", "ba", 1],
    ["trian", "train", 1],
    ["core/trian", "core/train", 1],
    ["kitten", "sitting", 3],
    ["flaw", "lawn", 2],
    // Restricted (optimal string alignment): a swapped pair is not edited again.
    ["ca", "abc", 3],
    ["abcdef", "badcfe", 3],
  ];
  for (const [a, b, expected] of cases) {
    assertEquals(editDistance(a, b), expected, `editDistance(${a}, ${b})`);
    assertEquals(editDistance(b, a), expected, `editDistance(${b}, ${a})`);
  }
});

Deno.test("closest() returns near candidates best first", () => {
  const cases: [string, string[], number | undefined, string[]][] = [
    ["core/trian", ["core/evaluate", "core/drive", "core/train"], undefined, [
      "core/train",
      "core/drive",
    ]],
    ["epoch", ["batchSize", "epochs", "patches"], undefined, ["epochs"]],
    // Case does not count.
    ["EPOCHS", ["epochs", "seed"], undefined, ["epochs"]],
    // A candidate containing the word counts even when far in edits.
    ["size", ["patchSize", "seed", "batchSize"], undefined, ["batchSize", "patchSize"]],
    // Words of two letters or fewer do not match by containment.
    ["ab", ["xxabxx"], undefined, []],
    // Ties break alphabetically; `max` cuts the list.
    ["a", ["e", "d", "c", "b"], 2, ["b", "c"]],
    ["zzzzzzzz", ["epochs", "seed"], undefined, []],
    ["seed", [], undefined, []],
  ];
  for (const [word, candidates, max, expected] of cases) {
    assertEquals(closest(word, candidates, max), expected, `closest(${word})`);
  }
});

Deno.test("closest() allows a third of the word's length in edits, at least 2", () => {
  // 6 letters: 2 edits allowed, 3 not.
  assertEquals(closest("abcdef", ["abcdxy", "abcxyz"]), ["abcdxy"]);
  // 9 letters: 3 edits allowed, 4 not.
  assertEquals(closest("abcdefghi", ["abcdefxyz", "abcdewxyz"]), ["abcdefxyz"]);
});

Deno.test("didYouMean() suggests close names, else lists the valid ones", () => {
  const cases: [string, string[], string][] = [
    ["epoch", ["epochs", "batchSize"], 'did you mean "epochs"?'],
    ["core/trian", ["core/train", "core/drive"], 'did you mean "core/train" or "core/drive"?'],
    ["sed", ["name", "seed", "stages"], 'did you mean "seed"?'],
    ["zzzzzz", ["load", "train"], 'expected one of "load", "train"'],
    ["anything", [], ""],
  ];
  for (const [word, candidates, expected] of cases) {
    assertEquals(didYouMean(word, candidates), expected, `didYouMean(${word})`);
  }
});

Deno.test("didYouMean() accepts any iterable of candidates", () => {
  assertEquals(didYouMean("trian", new Set(["train", "load"])), 'did you mean "train"?');
});

import { assertEquals } from "../../../tests/assert.ts";
import { companionPattern, patternParts } from "./folder_patterns.ts";

Deno.test("patternParts() splits a pattern where its {id} is, companionPattern() follows it", () => {
  assertEquals(patternParts("train/{id}_img.png"), {
    folder: "train",
    name: "{id}_img.png",
    inside: null,
  });
  assertEquals(patternParts("{id}.png"), { folder: "", name: "{id}.png", inside: null });
  assertEquals(patternParts("cases/case_{id}/image.png"), {
    folder: "cases",
    name: "case_{id}",
    inside: "image.png",
  });
  assertEquals(patternParts("data/patients/{id}/scans/t1.png"), {
    folder: "data/patients",
    name: "{id}",
    inside: "scans/t1.png",
  });
  assertEquals(companionPattern("train/{id}.png", "mask"), "train/{id}_mask.png");
  assertEquals(companionPattern("cases/{id}/image.png", "mask"), "cases/{id}/mask.png");
  assertEquals(companionPattern("p/{id}/scans/t1.tif", "fov"), "p/{id}/scans/fov.tif");
  // An image already called mask.png: the suggestion is another name.
  assertEquals(companionPattern("cases/{id}/mask.png", "mask"), "cases/{id}/mask_mask.png");
});

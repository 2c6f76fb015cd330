import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { drawText, glyph, GLYPH_HEIGHT, GLYPH_WIDTH, hasGlyph, textWidth } from "./bitmap_font.ts";

const canvas = (width: number, height: number, channels = 1) => ({
  width,
  height,
  channels,
  data: new Float32Array(width * height * channels),
});

/** The raster's one-channel pixels as rows of `#` and `.`. */
function picture(r: { width: number; height: number; data: Float32Array }): string[] {
  return Array.from(
    { length: r.height },
    (_, y) =>
      Array.from(r.data.subarray(y * r.width, (y + 1) * r.width), (v) => v ? "#" : ".").join(""),
  );
}

const PRINTABLE =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,:;-_+=()[]/%'\"?!<>#*|&@";

Deno.test("every glyph is 7 rows of 5 pixels, and the printable characters are distinct", () => {
  const seen = new Map<string, string>();
  for (const char of PRINTABLE) {
    const rows = glyph(char);
    assertEquals(hasGlyph(char), true, char);
    assertEquals(rows.length, GLYPH_HEIGHT, char);
    for (const row of rows) {
      assertEquals(/^[.#]{5}$/.test(row) && row.length === GLYPH_WIDTH, true, char);
    }
    const key = rows.join("");
    assertEquals(seen.get(key), undefined, `"${char}" looks like "${seen.get(key)}"`);
    seen.set(key, char);
  }
  assertEquals(glyph(" ").join(""), ".".repeat(35));
});

Deno.test("glyph() counts: 0 has 19 pixels on, I 11, a period 4; unknown characters are boxes", () => {
  const on = (char: string) => glyph(char).join("").split("").filter((c) => c === "#").length;
  // 0: .###. #...# #..## #.#.# ##..# #...# .###. → 3 + 2 + 3 + 3 + 3 + 2 + 3
  assertEquals(on("0"), 19);
  assertEquals(on("I"), 3 + 5 + 3); // .###., five ..#.., .###.
  assertEquals(on("."), 4);
  assertEquals(hasGlyph("€"), false);
  assertEquals(glyph("€"), ["#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####"]);
});

Deno.test("drawText() lays glyphs out 6 pixels apart with one blank column between", () => {
  const target = canvas(11, 7);
  assertEquals(textWidth("LT"), 11);
  assertEquals(drawText(target, "LT", 0, 0, [1]), 11 + 11); // L: 7 + 4; T: 5 + 6
  assertEquals(picture(target), [
    "#.....#####",
    "#.......#..",
    "#.......#..",
    "#.......#..",
    "#.......#..",
    "#.......#..",
    "#####...#..",
  ]);
});

Deno.test("drawText() turned counter-clockwise reads from bottom to top", () => {
  const target = canvas(7, 5);
  drawText(target, "L", 0, 0, [1], { vertical: true });
  // The L's upright becomes the bottom row, its foot the right column.
  assertEquals(picture(target), [
    "......#",
    "......#",
    "......#",
    "......#",
    "#######",
  ]);
});

Deno.test("drawText() scales each font pixel to a square, colours every channel, clips at the edges", () => {
  const big = canvas(10, 14);
  assertEquals(drawText(big, "0", 0, 0, [1], { scale: 2 }), 19 * 4);
  const rgb = canvas(3, 3, 3);
  // Only the top-left 3×3 of "T" lands inside: its top row's first three pixels and the
  // stem's top two.
  assertEquals(drawText(rgb, "T", 0, 0, [1, 0.5, 0]), 3 + 2);
  assertEquals(Array.from(rgb.data.subarray(0, 9)), [1, 0.5, 0, 1, 0.5, 0, 1, 0.5, 0]);
  assertEquals(drawText(rgb, "T", -10, -10, [1, 0, 0]), 0);
});

Deno.test("drawText() rejects a colour of the wrong length and a fractional scale", () => {
  assertThrows(
    () => drawText(canvas(5, 7, 3), "A", 0, 0, [1]),
    RangeError,
    "colour has 1 values but the raster 3 channels",
  );
  assertThrows(
    () => drawText(canvas(5, 7), "A", 0, 0, [1], { scale: 1.5 }),
    RangeError,
    "positive integer",
  );
});

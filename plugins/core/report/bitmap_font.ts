/**
 * A tiny built-in 5×7 bitmap font, so that the report's charts carry text
 * without any font file: digits, ASCII letters (upper and lower case), the
 * space and the common punctuation `. , : ; - _ + = ( ) [ ] / % ' " ? ! < > # * | & @`.
 * A few Unicode look-alikes map to ASCII (`−` to `-`, `×` to `x`, `·` to
 * `.`); any other character draws as a hollow box.
 *
 * Glyphs are 5 pixels wide and 7 high, advancing 6 pixels (one blank column
 * between letters), drawn at an integer scale (each font pixel a scale×scale
 * square), horizontally or turned 90° counter-clockwise (for a y-axis title,
 * read from bottom to top).
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";

/** Columns of a glyph. */
export const GLYPH_WIDTH = 5;
/** Rows of a glyph. */
export const GLYPH_HEIGHT = 7;
/** Columns from one glyph's left edge to the next's: the glyph and one blank column. */
export const GLYPH_ADVANCE: number = GLYPH_WIDTH + 1;

/** Each glyph as 7 rows of 5 pixels (`#` on, `.` off), rows separated by spaces. */
const GLYPHS: Readonly<Record<string, string>> = {
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  "A": ".###. #...# #...# ##### #...# #...# #...#",
  "B": "####. #...# #...# ####. #...# #...# ####.",
  "C": ".###. #...# #.... #.... #.... #...# .###.",
  "D": "###.. #..#. #...# #...# #...# #..#. ###..",
  "E": "##### #.... #.... ####. #.... #.... #####",
  "F": "##### #.... #.... ####. #.... #.... #....",
  "G": ".###. #...# #.... #.### #...# #...# .####",
  "H": "#...# #...# #...# ##### #...# #...# #...#",
  "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
  "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  "L": "#.... #.... #.... #.... #.... #.... #####",
  "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
  "O": ".###. #...# #...# #...# #...# #...# .###.",
  "P": "####. #...# #...# ####. #.... #.... #....",
  "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
  "R": "####. #...# #...# ####. #.#.. #..#. #...#",
  "S": ".#### #.... #.... .###. ....# ....# ####.",
  "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  "U": "#...# #...# #...# #...# #...# #...# .###.",
  "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
  "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  "Y": "#...# #...# #...# .#.#. ..#.. ..#.. ..#..",
  "Z": "##### ....# ...#. ..#.. .#... #.... #####",
  "a": "..... ..... .###. ....# .#### #...# .####",
  "b": "#.... #.... #.##. ##..# #...# #...# ####.",
  "c": "..... ..... .###. #.... #.... #...# .###.",
  "d": "....# ....# .##.# #..## #...# #...# .####",
  "e": "..... ..... .###. #...# ##### #.... .###.",
  "f": "..##. .#..# .#... ###.. .#... .#... .#...",
  "g": "..... .#### #...# #...# .#### ....# .###.",
  "h": "#.... #.... #.##. ##..# #...# #...# #...#",
  "i": "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
  "j": "...#. ..... ..##. ...#. ...#. #..#. .##..",
  "k": "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
  "l": ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  "m": "..... ..... ##.#. #.#.# #.#.# #...# #...#",
  "n": "..... ..... #.##. ##..# #...# #...# #...#",
  "o": "..... ..... .###. #...# #...# #...# .###.",
  "p": "..... ..... ####. #...# ####. #.... #....",
  "q": "..... ..... .##.# #..## .#### ....# ....#",
  "r": "..... ..... #.##. ##..# #.... #.... #....",
  "s": "..... ..... .###. #.... .###. ....# ####.",
  "t": ".#... .#... ###.. .#... .#... .#..# ..##.",
  "u": "..... ..... #...# #...# #...# #..## .##.#",
  "v": "..... ..... #...# #...# #...# .#.#. ..#..",
  "w": "..... ..... #...# #...# #.#.# #.#.# .#.#.",
  "x": "..... ..... #...# .#.#. ..#.. .#.#. #...#",
  "y": "..... ..... #...# #...# .#### ....# .###.",
  "z": "..... ..... ##### ...#. ..#.. .#... #####",
  " ": "..... ..... ..... ..... ..... ..... .....",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  ",": "..... ..... ..... ..... .##.. ..#.. .#...",
  ":": "..... .##.. .##.. ..... .##.. .##.. .....",
  ";": "..... .##.. .##.. ..... .##.. ..#.. .#...",
  "-": "..... ..... ..... ##### ..... ..... .....",
  "_": "..... ..... ..... ..... ..... ..... #####",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
  "=": "..... ..... ##### ..... ##### ..... .....",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "[": ".###. .#... .#... .#... .#... .#... .###.",
  "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
  "/": "..... ....# ...#. ..#.. .#... #.... .....",
  "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
  "'": "..#.. ..#.. .#... ..... ..... ..... .....",
  '"': ".#.#. .#.#. .#.#. ..... ..... ..... .....",
  "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
  "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
  "<": "...#. ..#.. .#... #.... .#... ..#.. ...#.",
  ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...",
  "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
  "*": "..... ..#.. #.#.# .###. #.#.# ..#.. .....",
  "|": "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  "&": ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#",
  "@": ".###. #...# ....# .##.# #.#.# #.#.# .###.",
};

/** Unicode characters drawn as an ASCII look-alike. */
const ALIASES: Readonly<Record<string, string>> = { "−": "-", "–": "-", "×": "x", "·": "." };

/** What a character without a glyph draws as: a hollow box. */
const MISSING = "##### #...# #...# #...# #...# #...# #####";

/**
 * The bitmap of one character: 7 rows of 5 characters, `#` where the pixel is
 * on and `.` where it is off. A character without a glyph gives a hollow box.
 *
 * @param char One character (a code point).
 * @returns Its 7 rows, top first.
 *
 * @example Usage
 * ```ts
 * import { glyph } from "./bitmap_font.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * assertEquals(glyph("T"), ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."]);
 * assertEquals(glyph("−"), glyph("-")); // the minus sign draws as a hyphen
 * ```
 */
export function glyph(char: string): readonly string[] {
  return (GLYPHS[char] ?? GLYPHS[ALIASES[char] ?? ""] ?? MISSING).split(" ");
}

/**
 * Whether the font has a glyph for a character (or an ASCII look-alike of it).
 *
 * @param char One character (a code point).
 * @returns False where it would draw as a hollow box.
 *
 * @example Usage
 * ```ts
 * import { hasGlyph } from "./bitmap_font.ts";
 * import { assert } from "../../../tests/assert.ts";
 * assert(hasGlyph("a") && hasGlyph("%") && hasGlyph("×") && !hasGlyph("€"));
 * ```
 */
export function hasGlyph(char: string): boolean {
  return char in GLYPHS || (ALIASES[char] ?? "") in GLYPHS;
}

/**
 * The width in pixels of a line of text: 6 per character less the blank
 * column after the last, times the scale.
 *
 * @param text The text (one line; counted in code points).
 * @param scale Pixels per font pixel (a positive integer).
 * @returns The width in pixels; 0 for empty text.
 *
 * @example Usage
 * ```ts
 * import { textWidth } from "./bitmap_font.ts";
 * import { assert } from "../../../tests/assert.ts";
 * assert(textWidth("AUC") === 17 && textWidth("AUC", 2) === 34 && textWidth("") === 0);
 * ```
 */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * GLYPH_ADVANCE - 1) * scale;
}

/** How {@link drawText} places text. */
export interface TextOptions {
  /** Pixels per font pixel, a positive integer (default 1). */
  readonly scale?: number;
  /**
   * Turned 90° counter-clockwise, read from bottom to top (default false):
   * the text then fills a box `7 × scale` wide and `textWidth(text, scale)` high.
   */
  readonly vertical?: boolean;
}

/**
 * Draws a line of text into a raster, in place: the pixels of each glyph
 * take `color` (one value per channel); the others are left as they are.
 * Pixels outside the raster are skipped.
 *
 * @param target The raster to draw into (any number of channels).
 * @param text The text (one line).
 * @param x Left edge of the text's box, in pixels.
 * @param y Top edge of the text's box, in pixels.
 * @param color One value per channel of `target`, e.g. `[1, 0, 0]` for red in RGB.
 * @param options Scale and direction.
 * @returns The number of pixels set (those inside the raster).
 * @throws {RangeError} When `color` does not have one value per channel or the scale is not a positive integer.
 *
 * @example Usage
 * ```ts
 * import { drawText } from "./bitmap_font.ts";
 * import { assert } from "../../../tests/assert.ts";
 * const target = { width: 5, height: 7, channels: 1, data: new Float32Array(35) };
 * // "1" has 10 pixels on: 1 + 2 + 1 + 1 + 1 + 1 + 3
 * assert(drawText(target, "1", 0, 0, [1]) === 10);
 * assert(target.data.reduce((a, b) => a + b) === 10 && target.data[2] === 1);
 * ```
 */
export function drawText(
  target: Raster,
  text: string,
  x: number,
  y: number,
  color: readonly number[],
  options: TextOptions = {},
): number {
  const { scale = 1, vertical = false } = options;
  const { width, height, channels, data } = target;
  if (color.length !== channels) {
    throw new RangeError(
      `drawText(): the colour has ${color.length} values but the raster ${channels} channels`,
    );
  }
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`drawText(): the scale must be a positive integer, got ${scale}`);
  }
  x = Math.round(x), y = Math.round(y);
  const length = textWidth(text, scale);
  let set = 0;
  const plot = (px: number, py: number) => {
    if (px < 0 || py < 0 || px >= width || py >= height) return;
    const at = (py * width + px) * channels;
    for (let c = 0; c < channels; c++) data[at + c] = color[c];
    set++;
  };
  let column = 0; // the left edge of the current glyph along the text, in font pixels × scale
  for (const char of text) {
    const rows = glyph(char);
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (rows[gy][gx] !== "#") continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) {
            const along = column + gx * scale + sx, across = gy * scale + sy;
            if (vertical) plot(x + across, y + length - 1 - along);
            else plot(x + along, y + across);
          }
        }
      }
    }
    column += GLYPH_ADVANCE * scale;
  }
  return set;
}

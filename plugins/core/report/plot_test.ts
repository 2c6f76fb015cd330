import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { niceTicks, type Plot, renderPlot } from "./plot.ts";

/** The colour at a pixel. */
function at(plot: Plot, column: number, row: number): number[] {
  const i = (row * plot.image.width + column) * 3;
  return Array.from(plot.image.data.subarray(i, i + 3));
}

/** Pixels of exactly `color` inside a box. */
function count(plot: Plot, color: number[], box = { left: 0, top: 0, right: 1e9, bottom: 1e9 }) {
  let n = 0;
  const { width, height } = plot.image;
  for (let y = Math.max(0, box.top); y <= Math.min(height - 1, box.bottom); y++) {
    for (let x = Math.max(0, box.left); x <= Math.min(width - 1, box.right); x++) {
      if (at(plot, x, y).every((v, c) => v === color[c])) n++;
    }
  }
  return n;
}

const RED = [1, 0, 0], BLUE = [0, 0, 1], GREEN = [0, 1, 0], WHITE = [1, 1, 1];
const UNIT = { xRange: [0, 1], yRange: [0, 1] } as const;

Deno.test("niceTicks() steps by 1, 2 or 5 times a power of ten and knows its decimals", () => {
  assertEquals(niceTicks(0, 1), { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], decimals: 1 });
  assertEquals(niceTicks(0.13, 0.68), { ticks: [0.2, 0.3, 0.4, 0.5, 0.6], decimals: 1 });
  assertEquals(niceTicks(-3, 12), { ticks: [0, 5, 10], decimals: 0 }); // 15 / 5 = 3 → step 5
  assertEquals(niceTicks(0.001, 0.0102).ticks, [0.002, 0.004, 0.006, 0.008, 0.01]);
  assertEquals(niceTicks(1, 2, 5, true), { ticks: [1, 2], decimals: 0 }); // epochs: never 1.2
  assertThrows(() => niceTicks(1, 1), DataError, "span [1, 1]");
});

Deno.test("renderPlot() maps data to pixels inside the framed area, y upwards", () => {
  const plot = renderPlot([], { ...UNIT, width: 400, height: 300 });
  const origin = plot.pixel(0, 0), corner = plot.pixel(1, 1);
  assert(origin.column < corner.column && origin.row > corner.row, "y grows upwards");
  assertEquals(plot.pixel(0.5, 0.5), {
    column: Math.round((origin.column + corner.column) / 2),
    row: Math.round((origin.row + corner.row) / 2),
  });
  // The frame is black at the corners of the area; the middle of the area is white.
  assertEquals(at(plot, origin.column, origin.row), [0, 0, 0]);
  assertEquals(at(plot, corner.column, corner.row), [0, 0, 0]);
  assertEquals(at(plot, plot.pixel(0.5, 0.5).column + 3, plot.pixel(0.5, 0.5).row + 3), WHITE);
  // A grid line at tick 0.4, light grey.
  const grid = plot.pixel(0.4, 0.3);
  assertEquals(at(plot, grid.column, grid.row).map((v) => Math.round(v * 100)), [88, 88, 88]);
});

Deno.test("renderPlot() draws a line series through its points and a marker at a point", () => {
  const plot = renderPlot([
    { label: "line", color: [1, 0, 0], points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
    { label: "dot", color: [0, 0, 1], points: [{ x: 0.25, y: 0.75 }], style: "points" },
  ], { ...UNIT, legend: "none" });
  for (const t of [0.1, 0.5, 0.9]) {
    const { column, row } = plot.pixel(t, t);
    assertEquals(at(plot, column, row), RED, `the diagonal at ${t}`);
  }
  // Off the line, nothing red.
  const off = plot.pixel(0.5, 0.7); // between grid lines
  assertEquals(at(plot, off.column, off.row), WHITE);
  const dot = plot.pixel(0.25, 0.75);
  assertEquals(at(plot, dot.column, dot.row), BLUE);
  // The marker is a disc of radius 5 with a black rim: blue inside radius 3.5.
  const blue = count(plot, BLUE, {
    left: dot.column - 6,
    top: dot.row - 6,
    right: dot.column + 6,
    bottom: dot.row + 6,
  });
  assertEquals(blue, 37); // pixels with x² + y² <= 12.25
});

Deno.test("renderPlot() clips series to the plot area and skips non-finite points", () => {
  const plot = renderPlot([
    { label: "", color: [1, 0, 0], points: [{ x: -1, y: 0.5 }, { x: 2, y: 0.5 }] },
    { label: "", color: [0, 1, 0], points: [{ x: NaN, y: 0 }, { x: 0.5, y: Infinity }] },
  ], { ...UNIT, width: 300, height: 200, legend: "none" });
  const left = plot.pixel(0, 0).column, right = plot.pixel(1, 0).column;
  const { row } = plot.pixel(0.5, 0.5);
  assertEquals(count(plot, RED, { left: 0, top: row, right: left - 1, bottom: row + 1 }), 0);
  assertEquals(count(plot, RED, { left: right + 1, top: row, right: 299, bottom: row + 1 }), 0);
  assertEquals(count(plot, RED), 2 * (right - left + 1)); // a 2-pixel line across the area
  assertEquals(count(plot, GREEN), 0);
});

Deno.test("renderPlot() fits the ranges to the data and puts a legend entry per labelled series", () => {
  const points = [{ x: 1, y: 0.62 }, { x: 2, y: 0.41 }, { x: 3, y: 0.23 }];
  const plain = renderPlot([{ label: "", color: [1, 0, 0], points }], { integerX: true });
  const labelled = renderPlot([{ label: "loss", color: [1, 0, 0], points }], {
    integerX: true,
    legend: "upper right",
  });
  // Span 0.39 over 5 ticks → a step of 0.1: y from 0.2 to 0.7; 0.62 lies 84 % of the way up.
  const top = plain.pixel(1, 0.7).row, bottom = plain.pixel(1, 0.2).row;
  assertEquals(plain.pixel(1, 0.62).row, Math.round(bottom - 0.84 * (bottom - top)));
  assertEquals(plain.pixel(1, 0.62).column, plain.pixel(1, 0).column);
  // The legend's sample line and the text "loss" add red and black pixels at the top right.
  const corner = {
    left: plain.pixel(2, 0).column,
    top,
    right: plain.pixel(3, 0).column,
    bottom: top + 40,
  };
  assertEquals(count(labelled, RED, corner) > count(plain, RED, corner), true);
  assertEquals(count(labelled, [0, 0, 0], corner) > count(plain, [0, 0, 0], corner), true);
});

Deno.test("renderPlot() writes its title in black above the plot area", () => {
  const plain = renderPlot([], UNIT);
  const titled = renderPlot([], { ...UNIT, title: "ROC" });
  // The title's rows, 16 to 29, above the area and the tick label at its top (from row 39).
  const band = { left: 0, top: 0, right: 719, bottom: 31 };
  assertEquals(titled.pixel(0, 1).row > 31 + 7, true);
  assertEquals(count(plain, [0, 0, 0], { ...band, bottom: 8 }), 0);
  // "ROC" at twice the size: R 18, O 16, C 13 font pixels, each 2×2.
  assertEquals(count(titled, [0, 0, 0], band), (18 + 16 + 13) * 4);
});

Deno.test("renderPlot() refuses a canvas too small for its margins", () => {
  assertThrows(() => renderPlot([], { ...UNIT, width: 80, height: 60 }), DataError, "no room");
});

/**
 * Line charts drawn straight into an RGB raster, for the run report's PNG
 * figures (ROC, precision-recall, training curves) without any plotting
 * library or font file: a white canvas, a framed plot area with a light grid
 * at "nice" ticks (1, 2 or 5 times a power of ten), tick labels, a title, axis
 * titles (the y one turned to read upwards), several series as 2-pixel lines
 * (optionally dashed) or as round markers, and a legend in a corner. Text uses
 * the built-in 5×7 font of bitmap_font.ts at twice its size.
 *
 * @module
 */

import type { Raster } from "../../../pipeline/data.ts";
import { DataError } from "../../../pipeline/errors.ts";
import { drawText, GLYPH_HEIGHT, textWidth } from "./bitmap_font.ts";

/** A colour: red, green, blue, each in [0, 1]. */
export type Rgb = readonly [number, number, number];

/** One series of a chart. */
export interface Series {
  /** Its name in the legend; an empty label leaves it out of the legend. */
  readonly label: string;
  /** Its colour. */
  readonly color: Rgb;
  /** Its points, in drawing order; points with a non-finite coordinate are skipped. */
  readonly points: readonly { readonly x: number; readonly y: number }[];
  /** `line` (default): the points joined by a 2-pixel line; `points`: a round marker at each. */
  readonly style?: "line" | "points";
  /** Draws the line dashed (default false). */
  readonly dashed?: boolean;
}

/** Where the legend goes. */
export type LegendPlace = "upper left" | "upper right" | "lower left" | "lower right" | "none";

/** How {@link renderPlot} draws a chart. */
export interface PlotOptions {
  /** Image width in pixels (default 720). */
  readonly width?: number;
  /** Image height in pixels (default 540). */
  readonly height?: number;
  /** Title above the plot area. */
  readonly title?: string;
  /** Title of the x axis. */
  readonly xLabel?: string;
  /** Title of the y axis. */
  readonly yLabel?: string;
  /** The x axis' span; default: the data's, widened to the nearest ticks. */
  readonly xRange?: readonly [number, number];
  /** The y axis' span; default: the data's, widened to the nearest ticks. */
  readonly yRange?: readonly [number, number];
  /** Ticks on the x axis at whole numbers only (e.g. epochs). Default false. */
  readonly integerX?: boolean;
  /** The legend's corner (default `lower right`). */
  readonly legend?: LegendPlace;
}

/** A rendered chart. */
export interface Plot {
  /** The chart, RGB, values in [0, 1]. */
  readonly image: Raster;
  /**
   * The pixel a data point is drawn at.
   *
   * @param x The point's x.
   * @param y The point's y.
   * @returns Its pixel column (from the left) and row (from the top).
   */
  pixel(x: number, y: number): { readonly column: number; readonly row: number };
}

/** The font scale of every text in a chart. */
const TEXT_SCALE = 2;
const TEXT_HEIGHT = GLYPH_HEIGHT * TEXT_SCALE;
const WHITE: Rgb = [1, 1, 1];
const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [0.88, 0.88, 0.88];
const LEGEND_BORDER: Rgb = [0.6, 0.6, 0.6];

/** The step of about `target` intervals over `span`: 1, 2 or 5 times a power of ten. */
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normal = raw / magnitude;
  return (normal < 1.5 ? 1 : normal < 3 ? 2 : normal < 7 ? 5 : 10) * magnitude;
}

/**
 * Tick values for an axis: multiples of a step of 1, 2 or 5 times a power of
 * ten that cut `[min, max]` into about `target` intervals, and the decimals
 * their labels need.
 *
 * @param min The axis' low end.
 * @param max The axis' high end (> min).
 * @param target About how many intervals (default 5).
 * @param integer Only whole-number ticks (a step of at least 1).
 * @returns The ticks inside [min, max], ascending, and the decimals to show.
 *
 * @example Usage
 * ```ts
 * import { niceTicks } from "./plot.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * assertEquals(niceTicks(0, 1), { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], decimals: 1 });
 * assertEquals(niceTicks(1, 30, 5, true).ticks, [5, 10, 15, 20, 25, 30]);
 * ```
 */
export function niceTicks(
  min: number,
  max: number,
  target = 5,
  integer = false,
): { ticks: number[]; decimals: number } {
  if (!(max > min) || !Number.isFinite(min) || !Number.isFinite(max)) {
    throw new DataError(
      `Cannot place ticks on the span [${min}, ${max}]: it must be finite and > 0`,
    );
  }
  let step = niceStep(max - min, target);
  if (integer) step = Math.max(1, Math.round(step));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  for (let k = first; k * step <= max + step * 1e-9; k++) {
    // k · step, rounded to the decimals shown (0.1 · 3 is 0.30000000000000004); no −0.
    ticks.push(Number((k * step).toFixed(decimals)) + 0);
  }
  return { ticks, decimals };
}

/** The data's span of one coordinate, widened to ticks; a single value gets some room. */
function autoRange(values: number[], integer: boolean): [number, number] {
  let min = Math.min(...values), max = Math.max(...values);
  if (!(values.length > 0)) min = 0, max = 1;
  if (max === min) {
    const room = integer ? 1 : Math.abs(min) * 0.1 || 1;
    min -= room, max += room;
  }
  const step = integer ? Math.max(1, Math.round(niceStep(max - min, 5))) : niceStep(max - min, 5);
  return [Math.floor(min / step + 1e-9) * step, Math.ceil(max / step - 1e-9) * step];
}

/** A writable RGB canvas. */
class Canvas {
  readonly data: Float32Array;

  constructor(readonly width: number, readonly height: number) {
    this.data = new Float32Array(width * height * 3).fill(1);
  }

  /** Sets one pixel; outside the canvas or the clip box nothing happens. */
  set(x: number, y: number, color: Rgb, clip?: Box): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    if (clip && (x < clip.left || x > clip.right || y < clip.top || y > clip.bottom)) return;
    const at = (y * this.width + x) * 3;
    this.data[at] = color[0], this.data[at + 1] = color[1], this.data[at + 2] = color[2];
  }

  fill(box: Box, color: Rgb): void {
    for (let y = box.top; y <= box.bottom; y++) {
      for (let x = box.left; x <= box.right; x++) this.set(x, y, color);
    }
  }

  /** A 1-pixel outline. */
  frame(box: Box, color: Rgb): void {
    for (let x = box.left; x <= box.right; x++) {
      this.set(x, box.top, color), this.set(x, box.bottom, color);
    }
    for (let y = box.top; y <= box.bottom; y++) {
      this.set(box.left, y, color), this.set(box.right, y, color);
    }
  }

  /**
   * A line of 2×2 stamps (Bresenham); `dash` > 0 leaves gaps of that many
   * steps after as many drawn. Returns the dash phase to go on with.
   */
  line(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    color: Rgb,
    clip: Box,
    dash = 0,
    phase = 0,
  ): number {
    const dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    let error = dx + dy;
    for (;;) {
      if (dash === 0 || Math.floor(phase / dash) % 2 === 0) {
        this.set(x0, y0, color, clip), this.set(x0 + 1, y0, color, clip);
        this.set(x0, y0 + 1, color, clip), this.set(x0 + 1, y0 + 1, color, clip);
      }
      phase++;
      if (x0 === x1 && y0 === y1) return phase;
      const e2 = 2 * error;
      if (e2 >= dy) error += dy, x0 += sx;
      if (e2 <= dx) error += dx, y0 += sy;
    }
  }

  /** A filled disc of `radius` with a black rim. */
  marker(cx: number, cy: number, color: Rgb, clip?: Box, radius = 5): void {
    for (let y = -radius; y <= radius; y++) {
      for (let x = -radius; x <= radius; x++) {
        const d = x * x + y * y;
        if (d <= radius * radius) {
          this.set(cx + x, cy + y, d > (radius - 1.5) ** 2 ? BLACK : color, clip);
        }
      }
    }
  }

  text(text: string, x: number, y: number, color: Rgb, vertical = false): void {
    drawText(this.raster(), text, x, y, color, { scale: TEXT_SCALE, vertical });
  }

  raster(): Raster {
    return { width: this.width, height: this.height, channels: 3, data: this.data };
  }
}

/** An inclusive pixel box. */
interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/**
 * Renders a line chart of several series to an RGB raster (see the module
 * doc). Ranges default to the data's, widened to ticks; points outside the
 * plot area are clipped.
 *
 * @param series The series, drawn in order (later ones on top).
 * @param options Size, titles, ranges and the legend's corner.
 * @returns The image and the mapping from data to pixels.
 * @throws {DataError} When a range is empty or the image too small for its margins.
 *
 * @example Usage
 * ```ts
 * import { renderPlot } from "./plot.ts";
 * import { assertEquals } from "../../../tests/assert.ts";
 * const plot = renderPlot(
 *   [{ label: "ROC", color: [1, 0, 0], points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }],
 *   { title: "ROC", xRange: [0, 1], yRange: [0, 1], legend: "none" },
 * );
 * const { column, row } = plot.pixel(0.5, 0.5);
 * const at = (row * plot.image.width + column) * 3;
 * assertEquals(Array.from(plot.image.data.subarray(at, at + 3)), [1, 0, 0]); // on the red line
 * ```
 */
export function renderPlot(series: readonly Series[], options: PlotOptions = {}): Plot {
  const { width = 720, height = 540, title, xLabel, yLabel, integerX = false } = options;
  const finite = (p: { x: number; y: number }) => Number.isFinite(p.x) && Number.isFinite(p.y);
  const points = series.flatMap((s) => s.points.filter(finite));
  const [x0, x1] = options.xRange ?? autoRange(points.map((p) => p.x), integerX);
  const [y0, y1] = options.yRange ?? autoRange(points.map((p) => p.y), false);
  const xTicks = niceTicks(x0, x1, 5, integerX);
  const yTicks = niceTicks(y0, y1, 5);
  const label = (v: number, decimals: number) => v.toFixed(decimals);

  // Margins from what they hold: titles, tick labels, tick marks.
  const yTickWidth = Math.max(...yTicks.ticks.map((v) => textWidth(label(v, yTicks.decimals), 2)));
  const area: Box = {
    left: 12 + (yLabel ? TEXT_HEIGHT + 12 : 0) + yTickWidth + 10,
    top: title ? 16 + TEXT_HEIGHT + 16 : 16,
    right: width - 1 - 24,
    bottom: height - 1 - (12 + TEXT_HEIGHT + (xLabel ? 12 + TEXT_HEIGHT : 0) + 12),
  };
  if (area.right - area.left < 40 || area.bottom - area.top < 40) {
    throw new DataError(`Cannot draw the chart: ${width}×${height} leaves no room for the plot`);
  }
  const column = (x: number) =>
    Math.round(area.left + ((x - x0) / (x1 - x0)) * (area.right - area.left));
  const row = (y: number) =>
    Math.round(area.bottom - ((y - y0) / (y1 - y0)) * (area.bottom - area.top));

  const canvas = new Canvas(width, height);
  // Grid, frame, ticks and their labels.
  for (const v of xTicks.ticks) {
    const c = column(v);
    for (let y = area.top; y <= area.bottom; y++) canvas.set(c, y, GRID);
    for (let y = area.bottom; y <= area.bottom + 5; y++) canvas.set(c, y, BLACK);
    const text = label(v, xTicks.decimals);
    canvas.text(text, c - Math.floor(textWidth(text, 2) / 2), area.bottom + 10, BLACK);
  }
  for (const v of yTicks.ticks) {
    const r = row(v);
    for (let x = area.left; x <= area.right; x++) canvas.set(x, r, GRID);
    for (let x = area.left - 5; x <= area.left; x++) canvas.set(x, r, BLACK);
    const text = label(v, yTicks.decimals);
    canvas.text(text, area.left - 8 - textWidth(text, 2), r - TEXT_HEIGHT / 2, BLACK);
  }
  canvas.frame(area, BLACK);
  if (title) canvas.text(title, Math.floor((width - textWidth(title, 2)) / 2), 16, BLACK);
  if (xLabel) {
    const x = Math.floor((area.left + area.right - textWidth(xLabel, 2)) / 2);
    canvas.text(xLabel, x, area.bottom + 10 + TEXT_HEIGHT + 12, BLACK);
  }
  if (yLabel) {
    const y = Math.floor((area.top + area.bottom - textWidth(yLabel, 2)) / 2);
    canvas.text(yLabel, 12, y, BLACK, true);
  }

  // The series, clipped to the plot area.
  for (const s of series) {
    const visible = s.points.filter(finite);
    if (s.style === "points" || visible.length === 1) {
      for (const p of visible) canvas.marker(column(p.x), row(p.y), s.color, area);
      continue;
    }
    let phase = 0;
    for (let k = 1; k < visible.length; k++) {
      const a = visible[k - 1], b = visible[k];
      phase = canvas.line(
        column(a.x),
        row(a.y),
        column(b.x),
        row(b.y),
        s.color,
        area,
        s.dashed ? 6 : 0,
        phase,
      );
    }
  }

  const place = options.legend ?? "lower right";
  const entries = series.filter((s) => s.label !== "");
  if (place !== "none" && entries.length > 0) {
    const rowHeight = TEXT_HEIGHT + 8, sample = 28;
    const boxWidth = 10 + sample + 8 + Math.max(...entries.map((s) => textWidth(s.label, 2))) + 10;
    const boxHeight = 8 + entries.length * rowHeight;
    const left = place.endsWith("left") ? area.left + 10 : area.right - 10 - boxWidth;
    const top = place.startsWith("upper") ? area.top + 10 : area.bottom - 10 - boxHeight;
    const box = { left, top, right: left + boxWidth, bottom: top + boxHeight };
    canvas.fill(box, WHITE);
    canvas.frame(box, LEGEND_BORDER);
    entries.forEach((s, k) => {
      const y = top + 8 + k * rowHeight, middle = y + TEXT_HEIGHT / 2 - 1;
      if (s.style === "points") canvas.marker(left + 10 + sample / 2, middle, s.color);
      else {canvas.line(
          left + 10,
          middle,
          left + 10 + sample,
          middle,
          s.color,
          box,
          s.dashed ? 6 : 0,
        );}
      canvas.text(s.label, left + 10 + sample + 8, y, BLACK);
    });
  }
  return {
    image: canvas.raster(),
    pixel: (x, y) => ({ column: column(x), row: row(y) }),
  };
}

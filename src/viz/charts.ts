// The charts the apps draw, as SVG (svg.ts): line charts (loss and accuracy per epoch or step),
// histograms (weights), heat maps with a colour bar (a confusion matrix) and grids of small rasters
// with captions and a colour bar (first-layer weights, digits). Each takes numbers and returns a
// Chart; none changes its inputs.

import { type ColorScale, diverging, greys, hex, inkOn, type Rgb, sequential, toUnit } from "./colors.ts";
import { rasterImage } from "./raster.ts";
import { type Chart, FRAME, GRID, line, MUTED, num, rect, text, textWidth } from "./svg.ts";
import { formatTick, niceDomain, niceTicks } from "./ticks.ts";

const TICK = 11; // tick label size
const LABEL = 12; // axis title size
const TITLE = 14;

/** Where the plot goes inside a chart, in the chart's pixels. */
interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

interface Axis {
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly number[];
  readonly step: number;
  readonly label?: string;
  readonly format?: (v: number, step: number) => string;
}

const label = (axis: Axis, v: number): string => (axis.format ?? formatTick)(v, axis.step);

/** Room the y tick labels and the y axis title take left of the plot. */
const leftMargin = (y: Axis): number => 8 + Math.max(...y.ticks.map((v) => textWidth(label(y, v), TICK))) + 8 + (y.label ? LABEL + 8 : 0);

/** Grid lines, ticks, tick labels, the frame and the axis titles around `plot`; returns the value-to-pixel maps. */
const drawAxes = (plot: Box, x: Axis, y: Axis): { body: string; px: (v: number) => number; py: (v: number) => number } => {
  const px = (v: number) => plot.x + ((v - x.lo) / (x.hi - x.lo)) * plot.width;
  const py = (v: number) => plot.y + plot.height - ((v - y.lo) / (y.hi - y.lo)) * plot.height;
  const parts: string[] = [];
  for (const v of x.ticks) {
    parts.push(line(px(v), plot.y, px(v), plot.y + plot.height, `stroke="${GRID}"`));
    parts.push(line(px(v), plot.y + plot.height, px(v), plot.y + plot.height + 4, `stroke="${FRAME}"`));
    parts.push(text(px(v), plot.y + plot.height + 6 + TICK, label(x, v), { size: TICK, anchor: "middle", fill: MUTED }));
  }
  for (const v of y.ticks) {
    parts.push(line(plot.x, py(v), plot.x + plot.width, py(v), `stroke="${GRID}"`));
    parts.push(line(plot.x - 4, py(v), plot.x, py(v), `stroke="${FRAME}"`));
    parts.push(text(plot.x - 7, py(v) + TICK * 0.35, label(y, v), { size: TICK, anchor: "end", fill: MUTED }));
  }
  parts.push(rect(plot.x, plot.y, plot.width, plot.height, `fill="none" stroke="${FRAME}"`));
  if (x.label) parts.push(text(plot.x + plot.width / 2, plot.y + plot.height + 10 + TICK + LABEL, x.label, { size: LABEL, anchor: "middle" }));
  if (y.label) parts.push(text(4 + LABEL * 0.8, plot.y + plot.height / 2, y.label, { size: LABEL, anchor: "middle", vertical: true }));
  return { body: parts.join(""), px, py };
};

/** A legend as rows of swatch + name under the title, wrapped to `width`; returns its markup and height. */
const legend = (items: readonly { name: string; color: string; dashed?: boolean }[], x0: number, y0: number, width: number): { body: string; height: number } => {
  const parts: string[] = [];
  let [x, y] = [x0, y0];
  for (const item of items) {
    const w = 22 + textWidth(item.name, TICK) + 16;
    if (x > x0 && x + w > x0 + width) [x, y] = [x0, y + TICK + 8];
    parts.push(line(x, y + TICK * 0.65, x + 16, y + TICK * 0.65, `stroke="${item.color}" stroke-width="2.5"${item.dashed ? ' stroke-dasharray="5 3"' : ""}`));
    parts.push(text(x + 22, y + TICK, item.name, { size: TICK }));
    x += w;
  }
  return { body: parts.join(""), height: items.length === 0 ? 0 : y - y0 + TICK + 8 };
};

// ---- line charts ------------------------------------------------------------------------------

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  /** y values; null or a non-finite value leaves a gap (a diverged loss, a missing validation set). */
  readonly values: ArrayLike<number | null>;
  /** x of each value; default 1, 2, 3, ... (epochs). */
  readonly xs?: ArrayLike<number>;
  readonly dashed?: boolean;
  /** A dot on each point (sparse series: a value per epoch). */
  readonly dots?: boolean;
  readonly strokeWidth?: number;
}

export interface LineChartOptions {
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Fix an end of the y axis (accuracy: 0 to 1); by default the data's range widened to round ticks. */
  readonly yMin?: number;
  readonly yMax?: number;
  readonly yFormat?: (v: number, step: number) => string;
  /** Show at least this much of the x axis (a live chart whose axis grows with the data). */
  readonly xMax?: number;
}

/** At most `max` points: consecutive points averaged in buckets (10,000 steps fit 500 pixels). */
export const thin = (points: readonly (readonly [number, number])[], max: number): [number, number][] => {
  if (points.length <= max) return points.map(([x, y]) => [x, y]);
  const per = points.length / max;
  const out: [number, number][] = [];
  for (let b = 0; b < max; b++) {
    const from = Math.floor(b * per);
    const to = Math.max(from + 1, Math.floor((b + 1) * per));
    let [sx, sy] = [0, 0];
    for (let i = from; i < to; i++) [sx, sy] = [sx + points[i]![0], sy + points[i]![1]];
    out.push([sx / (to - from), sy / (to - from)]);
  }
  return out;
};

/** Runs of consecutive finite points of a series (a gap wherever a value is missing). */
const runs = (s: LineSeries): [number, number][][] => {
  const out: [number, number][][] = [[]];
  for (let i = 0; i < s.values.length; i++) {
    const [x, y] = [s.xs ? s.xs[i]! : i + 1, s.values[i]];
    if (y === null || y === undefined || !Number.isFinite(y) || !Number.isFinite(x)) {
      if (out.at(-1)!.length > 0) out.push([]);
    } else out.at(-1)!.push([x, y]);
  }
  return out.filter((r) => r.length > 0);
};

/** Curves over a shared x axis (epochs or steps), with round ticks, a legend and gaps for missing values. */
export const lineChart = (series: readonly LineSeries[], options: LineChartOptions = {}): Chart => {
  const { width = 560, height = 340, title, xLabel, yLabel, yFormat } = options;
  const segments = series.map(runs);
  const points = segments.flat(2);
  const xsAll = points.map(([x]) => x);
  const ysAll = points.map(([, y]) => y);
  let xlo = xsAll.reduce((m, v) => Math.min(m, v), Infinity);
  let xhi = Math.max(options.xMax ?? -Infinity, xsAll.reduce((m, v) => Math.max(m, v), -Infinity));
  if (!Number.isFinite(xlo) || !Number.isFinite(xhi)) [xlo, xhi] = [0, 1];
  if (xhi <= xlo) [xlo, xhi] = [xlo - 1, xhi + 1];
  const integers = xsAll.every(Number.isInteger);
  const xt = niceTicks(xlo, xhi, Math.max(2, Math.floor(width / 90)));
  // Epochs and steps are whole numbers: no tick at 2.5.
  const x: Axis = { lo: xlo, hi: xhi, step: integers ? Math.max(1, xt.step) : xt.step, ticks: integers ? xt.ticks.filter(Number.isInteger) : xt.ticks, ...(xLabel && { label: xLabel }) };
  const ylo = options.yMin ?? ysAll.reduce((m, v) => Math.min(m, v), Infinity);
  const yhi = options.yMax ?? ysAll.reduce((m, v) => Math.max(m, v), -Infinity);
  const yd = niceDomain(Number.isFinite(ylo) ? ylo : 0, Number.isFinite(yhi) ? yhi : 1, Math.max(3, Math.floor(height / 60)));
  const y: Axis = { lo: options.yMin ?? yd.lo, hi: options.yMax ?? yd.hi, step: yd.step, ticks: yd.ticks.filter((v) => v >= (options.yMin ?? -Infinity) - 1e-12 && v <= (options.yMax ?? Infinity) + 1e-12), ...(yLabel && { label: yLabel }), ...(yFormat && { format: yFormat }) };

  const parts: string[] = [];
  let top = 8;
  if (title) {
    parts.push(text(10, top + TITLE, title, { size: TITLE, bold: true }));
    top += TITLE + 10;
  }
  const left = leftMargin(y);
  const key = legend(series, left, top, width - left - 10);
  parts.push(key.body);
  top += key.height + 6;
  const plot: Box = { x: left, y: top, width: width - left - 14, height: height - top - (xLabel ? 46 : 28) };
  const axes = drawAxes(plot, x, y);
  parts.push(axes.body);
  const clip = `c${Math.round(Math.abs(plot.width * 7919 + plot.height * 104729 + top)) % 1e6}`;
  parts.push(`<clipPath id="${clip}">${rect(plot.x - 3, plot.y - 3, plot.width + 6, plot.height + 6, "")}</clipPath><g clip-path="url(#${clip})">`);
  series.forEach((s, k) => {
    for (const run of segments[k]!) {
      const shown = thin(run, Math.max(2, Math.floor(plot.width)));
      const pts = shown.map(([vx, vy]) => `${num(axes.px(vx))},${num(axes.py(vy))}`);
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="${s.strokeWidth ?? 2}" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="5 3"' : ""} points="${pts.join(" ")}"/>`);
      if (s.dots || run.length === 1) for (const [vx, vy] of shown) parts.push(`<circle cx="${num(axes.px(vx))}" cy="${num(axes.py(vy))}" r="3" fill="${s.color}"/>`);
    }
  });
  parts.push("</g>");
  if (points.length === 0) parts.push(text(plot.x + plot.width / 2, plot.y + plot.height / 2, "no data", { size: LABEL, anchor: "middle", fill: MUTED }));
  return { width, height, body: parts.join("") };
};

// ---- histograms -------------------------------------------------------------------------------

export interface HistogramOptions {
  readonly bins?: number;
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly color?: string;
}

/** Counts of the finite values in `bins` equal-width bins over [min, max] (the last bin includes max). */
export const binCounts = (values: ArrayLike<number>, bins: number, min: number, max: number): number[] => {
  const counts = new Array<number>(bins).fill(0);
  const w = (max - min) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || v < min || v > max) continue;
    counts[Math.min(bins - 1, Math.floor((v - min) / w))]!++;
  }
  return counts;
};

/** The distribution of a set of values (a layer's weights) as bars. */
export const histogram = (values: ArrayLike<number>, options: HistogramOptions = {}): Chart => {
  const { bins = 40, width = 560, height = 260, title, xLabel, yLabel = "count", color = "#4a7fb5" } = options;
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram: bins must be a positive integer, got ${bins}`);
  let [lo, hi] = [Infinity, -Infinity];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi <= lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  const counts = binCounts(values, bins, lo, hi);
  const xt = niceTicks(lo, hi, Math.max(2, Math.floor(width / 90)));
  const yd = niceDomain(0, Math.max(1, ...counts), Math.max(3, Math.floor(height / 60)));
  const x: Axis = { lo, hi, step: xt.step, ticks: xt.ticks, ...(xLabel && { label: xLabel }) };
  const y: Axis = { lo: 0, hi: yd.hi, step: Math.max(1, yd.step), ticks: yd.ticks.filter(Number.isInteger), label: yLabel };
  const top = title ? TITLE + 18 : 10;
  const left = leftMargin(y);
  const plot: Box = { x: left, y: top, width: width - left - 14, height: height - top - (xLabel ? 46 : 28) };
  const axes = drawAxes(plot, x, y);
  const bars = counts.map((c, k) => {
    if (c === 0) return "";
    const [x0, x1] = [axes.px(lo + ((hi - lo) * k) / bins), axes.px(lo + ((hi - lo) * (k + 1)) / bins)];
    return rect(x0 + 0.5, axes.py(c), Math.max(0.5, x1 - x0 - 1), plot.y + plot.height - axes.py(c), `fill="${color}"`);
  });
  return { width, height, body: (title ? text(10, 8 + TITLE, title, { size: TITLE, bold: true }) : "") + axes.body + bars.join("") };
};

// ---- colour bars ------------------------------------------------------------------------------

/** Ticks for a colour scale: round values, or 0, 1, 10, 100, ... on a log scale. */
const scaleTicks = (scale: ColorScale): { ticks: number[]; step: number } => {
  if (!scale.log) return niceTicks(scale.lo, scale.hi, 5);
  const ticks = [0];
  for (let p = 1; p <= scale.hi; p *= 10) ticks.push(p);
  return { ticks, step: 1 };
};

/** A vertical colour bar `height` tall with tick labels on its right and a label along it. */
export const colorBar = (scale: ColorScale, height: number, barLabel?: string): Chart => {
  const barWidth = 14;
  const steps = 64;
  const parts: string[] = [];
  for (let i = 0; i < steps; i++) {
    // Bottom to top: the value at the middle of each band, mapped as the raster maps it.
    const color = scale.map((i + 0.5) / steps);
    parts.push(rect(0, height - ((i + 1) * height) / steps, barWidth, height / steps + 0.5, `fill="${hex(color)}"`));
  }
  parts.push(rect(0, 0, barWidth, height, `fill="none" stroke="${FRAME}"`));
  const { ticks, step } = scaleTicks(scale);
  const at = (v: number) => height - toUnit(scale, v) * height;
  let widest = 0;
  for (const v of ticks) {
    const s = formatTick(v, step);
    widest = Math.max(widest, textWidth(s, TICK));
    parts.push(line(barWidth, at(v), barWidth + 4, at(v), `stroke="${FRAME}"`));
    parts.push(text(barWidth + 7, at(v) + TICK * 0.35, s, { size: TICK, fill: MUTED }));
  }
  const width = barWidth + 7 + widest + (barLabel ? 8 + LABEL : 4);
  if (barLabel) parts.push(text(width - 3, height / 2, barLabel, { size: LABEL, anchor: "middle", vertical: true }));
  return { width, height, body: parts.join("") };
};

// ---- heat maps --------------------------------------------------------------------------------

export interface HeatmapOptions {
  readonly title?: string;
  /** Axis titles: columns (below) and rows (left). */
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly rowLabels?: readonly string[];
  readonly colLabels?: readonly string[];
  readonly cellSize?: number;
  /** Colour depth log(1 + v) / log(1 + max) (default: a confusion matrix's 5 errors beside 1,000 stay visible) or linear. */
  readonly log?: boolean;
  readonly barLabel?: string;
}

const formatCell = (v: number): string =>
  !Number.isFinite(v) ? String(v) : Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2);

/** A matrix of non-negative values as coloured cells with their values written in, and a colour bar. */
export const heatmap = (matrix: readonly ArrayLike<number>[], options: HeatmapOptions = {}): Chart => {
  const rows = matrix.length;
  const cols = rows === 0 ? 0 : matrix[0]!.length;
  if (rows === 0 || cols === 0) throw new RangeError("heatmap: the matrix is empty, expected at least one row and column");
  matrix.forEach((row, r) => {
    if (row.length !== cols) throw new RangeError(`heatmap: row ${r} has ${row.length} values, expected ${cols} like row 0`);
  });
  const { title, xLabel = "predicted", yLabel = "true", cellSize = 44, log = true, barLabel } = options;
  const rowLabels = options.rowLabels ?? Array.from({ length: rows }, (_, i) => String(i));
  const colLabels = options.colLabels ?? Array.from({ length: cols }, (_, i) => String(i));
  let max = 0;
  for (const row of matrix) for (let c = 0; c < cols; c++) if (row[c]! > max) max = row[c]!;
  const scale: ColorScale = { lo: 0, hi: Math.max(max, log ? 1 : 1e-12), map: sequential, log };
  const top = (title ? TITLE + 18 : 10) + 4;
  const left = 8 + LABEL + 10 + Math.max(...rowLabels.map((l) => textWidth(l, LABEL))) + 8;
  const [gridW, gridH] = [cols * cellSize, rows * cellSize];
  const parts: string[] = [];
  if (title) parts.push(text(10, 8 + TITLE, title, { size: TITLE, bold: true }));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = matrix[r]![c]!;
      const color: Rgb = Number.isNaN(v) ? [128, 128, 128] : scale.map(toUnit(scale, v));
      const [x, y] = [left + c * cellSize, top + r * cellSize];
      parts.push(rect(x, y, cellSize, cellSize, `fill="${hex(color)}" stroke="#ffffff" stroke-width="1"`));
      parts.push(text(x + cellSize / 2, y + cellSize / 2 + 4, formatCell(v), { size: cellSize >= 40 ? 12 : 10, anchor: "middle", fill: inkOn(color) }));
    }
  }
  rowLabels.forEach((l, r) => parts.push(text(left - 8, top + r * cellSize + cellSize / 2 + 4, l, { size: LABEL, anchor: "end" })));
  colLabels.forEach((l, c) => parts.push(text(left + c * cellSize + cellSize / 2, top + gridH + 6 + LABEL, l, { size: LABEL, anchor: "middle" })));
  parts.push(text(left + gridW / 2, top + gridH + 14 + 2 * LABEL, xLabel, { size: LABEL, anchor: "middle" }));
  parts.push(text(8 + LABEL * 0.8, top + gridH / 2, yLabel, { size: LABEL, anchor: "middle", vertical: true }));
  const bar = colorBar(scale, gridH, barLabel);
  parts.push(`<g transform="translate(${num(left + gridW + 16)} ${num(top)})">${bar.body}</g>`);
  const width = Math.max(left + gridW + 16 + bar.width + 8, title ? textWidth(title, TITLE, true) + 20 : 0);
  return { width, height: top + gridH + 22 + 2 * LABEL, body: parts.join("") };
};

// ---- grids of small rasters ---------------------------------------------------------------------

export interface TileGridOptions {
  /** Tiles in a row. */
  readonly cols: number;
  /** Values per tile, row-major: tileW * tileH. Default 28 x 28. */
  readonly tileW?: number;
  readonly tileH?: number;
  /** Screen pixels per value. Default 3. */
  readonly scale?: number;
  /** Pixels between tiles. Default 4. */
  readonly gap?: number;
  /** How values become colours: a diverging map over [-limit, limit] (weights) or grey levels over [0, 1] (pixels). */
  readonly colors: { readonly kind: "diverging"; readonly limit: number } | { readonly kind: "greys" };
  /** A caption under each tile ("#12", or "true 4\npred 9" on two lines). */
  readonly labels?: readonly string[];
  /** A colour bar beside the grid, with this label. */
  readonly barLabel?: string;
}

/**
 * Tiles in a grid `cols` wide (the 128 first-layer weight vectors of a 784-128 layer as 16 x 8
 * pictures of 28 x 28), each value a crisp square, with captions and a colour bar.
 */
export const tileGrid = (tiles: readonly ArrayLike<number>[], options: TileGridOptions): Chart => {
  const { cols, tileW = 28, tileH = 28, scale = 3, gap = 4, labels, colors, barLabel } = options;
  if (tiles.length === 0) throw new RangeError("tileGrid: no tiles to draw");
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`tileGrid: cols must be a positive integer, got ${cols}`);
  tiles.forEach((t, k) => {
    if (t.length !== tileW * tileH) throw new RangeError(`tileGrid: tile ${k} has ${t.length} values, expected tileW * tileH = ${tileW}x${tileH} = ${tileW * tileH}`);
  });
  if (labels !== undefined && labels.length !== tiles.length) throw new RangeError(`tileGrid: ${labels.length} labels for ${tiles.length} tiles, expected one label per tile`);
  const colorScale: ColorScale = colors.kind === "diverging" ? { lo: -colors.limit, hi: colors.limit, map: (t) => diverging(2 * t - 1) } : { lo: 0, hi: 1, map: greys };
  const pal = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) pal.set(colorScale.map(i / 255), 3 * i);
  const lineCount = labels ? Math.max(...labels.map((l) => l.split("\n").length)) : 0;
  const captionSize = 11;
  const captionH = lineCount * (captionSize + 2) + (lineCount > 0 ? 4 : 0);
  const [tw, th] = [tileW * scale, tileH * scale];
  const cellW = Math.max(tw, labels ? Math.max(...labels.flatMap((l) => l.split("\n").map((s) => textWidth(s, captionSize) + 4))) : 0);
  const shown = Math.min(cols, tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  const parts: string[] = [];
  tiles.forEach((tile, k) => {
    const x = (k % cols) * (cellW + gap) + (cellW - tw) / 2;
    const y = Math.floor(k / cols) * (th + captionH + gap);
    const indices = new Uint8Array(tileW * tileH);
    for (let i = 0; i < indices.length; i++) indices[i] = Math.round(255 * Math.min(1, Math.max(0, toUnit(colorScale, tile[i]!))));
    parts.push(rasterImage(indices, tileW, tileH, pal, x, y, scale));
    labels?.[k]?.split("\n").forEach((s, j) => parts.push(text(x + tw / 2, y + th + (j + 1) * (captionSize + 2), s, { size: captionSize, anchor: "middle" })));
  });
  const gridW = shown * cellW + (shown - 1) * gap;
  const gridH = rows * (th + captionH) + (rows - 1) * gap;
  let width = gridW;
  if (barLabel !== undefined) {
    const bar = colorBar(colorScale, Math.min(gridH, Math.max(120, th * 2)), barLabel);
    parts.push(`<g transform="translate(${num(gridW + 16)} ${num((gridH - bar.height) / 2)})">${bar.body}</g>`);
    width += 16 + bar.width;
  }
  return { width, height: gridH, body: parts.join("") };
};

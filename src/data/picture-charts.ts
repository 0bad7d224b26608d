// Pictures made from numbers: tile grids (weights, digits), line charts (loss and accuracy curves),
// histograms and heat maps (a confusion matrix with its counts). Each returns a fresh Image and
// never changes its inputs. Drawn with the raster primitives and the bitmap font; no node: imports.

import { CAP_HEIGHT, drawText, drawTextAligned, lineCount, textHeight, textWidth } from "./picture-font.ts";
import {
  blit,
  type Color,
  createImage,
  diverging,
  drawLine,
  fillRect,
  grayscale,
  type Image,
  rotateLeft,
  sequential,
  strokeRect,
  WHITE,
} from "./picture-raster.ts";

const TEXT: Color = [33, 33, 33];
const AXIS: Color = [90, 90, 90];
const GRID: Color = [228, 228, 228];

/** A rectangle in image pixels: top-left (x, y), size width x height. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

// ---- tile grids ------------------------------------------------------------------------------

export interface TileGridOptions {
  /** Size of each tile in values (tile k holds tileW * tileH values, row-major). Default 28 x 28. */
  readonly tileW?: number;
  readonly tileH?: number;
  /** Pixels between tiles and around the grid. Default 1. */
  readonly gap?: number;
  /** Each value becomes a scale x scale block. Default 1. */
  readonly scale?: number;
  /**
   * How values become colours. "symmetric" (default): each tile divided by its own largest |v|, so
   * 0 is white and the strongest weight of that tile is full blue or red (diverging map).
   * "symmetric-shared": one largest |v| over all tiles, so tiles can be compared with each other.
   * "unit": values taken as they are, clamped to [0, 1] (pixels; grey map: white ink on black).
   */
  readonly range?: "symmetric" | "symmetric-shared" | "unit";
  /** Colour for a value after scaling (in [-1, 1] for the symmetric ranges, [0, 1] for unit). */
  readonly colorize?: (v: number) => Color;
  /** Colour of the gaps. Default mid grey. */
  readonly background?: Color;
  /** A caption under each tile, e.g. "true 4 / pred 9", or "true 4\npred 9" on two lines. */
  readonly labels?: readonly string[];
  readonly labelColor?: Color;
  readonly labelScale?: number;
}

interface TileLayout {
  /** A cell holds one tile and its caption; it is wider than the tile when the longest caption is. */
  readonly cellW: number;
  readonly cellH: number;
  /** Left margin of the tile inside its cell (the tile is centred). */
  readonly inset: number;
  readonly gap: number;
}

const tileLayout = (options: TileGridOptions): TileLayout => {
  const { tileW = 28, tileH = 28, gap = 1, scale = 1, labels, labelScale = 1 } = options;
  const labelH = labels === undefined ? 0 : textHeight(labelScale, Math.max(1, ...labels.map(lineCount))) + 3;
  const widest = labels === undefined ? 0 : Math.max(0, ...labels.map((l) => textWidth(l, labelScale) + 4));
  const cellW = Math.max(tileW * scale, widest);
  return { cellW, cellH: tileH * scale + labelH, inset: Math.floor((cellW - tileW * scale) / 2), gap };
};

/** Where tileGrid puts the top-left corner of tile k (row-major, `cols` tiles a row). */
export const tileOrigin = (k: number, cols: number, options: TileGridOptions = {}): { x: number; y: number } => {
  const { cellW, cellH, inset, gap } = tileLayout(options);
  return { x: gap + (k % cols) * (cellW + gap) + inset, y: gap + Math.floor(k / cols) * (cellH + gap) };
};

const maxAbs = (values: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!);
    if (a > m) m = a; // NaN compares false and is skipped
  }
  return m;
};

/**
 * Tiles laid out in a grid `cols` wide (e.g. the 128 first-layer weight vectors of a 784-128 layer
 * as a 16 x 8 grid of 28x28 pictures), with thin gaps and optional captions.
 */
export const tileGrid = (tiles: readonly ArrayLike<number>[], cols: number, options: TileGridOptions = {}): Image => {
  const { tileW = 28, tileH = 28, scale = 1, range = "symmetric", labels, labelScale = 1 } = options;
  if (tiles.length === 0) throw new RangeError("tileGrid: no tiles to draw");
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`tileGrid: cols must be a positive integer, got ${cols}`);
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`tileGrid: scale must be a positive integer, got ${scale}`);
  tiles.forEach((t, k) => {
    if (t.length !== tileW * tileH) throw new RangeError(`tileGrid: tile ${k} has ${t.length} values, expected tileW * tileH = ${tileW}x${tileH} = ${tileW * tileH}`);
  });
  if (labels !== undefined && labels.length !== tiles.length) {
    throw new RangeError(`tileGrid: ${labels.length} labels for ${tiles.length} tiles, expected one label per tile`);
  }
  const symmetric = range !== "unit";
  const colorize = options.colorize ?? (symmetric ? diverging : grayscale);
  const background = options.background ?? [128, 128, 128];
  const labelColor = options.labelColor ?? WHITE;
  const { cellW, cellH, gap } = tileLayout(options);
  const rows = Math.ceil(tiles.length / cols);
  const shown = Math.min(cols, tiles.length);
  const img = createImage(shown * cellW + (shown + 1) * gap, rows * cellH + (rows + 1) * gap, background);
  const shared = range === "symmetric-shared" ? Math.max(...tiles.map(maxAbs)) : 0;
  tiles.forEach((tile, k) => {
    const { x, y } = tileOrigin(k, cols, options);
    const m = range === "symmetric" ? maxAbs(tile) : shared;
    // An all-zero tile is drawn as zeros (white), not as 0/0.
    const norm = symmetric ? (m > 0 ? 1 / m : 0) : 1;
    for (let ty = 0; ty < tileH; ty++) {
      for (let tx = 0; tx < tileW; tx++) {
        fillRect(img, x + tx * scale, y + ty * scale, scale, scale, colorize(tile[ty * tileW + tx]! * norm));
      }
    }
    const label = labels?.[k];
    if (label !== undefined) drawTextAligned(img, x + (tileW * scale) / 2, y + tileH * scale + 2, label, labelColor, labelScale, "center");
  });
  return img;
};

// ---- axes and ticks --------------------------------------------------------------------------

/**
 * Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `target` of
 * them. Returns the ticks and the step; lo and hi are widened to whole steps by the caller if wanted.
 */
export const niceTicks = (lo: number, hi: number, target = 5): { ticks: number[]; step: number } => {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return { ticks: Number.isFinite(lo) ? [lo] : [], step: 1 };
  const raw = (hi - lo) / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const tol = 1e-9; // raw = 0.02 may come out as 2.0000000000000004 * 0.01
  const step = (f <= 1 + tol ? 1 : f <= 2 + tol ? 2 : f <= 5 + tol ? 5 : 10) * power;
  return { ticks: ticksEvery(lo, hi, step), step };
};

/** The multiples of `step` in [lo, hi] (ends included up to rounding). */
export const ticksEvery = (lo: number, hi: number, step: number): number[] => {
  const ticks: number[] = [];
  const eps = step * 1e-9;
  for (let k = Math.ceil((lo - eps) / step); k * step <= hi + eps; k++) ticks.push(k * step + 0); // + 0: no "-0"
  return ticks;
};

/** A tick value written with as many decimals as its step needs ("0.25", "1500", "1e-6"). */
export const formatTick = (v: number, step: number): string => {
  if (v === 0) return "0";
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  if (decimals > 5 || Math.abs(v) >= 1e7) {
    // Mantissa digits: as many as separate v's leading digit from the step's (2.5e-7 with step 5e-8: one).
    const digits = Math.floor(Math.log10(Math.abs(v)) + 1e-9) - Math.floor(Math.log10(step) + 1e-9);
    return v.toExponential(Math.max(0, Math.min(3, digits))).replace("e+", "e");
  }
  return v.toFixed(decimals);
};

const TITLE_SCALE = 2;

/** The plotting area of a chart: margins for the title, the tick labels and the axis labels. */
export const plotArea = (width: number, height: number): Rect => {
  const left = 72;
  const right = 16;
  const top = 12 + textHeight(TITLE_SCALE) + 8;
  const bottom = 12 + textHeight() + 8 + textHeight() + 6;
  return { x: left, y: top, width: Math.max(1, width - left - right), height: Math.max(1, height - top - bottom) };
};

interface Axes {
  readonly toX: (v: number) => number;
  readonly toY: (v: number) => number;
}

// Loops rather than Math.min(...values): a loss recorded every step can exceed the argument limit.
const smallest = (values: readonly number[]): number => values.reduce((m, v) => Math.min(m, v), Infinity);
const largest = (values: readonly number[]): number => values.reduce((m, v) => Math.max(m, v), -Infinity);

/** A [lo, hi] range that is never empty: equal ends are widened around the value. */
const widen = (lo: number, hi: number): [number, number] => {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi > lo) return [lo, hi];
  const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
  return [lo - d, hi + d];
};

/** Title, frame, grid lines, tick labels and axis labels; returns the value-to-pixel maps of the plot area. */
const drawAxes = (
  img: Image,
  plot: Rect,
  x: { lo: number; hi: number; label?: string; integer?: boolean },
  y: { lo: number; hi: number; label?: string; integer?: boolean; step?: number },
  title: string | undefined,
): Axes => {
  const toX = (v: number): number => plot.x + ((v - x.lo) / (x.hi - x.lo)) * (plot.width - 1);
  const toY = (v: number): number => plot.y + plot.height - 1 - ((v - y.lo) / (y.hi - y.lo)) * (plot.height - 1);
  if (title !== undefined) drawTextAligned(img, img.width / 2, 12, title, TEXT, TITLE_SCALE, "center");
  const xt = niceTicks(x.lo, x.hi, Math.max(2, Math.floor(plot.width / 70)));
  // The caller may have widened the y range to whole steps: reuse its step so the ends get ticks.
  const yt = y.step !== undefined ? { ticks: ticksEvery(y.lo, y.hi, y.step), step: y.step } : niceTicks(y.lo, y.hi, Math.max(2, Math.floor(plot.height / 40)));
  const xTicks = x.integer ? xt.ticks.filter(Number.isInteger) : xt.ticks;
  const yTicks = y.integer ? yt.ticks.filter(Number.isInteger) : yt.ticks;
  for (const v of xTicks) {
    const px = Math.round(toX(v));
    fillRect(img, px, plot.y, 1, plot.height, GRID);
    fillRect(img, px, plot.y + plot.height, 1, 4, AXIS);
    drawTextAligned(img, px, plot.y + plot.height + 7, formatTick(v, xt.step), TEXT, 1, "center");
  }
  for (const v of yTicks) {
    const py = Math.round(toY(v));
    fillRect(img, plot.x, py, plot.width, 1, GRID);
    fillRect(img, plot.x - 4, py, 4, 1, AXIS);
    drawTextAligned(img, plot.x - 7, py - Math.floor(CAP_HEIGHT / 2), formatTick(v, yt.step), TEXT, 1, "right");
  }
  strokeRect(img, plot.x - 1, plot.y - 1, plot.width + 2, plot.height + 2, AXIS);
  if (x.label !== undefined) drawTextAligned(img, plot.x + plot.width / 2, plot.y + plot.height + 7 + textHeight() + 6, x.label, TEXT, 1, "center");
  if (y.label !== undefined) {
    // Written on its own strip and turned a quarter turn, to read bottom to top along the axis.
    const strip = createImage(Math.max(1, textWidth(y.label)), textHeight(), WHITE);
    drawText(strip, 0, 0, y.label, TEXT);
    const turned = rotateLeft(strip);
    blit(img, turned, 6, Math.round(plot.y + plot.height / 2 - turned.height / 2));
  }
  return { toX, toY };
};

// ---- line charts -----------------------------------------------------------------------------

export interface Series {
  readonly name: string;
  readonly values: readonly number[] | Float32Array | Float64Array;
  readonly color: Color;
  /** x of each value; default 0, 1, 2, ... (the step or epoch index). */
  readonly xs?: readonly number[];
}

export interface ChartOptions {
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Fix the y range (e.g. accuracy 0..1); by default it spans the finite values, widened to whole ticks. */
  readonly yMin?: number;
  readonly yMax?: number;
}

const LEGEND_SWATCH = 14;

/**
 * Curves such as training and test loss per epoch. Non-finite values (a diverged loss) leave a gap.
 * The legend goes in whichever corner of the plot holds the fewest points.
 */
export const lineChart = (series: readonly Series[], options: ChartOptions = {}): Image => {
  const { width = 640, height = 400, title, xLabel, yLabel } = options;
  const img = createImage(width, height, WHITE);
  const plot = plotArea(width, height);
  const points = series.map((s) => {
    if (s.xs !== undefined && s.xs.length !== s.values.length) {
      throw new RangeError(`lineChart: series "${s.name}" has ${s.values.length} values but ${s.xs.length} xs, expected one x per value`);
    }
    return Array.from(s.values, (v, i) => [s.xs?.[i] ?? i, v] as const);
  });
  const all = points.flat().filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [xlo, xhi] = widen(smallest(xs), largest(xs));
  let [ylo, yhi] = widen(options.yMin ?? smallest(ys), options.yMax ?? largest(ys));
  let yStep: number | undefined;
  if (options.yMin === undefined || options.yMax === undefined) {
    // 3% headroom so a curve does not run along the frame; never below 0 for data that is not (a loss).
    const pad = 0.03 * (yhi - ylo);
    if (options.yMin === undefined) ylo = ylo >= 0 ? Math.max(0, ylo - pad) : ylo - pad;
    if (options.yMax === undefined) yhi += pad;
    const { step } = niceTicks(ylo, yhi, Math.max(2, Math.floor(plot.height / 40)));
    if (options.yMin === undefined) ylo = Math.floor(ylo / step + 1e-9) * step;
    if (options.yMax === undefined) yhi = Math.ceil(yhi / step - 1e-9) * step;
    yStep = step;
  }
  const integerX = xs.every(Number.isInteger);
  const axes = drawAxes(img, plot, { lo: xlo, hi: xhi, label: xLabel, integer: integerX }, { lo: ylo, hi: yhi, label: yLabel, step: yStep }, title);
  // Curves are drawn on a transparent layer the size of the plot and laid over it: values outside a
  // fixed y range are clipped at the frame instead of spilling into the margins.
  const layer = createImage(plot.width, plot.height, [0, 0, 0, 0]);
  series.forEach((s, k) => {
    let prev: [number, number] | null = null;
    for (const [x, y] of points[k]!) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        prev = null;
        continue;
      }
      const p: [number, number] = [axes.toX(x) - plot.x, axes.toY(y) - plot.y];
      if (prev !== null) drawLine(layer, prev[0], prev[1], p[0], p[1], s.color, 2);
      else fillRect(layer, Math.round(p[0]) - 1, Math.round(p[1]) - 1, 2, 2, s.color);
      prev = p;
    }
  });
  blit(img, layer, plot.x, plot.y);
  if (series.length > 0) drawLegend(img, plot, series, layer);
  if (all.length === 0) drawTextAligned(img, plot.x + plot.width / 2, plot.y + plot.height / 2 - 4, "no data", AXIS, 1, "center");
  return img;
};

/** The legend, in the corner of the plot where the curves (the opaque pixels of `layer`) cover the least. */
const drawLegend = (img: Image, plot: Rect, series: readonly Series[], layer: Image): void => {
  const w = LEGEND_SWATCH + 6 + Math.max(...series.map((s) => textWidth(s.name))) + 12;
  const h = series.length * (textHeight() + 4) + 8;
  const pad = 8;
  const corners: Rect[] = [
    { x: plot.x + plot.width - w - pad, y: plot.y + pad, width: w, height: h },
    { x: plot.x + pad, y: plot.y + pad, width: w, height: h },
    { x: plot.x + plot.width - w - pad, y: plot.y + plot.height - h - pad, width: w, height: h },
    { x: plot.x + pad, y: plot.y + plot.height - h - pad, width: w, height: h },
  ];
  const covered = (r: Rect): number => {
    let n = 0;
    for (let y = Math.max(0, r.y - plot.y); y < Math.min(layer.height, r.y - plot.y + r.height); y++) {
      for (let x = Math.max(0, r.x - plot.x); x < Math.min(layer.width, r.x - plot.x + r.width); x++) if (layer.rgba[(y * layer.width + x) * 4 + 3]! > 0) n++;
    }
    return n;
  };
  const cover = corners.map(covered);
  const box = corners[cover.indexOf(Math.min(...cover))]!;
  fillRect(img, box.x, box.y, box.width, box.height, WHITE);
  strokeRect(img, box.x, box.y, box.width, box.height, GRID);
  series.forEach((s, k) => {
    const y = box.y + 6 + k * (textHeight() + 4);
    fillRect(img, box.x + 6, y + 2, LEGEND_SWATCH, 3, s.color);
    drawText(img, box.x + 6 + LEGEND_SWATCH + 6, y, s.name, TEXT);
  });
};

// ---- histograms ------------------------------------------------------------------------------

export interface HistogramOptions {
  readonly bins?: number;
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly color?: Color;
  /** Fix the binned range; by default it spans the finite values. */
  readonly min?: number;
  readonly max?: number;
}

/** Counts of values in `bins` equal-width bins over [min, max] (the last bin includes max); non-finite values are skipped. */
export const binCounts = (values: ArrayLike<number>, bins: number, min: number, max: number): number[] => {
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || v < min || v > max) continue;
    const k = Math.min(bins - 1, Math.floor((v - min) / width));
    counts[k]!++;
  }
  return counts;
};

/** The distribution of a set of values (e.g. one layer's weights) as bars. */
export const histogram = (values: ArrayLike<number>, options: HistogramOptions = {}): Image => {
  const { bins = 30, width = 640, height = 400, title, xLabel, yLabel = "count", color = [66, 133, 244] } = options;
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram: bins must be a positive integer, got ${bins}`);
  const img = createImage(width, height, WHITE);
  const plot = plotArea(width, height);
  let lo = options.min ?? Infinity;
  let hi = options.max ?? -Infinity;
  if (options.min === undefined || options.max === undefined) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (options.min === undefined && v < lo) lo = v;
      if (options.max === undefined && v > hi) hi = v;
    }
  }
  [lo, hi] = widen(lo, hi);
  const counts = binCounts(values, bins, lo, hi);
  const top = Math.max(1, ...counts);
  const { step } = niceTicks(0, top, Math.max(2, Math.floor(plot.height / 40)));
  const yhi = Math.ceil(top / step) * step;
  const axes = drawAxes(img, plot, { lo, hi, label: xLabel }, { lo: 0, hi: yhi, label: yLabel, integer: true, step }, title);
  const barGap = plot.width / bins >= 4 ? 1 : 0;
  counts.forEach((c, k) => {
    if (c === 0) return;
    const x0 = Math.round(axes.toX(lo + ((hi - lo) * k) / bins));
    const x1 = Math.round(axes.toX(lo + ((hi - lo) * (k + 1)) / bins));
    const y0 = Math.round(axes.toY(c));
    fillRect(img, x0 + barGap, y0, Math.max(1, x1 - x0 - barGap), plot.y + plot.height - y0, color);
  });
  let anyFinite = false;
  for (let i = 0; i < values.length && !anyFinite; i++) anyFinite = Number.isFinite(values[i]!);
  if (!anyFinite) drawTextAligned(img, plot.x + plot.width / 2, plot.y + plot.height / 2 - 4, "no data", AXIS, 1, "center");
  return img;
};

// ---- heat maps -------------------------------------------------------------------------------

export interface HeatmapOptions {
  /** Labels for both axes (a confusion matrix: the digits); rowLabels / colLabels override. */
  readonly labels?: readonly string[];
  readonly rowLabels?: readonly string[];
  readonly colLabels?: readonly string[];
  /** Write each cell's value in it. Default true. */
  readonly showCounts?: boolean;
  readonly title?: string;
  /** Axis titles: columns (below) and rows (left). Defaults "predicted" and "true", as for a confusion matrix. */
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Cell side in pixels. Default 40 (fits a 5-digit count). */
  readonly cellSize?: number;
  /**
   * How a value maps to colour depth: v / max ("linear"), sqrt(v / max), or log(1 + v) / log(1 + max)
   * ("log", default: a confusion matrix's errors of 5 next to a diagonal of 1000 stay visible).
   */
  readonly scale?: "linear" | "sqrt" | "log";
}

const formatCell = (v: number): string =>
  !Number.isFinite(v) ? String(v) : Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2);

/** A matrix of non-negative values as coloured cells (white 0 to dark blue max), with counts written in. */
export const heatmap = (matrix: readonly ArrayLike<number>[], options: HeatmapOptions = {}): Image => {
  const rows = matrix.length;
  const cols = rows === 0 ? 0 : matrix[0]!.length;
  if (rows === 0 || cols === 0) throw new RangeError("heatmap: the matrix is empty, expected at least one row and column");
  matrix.forEach((row, r) => {
    if (row.length !== cols) throw new RangeError(`heatmap: row ${r} has ${row.length} values, expected ${cols} like row 0`);
  });
  const { showCounts = true, title, xLabel = "predicted", yLabel = "true", cellSize = 40, scale = "log" } = options;
  const rowLabels = options.rowLabels ?? options.labels ?? Array.from({ length: rows }, (_, i) => String(i));
  const colLabels = options.colLabels ?? options.labels ?? Array.from({ length: cols }, (_, i) => String(i));
  const labelW = Math.max(...rowLabels.map((l) => textWidth(l)));
  const left = 6 + textHeight() + 8 + labelW + 8;
  const top = 12 + (title === undefined ? 0 : textHeight(TITLE_SCALE) + 10);
  const gridW = cols * cellSize;
  const gridH = rows * cellSize;
  const width = Math.max(left + gridW + 16, title === undefined ? 0 : textWidth(title, TITLE_SCALE) + 24);
  const height = top + gridH + 8 + textHeight() + 8 + textHeight() + 10;
  const img = createImage(width, height, WHITE);
  if (title !== undefined) drawTextAligned(img, width / 2, 12, title, TEXT, TITLE_SCALE, "center");
  let max = 0;
  for (const row of matrix) for (let c = 0; c < cols; c++) if (row[c]! > max) max = row[c]!;
  const depth = (v: number): number => {
    if (!(v > 0) || max <= 0) return 0;
    return scale === "linear" ? v / max : scale === "sqrt" ? Math.sqrt(v / max) : Math.log1p(v) / Math.log1p(max);
  };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = matrix[r]![c]!;
      const t = depth(v);
      const x = left + c * cellSize;
      const y = top + r * cellSize;
      fillRect(img, x, y, cellSize, cellSize, Number.isNaN(v) ? [128, 128, 128] : sequential(t));
      if (showCounts) {
        const ink: Color = t > 0.55 ? WHITE : TEXT;
        drawTextAligned(img, x + cellSize / 2, y + Math.round((cellSize - CAP_HEIGHT) / 2), formatCell(v), ink, 1, "center");
      }
    }
  }
  strokeRect(img, left - 1, top - 1, gridW + 2, gridH + 2, AXIS);
  rowLabels.forEach((l, r) => drawTextAligned(img, left - 8, top + r * cellSize + Math.round((cellSize - CAP_HEIGHT) / 2), l, TEXT, 1, "right"));
  colLabels.forEach((l, c) => drawTextAligned(img, left + c * cellSize + cellSize / 2, top + gridH + 8, l, TEXT, 1, "center"));
  drawTextAligned(img, left + gridW / 2, top + gridH + 8 + textHeight() + 8, xLabel, TEXT, 1, "center");
  const strip = createImage(Math.max(1, textWidth(yLabel)), textHeight(), WHITE);
  drawText(strip, 0, 0, yLabel, TEXT);
  const turned = rotateLeft(strip);
  blit(img, turned, 6, Math.round(top + gridH / 2 - turned.height / 2));
  return img;
};

// ---- composing pictures ----------------------------------------------------------------------

/** The image with a title bar above it (text centred, scale 2 by default). */
export const addTitle = (img: Image, title: string, { scale = TITLE_SCALE, color = TEXT, background = WHITE }: { scale?: number; color?: Color; background?: Color } = {}): Image => {
  const bar = textHeight(scale) + 16;
  const out = createImage(Math.max(img.width, textWidth(title, scale) + 16), img.height + bar, background);
  drawTextAligned(out, out.width / 2, 8, title, color, scale, "center");
  blit(out, img, Math.floor((out.width - img.width) / 2), bar);
  return out;
};

/** Images side by side ("row") or one above another ("column"), `gap` pixels apart, aligned top / left. */
export const stackImages = (images: readonly Image[], { direction = "row", gap = 8, background = WHITE }: { direction?: "row" | "column"; gap?: number; background?: Color } = {}): Image => {
  if (images.length === 0) throw new RangeError("stackImages: no images to stack");
  const row = direction === "row";
  const along = images.reduce((s, im) => s + (row ? im.width : im.height), 0) + gap * (images.length - 1);
  const across = Math.max(...images.map((im) => (row ? im.height : im.width)));
  const out = row ? createImage(along, across, background) : createImage(across, along, background);
  let at = 0;
  for (const im of images) {
    if (row) blit(out, im, at, 0);
    else blit(out, im, 0, at);
    at += (row ? im.width : im.height) + gap;
  }
  return out;
};

// Drawing the page's pictures on canvases: the 28x28 digit, the first-layer weights grid and the
// training curves. Pure rendering: each function draws what it is given and keeps no state of its own
// (the weights grid caches its tiles per weight tensor, which never changes: tensors are immutable).

import type { Tensor } from "../../autograd/index.ts";

/**
 * f, run at the next animation frame however often this is called before it: many calls in one frame
 * (pointer moves, a burst of training steps) draw once.
 */
export const oncePerFrame = (f: () => void): (() => void) => {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      f();
    });
  };
};

/** Sizes a canvas's backing store for the screen's pixel density and returns a context in CSS pixels. */
export const fitCanvas = (canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D => {
  const dpr = Math.min(3, window.devicePixelRatio || 1);
  const w = Math.round(cssWidth * dpr);
  const h = Math.round(cssHeight * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
};

// ---- the 28x28 digit ----------------------------------------------------------------------------

/** The digit as the network reads it (white ink on black), one square per pixel, with a faint pixel grid. */
export const drawDigit = (canvas: HTMLCanvasElement, pixels: Float32Array | null, size: number): void => {
  const ctx = fitCanvas(canvas, size, size);
  const side = 28;
  const cell = size / side;
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, size, size);
  if (pixels !== null) {
    const image = new ImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const v = Math.round(255 * Math.max(0, Math.min(1, pixels[i]!)));
      image.data.set([v, v, v, 255], 4 * i);
    }
    const tile = new OffscreenCanvas(side, side);
    tile.getContext("2d")!.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tile, 0, 0, size, size);
  }
  ctx.strokeStyle = "rgba(255, 255, 255, 0.08)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 1; i < side; i++) {
    const p = Math.round(i * cell) + 0.5;
    ctx.moveTo(p, 0);
    ctx.lineTo(p, size);
    ctx.moveTo(0, p);
    ctx.lineTo(size, p);
  }
  ctx.stroke();
};

// ---- the weights grid ---------------------------------------------------------------------------

/**
 * A diverging colour for v in [-1, 1]: blue for negative, near-white at 0, red for positive
 * (ColorBrewer's RdBu, interpolated linearly between its stops).
 */
const RED = [[247, 247, 247], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]] as const;
const BLUE = [[247, 247, 247], [146, 197, 222], [67, 147, 195], [33, 102, 172], [5, 48, 97]] as const;
export const diverging = (v: number): [number, number, number] => {
  const stops = v < 0 ? BLUE : RED;
  const t = Math.min(1, Math.abs(v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t));
  const f = t - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
};

/** Columns of the grid for `units` tiles: a power of two near sqrt(units), at most 16 (128 units: 16 x 8). */
export const gridColumns = (units: number): number => Math.min(16, 2 ** Math.ceil(Math.log2(Math.max(1, Math.sqrt(units)))));

const tileCache = new WeakMap<Tensor, OffscreenCanvas>();

/**
 * All first-layer units as 28x28 tiles at one pixel per weight, tile j at (j % cols, j / cols) with
 * a one-pixel gap: weights are stored [784, hidden], so unit j's tile is column j. Each tile is
 * scaled symmetrically by its own largest |w|, so zero is always white and every unit shows its pattern.
 */
const weightTiles = (weight: Tensor): OffscreenCanvas => {
  const cached = tileCache.get(weight);
  if (cached) return cached;
  const [inputs, units] = weight.shape as [number, number];
  const side = Math.round(Math.sqrt(inputs));
  const cols = gridColumns(units);
  const rows = Math.ceil(units / cols);
  const pitch = side + 1;
  const image = new ImageData(cols * pitch - 1, rows * pitch - 1);
  const w = weight.data;
  for (let j = 0; j < units; j++) {
    let scale = 0;
    for (let i = 0; i < inputs; i++) scale = Math.max(scale, Math.abs(w[i * units + j]!));
    const x0 = (j % cols) * pitch;
    const y0 = Math.floor(j / cols) * pitch;
    for (let i = 0; i < inputs; i++) {
      const [r, g, b] = diverging(scale > 0 ? w[i * units + j]! / scale : 0);
      const at = 4 * ((y0 + Math.floor(i / side)) * image.width + x0 + (i % side));
      image.data[at] = r;
      image.data[at + 1] = g;
      image.data[at + 2] = b;
      image.data[at + 3] = 255;
    }
  }
  const canvas = new OffscreenCanvas(image.width, image.height);
  canvas.getContext("2d")!.putImageData(image, 0, 0);
  tileCache.set(weight, canvas);
  return canvas;
};

/**
 * The weights grid, `width` CSS pixels wide. With `hidden` (the first layer's outputs for the current
 * drawing), units the drawing lights up are ringed in amber, brighter for stronger activation, and
 * the others are faded.
 */
export const drawWeights = (canvas: HTMLCanvasElement, weight: Tensor | null, hidden: Float32Array | null, width: number): void => {
  if (weight === null) {
    const ctx = fitCanvas(canvas, width, width / 2);
    ctx.clearRect(0, 0, width, width / 2);
    return;
  }
  const units = weight.shape[1]!;
  const gap = units > 64 ? 4 : 6;
  // The layout's columns, doubled on a wide screen (tiles at most 72 pixels) and cut on a narrow one
  // (tiles at least 28 pixels: one per weight).
  const tileFor = (c: number) => (width - gap * (c - 1)) / c;
  let cols = gridColumns(units);
  while (tileFor(cols) > 72 && 2 * cols <= units) cols *= 2;
  cols = Math.max(1, Math.min(cols, Math.floor((width + gap) / (28 + gap))));
  const rows = Math.ceil(units / cols);
  const tile = Math.floor((width - gap * (cols - 1)) / cols);
  const height = rows * tile + (rows - 1) * gap;
  const ctx = fitCanvas(canvas, width, height);
  ctx.clearRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = false;
  const tiles = weightTiles(weight);
  const sourceCols = gridColumns(units);
  const side = Math.round(Math.sqrt(weight.shape[0]!));
  let peak = 0;
  if (hidden) for (let j = 0; j < hidden.length; j++) peak = Math.max(peak, hidden[j]!);
  for (let j = 0; j < units; j++) {
    const x = (j % cols) * (tile + gap);
    const y = Math.floor(j / cols) * (tile + gap);
    ctx.drawImage(tiles, (j % sourceCols) * (side + 1), Math.floor(j / sourceCols) * (side + 1), side, side, x, y, tile, tile);
    if (hidden === null) continue;
    const a = peak > 0 ? Math.max(0, hidden[j]!) / peak : 0;
    if (a <= 0) {
      ctx.fillStyle = "rgba(246, 247, 249, 0.78)";
      ctx.fillRect(x, y, tile, tile);
    } else {
      ctx.strokeStyle = `rgba(245, 158, 11, ${0.35 + 0.65 * a})`;
      ctx.lineWidth = 1.5 + 2.5 * a;
      ctx.strokeRect(x - 1, y - 1, tile + 2, tile + 2);
    }
  }
};

// ---- line charts --------------------------------------------------------------------------------

export interface Series {
  readonly label: string;
  /** [x, y] points with increasing x. */
  readonly points: readonly (readonly [number, number])[];
  readonly color: string;
  readonly width?: number;
  /** Draw a dot at each point (for sparse series such as the test accuracy). */
  readonly dots?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  readonly series: readonly Series[];
  readonly yMin: number;
  readonly yMax: number;
  readonly yTicks: readonly number[];
  readonly yFormat: (y: number) => string;
  readonly xLabel: string;
  /** At least this much of the x axis is shown (the axis grows with the data). */
  readonly xMin?: number;
}

/** A round number at or above x for the end of an axis cut in quarters: 1, 2, 4, 6 or 8 times a power of ten. */
export const niceCeil = (x: number): number => {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 4, 6, 8, 10].find((m) => m * p >= x * (1 - 1e-9)) ?? 10) * p;
};

/** At most `max` points: consecutive points averaged in buckets (a long run's 10,000 steps fit 400 pixels). */
export const thin = (points: readonly (readonly [number, number])[], max: number): (readonly [number, number])[] => {
  if (points.length <= max) return [...points];
  const per = points.length / max;
  const out: [number, number][] = [];
  for (let b = 0; b < max; b++) {
    const from = Math.floor(b * per);
    const to = Math.max(from + 1, Math.floor((b + 1) * per));
    let sx = 0;
    let sy = 0;
    for (let i = from; i < to; i++) {
      sx += points[i]![0];
      sy += points[i]![1];
    }
    out.push([sx / (to - from), sy / (to - from)]);
  }
  return out;
};

export const drawChart = (canvas: HTMLCanvasElement, spec: ChartSpec, width: number, height: number): void => {
  const ctx = fitCanvas(canvas, width, height);
  ctx.clearRect(0, 0, width, height);
  const pad = { left: 44, right: 12, top: 26, bottom: 26 };
  const plotW = width - pad.left - pad.right;
  const xEnd = Math.max(spec.xMin ?? 1, ...spec.series.map((s) => s.points.at(-1)?.[0] ?? 0));
  const xMax = niceCeil(xEnd);
  const px = (x: number) => pad.left + (x / xMax) * plotW;

  ctx.font = "600 12px system-ui, sans-serif";
  ctx.fillStyle = "#1f2937";
  ctx.textBaseline = "alphabetic";
  ctx.textAlign = "left";
  ctx.fillText(spec.title, pad.left, 15);
  const titleEnd = pad.left + ctx.measureText(spec.title).width + 16;

  // Legend: right-aligned on the title's line, or on a line of its own when they would overlap.
  ctx.font = "11px system-ui, sans-serif";
  const legendWidth = spec.series.reduce((w, s) => w + ctx.measureText(s.label).width + 28, 0);
  const ownLine = width - pad.right - legendWidth < titleEnd;
  const legendY = ownLine ? 31 : 15;
  if (ownLine) pad.top += 16;
  let lx = width - pad.right;
  for (const s of [...spec.series].reverse()) {
    const w = ctx.measureText(s.label).width;
    lx -= w;
    ctx.fillStyle = "#4b5563";
    ctx.fillText(s.label, lx, legendY);
    lx -= 16;
    ctx.fillStyle = s.color;
    ctx.fillRect(lx, legendY - 5, 11, 3);
    lx -= 12;
  }

  const plotH = height - pad.top - pad.bottom;
  const py = (y: number) => pad.top + (1 - (Math.min(spec.yMax, Math.max(spec.yMin, y)) - spec.yMin) / (spec.yMax - spec.yMin)) * plotH;

  // Grid and axes.
  ctx.strokeStyle = "#e5e7eb";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#6b7280";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of spec.yTicks) {
    const y = Math.round(py(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(width - pad.right, y);
    ctx.stroke();
    ctx.fillText(spec.yFormat(t), pad.left - 6, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let k = 0; k <= 4; k++) {
    const x = (k / 4) * xMax;
    ctx.textAlign = k === 4 ? "right" : "center"; // the last label ends at the axis's end, inside the canvas
    ctx.fillText(Number.isInteger(x) ? x.toLocaleString("en-US") : x.toFixed(1), px(x) + (k === 4 ? 4 : 0), height - pad.bottom + 6);
  }
  ctx.textAlign = "left";
  ctx.fillText(spec.xLabel, 4, height - pad.bottom + 6);
  ctx.strokeStyle = "#9ca3af";
  ctx.beginPath();
  ctx.moveTo(pad.left + 0.5, pad.top);
  ctx.lineTo(pad.left + 0.5, height - pad.bottom + 0.5);
  ctx.lineTo(width - pad.right, height - pad.bottom + 0.5);
  ctx.stroke();

  // The series, clipped to the plot.
  ctx.save();
  ctx.beginPath();
  ctx.rect(pad.left, pad.top - 2, plotW + 2, plotH + 4);
  ctx.clip();
  for (const s of spec.series) {
    const pts = thin(s.points, Math.max(2, Math.floor(plotW)));
    if (pts.length === 0) continue;
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.width ?? 1.5;
    ctx.lineJoin = "round";
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(px(x), py(y)) : ctx.lineTo(px(x), py(y))));
    ctx.stroke();
    if (s.dots) {
      for (const [x, y] of pts) {
        ctx.beginPath();
        ctx.arc(px(x), py(y), 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
  ctx.restore();
};

// Drawing the page's pictures on canvases: the 28x28 digit and the first-layer weights grid (the
// training curves are src/viz's SVG charts). Pure rendering: each function draws what it is given and
// keeps no state of its own (the weights grid caches its tiles per weight tensor, which never
// changes: tensors are immutable).

import type { Tensor } from "../../autograd/index.ts";
import { diverging } from "../../viz/colors.ts";

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

interface GridLayout {
  readonly cols: number;
  readonly rows: number;
  readonly tile: number;
  readonly gap: number;
}

/**
 * Where the tiles go in a grid `width` CSS pixels wide: the layout's columns, doubled on a wide screen
 * (tiles at most 72 pixels) and cut on a narrow one (tiles at least 28 pixels: one per weight).
 */
const gridLayout = (units: number, width: number): GridLayout => {
  const gap = units > 64 ? 4 : 6;
  const tileFor = (c: number) => (width - gap * (c - 1)) / c;
  let cols = gridColumns(units);
  while (tileFor(cols) > 72 && 2 * cols <= units) cols *= 2;
  cols = Math.max(1, Math.min(cols, Math.floor((width + gap) / (28 + gap))));
  return { cols, rows: Math.ceil(units / cols), tile: Math.floor((width - gap * (cols - 1)) / cols), gap };
};

/** The unit whose tile is at (x, y) CSS pixels in a grid `width` wide, or null between tiles and outside. */
export const unitAt = (units: number, width: number, x: number, y: number): number | null => {
  if (units === 0) return null;
  const { cols, tile, gap } = gridLayout(units, width);
  const [col, row] = [Math.floor(x / (tile + gap)), Math.floor(y / (tile + gap))];
  const inside = x - col * (tile + gap) < tile && y - row * (tile + gap) < tile;
  const j = row * cols + col;
  return inside && x >= 0 && y >= 0 && col < cols && j < units ? j : null;
};

/**
 * The weights grid, `width` CSS pixels wide, each tile numbered in its corner when the tiles are large
 * enough to hold it, and always the `named` units (those the caption names) and the `hover` unit,
 * which is outlined. With `hidden` (the first layer's outputs for the current drawing), units the
 * drawing lights up are ringed in amber, brighter for stronger activation, and the others are faded.
 */
export const drawWeights = (
  canvas: HTMLCanvasElement,
  weight: Tensor | null,
  hidden: Float32Array | null,
  width: number,
  { named = [], hover = null }: { named?: readonly number[]; hover?: number | null } = {},
): void => {
  if (weight === null) {
    const ctx = fitCanvas(canvas, width, width / 2);
    ctx.clearRect(0, 0, width, width / 2);
    return;
  }
  const units = weight.shape[1]!;
  const { cols, rows, tile, gap } = gridLayout(units, width);
  const height = rows * tile + (rows - 1) * gap;
  const ctx = fitCanvas(canvas, width, height);
  ctx.clearRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = false;
  const tiles = weightTiles(weight);
  const sourceCols = gridColumns(units);
  const side = Math.round(Math.sqrt(weight.shape[0]!));
  let peak = 0;
  if (hidden) for (let j = 0; j < hidden.length; j++) peak = Math.max(peak, hidden[j]!);
  const label = Math.max(8, Math.min(11, Math.round(tile / 4)));
  ctx.font = `600 ${label}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  for (let j = 0; j < units; j++) {
    const x = (j % cols) * (tile + gap);
    const y = Math.floor(j / cols) * (tile + gap);
    ctx.drawImage(tiles, (j % sourceCols) * (side + 1), Math.floor(j / sourceCols) * (side + 1), side, side, x, y, tile, tile);
    const a = hidden === null || peak <= 0 ? 0 : Math.max(0, hidden[j]!) / peak;
    if (hidden !== null && a <= 0) {
      ctx.fillStyle = "rgba(246, 247, 249, 0.78)";
      ctx.fillRect(x, y, tile, tile);
    } else if (hidden !== null) {
      ctx.strokeStyle = `rgba(245, 158, 11, ${0.35 + 0.65 * a})`;
      ctx.lineWidth = 1.5 + 2.5 * a;
      ctx.strokeRect(x - 1, y - 1, tile + 2, tile + 2);
    }
    if (tile >= 30 || j === hover || named.includes(j)) {
      const text = String(j);
      const w = ctx.measureText(text).width + 4;
      ctx.fillStyle = "rgba(255, 255, 255, 0.8)";
      ctx.fillRect(x, y, w, label + 2);
      ctx.fillStyle = "#111827";
      ctx.fillText(text, x + 2, y + 1);
    }
    if (j === hover) {
      ctx.strokeStyle = "#111827";
      ctx.lineWidth = 2;
      ctx.strokeRect(x - 2, y - 2, tile + 4, tile + 4);
    }
  }
};

/**
 * A CNN's feature maps of the drawing, layer by layer: each layer's channels as grey tiles (white its
 * largest value), in rows `width` CSS pixels wide (at most 16 tiles a row, none under 32 pixels), under
 * the layer's name.
 */
export const drawFeatureMaps = (canvas: HTMLCanvasElement, maps: readonly { title: string; channels: number; rows: number; cols: number; values: Float32Array }[], width: number): void => {
  const gap = 3;
  const headline = 16;
  const layout = maps.map((m) => {
    // As many tiles to a row as fit at 32 pixels or more, halving from 16: a phone gets two rows of 8.
    let perRow = Math.min(m.channels, 16);
    while (perRow > 1 && (width - (perRow - 1) * gap) / perRow < 32) perRow = Math.ceil(perRow / 2);
    const tile = Math.max(8, Math.floor((width - (perRow - 1) * gap) / perRow));
    return { perRow, tile, height: headline + Math.ceil(m.channels / perRow) * (tile + gap) + 8 };
  });
  const height = Math.max(60, layout.reduce((s, l) => s + l.height, 0));
  const ctx = fitCanvas(canvas, width, height);
  ctx.clearRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = false;
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.textBaseline = "top";
  let y = 0;
  maps.forEach((m, i) => {
    const { perRow, tile } = layout[i]!;
    ctx.fillStyle = "#111827";
    ctx.fillText(m.title, 0, y);
    const peak = Math.max(1e-12, ...m.values);
    const image = ctx.createImageData(m.cols, m.rows);
    const scratch = document.createElement("canvas");
    scratch.width = m.cols;
    scratch.height = m.rows;
    const sctx = scratch.getContext("2d")!;
    for (let c = 0; c < m.channels; c++) {
      for (let p = 0; p < m.rows * m.cols; p++) {
        const v = Math.round(255 * Math.max(0, m.values[c * m.rows * m.cols + p]!) / peak);
        image.data.set([v, v, v, 255], 4 * p);
      }
      sctx.putImageData(image, 0, 0);
      ctx.drawImage(scratch, (c % perRow) * (tile + gap), y + headline + Math.floor(c / perRow) * (tile + gap), tile, Math.round((tile * m.rows) / m.cols));
    }
    y += layout[i]!.height;
  });
};

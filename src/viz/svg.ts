// SVG as strings: a chart is markup in its own coordinates plus its size, so charts can be placed
// side by side, stacked under a title, inlined into the HTML report, or rendered to PNG (render.ts).
// No node: imports here, so the browser playground can draw the same charts.

/** The shipped font (src/viz/fonts), then what a browser has when the report is opened elsewhere. */
export const FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif";
export const INK = "#222222";
export const MUTED = "#555555";
export const GRID = "#e3e3e3";
export const FRAME = "#9a9a9a";

/** Markup and the size it occupies: x in [0, width], y in [0, height]. */
export interface Chart {
  readonly width: number;
  readonly height: number;
  readonly body: string;
}

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
export const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ENTITIES[c]!);

/** A coordinate with at most two decimals (what a screen or a PNG can show). */
export const num = (v: number): string => String(Math.round(v * 100) / 100);

// Advance widths of DejaVu Sans (regular, bold) for U+0020..U+007E, in thousandths of the font size:
// text is measured, not guessed, so titles and legends are laid out to fit.
const REGULAR = [318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838];
const BOLD = [348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838];

/** The width of one line of text in the shipped font (other characters counted as 0.84 em: arrows, ×, ≤). */
export const textWidth = (s: string, size: number, bold = false): number => {
  const table = bold ? BOLD : REGULAR;
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    w += c >= 32 && c <= 126 ? table[c - 32]! : 838;
  }
  return (w * size) / 1000;
};

export interface TextOptions {
  readonly size?: number;
  readonly anchor?: "start" | "middle" | "end";
  readonly bold?: boolean;
  readonly fill?: string;
  /** Turned a quarter turn to read bottom to top (a y-axis label). */
  readonly vertical?: boolean;
}

/** A line of text whose baseline starts (or is centred, or ends) at (x, y). */
export const text = (x: number, y: number, s: string, { size = 12, anchor = "start", bold = false, fill = INK, vertical = false }: TextOptions = {}): string => {
  const at = vertical ? `transform="translate(${num(x)} ${num(y)}) rotate(-90)"` : `x="${num(x)}" y="${num(y)}"`;
  return `<text ${at} font-size="${size}"${anchor === "start" ? "" : ` text-anchor="${anchor}"`}${bold ? ' font-weight="bold"' : ""}${fill === INK ? "" : ` fill="${fill}"`}>${esc(s)}</text>`;
};

export const rect = (x: number, y: number, w: number, h: number, attrs: string): string =>
  `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" ${attrs}/>`;

export const line = (x1: number, y1: number, x2: number, y2: number, attrs: string): string =>
  `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" ${attrs}/>`;

/** The chart's markup moved to (x, y). */
export const place = (chart: Chart, x: number, y: number): string =>
  x === 0 && y === 0 ? chart.body : `<g transform="translate(${num(x)} ${num(y)})">${chart.body}</g>`;

/** A standalone SVG document (the file visualize --format svg writes, and what render.ts rasterizes). */
export const toSvg = (chart: Chart, { background = "#ffffff" }: { background?: string } = {}): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${num(chart.width)}" height="${num(chart.height)}" viewBox="0 0 ${num(chart.width)} ${num(chart.height)}" font-family="${FONT_FAMILY}" font-size="12">` +
  `<rect width="100%" height="100%" fill="${background}"/>${chart.body}</svg>`;

/** The same, to inline in HTML: it scales down to the page's width (a phone) and keeps its proportions. */
export const toInlineSvg = (chart: Chart, label: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${num(chart.width)} ${num(chart.height)}" width="${num(chart.width)}" style="max-width:100%;height:auto" role="img" aria-label="${esc(label)}" font-family="${FONT_FAMILY}" font-size="12">${chart.body}</svg>`;

/** Charts one after another, in a row or a column, `gap` apart, each centred across the stack. */
export const stack = (charts: readonly Chart[], { direction = "column", gap = 16 }: { direction?: "row" | "column"; gap?: number } = {}): Chart => {
  if (charts.length === 0) throw new RangeError("stack: no charts to stack");
  const row = direction === "row";
  const across = Math.max(...charts.map((c) => (row ? c.height : c.width)));
  let at = 0;
  const parts = charts.map((c) => {
    const offset = (across - (row ? c.height : c.width)) / 2;
    const placed = row ? place(c, at, offset) : place(c, offset, at);
    at += (row ? c.width : c.height) + gap;
    return placed;
  });
  const along = at - gap;
  return { width: row ? along : across, height: row ? across : along, body: parts.join("") };
};

/** A chart with a bold title centred above it, and `pad` of white around both. */
export const titled = (chart: Chart, title: string, { size = 16, pad = 12 }: { size?: number; pad?: number } = {}): Chart => {
  const width = Math.max(chart.width, textWidth(title, size, true)) + 2 * pad;
  const bar = size + 2 * pad;
  return {
    width,
    height: chart.height + bar + pad,
    body: text(width / 2, pad + size * 0.8, title, { size, anchor: "middle", bold: true }) + place(chart, (width - chart.width) / 2, bar),
  };
};

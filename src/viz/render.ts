// SVG to PNG, in Node: resvg (a Rust SVG renderer) compiled to WebAssembly, with the DejaVu Sans
// files shipped in src/viz/fonts, so every machine draws the same anti-aliased pixels with no
// system fonts, no native addon and nothing downloaded. The module is compiled once per process.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import { writeFileAtomic } from "../data/files.ts";
import { type Chart, toSvg } from "./svg.ts";

const FONTS = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((name) => readFileSync(new URL(`./fonts/${name}`, import.meta.url)));

let ready: Promise<void> | null = null;
/** Compiles resvg's WebAssembly module (about 60 ms) the first time it is needed. */
const init = (): Promise<void> =>
  (ready ??= initWasm(readFileSync(createRequire(import.meta.url).resolve("@resvg/resvg-wasm/index_bg.wasm"))));

/** The PNG bytes of an SVG document, at `scale` pixels per SVG unit (2 for a sharp picture on a high-density screen). */
export const svgToPng = async (svg: string, { scale = 1 }: { scale?: number } = {}): Promise<Uint8Array> => {
  await init();
  const resvg = new Resvg(svg, {
    font: { fontBuffers: FONTS, loadSystemFonts: false, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
    fitTo: { mode: "zoom", value: scale },
    shapeRendering: 2, // geometricPrecision: anti-aliased edges
    textRendering: 1, // optimizeLegibility
    imageRendering: 1, // optimizeSpeed: an embedded raster (weights, digits) is scaled up as crisp squares
  });
  try {
    const rendered = resvg.render();
    const png = rendered.asPng();
    rendered.free();
    return png;
  } finally {
    resvg.free();
  }
};

/** Writes a chart as `path` (.png rendered, .svg as it is), atomically. */
export const writeChart = async (path: string, chart: Chart, { scale = 1 }: { scale?: number } = {}): Promise<void> => {
  const svg = toSvg(chart);
  writeFileAtomic(path, path.endsWith(".svg") ? svg : await svgToPng(svg, { scale }));
};

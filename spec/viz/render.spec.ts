import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { heatmap, lineChart } from "../../src/viz/charts.ts";
import { svgToPng, writeChart } from "../../src/viz/render.ts";
import { titled, toSvg } from "../../src/viz/svg.ts";

const dir = mkdtempSync(join(tmpdir(), "viz-render-"));
const decode = (bytes: Uint8Array) => PNG.sync.read(Buffer.from(bytes));
const darkPixels = (png: PNG, [x0, y0, x1, y1]: [number, number, number, number]): number => {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (png.data[4 * (y * png.width + x)]! < 100) n++;
  return n;
};

describe("svgToPng (resvg in WebAssembly, with the shipped DejaVu Sans)", () => {
  it("renders an SVG at its size, times the scale", async () => {
    const svg = toSvg({ width: 120, height: 50, body: '<rect x="10" y="10" width="20" height="20" fill="#ff0000"/>' });
    const one = decode(await svgToPng(svg));
    expect([one.width, one.height]).toEqual([120, 50]);
    expect(Array.from(one.data.subarray(4 * (20 * 120 + 20), 4 * (20 * 120 + 20) + 4))).toEqual([255, 0, 0, 255]);
    expect(Array.from(one.data.subarray(0, 4))).toEqual([255, 255, 255, 255]);
    const two = decode(await svgToPng(svg, { scale: 2 }));
    expect([two.width, two.height]).toEqual([240, 100]);
  });

  it("draws text with the shipped font, with no system fonts (ink where the text is, none elsewhere)", async () => {
    const svg = toSvg({ width: 200, height: 40, body: '<text x="10" y="28" font-size="20">Loss 0.25</text>' });
    const png = decode(await svgToPng(svg));
    expect(darkPixels(png, [10, 8, 110, 32])).toBeGreaterThan(100);
    expect(darkPixels(png, [130, 0, 200, 40])).toBe(0);
  });

  it("refuses markup that is not SVG, with the parser's reason", async () => {
    await expect(svgToPng("<svg><rect></svg>")).rejects.toThrow();
  });
});

describe("writeChart", () => {
  const chart = titled(lineChart([{ name: "loss", color: "#d62728", values: [0.5, 0.3, 0.2] }], { xLabel: "epoch" }), "A chart");

  it("writes a PNG by its extension: decodable, the chart's size, and not blank", async () => {
    const path = join(dir, "chart.png");
    await writeChart(path, chart);
    const png = decode(readFileSync(path));
    expect([png.width, png.height]).toEqual([Math.ceil(chart.width), Math.ceil(chart.height)]);
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) colours.add(png.data.readUInt32BE(i));
    expect(colours.size).toBeGreaterThan(20); // anti-aliased text and lines, the red curve
  });

  it("writes the SVG itself for .svg, and leaves no temporary file behind", async () => {
    const path = join(dir, "matrix.svg");
    const matrix = heatmap([[5, 1], [0, 7]]);
    await writeChart(path, matrix);
    const svg = readFileSync(path, "utf8");
    expect(svg).toBe(toSvg(matrix));
    await expect(svgToPng(svg)).resolves.toBeInstanceOf(Uint8Array); // it parses
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(existsSync(join(dir, "chart.png"))).toBe(true);
  });
});

import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { binCounts, colorBar, heatmap, histogram, lineChart, thin, tileGrid } from "../../src/viz/charts.ts";
import { diverging, greys, hex, sequential } from "../../src/viz/colors.ts";
import { stack, textWidth, titled, toSvg } from "../../src/viz/svg.ts";

/** The text of every <text> element, in order. */
const texts = (body: string): string[] => [...body.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
const polylines = (body: string): [number, number][][] =>
  [...body.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((m) => m[1]!.split(" ").map((p) => p.split(",").map(Number) as [number, number]));
/** The decoded pixels of every embedded raster. */
const rasters = (body: string): PNG[] => [...body.matchAll(/base64,([A-Za-z0-9+/=]+)"/g)].map((m) => PNG.sync.read(Buffer.from(m[1]!, "base64")));

describe("lineChart", () => {
  const losses = [0.9, 0.41, 0.3, 0.252, 0.23];

  it("labels the y axis with round ticks (0.2, 0.4, ...), not the data range cut in equal parts", () => {
    const chart = lineChart([{ name: "training", color: "#d62728", values: losses }], { yLabel: "loss", xLabel: "epoch" });
    const labels = texts(chart.body);
    expect(labels).toEqual(expect.arrayContaining(["0.2", "0.4", "0.6", "0.8", "1"]));
    expect(labels).toEqual(expect.arrayContaining(["1", "2", "3", "4", "5", "epoch", "loss", "training"]));
    expect(labels.some((l) => /\d\.\d{3}/.test(l))).toBe(false);
  });

  it("draws each series as a polyline, higher values higher up, x in order", () => {
    const chart = lineChart([{ name: "a", color: "#000", values: losses }]);
    const [points] = polylines(chart.body);
    expect(points).toHaveLength(5);
    for (let i = 1; i < 5; i++) {
      expect(points![i]![0]).toBeGreaterThan(points![i - 1]![0]);
      expect(points![i]![1]).toBeGreaterThan(points![i - 1]![1]); // the loss falls: y (downwards) grows
    }
    for (const [x, y] of points!) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(chart.width);
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(chart.height);
    }
  });

  it("leaves a gap at a missing or non-finite value, and says 'no data' when there is none", () => {
    const chart = lineChart([{ name: "validation", color: "#000", values: [0.5, null, 0.3, Number.NaN, 0.2, 0.1] }]);
    expect(polylines(chart.body).map((p) => p.length)).toEqual([1, 1, 2]);
    expect(texts(lineChart([{ name: "empty", color: "#000", values: [] }]).body)).toContain("no data");
  });

  it("keeps a fixed y range and formats its ticks as asked (accuracy in percent)", () => {
    const chart = lineChart([{ name: "acc", color: "#000", values: [0.91, 0.95, 0.97] }], { yMax: 1, yFormat: (v) => `${Math.round(100 * v)}%` });
    const labels = texts(chart.body);
    expect(labels).toContain("100%");
    expect(labels).toContain("90%");
  });
});

describe("thin", () => {
  it("averages consecutive points into at most `max` buckets, and keeps short series as they are", () => {
    expect(thin([[1, 2], [3, 4]], 5)).toEqual([[1, 2], [3, 4]]);
    expect(thin([[0, 0], [1, 2], [2, 4], [3, 6]], 2)).toEqual([[0.5, 1], [2.5, 5]]);
  });
});

describe("histogram and binCounts", () => {
  it("counts finite values into equal-width bins, the last bin including the maximum", () => {
    expect(binCounts([0, 0.1, 0.5, 0.99, 1, Number.NaN, 2], 2, 0, 1)).toEqual([2, 3]);
  });

  it("draws one bar per non-empty bin, the tallest for the largest count", () => {
    const chart = histogram([1, 2, 2, 3, 3, 3], { bins: 3 });
    const heights = [...chart.body.matchAll(/<rect x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)" fill="#4a7fb5"/g)].map((m) => Number(m[1]));
    expect(heights).toHaveLength(3);
    expect(heights[1]! / heights[0]!).toBeCloseTo(2, 1);
    expect(heights[2]! / heights[0]!).toBeCloseTo(3, 1);
  });
});

describe("heatmap", () => {
  const matrix = [[980, 0, 3], [2, 1130, 12], [9, 1, 1010]];

  it("writes every value in its cell and colours larger counts darker (log scale)", () => {
    const chart = heatmap(matrix, { xLabel: "predicted digit", yLabel: "true digit" });
    const labels = texts(chart.body);
    for (const v of matrix.flat()) expect(labels).toContain(String(v));
    expect(labels).toEqual(expect.arrayContaining(["predicted digit", "true digit"]));
    const fill = (v: number) => new RegExp(`fill="${hex(sequential(Math.log1p(v) / Math.log1p(1130)))}"`);
    expect(chart.body).toMatch(fill(1130));
    expect(chart.body).toMatch(fill(12));
    expect(chart.body).toMatch(fill(0));
  });

  it("has a colour bar with the counts 0, 1, 10, 100, 1000 on its log scale", () => {
    expect(texts(heatmap(matrix).body)).toEqual(expect.arrayContaining(["0", "1", "10", "100", "1000"]));
  });

  it("refuses a ragged or empty matrix, naming the row", () => {
    expect(() => heatmap([[1, 2], [3]])).toThrow(/row 1 has 1 values, expected 2/);
    expect(() => heatmap([])).toThrow(/empty/);
  });
});

describe("tileGrid", () => {
  const tile = (f: (i: number) => number) => Float64Array.from({ length: 4 }, (_, i) => f(i));

  it("lays tiles `cols` to a row, `scale` pixels per value, with a caption under each", () => {
    const chart = tileGrid([tile(() => 0), tile(() => 1), tile(() => 0.5)], { cols: 2, tileW: 2, tileH: 2, scale: 10, gap: 4, colors: { kind: "greys" }, labels: ["a", "b", "c"] });
    expect(chart.width).toBe(2 * 20 + 4);
    expect(chart.body.match(/<image /g)).toHaveLength(3);
    expect(texts(chart.body)).toEqual(["a", "b", "c"]);
    expect(chart.height).toBe(2 * (20 + 13 + 4) + 4); // two rows of tile + caption, one gap
  });

  it("colours weights on a diverging scale clipped at ±limit, and pixels as grey levels", () => {
    const chart = tileGrid([tile((i) => [-2, -0.5, 0, 1][i]!)], { cols: 1, tileW: 4, tileH: 1, colors: { kind: "diverging", limit: 1 } });
    const [png] = rasters(chart.body);
    const pixel = (i: number) => Array.from(png!.data.subarray(4 * i, 4 * i + 3));
    expect(pixel(0)).toEqual([...diverging(-1)]); // -2 clipped to -limit: the darkest blue
    expect(pixel(3)).toEqual([...diverging(1)]);
    expect(pixel(2)).toEqual([...diverging(0.0039)].map(Math.round)); // index 128 of 256: just right of white
    const grey = rasters(tileGrid([tile((i) => i / 3)], { cols: 1, tileW: 4, tileH: 1, colors: { kind: "greys" } }).body)[0]!;
    expect(grey.data[0]).toBe(0);
    expect(grey.data[12]).toBe(255);
    expect([...greys(1)]).toEqual([255, 255, 255]);
  });

  it("adds a colour bar with its label when asked", () => {
    const chart = tileGrid([tile(() => 0.1)], { cols: 1, tileW: 2, tileH: 2, scale: 30, colors: { kind: "diverging", limit: 0.2 }, barLabel: "weight" });
    expect(texts(chart.body)).toEqual(expect.arrayContaining(["weight", "0", "0.2", "\u22120.2"]));
    expect(chart.width).toBeGreaterThan(60 + 16);
  });

  it("refuses tiles of the wrong size and a label count that does not match", () => {
    expect(() => tileGrid([new Float64Array(3)], { cols: 1, tileW: 2, tileH: 2, colors: { kind: "greys" } })).toThrow(/tile 0 has 3 values, expected tileW \* tileH = 2x2 = 4/);
    expect(() => tileGrid([new Float64Array(4)], { cols: 1, tileW: 2, tileH: 2, colors: { kind: "greys" }, labels: [] })).toThrow(/0 labels for 1 tiles/);
  });
});

describe("colorBar", () => {
  it("runs from the low colour at the bottom to the high colour at the top", () => {
    const bar = colorBar({ lo: 0, hi: 1, map: sequential }, 100);
    const fills = [...bar.body.matchAll(/y="([^"]*)" width="14" height="[^"]*" fill="(#[0-9a-f]{6})"/g)].map((m) => [Number(m[1]), m[2]] as const);
    const bottom = fills.reduce((a, b) => (b[0] > a[0] ? b : a));
    const top = fills.reduce((a, b) => (b[0] < a[0] ? b : a));
    expect(bottom[1]).toBe(hex(sequential(0.5 / 64)));
    expect(top[1]).toBe(hex(sequential(63.5 / 64)));
  });
});

describe("stack, titled and toSvg", () => {
  const box = (w: number, h: number) => ({ width: w, height: h, body: `<rect width="${w}" height="${h}"/>` });

  it("stack adds the sizes along the direction and gaps between, and takes the largest across", () => {
    expect(stack([box(100, 20), box(60, 30)], { gap: 10 })).toMatchObject({ width: 100, height: 60 });
    expect(stack([box(100, 20), box(60, 30)], { direction: "row", gap: 10 })).toMatchObject({ width: 170, height: 30 });
  });

  it("titled makes room for a bold title as wide as the text", () => {
    const t = titled(box(10, 10), "A long title for a small chart", { size: 16, pad: 12 });
    expect(t.width).toBeCloseTo(textWidth("A long title for a small chart", 16, true) + 24, 6);
    expect(t.height).toBe(10 + 16 + 24 + 12);
  });

  it("toSvg makes a standalone document with the size and a white background", () => {
    const svg = toSvg(box(30, 40));
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="30" height="40" viewBox="0 0 30 40"/);
    expect(svg).toContain('fill="#ffffff"');
    expect(svg.endsWith("</svg>")).toBe(true);
  });

  it("escapes text so a label cannot break the markup", () => {
    const chart = lineChart([{ name: 'a < b & "c"', color: "#000", values: [1, 2] }]);
    expect(chart.body).toContain("a &lt; b &amp; &quot;c&quot;");
  });
});

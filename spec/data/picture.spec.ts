import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeImage, encodePng } from "../../src/data/image-io.ts";
import {
  addTitle,
  binCounts,
  blit,
  type Color,
  countColors,
  createImage,
  diverging,
  DIVERGING_NEGATIVE,
  DIVERGING_POSITIVE,
  drawLine,
  drawText,
  drawTextAligned,
  fillRect,
  FONT_CHARACTERS,
  formatTick,
  getPixel,
  glyph,
  grayscale,
  heatmap,
  histogram,
  type Image,
  lineChart,
  NAN_COLOR,
  niceTicks,
  plotArea,
  rotateLeft,
  scaleNearest,
  sequential,
  setPixel,
  stackImages,
  textHeight,
  textWidth,
  tileGrid,
  tileOrigin,
} from "../../src/data/picture.ts";

/** The image after a trip through PNG bytes, as the apps will write it. */
const throughPng = (img: Image): Image => decodeImage(encodePng(img.width, img.height, img.rgba), "chart.png");

/** Positions (x, y) of the pixels of exactly this colour. */
const pixelsOf = (img: Image, [r, g, b]: Color): [number, number][] => {
  const out: [number, number][] = [];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      if (img.rgba[i] === r && img.rgba[i + 1] === g && img.rgba[i + 2] === b) out.push([x, y]);
    }
  }
  return out;
};

const luma = ([r, g, b]: Color): number => 0.299 * r + 0.587 * g + 0.114 * b;

/** A deterministic spread of values (no Math.random in specs). */
const wave = (n: number, f = 1): number[] => Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 * f) + 0.5 * Math.cos(i * 1.3));

describe("createImage, setPixel and fillRect", () => {
  it("fill a new image with the background", () => {
    const img = createImage(3, 2, [1, 2, 3]);
    expect([img.width, img.height, img.rgba.length]).toEqual([3, 2, 24]);
    expect(getPixel(img, 2, 1)).toEqual([1, 2, 3, 255]);
    expect(() => createImage(0, 5)).toThrow("createImage: the size must be positive integers, got 0x5");
  });

  it("clip rectangles to the image instead of failing", () => {
    const img = createImage(10, 10, [0, 0, 0]);
    fillRect(img, -5, 7, 8, 100, [255, 0, 0]);
    expect(pixelsOf(img, [255, 0, 0])).toHaveLength(3 * 3);
    setPixel(img, -1, 3, [9, 9, 9]);
    setPixel(img, 10, 3, [9, 9, 9]);
    expect(pixelsOf(img, [9, 9, 9])).toHaveLength(0);
  });

  it("blend a half-transparent colour half way (source over)", () => {
    const img = createImage(1, 1, [0, 0, 200]);
    setPixel(img, 0, 0, [200, 100, 0, 128]);
    const [r, g, b, a] = getPixel(img, 0, 0);
    expect([r, g, b, a]).toEqual([100, 50, 100, 255]);
  });
});

describe("drawLine", () => {
  it("includes both end points and lights one pixel per step along the longer axis", () => {
    fc.assert(
      fc.property(fc.nat(19), fc.nat(19), fc.nat(19), fc.nat(19), (x0, y0, x1, y1) => {
        const img = createImage(20, 20, [0, 0, 0]);
        drawLine(img, x0, y0, x1, y1, [255, 255, 255]);
        expect(getPixel(img, x0, y0)[0]).toBe(255);
        expect(getPixel(img, x1, y1)[0]).toBe(255);
        expect(pixelsOf(img, [255, 255, 255])).toHaveLength(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0)) + 1);
      }),
    );
  });

  it("clips a line running far outside the image and skips a NaN one", () => {
    const img = createImage(10, 10, [0, 0, 0]);
    drawLine(img, -1e6, 5, 1e6, 5, [255, 0, 0], 3);
    expect(pixelsOf(img, [255, 0, 0])).toHaveLength(30);
    drawLine(img, 0, 0, Number.NaN, 3, [0, 255, 0]);
    expect(pixelsOf(img, [0, 255, 0])).toHaveLength(0);
  });
});

describe("blit, scaleNearest and rotateLeft", () => {
  it("blit copies a clipped image with its top-left corner at (x, y)", () => {
    const dst = createImage(4, 4, [0, 0, 0]);
    blit(dst, createImage(3, 3, [7, 7, 7]), 2, -1);
    expect(pixelsOf(dst, [7, 7, 7])).toEqual([[2, 0], [3, 0], [2, 1], [3, 1]]);
  });

  it("scaleNearest turns each pixel into a block; rotateLeft turns a quarter turn anticlockwise", () => {
    const img = createImage(2, 1, [0, 0, 0]);
    setPixel(img, 1, 0, [255, 0, 0]);
    const big = scaleNearest(img, 3);
    expect([big.width, big.height]).toEqual([6, 3]);
    expect(pixelsOf(big, [255, 0, 0])).toHaveLength(9);
    const turned = rotateLeft(img);
    expect([turned.width, turned.height]).toEqual([1, 2]);
    expect(getPixel(turned, 0, 0)).toEqual([255, 0, 0, 255]); // the right end is now on top
  });
});

describe("colour maps", () => {
  it("diverging is blue at -1, white at 0 and red at +1, and clamps beyond", () => {
    expect(diverging(-1)).toEqual(DIVERGING_NEGATIVE);
    expect(diverging(0)).toEqual([255, 255, 255]);
    expect(diverging(1)).toEqual(DIVERGING_POSITIVE);
    expect(diverging(-7)).toEqual(diverging(-1));
    expect(diverging(3)).toEqual(diverging(1));
    expect(diverging(Number.NaN)).toEqual(NAN_COLOR);
    const [r, , b] = diverging(-1);
    expect(b).toBeGreaterThan(r);
    const [r2, , b2] = diverging(1);
    expect(r2).toBeGreaterThan(b2);
  });

  it("diverging darkens with |v| on either side", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(luma(diverging(hi))).toBeLessThanOrEqual(luma(diverging(lo)) + 1);
        expect(luma(diverging(-hi))).toBeLessThanOrEqual(luma(diverging(-lo)) + 1);
      }),
    );
  });

  it("sequential goes from white at 0 to dark blue at 1, darkening all the way", () => {
    expect(sequential(0)).toEqual([255, 255, 255]);
    expect(sequential(1)).toEqual([8, 48, 107]);
    expect(sequential(2)).toEqual(sequential(1));
    const ramp = Array.from({ length: 21 }, (_, i) => luma(sequential(i / 20)));
    for (let i = 1; i < ramp.length; i++) expect(ramp[i]!).toBeLessThan(ramp[i - 1]!);
  });

  it("grayscale is black at 0 and white at 1", () => {
    expect(grayscale(0)).toEqual([0, 0, 0]);
    expect(grayscale(1)).toEqual([255, 255, 255]);
    expect(grayscale(0.5)).toEqual([128, 128, 128]);
  });
});

describe("the bitmap font", () => {
  it("covers digits, both alphabets and the punctuation the charts need", () => {
    const needed = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.,:%()-/ ";
    for (const ch of needed) expect(FONT_CHARACTERS).toContain(ch);
  });

  it("gives every character its own glyph", () => {
    const shapes = new Map<string, string>();
    for (const ch of FONT_CHARACTERS) {
      const key = Array.from(glyph(ch)).join(",");
      expect(shapes.get(key), `"${ch}" looks like "${shapes.get(key)}"`).toBeUndefined();
      shapes.set(key, ch);
    }
  });

  it("draws a hollow box for a character it lacks", () => {
    expect(Array.from(glyph("€"))).toEqual([0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f, 0, 0]);
  });

  it("renders the ten digits as ten different pictures", () => {
    const pictures = new Set<string>();
    for (const d of "0123456789") {
      const img = drawText(createImage(5, 9, [255, 255, 255]), 0, 0, d, [0, 0, 0]);
      const dark = pixelsOf(img, [0, 0, 0]).length;
      expect(dark).toBeGreaterThanOrEqual(7);
      pictures.add(Buffer.from(img.rgba).toString("base64"));
    }
    expect(pictures.size).toBe(10);
  });

  it("measures text: 6 pixels a character less the last gap, 9 rows a line, times the scale", () => {
    expect(textWidth("pred 9")).toBe(35);
    expect(textWidth("pred 9", 2)).toBe(70);
    expect(textWidth("")).toBe(0);
    expect(textWidth("true 4\npred 9!")).toBe(textWidth("pred 9!"));
    expect(textHeight()).toBe(9);
    expect(textHeight(2, 2)).toBe(38);
  });

  it("draws inside the measured box, and a scale of 2 covers four times the pixels", () => {
    const text = "true 4 / pred 9";
    const one = drawText(createImage(200, 40, [255, 255, 255]), 3, 4, text, [0, 0, 0]);
    const ink = pixelsOf(one, [0, 0, 0]);
    for (const [x, y] of ink) {
      expect(x >= 3 && x < 3 + textWidth(text)).toBe(true);
      expect(y >= 4 && y < 4 + textHeight()).toBe(true);
    }
    const two = drawText(createImage(200, 40, [255, 255, 255]), 3, 4, text, [0, 0, 0], 2);
    expect(pixelsOf(two, [0, 0, 0])).toHaveLength(4 * ink.length);
  });

  it("aligns each line of centred text on its centre", () => {
    const img = drawTextAligned(createImage(100, 30, [255, 255, 255]), 50, 0, "i\niii", [0, 0, 0], 1, "center");
    const xs = (row: number): number[] => pixelsOf(img, [0, 0, 0]).filter(([, y]) => y === row).map(([x]) => x);
    const mid = (v: number[]): number => (Math.min(...v) + Math.max(...v)) / 2;
    expect(Math.abs(mid(xs(6)) - mid(xs(16)))).toBeLessThanOrEqual(1);
  });
});

describe("tileGrid", () => {
  it("puts tile k at tileOrigin(k): row k / cols, column k % cols, gaps between", () => {
    // Tile k is zero except its top-left value: after symmetric scaling that pixel is full red.
    const tiles = Array.from({ length: 10 }, () => {
      const t = new Float32Array(6 * 4);
      t[0] = 0.5;
      return t;
    });
    const options = { tileW: 6, tileH: 4, gap: 2, scale: 3 } as const;
    const img = tileGrid(tiles, 4, options);
    expect([img.width, img.height]).toEqual([4 * 18 + 5 * 2, 3 * 12 + 4 * 2]);
    tiles.forEach((_, k) => {
      const { x, y } = tileOrigin(k, 4, options);
      expect([x, y]).toEqual([2 + (k % 4) * 20, 2 + Math.floor(k / 4) * 14]);
      expect(getPixel(img, x, y).slice(0, 3)).toEqual([...DIVERGING_POSITIVE]);
      expect(getPixel(img, x + 2, y + 2).slice(0, 3)).toEqual([...DIVERGING_POSITIVE]);
      expect(getPixel(img, x + 3, y).slice(0, 3)).toEqual([255, 255, 255]);
      expect(getPixel(img, x - 1, y).slice(0, 3)).toEqual([128, 128, 128]); // the gap
    });
  });

  it("scales each tile symmetrically around zero by its own largest |value|", () => {
    const small = Float32Array.of(-0.01, 0, 0.005, 0);
    const large = Float32Array.of(0, 5, 0, -2.5);
    const img = tileGrid([small, large], 2, { tileW: 2, tileH: 2, gap: 0 });
    expect(getPixel(img, 0, 0).slice(0, 3)).toEqual([...DIVERGING_NEGATIVE]);
    expect(getPixel(img, 0, 1).slice(0, 3)).toEqual([...diverging(0.5)]);
    expect(getPixel(img, 3, 0).slice(0, 3)).toEqual([...DIVERGING_POSITIVE]);
    expect(getPixel(img, 3, 1).slice(0, 3)).toEqual([...diverging(-0.5)]);
    const shared = tileGrid([small, large], 2, { tileW: 2, tileH: 2, gap: 0, range: "symmetric-shared" });
    expect(getPixel(shared, 0, 0).slice(0, 3)).toEqual([...diverging(-0.002)]);
  });

  it("lays out the 128 first-layer weight vectors as a 16 x 8 grid of 28x28 tiles", () => {
    const tiles = Array.from({ length: 128 }, (_, k) => Float32Array.from(wave(784, 1 + k / 50)));
    const img = throughPng(tileGrid(tiles, 16));
    expect([img.width, img.height]).toEqual([16 * 28 + 17, 8 * 28 + 9]);
    expect(countColors(img)).toBeGreaterThan(100);
  });

  it("draws MNIST-style digits in grey with a caption under each, cells widened to fit the captions", () => {
    const digits = [new Float32Array(784).fill(1), new Float32Array(784)];
    const options = { range: "unit", labels: ["true 4 / pred 9", "true 1\npred 7"] } as const;
    const img = tileGrid(digits, 2, options);
    const cellW = textWidth("true 4 / pred 9") + 4;
    expect(img.width).toBe(2 * cellW + 3);
    expect(img.height).toBe(28 + textHeight(1, 2) + 3 + 2);
    const first = tileOrigin(0, 2, options);
    expect(first.x).toBe(1 + Math.floor((cellW - 28) / 2));
    expect(getPixel(img, first.x + 5, first.y + 5).slice(0, 3)).toEqual([255, 255, 255]);
    const second = tileOrigin(1, 2, options);
    expect(getPixel(img, second.x + 5, second.y + 5).slice(0, 3)).toEqual([0, 0, 0]);
    const captionRows = pixelsOf(img, [255, 255, 255]).filter(([, y]) => y >= 1 + 28 + 1);
    expect(captionRows.length).toBeGreaterThan(50);
  });

  it("refuses tiles of the wrong size and a label count that does not match", () => {
    expect(() => tileGrid([new Float32Array(10)], 1)).toThrow("tile 0 has 10 values, expected tileW * tileH = 28x28 = 784");
    expect(() => tileGrid([new Float32Array(784)], 1, { labels: [] })).toThrow("0 labels for 1 tiles");
  });
});

describe("niceTicks and formatTick", () => {
  it("chooses steps of 1, 2 or 5 times a power of ten, with ticks inside the range", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (lo, span) => {
        const hi = lo + span;
        fc.pre(hi > lo);
        const { ticks, step } = niceTicks(lo, hi, 5);
        const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
        expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9)).toBe(true);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(11);
        for (const t of ticks) expect(t >= lo - step * 1e-6 && t <= hi + step * 1e-6).toBe(true);
      }),
    );
  });

  it("writes as many decimals as the step needs", () => {
    expect(niceTicks(0, 1, 5)).toEqual({ ticks: [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1], step: 0.2 });
    expect(formatTick(0.6000000000000001, 0.2)).toBe("0.6");
    expect(formatTick(0.25, 0.05)).toBe("0.25");
    expect(formatTick(60000, 20000)).toBe("60000");
    expect(formatTick(0, 0.1)).toBe("0");
    expect(formatTick(3e-7, 1e-7)).toBe("3e-7");
    expect(formatTick(2.5e-7, 5e-8)).toBe("2.5e-7");
    expect(formatTick(4e7, 2e7)).toBe("4e7");
  });
});

describe("lineChart", () => {
  const train = { name: "train loss", values: wave(40).map((v, i) => 2 * Math.exp(-i / 8) + 0.05 * v), color: [66, 133, 244] as Color };
  const test = { name: "test loss", values: train.values.map((v) => v + 0.1), color: [219, 68, 55] as Color };

  it("renders a PNG of the asked size with several colours", () => {
    const img = throughPng(lineChart([train, test], { width: 500, height: 300, title: "Loss", xLabel: "epoch", yLabel: "loss" }));
    expect([img.width, img.height]).toEqual([500, 300]);
    expect(countColors(img)).toBeGreaterThan(5);
    expect(pixelsOf(img, train.color).length).toBeGreaterThan(100);
    expect(pixelsOf(img, test.color).length).toBeGreaterThan(100);
  });

  it("keeps every curve pixel inside the plot area, even when a fixed y range cuts the curve", () => {
    const img = lineChart([train], { width: 400, height: 260, yMin: 0.5, yMax: 1 });
    const plot = plotArea(400, 260);
    const drawn = pixelsOf(img, train.color);
    expect(drawn.length).toBeGreaterThan(50);
    for (const [x, y] of drawn) {
      expect(x >= plot.x && x < plot.x + plot.width).toBe(true);
      expect(y >= plot.y && y < plot.y + plot.height).toBe(true);
    }
  });

  it("leaves a gap where a value is not finite, and says so when there is no data", () => {
    const values = [1, 2, Number.NaN, Number.NaN, Number.NaN, 2, 1];
    const img = lineChart([{ name: "loss", values, color: [0, 150, 0] }], { width: 300, height: 200 });
    const plot = plotArea(300, 200);
    const xs = new Set(pixelsOf(img, [0, 150, 0]).filter(([x, y]) => y > plot.y + 40 && x < plot.x + plot.width - 100).map(([x]) => x));
    const middle = plot.x + Math.round(plot.width / 2);
    expect(xs.has(middle)).toBe(false);
    const empty = lineChart([{ name: "nothing", values: [], color: [0, 150, 0] }], { width: 300, height: 200 });
    expect(countColors(empty)).toBeGreaterThan(2);
  });

  it("refuses xs that do not match the values one for one", () => {
    expect(() => lineChart([{ name: "acc", values: [1, 2], xs: [1], color: [0, 0, 0] }])).toThrow('series "acc" has 2 values but 1 xs');
  });
});

describe("binCounts and histogram", () => {
  it("counts each finite value in exactly one bin, the maximum in the last", () => {
    expect(binCounts([0, 0.1, 0.5, 0.99, 1, Number.NaN, 2], 2, 0, 1)).toEqual([2, 3]);
    fc.assert(
      fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (xs, bins) => {
        const counts = binCounts(xs, bins, -5, 5);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(xs.length);
      }),
    );
  });

  it("draws bars inside the plot area, as a PNG of the asked size", () => {
    const values = Array.from({ length: 2000 }, (_, i) => Math.sin(i * 12.9898) * Math.cos(i * 78.233));
    const color: Color = [200, 100, 0];
    const img = throughPng(histogram(values, { bins: 20, width: 420, height: 280, title: "weights", color }));
    expect([img.width, img.height]).toEqual([420, 280]);
    expect(countColors(img)).toBeGreaterThan(4);
    const plot = plotArea(420, 280);
    const bars = pixelsOf(img, color);
    expect(bars.length).toBeGreaterThan(1000);
    for (const [x, y] of bars) expect(x >= plot.x && x < plot.x + plot.width && y >= plot.y && y < plot.y + plot.height).toBe(true);
    // 20 bins: 20 separate bars along the bottom row of the plot.
    const bottom = bars.filter(([, y]) => y === plot.y + plot.height - 1).map(([x]) => x).sort((a, b) => a - b);
    const runs = bottom.filter((x, i) => i === 0 || x !== bottom[i - 1]! + 1).length;
    expect(runs).toBe(20);
  });

  it("draws a constant or empty input without failing", () => {
    expect(countColors(histogram([3, 3, 3]))).toBeGreaterThan(3);
    expect(countColors(histogram([]))).toBeGreaterThan(2);
  });
});

describe("heatmap", () => {
  const confusion = Array.from({ length: 10 }, (_, r) => Array.from({ length: 10 }, (_, c) => (r === c ? 980 + r : (r * 7 + c * 3) % 11)));

  it("draws a 10 x 10 confusion matrix as a PNG with a cell per count", () => {
    const img = throughPng(heatmap(confusion, { title: "confusion", cellSize: 40 }));
    expect(img.width).toBeGreaterThanOrEqual(400);
    expect(img.height).toBeGreaterThanOrEqual(400);
    expect(countColors(img)).toBeGreaterThan(10);
  });

  it("writes each count in its cell, white on the dark diagonal", () => {
    const img = heatmap(confusion, { cellSize: 40 });
    const dark = sequential(1);
    const cells = pixelsOf(img, dark);
    expect(cells.length).toBeGreaterThan(0);
    // The darkest cell (989, on the diagonal) holds white text pixels.
    const [x0, y0] = cells[0]!;
    let white = 0;
    for (let y = y0; y < y0 + 40; y++) for (let x = x0; x < x0 + 40; x++) if (getPixel(img, x, y)[0] === 255) white++;
    expect(white).toBeGreaterThan(15);
    const plain = heatmap(confusion, { cellSize: 40, showCounts: false });
    expect(pixelsOf(plain, [255, 255, 255]).length).toBeLessThan(pixelsOf(img, [255, 255, 255]).length);
  });

  it("refuses a ragged or empty matrix", () => {
    expect(() => heatmap([[1, 2], [3]])).toThrow("row 1 has 1 values, expected 2 like row 0");
    expect(() => heatmap([])).toThrow("the matrix is empty");
  });
});

describe("addTitle and stackImages", () => {
  it("addTitle adds a bar of text above the image", () => {
    const img = addTitle(createImage(300, 50, [0, 0, 0]), "first-layer weights");
    expect(img.width).toBe(300);
    expect(img.height).toBe(50 + textHeight(2) + 16);
    expect(getPixel(img, 150, img.height - 1).slice(0, 3)).toEqual([0, 0, 0]);
  });

  it("stackImages puts images side by side or one above another", () => {
    const a = createImage(10, 20, [255, 0, 0]);
    const b = createImage(30, 5, [0, 0, 255]);
    expect(stackImages([a, b], { gap: 4 })).toMatchObject({ width: 44, height: 20 });
    const col = stackImages([a, b], { direction: "column", gap: 0 });
    expect(col).toMatchObject({ width: 30, height: 25 });
    expect(getPixel(col, 0, 21).slice(0, 3)).toEqual([0, 0, 255]);
  });
});

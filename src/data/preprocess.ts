// A person's picture of a digit, turned into what an MNIST digit looks like, the way MNIST itself was
// made (LeCun, Cortes and Burges): the NIST digit was size-normalised to fit a 20x20 box keeping its
// aspect ratio (anti-aliasing gives grey levels), then placed in a 28x28 field so that its centre of
// mass sits at the centre. MNIST is white ink (1) on black (0).
//
// Every step is a pure function of arrays, so each can be specified alone; `preprocess` chains them
// and says in words what each step did. No node: imports: the browser playground runs this file too.
//
// Measured: a raw MNIST test digit sent through encodePng -> decodeImage -> preprocess comes back
// unchanged except for the contrast stretch (|diff| <= 1/254, for digits whose brightest pixel is
// 254): all of the first 200 test digits (176 bit-exact, mean |diff| 5.5e-5), and 9,839 of all
// 10,000 with the default crop (9,997 with cropTo: "all-ink", which keeps MNIST's own detached
// specks; the other 3 have a 19-pixel ink box, which is enlarged to 20).

import type { Image } from "./image.ts";

/** A single-channel float image, row-major. */
export interface Gray {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** An axis-aligned rectangle of whole pixels: top-left (x, y), size width x height. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Thrown when a picture cannot be made into a digit (blank, no contrast). The message says why. */
export class PreprocessError extends Error {
  override name = "PreprocessError";
}

const checkLength = (what: string, data: ArrayLike<number>, width: number, height: number, channels: number): void => {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: the size must be positive integers, got ${width}x${height}`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `${what}: expected ${width}x${height}${channels > 1 ? `x${channels}` : ""} = ${width * height * channels} values, got ${data.length}`,
    );
  }
};

// ---- 1. grey levels --------------------------------------------------------------------------

/** Rec. 601 luma weights: the classic television (and MNIST-era) brightness of gamma-encoded RGB. */
export const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;

/**
 * Luminance in [0, 1] of each RGBA pixel, Y = 0.299 R + 0.587 G + 0.114 B, with transparency
 * composited on WHITE (Y a + 1 (1 - a)): a transparent PNG of a drawn digit is ink on paper.
 */
export const toGrayscale = (rgba: Uint8Array, width: number, height: number): Float32Array => {
  checkLength("toGrayscale", rgba, width, height, 4);
  const out = new Float32Array(width * height);
  const [wr, wg, wb] = LUMA_WEIGHTS;
  for (let p = 0, i = 0; p < out.length; p++, i += 4) {
    const y = (wr * rgba[i]! + wg * rgba[i + 1]! + wb * rgba[i + 2]!) / 255;
    const a = rgba[i + 3]! / 255;
    out[p] = Math.min(1, y * a + (1 - a));
  }
  return out;
};

// ---- 1b. uneven lighting ---------------------------------------------------------------------

/** Terms of the smooth surface fitted to the paper: 1, u, v, u^2, uv, v^2 (u, v in [-1, 1]). */
const surfaceTerms = (u: number, v: number): number[] => [1, u, v, u * u, u * v, v * v];

/** Solves the small symmetric system M c = b (Gaussian elimination with partial pivoting); null if singular. */
const solve = (m: number[][], b: number[]): number[] | null => {
  const n = b.length;
  const a = m.map((row, i) => [...row, b[i]!]);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i]![k]!) > Math.abs(a[p]![k]!)) p = i;
    if (Math.abs(a[p]![k]!) < 1e-12) return null;
    [a[k], a[p]] = [a[p]!, a[k]!];
    for (let i = k + 1; i < n; i++) {
      const f = a[i]![k]! / a[k]![k]!;
      for (let j = k; j <= n; j++) a[i]![j]! -= f * a[k]![j]!;
    }
  }
  const c = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = a[i]![n]!;
    for (let j = i + 1; j < n; j++) sum -= a[i]![j]! * c[j]!;
    c[i] = sum / a[i]![i]!;
  }
  return c;
};

export interface Illumination {
  /** The fitted paper level at every pixel (a quadratic surface), width x height. */
  readonly surface: Float32Array;
  /** Its darkest and brightest values over the picture. */
  readonly low: number;
  readonly high: number;
  /** The share of the frame's pixels the surface fits (the paper); below one half, it is not lighting. */
  readonly explained: number;
}

/**
 * The paper's brightness under uneven light (a vignette, light from one side), as a smooth surface:
 * a quadratic in x and y fitted by least squares to the outer frame of a copy shrunk to at most 48
 * pixels a side (the three quarters of the picture outside its central half, where a digit is rarely
 * whole: fitted to the centre too, a quadratic would bulge to follow a centred digit), then refitted
 * four times to the pixels within 2.5 robust standard deviations of the surface, so ink in the frame
 * (a minority of its pixels, far from the paper's level) drops out of the fit whichever its polarity.
 */
export const estimateIllumination = (gray: Float32Array, width: number, height: number): Illumination => {
  checkLength("estimateIllumination", gray, width, height, 1);
  const small = fitInBox({ width, height, data: gray }, Math.min(48, Math.max(width, height)));
  const n = small.width * small.height;
  const terms = Array.from({ length: n }, (_, i) => surfaceTerms((((i % small.width) + 0.5) / small.width) * 2 - 1, ((Math.floor(i / small.width) + 0.5) / small.height) * 2 - 1));
  const k = terms[0]!.length;
  const frame = (i: number) => Math.max(Math.abs(terms[i]![1]!), Math.abs(terms[i]![2]!)) > 0.5;
  // Start from the frame's pixels near its median level (the paper, not the ink), then let the fit grow.
  const paper = median(small.data.filter((_, i) => frame(i)));
  let keep = Uint8Array.from({ length: n }, (_, i) => (frame(i) && Math.abs(small.data[i]! - paper) <= 0.2 ? 1 : 0));
  let coefficients: number[] = [median(small.data), 0, 0, 0, 0, 0];
  for (let round = 0; round < 5; round++) {
    const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const b = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) {
      if (!keep[i]) continue;
      const t = terms[i]!;
      for (let r = 0; r < k; r++) {
        b[r]! += t[r]! * small.data[i]!;
        for (let c = 0; c < k; c++) m[r]![c]! += t[r]! * t[c]!;
      }
    }
    coefficients = solve(m, b) ?? coefficients;
    const residual = Float32Array.from({ length: n }, (_, i) => small.data[i]! - terms[i]!.reduce((s, t, j) => s + t * coefficients[j]!, 0));
    const spread = Math.max(1e-3, 1.4826 * median(residual.filter((_, i) => keep[i] === 1).map(Math.abs)));
    const next = Uint8Array.from(residual, (r, i) => (frame(i) && Math.abs(r) <= 2.5 * spread ? 1 : 0));
    if (next.reduce((s, v) => s + v, 0) < k * 4) break; // too few pixels left to fit: keep the last fit
    keep = next;
  }
  let frameCount = 0;
  for (let i = 0; i < n; i++) if (frame(i)) frameCount++;
  const explained = keep.reduce((s, v) => s + v, 0) / Math.max(1, frameCount);
  const surface = new Float32Array(width * height);
  let [low, high] = [Infinity, -Infinity];
  const [c0, cu, cv, cuu, cuv, cvv] = coefficients as [number, number, number, number, number, number];
  for (let y = 0; y < height; y++) {
    const v = ((y + 0.5) / height) * 2 - 1;
    for (let x = 0; x < width; x++) {
      const u = ((x + 0.5) / width) * 2 - 1;
      const value = c0 + cu * u + cv * v + cuu * u * u + cuv * u * v + cvv * v * v; // surfaceTerms, written out for speed
      surface[y * width + x] = value;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  return { surface, low, high, explained };
};

/**
 * The picture as if evenly lit at the surface's median level. Light paper (the surface above 0.2
 * everywhere) is divided by the surface, as light multiplies reflectance: ink in the shadow keeps its
 * contrast with the paper beside it. A dark background has the surface subtracted instead.
 */
export const flattenIllumination = (gray: Float32Array, { surface, low }: Illumination): Float32Array => {
  const level = median(surface.filter((_, i) => i % 97 === 0)); // a sample: the surface is smooth
  const out = new Float32Array(gray.length);
  for (let i = 0; i < gray.length; i++) {
    const v = low > 0.2 ? (gray[i]! * level) / surface[i]! : gray[i]! - surface[i]! + level;
    out[i] = Math.min(1, Math.max(0, v));
  }
  return out;
};

// ---- 2. polarity -----------------------------------------------------------------------------

/** The values in the frame of the image `band` pixels wide, where the paper (not the digit) should be. */
export const borderValues = (gray: Float32Array, width: number, height: number, band = 1): Float32Array => {
  checkLength("borderValues", gray, width, height, 1);
  const b = Math.max(1, Math.min(band, Math.ceil(Math.min(width, height) / 2)));
  const inner = Math.max(0, width - 2 * b) * Math.max(0, height - 2 * b);
  const out = new Float32Array(width * height - inner);
  let k = 0;
  // Only the band is visited (a 12-megapixel photo has a border of about 10^6 pixels, not 10^7).
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (y < b || y >= height - b) {
      out.set(gray.subarray(row, row + width), k);
      k += width;
    } else {
      for (let x = 0; x < Math.min(b, width); x++) out[k++] = gray[row + x]!;
      for (let x = Math.max(b, width - b); x < width; x++) out[k++] = gray[row + x]!;
    }
  }
  return out;
};

/** The frame used for the background: 3% of the shorter side (at least 1 pixel), clear of a paper's edge shadow. */
export const borderBand = (width: number, height: number): number => Math.max(1, Math.round(0.03 * Math.min(width, height)));

const median = (values: Float32Array): number => {
  if (values.length === 0) return 0;
  const sorted = Float32Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const mean = (values: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!; // indexed: for-of over a typed array is several times slower
  return values.length === 0 ? 0 : s / values.length;
};

export interface Polarity {
  /** True when the ink is darker than the paper (a pen on paper), false for light ink on dark (MNIST). */
  readonly inkIsDark: boolean;
  /** Median grey level of the border: the paper. */
  readonly background: number;
  /** Mean grey level of the whole image. */
  readonly mean: number;
}

/**
 * Dark ink on light paper or light ink on dark? The border is mostly paper and the ink moves the
 * mean away from the paper's level: if the border (median, robust to a stroke touching the edge) is
 * brighter than the mean, the ink is darker than the paper. MNIST digits (black border, mean above
 * 0) are light ink and are left as they are. A uniform image counts as light-on-dark (no change).
 */
export const detectPolarity = (gray: Float32Array, width: number, height: number): Polarity => {
  const background = median(borderValues(gray, width, height, borderBand(width, height)));
  const m = mean(gray);
  return { inkIsDark: background > m, background, mean: m };
};

/** White ink on black, as MNIST: dark-ink pictures are inverted (1 - v), light-ink ones kept. */
export const toInkOnBlack = (gray: Float32Array, polarity: Pick<Polarity, "inkIsDark">): Float32Array => {
  const out = Float32Array.from(gray);
  if (polarity.inkIsDark) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i]!;
  return out;
};

// ---- 2b. paper noise -------------------------------------------------------------------------

export interface Background {
  /** Median ink level of the border (paper, after inversion). */
  readonly level: number;
  /** Robust spread of the border: 1.4826 * median absolute deviation (the standard deviation for Gaussian noise). */
  readonly spread: number;
  /** level + 3 spread: ink levels at or below this are paper. 0 for a clean black border such as MNIST's. */
  readonly floor: number;
}

/** The paper's level and noise, from the border of an ink-on-black image. */
export const estimateBackground = (ink: Float32Array, width: number, height: number): Background => {
  const border = borderValues(ink, width, height, borderBand(width, height));
  const level = median(border);
  const spread = 1.4826 * median(border.map((v) => Math.abs(v - level)));
  return { level, spread, floor: Math.min(1, level + 3 * spread) };
};

/**
 * Paper to 0 and the strongest ink to 1: v -> clamp((v - floor) / (peak - floor), 0, 1). On a clean
 * MNIST digit (floor 0, peak 1 or 254/255) this is the identity up to at most 1/254.
 * Returns the scale used (1 / (peak - floor)); peak <= floor means there is no ink (scale 0, all 0).
 */
export const suppressBackground = (ink: Float32Array, floor: number): { data: Float32Array; peak: number; scale: number } => {
  let peak = 0;
  for (let i = 0; i < ink.length; i++) if (ink[i]! > peak) peak = ink[i]!;
  if (peak <= floor) return { data: new Float32Array(ink.length), peak, scale: 0 };
  const scale = 1 / (peak - floor);
  const data = new Float32Array(ink.length);
  for (let i = 0; i < ink.length; i++) data[i] = Math.max(0, Math.min(1, (ink[i]! - floor) * scale));
  return { data, peak, scale };
};

// ---- 3. where the ink is ---------------------------------------------------------------------

/** The smallest box holding every pixel above `threshold`, or null when there is none (a blank image). */
export const inkBoundingBox = (gray: Float32Array, width: number, height: number, threshold = 0): Box | null => {
  checkLength("inkBoundingBox", gray, width, height, 1);
  return boxOf(width, height, (i) => gray[i]! > threshold);
};

const boxOf = (width: number, height: number, isInk: (i: number) => boolean): Box | null => {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!isInk(y * width + x)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
};

/**
 * The box of the digit's strokes, ignoring dirt. Strokes are found by hysteresis (as in Canny's edge
 * detector): pixels above `high` seed a flood fill (8-neighbours) through pixels above `low`, so
 * faint anti-aliased edges and thin tails count but faint specks away from the strokes do not.
 * Each flood is one piece of ink; pieces holding less than `minShare` of the heaviest piece's ink
 * (a speck of dirt, a stray dot) are left out, while a digit's separate strokes (the flag of a 5, the
 * bar of a 7) are far heavier than that. Null when no pixel is above `high`.
 */
export const connectedInkBox = (gray: Float32Array, width: number, height: number, low = 0, high = 0.5, minShare = 0.05): Box | null => {
  checkLength("connectedInkBox", gray, width, height, 1);
  const n = width * height;
  const reached = new Uint8Array(n);
  const stack = new Int32Array(n); // each pixel is pushed at most once, so n slots suffice
  const pieces: { mass: number; x0: number; y0: number; x1: number; y1: number }[] = [];
  for (let seed = 0; seed < n; seed++) {
    if (reached[seed] === 1 || !(gray[seed]! > high)) continue;
    const piece = { mass: 0, x0: width, y0: height, x1: -1, y1: -1 };
    reached[seed] = 1;
    let top = 0;
    stack[top++] = seed;
    while (top > 0) {
      const i = stack[--top]!;
      const x = i % width;
      const y = (i - x) / width;
      piece.mass += gray[i]!;
      if (x < piece.x0) piece.x0 = x;
      if (x > piece.x1) piece.x1 = x;
      if (y < piece.y0) piece.y0 = y;
      if (y > piece.y1) piece.y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (reached[j] === 0 && gray[j]! > low) {
            reached[j] = 1;
            stack[top++] = j;
          }
        }
      }
    }
    pieces.push(piece);
  }
  if (pieces.length === 0) return null;
  // Loops, not Math.max(...pieces): a grainy photo can hold more pieces than a call has arguments.
  const heaviest = pieces.reduce((m, p) => Math.max(m, p.mass), 0);
  const box = { x0: width, y0: height, x1: -1, y1: -1 };
  for (const p of pieces) {
    if (p.mass < minShare * heaviest) continue;
    box.x0 = Math.min(box.x0, p.x0);
    box.y0 = Math.min(box.y0, p.y0);
    box.x1 = Math.max(box.x1, p.x1);
    box.y1 = Math.max(box.y1, p.y1);
  }
  return { x: box.x0, y: box.y0, width: box.x1 - box.x0 + 1, height: box.y1 - box.y0 + 1 };
};

/** The pixels inside `box`. */
export const crop = (img: Gray, box: Box): Gray => {
  const { x, y, width, height } = box;
  if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > img.width || y + height > img.height) {
    throw new RangeError(`crop: the box ${width}x${height} at (${x}, ${y}) is not inside the ${img.width}x${img.height} image`);
  }
  const data = new Float32Array(width * height);
  for (let r = 0; r < height; r++) data.set(img.data.subarray((y + r) * img.width + x, (y + r) * img.width + x + width), r * width);
  return { width, height, data };
};

// ---- 3b. stroke width ------------------------------------------------------------------------

/** MNIST's strokes are about this wide for the digit's longer side (measured: the median over the test set is 0.14). */
export const MNIST_STROKE_SHARE = 0.14;

/**
 * The typical width in pixels of the strokes (pixels above 0.5): an erosion by one pixel removes
 * about two pixels of width from every stroke, so width ~ 2 area / (area - area after erosion).
 * Zero for no ink.
 */
export const strokeWidth = (img: Gray): number => {
  const { width, height, data } = img;
  let area = 0;
  let interior = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!(data[y * width + x]! > 0.5)) continue;
      area++;
      const inside = (xx: number, yy: number) => xx >= 0 && yy >= 0 && xx < width && yy < height && data[yy * width + xx]! > 0.5;
      if (inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1)) interior++;
    }
  }
  return area === 0 ? 0 : (2 * area) / Math.max(1, area - interior);
};

/** Grey-level dilation by a (2 radius + 1) square (a max filter, separable), on a canvas grown by radius each side. */
export const thicken = (img: Gray, radius: number): Gray => {
  if (!Number.isInteger(radius) || radius < 0) throw new RangeError(`thicken: radius must be a non-negative integer, got ${radius}`);
  const [w, h] = [img.width + 2 * radius, img.height + 2 * radius];
  const rows = new Float32Array(w * h);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let sx = Math.max(0, x - 2 * radius); sx <= Math.min(img.width - 1, x); sx++) m = Math.max(m, img.data[y * img.width + sx]!);
      rows[(y + radius) * w + x] = m;
    }
  }
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let sy = Math.max(0, y - radius); sy <= Math.min(h - 1, y + radius); sy++) m = Math.max(m, rows[sy * w + x]!);
      data[y * w + x] = m;
    }
  }
  return { width: w, height: h, data };
};

// ---- 4. size normalisation -------------------------------------------------------------------

/** How output sample j of a resampled axis mixes input samples: parallel lists of indices and weights. */
export interface AxisWeights {
  readonly index: readonly Int32Array[];
  readonly weight: readonly Float64Array[];
}

/**
 * Weights for resampling one axis from `inSize` to `outSize` samples.
 * Shrinking: AREA AVERAGING. Output sample j covers the input interval [j r, (j + 1) r) with
 * r = inSize / outSize, and its value is the mean of the input over that interval, each input
 * sample weighted by how much of it is covered (so the weights sum to 1 and mass is conserved).
 * Enlarging: bilinear interpolation between pixel centres (output centre j + 1/2 maps to input
 * position (j + 1/2) / s - 1/2, s = outSize / inSize, clamped at the edges).
 * Equal sizes: the identity.
 */
export const axisWeights = (inSize: number, outSize: number): AxisWeights => {
  if (!Number.isInteger(inSize) || !Number.isInteger(outSize) || inSize < 1 || outSize < 1) {
    throw new RangeError(`axisWeights: sizes must be positive integers, got ${inSize} -> ${outSize}`);
  }
  const index: Int32Array[] = [];
  const weight: Float64Array[] = [];
  if (outSize < inSize) {
    const r = inSize / outSize;
    for (let j = 0; j < outSize; j++) {
      const a = j * r;
      const b = (j + 1) * r;
      const first = Math.floor(a);
      const last = Math.min(inSize - 1, Math.ceil(b) - 1);
      const idx: number[] = [];
      const w: number[] = [];
      for (let i = first; i <= last; i++) {
        const overlap = Math.min(b, i + 1) - Math.max(a, i);
        if (overlap > 0) {
          idx.push(i);
          w.push(overlap / r);
        }
      }
      index.push(Int32Array.from(idx));
      weight.push(Float64Array.from(w));
    }
  } else if (outSize > inSize) {
    const s = outSize / inSize;
    for (let j = 0; j < outSize; j++) {
      const u = Math.max(0, Math.min(inSize - 1, (j + 0.5) / s - 0.5));
      const i0 = Math.floor(u);
      const f = u - i0;
      if (f === 0 || i0 + 1 >= inSize) {
        index.push(Int32Array.of(i0));
        weight.push(Float64Array.of(1));
      } else {
        index.push(Int32Array.of(i0, i0 + 1));
        weight.push(Float64Array.of(1 - f, f));
      }
    }
  } else {
    for (let j = 0; j < outSize; j++) {
      index.push(Int32Array.of(j));
      weight.push(Float64Array.of(1));
    }
  }
  return { index, weight };
};

/** The image resampled to outWidth x outHeight, separably: rows with axisWeights, then columns. */
export const resize = (img: Gray, outWidth: number, outHeight: number): Gray => {
  checkLength("resize", img.data, img.width, img.height, 1);
  const wx = axisWeights(img.width, outWidth);
  const wy = axisWeights(img.height, outHeight);
  const rows = new Float64Array(outWidth * img.height);
  for (let y = 0; y < img.height; y++) {
    for (let j = 0; j < outWidth; j++) {
      const idx = wx.index[j]!;
      const w = wx.weight[j]!;
      let s = 0;
      for (let k = 0; k < idx.length; k++) s += w[k]! * img.data[y * img.width + idx[k]!]!;
      rows[y * outWidth + j] = s;
    }
  }
  const data = new Float32Array(outWidth * outHeight);
  for (let j = 0; j < outHeight; j++) {
    const idx = wy.index[j]!;
    const w = wy.weight[j]!;
    for (let x = 0; x < outWidth; x++) {
      let s = 0;
      for (let k = 0; k < idx.length; k++) s += w[k]! * rows[idx[k]! * outWidth + x]!;
      data[j * outWidth + x] = s;
    }
  }
  return { width: outWidth, height: outHeight, data };
};

/** The size an image takes when scaled to fit a size x size box keeping its aspect ratio (longer side = size). */
export const fittedSize = (width: number, height: number, size: number): { width: number; height: number } => {
  const s = size / Math.max(width, height);
  return { width: Math.max(1, Math.min(size, Math.round(width * s))), height: Math.max(1, Math.min(size, Math.round(height * s))) };
};

/** Scales the image so its longer side is `size` (MNIST: 20), keeping the aspect ratio; see axisWeights for how. */
export const fitInBox = (img: Gray, size = 20): Gray => {
  const { width, height } = fittedSize(img.width, img.height, size);
  return resize(img, width, height);
};

// ---- 5. centring by mass ---------------------------------------------------------------------

/** The centre of mass (x, y) in pixel-index coordinates (pixel (0, 0) is at (0, 0)), or null if there is no mass. */
export const centerOfMass = (img: Gray): { x: number; y: number } | null => {
  let m = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x]!;
      m += v;
      mx += v * x;
      my += v * y;
    }
  }
  return m > 0 ? { x: mx / m, y: my / m } : null;
};

export interface Centred {
  /** The size x size canvas, row-major. */
  readonly pixels: Float32Array;
  /** Where the image's top-left corner was placed. */
  readonly offset: { readonly x: number; readonly y: number };
  /** The offset minus plain geometric centring ((size - w) / 2, rounded down): what the mass changed. */
  readonly shift: { readonly x: number; readonly y: number };
  readonly centerOfMass: { readonly x: number; readonly y: number };
  /** True when the offset had to be limited to keep the whole image inside the canvas. */
  readonly clamped: boolean;
}

/**
 * Places the image on a size x size black canvas (MNIST: 28) at a whole-pixel offset chosen so its
 * centre of mass lands on the centre pixel (size / 2 = 14): the offset is the integer o with
 * com + o in [13.5, 14.5), which is the convention the MNIST files follow (their centres of mass,
 * in pixel indices, all lie in [13.5, 14.5)). The offset is clamped so the image stays inside.
 */
export const centerByMass = (img: Gray, size = 28): Centred => {
  if (img.width > size || img.height > size) {
    throw new RangeError(`centerByMass: a ${img.width}x${img.height} image does not fit the ${size}x${size} canvas`);
  }
  const com = centerOfMass(img) ?? { x: (img.width - 1) / 2, y: (img.height - 1) / 2 };
  const c = size / 2;
  const place = (p: number, extent: number): [number, boolean] => {
    const o = Math.ceil(c - 0.5 - p);
    const clamped = Math.max(0, Math.min(size - extent, o));
    return [clamped, clamped !== o];
  };
  const [ox, cx] = place(com.x, img.width);
  const [oy, cy] = place(com.y, img.height);
  const pixels = new Float32Array(size * size);
  for (let y = 0; y < img.height; y++) pixels.set(img.data.subarray(y * img.width, (y + 1) * img.width), (y + oy) * size + ox);
  return {
    pixels,
    offset: { x: ox, y: oy },
    shift: { x: ox - Math.floor((size - img.width) / 2), y: oy - Math.floor((size - img.height) / 2) },
    centerOfMass: com,
    clamped: cx || cy,
  };
};

/**
 * Places the image in the middle of a size x size black canvas: its top-left corner at
 * ((size - w) / 2, (size - h) / 2), rounded down, as Fashion-MNIST placed its products.
 */
export const centerByBox = (img: Gray, size = 28): Float32Array => {
  if (img.width > size || img.height > size) throw new RangeError(`centerByBox: a ${img.width}x${img.height} image does not fit the ${size}x${size} canvas`);
  const [ox, oy] = [Math.floor((size - img.width) / 2), Math.floor((size - img.height) / 2)];
  const pixels = new Float32Array(size * size);
  for (let y = 0; y < img.height; y++) pixels.set(img.data.subarray(y * img.width, (y + 1) * img.width), (y + oy) * size + ox);
  return pixels;
};

// ---- the whole pipeline ----------------------------------------------------------------------

export interface PreprocessOptions {
  /** Longer side of the digit after size normalisation (MNIST: 20). */
  readonly boxSize?: number;
  /** Side of the output canvas (MNIST: 28). */
  readonly canvasSize?: number;
  /**
   * Which ink decides the crop. "connected-ink" (default): the digit's strokes (see connectedInkBox),
   * so a speck of dirt away from the digit does not shrink it. "all-ink": every pixel above the paper, as
   * MNIST did (its crops include detached specks; about 1% of MNIST test digits have one).
   */
  readonly cropTo?: "connected-ink" | "all-ink";
  /** Refuse pictures whose strongest ink differs from the paper by less than this (default 0.1). */
  readonly minContrast?: number;
  /** Names the picture in error messages (e.g. the file name). */
  readonly name?: string;
  /** Even out uneven lighting before deciding the polarity (default true; see estimateIllumination). */
  readonly flatten?: boolean;
  /** Thicken strokes much thinner than MNIST's before shrinking, so they do not fade (default true). */
  readonly thicken?: boolean;
  /** Place the fitted image by its centre of mass (MNIST's digits, the default) or by its box (Fashion-MNIST's products). */
  readonly centre?: "mass" | "box";
}

/**
 * How Fashion-MNIST made its 28 x 28 images from product photos: trimmed to the product, the longer
 * side scaled to 28, the shorter extended to 28 with the product in the middle, negated (light on
 * black). So: crop to all the ink, fit 28 x 28, centre the box, and no stroke thickening.
 */
export const FASHION_FRAMING: PreprocessOptions = Object.freeze({ boxSize: 28, cropTo: "all-ink", thicken: false, centre: "box" });

/** Lighting that varies less than this over the picture is left alone (a scan, a clean drawing, MNIST). */
const EVEN_LIGHT = 0.04;

export interface Preprocessed {
  /** canvasSize^2 values in [0, 1], white ink on black: what the network reads. */
  readonly pixels: Float32Array;
  /** One human-readable sentence per step taken. */
  readonly steps: string[];
}

const f2 = (v: number): string => v.toFixed(2);
const signed = (v: number): string => (v >= 0 ? `+${v}` : `${v}`);

/**
 * A picture (RGBA) to an MNIST-like digit: grey levels, ink made white on black, paper noise
 * removed, cropped to the ink, scaled to fit boxSize x boxSize (area averaging when shrinking), and
 * centred by mass on a canvasSize x canvasSize canvas. Throws PreprocessError if no ink is found.
 */
export const preprocess = (rgba: Uint8Array, width: number, height: number, options: PreprocessOptions = {}): Preprocessed => {
  const { boxSize = 20, canvasSize = 28, cropTo = "connected-ink", minContrast = 0.1, name, flatten = true, thicken: thickenStrokes = true, centre = "mass" } = options;
  const fail = (message: string): never => {
    throw new PreprocessError(name === undefined ? message : `${name}: ${message}`);
  };
  const steps: string[] = [];

  let gray = toGrayscale(rgba, width, height);
  steps.push(`grey levels: ${width}x${height} RGBA to luminance (Rec. 601), transparency composited on white`);

  if (flatten) {
    const light = estimateIllumination(gray, width, height);
    if (light.high - light.low >= EVEN_LIGHT && light.explained >= 0.5) {
      gray = flattenIllumination(gray, light);
      steps.push(`lighting evened out: the paper ranged from ${f2(light.low)} to ${f2(light.high)} (a smooth surface fitted to it, the ink left out); ${light.low > 0.2 ? "divided" : "subtracted"}`);
    }
  }

  const polarity = detectPolarity(gray, width, height);
  const ink = toInkOnBlack(gray, polarity);
  steps.push(
    polarity.inkIsDark
      ? `inverted: dark ink on light paper (border ${f2(polarity.background)} brighter than the mean ${f2(polarity.mean)})`
      : `kept as is: light ink on a dark background (border ${f2(polarity.background)}, mean ${f2(polarity.mean)})`,
  );

  const background = estimateBackground(ink, width, height);
  const { data: clean, peak, scale } = suppressBackground(ink, background.floor);
  if (peak - background.floor < minContrast) {
    fail(
      `no ink found: the strongest mark differs from the background (level ${f2(background.level)}, noise ${f2(background.spread)}) ` +
        `by ${f2(Math.max(0, peak - background.floor))}, less than ${minContrast}; expected a digit clearly darker or lighter than its paper`,
    );
  }
  steps.push(
    background.floor > 0
      ? `paper removed: levels up to ${f2(background.floor)} (border ${f2(background.level)} + 3 x noise ${f2(background.spread)}) set to 0, ink stretched x${scale.toFixed(3)} so the strongest is 1`
      : `clean background (border uniformly 0); ink stretched x${scale.toFixed(3)} so the strongest is 1`,
  );

  const box = cropTo === "all-ink" ? inkBoundingBox(clean, width, height, 0) : connectedInkBox(clean, width, height, 0, 0.5);
  if (box === null) fail("no ink found: the picture is blank after removing the background; expected a digit on plain paper");
  const inkBox = box as Box;
  let cropped = crop({ width, height, data: clean }, inkBox);
  steps.push(`cropped to ${cropTo === "all-ink" ? "all ink" : "the connected ink"}: ${inkBox.width}x${inkBox.height} at (${inkBox.x}, ${inkBox.y})`);

  // A thin pen in a large photo: area averaging would leave strokes a faint grey. Strokes under half
  // MNIST's width for the digit's size are widened to about MNIST's before shrinking.
  const side = Math.max(cropped.width, cropped.height);
  const stroke = strokeWidth(cropped);
  if (thickenStrokes && side > 2 * boxSize && stroke > 0 && stroke < 0.5 * MNIST_STROKE_SHARE * side) {
    const radius = Math.max(1, Math.round((MNIST_STROKE_SHARE * side - stroke) / 2));
    cropped = thicken(cropped, radius);
    steps.push(`strokes thickened: about ${stroke.toFixed(1)} px wide in a ${side} px digit (MNIST's are ${Math.round(100 * MNIST_STROKE_SHARE)}% of its size), widened by ${radius} px on each side`);
  }

  const fitted = fitInBox(cropped, boxSize);
  const how =
    fitted.width === cropped.width && fitted.height === cropped.height
      ? `kept at ${fitted.width}x${fitted.height} (already fits the ${boxSize}x${boxSize} box)`
      : `scaled to ${fitted.width}x${fitted.height} (${fitted.height < cropped.height || fitted.width < cropped.width ? "area averaging" : "bilinear"}) to fit the ${boxSize}x${boxSize} box`;
  steps.push(how);

  if (centre === "box") {
    const pixels = centerByBox(fitted, canvasSize);
    steps.push(`centred: the ${fitted.width}x${fitted.height} box placed in the middle of ${canvasSize}x${canvasSize}`);
    return { pixels, steps };
  }
  const centred = centerByMass(fitted, canvasSize);
  const c = canvasSize / 2;
  steps.push(
    `centred by mass: centre of mass (${centred.centerOfMass.x.toFixed(1)}, ${centred.centerOfMass.y.toFixed(1)}) placed at (${c}, ${c}) ` +
      `in ${canvasSize}x${canvasSize}: offset (${centred.offset.x}, ${centred.offset.y}), shift (${signed(centred.shift.x)}, ${signed(centred.shift.y)}) from the box centre` +
      (centred.clamped ? ", limited to keep the digit inside" : ""),
  );
  return { pixels: centred.pixels, steps };
};

// ---- does it look like a digit? -----------------------------------------------------------------

/**
 * The ink (sum of the 28x28 pixels) of 99.8% of MNIST's training digits lies in this range (measured:
 * the 0.1st and 99.9th percentiles are 28.3 and 228.3, the median 99.9).
 */
export const MNIST_INK_RANGE = [28, 228] as const;

/**
 * Reasons to doubt that a preprocessed picture shows a digit the network can read: far less or far
 * more ink than MNIST digits have, or probabilities with no clear winner (none above one half). Empty
 * when there is no such reason; a network can still be confidently wrong about a scribble.
 */
export const digitDoubts = (pixels: ArrayLike<number>, probabilities: ArrayLike<number>): string[] => {
  let ink = 0;
  for (let i = 0; i < pixels.length; i++) ink += pixels[i]!;
  const doubts: string[] = [];
  const [low, high] = MNIST_INK_RANGE;
  if (ink < low) doubts.push(`little ink for a digit: ${ink.toFixed(0)} (MNIST digits have ${low} to ${high})`);
  if (ink > high) doubts.push(`more ink than a digit: ${ink.toFixed(0)} (MNIST digits have ${low} to ${high})`);
  let top = 0;
  for (let i = 0; i < probabilities.length; i++) top = Math.max(top, probabilities[i]!);
  if (top < 0.5) doubts.push(`no clear answer: the most likely class has ${(100 * top).toFixed(0)}%`);
  return doubts;
};

// ---- seeing digits ---------------------------------------------------------------------------

export interface RenderOptions {
  /** Enlargement (bilinear), default 1. */
  readonly scale?: number;
  /** Where the digit's top-left corner goes on the canvas, in canvas pixels (may be fractional). */
  readonly offsetX?: number;
  readonly offsetY?: number;
  /** Canvas size, default 28 * scale. */
  readonly canvasW?: number;
  readonly canvasH?: number;
  /** Draw black ink on white paper instead of MNIST's white on black. */
  readonly invert?: boolean;
  /** Explicit ink and paper colours (override invert), e.g. blue ink on cream paper. */
  readonly ink?: readonly [number, number, number];
  readonly paper?: readonly [number, number, number];
}

/**
 * A 28x28 digit drawn as an RGBA picture: enlarged by `scale` (bilinear between pixel centres,
 * black beyond the digit's edges), placed at (offsetX, offsetY) on a canvasW x canvasH canvas, in
 * the chosen colours. With the defaults it reproduces the digit exactly (grey level round(255 v)).
 * Used to check that predictions survive the ways people draw digits: larger, off-centre, dark on light.
 */
export const renderDigit = (pixels: Float32Array, options: RenderOptions = {}): Image => {
  const side = Math.round(Math.sqrt(pixels.length));
  if (side * side !== pixels.length) throw new RangeError(`renderDigit: expected a square digit (e.g. 784 = 28x28 values), got ${pixels.length}`);
  const { scale = 1, offsetX = 0, offsetY = 0, invert = false } = options;
  if (!(scale > 0)) throw new RangeError(`renderDigit: scale must be positive, got ${scale}`);
  const canvasW = options.canvasW ?? Math.round(side * scale);
  const canvasH = options.canvasH ?? Math.round(side * scale);
  const ink = options.ink ?? (invert ? [0, 0, 0] : [255, 255, 255]);
  const paper = options.paper ?? (invert ? [255, 255, 255] : [0, 0, 0]);
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= side || y >= side ? 0 : pixels[y * side + x]!);
  const rgba = new Uint8Array(canvasW * canvasH * 4);
  for (let y = 0; y < canvasH; y++) {
    const v = (y + 0.5 - offsetY) / scale - 0.5;
    const y0 = Math.floor(v);
    const fy = v - y0;
    for (let x = 0; x < canvasW; x++) {
      const u = (x + 0.5 - offsetX) / scale - 0.5;
      const x0 = Math.floor(u);
      const fx = u - x0;
      const top = at(x0, y0) * (1 - fx) + (fx > 0 ? at(x0 + 1, y0) * fx : 0);
      const bottom = fy > 0 ? at(x0, y0 + 1) * (1 - fx) + (fx > 0 ? at(x0 + 1, y0 + 1) * fx : 0) : 0;
      const t = Math.max(0, Math.min(1, top * (1 - fy) + bottom * fy));
      const i = (y * canvasW + x) * 4;
      for (let ch = 0; ch < 3; ch++) rgba[i + ch] = Math.round(paper[ch]! + (ink[ch]! - paper[ch]!) * t);
      rgba[i + 3] = 255;
    }
  }
  return { width: canvasW, height: canvasH, rgba };
};

/** The default ramp from no ink to full ink, one character per level. */
export const ASCII_RAMP = " .:-=+*#%@";

/**
 * A square digit (28x28) as text, one line per row (joined with "\n"), darkest-to-brightest ramp
 * for 0..1. Each pixel is two characters wide because terminal cells are about twice as tall as wide.
 */
export const asciiArt = (pixels: Float32Array, { ramp = ASCII_RAMP, cellWidth = 2 }: { ramp?: string; cellWidth?: number } = {}): string => {
  const side = Math.round(Math.sqrt(pixels.length));
  if (side * side !== pixels.length) throw new RangeError(`asciiArt: expected a square digit (e.g. 784 = 28x28 values), got ${pixels.length}`);
  if (ramp.length < 2) throw new RangeError(`asciiArt: the ramp needs at least 2 characters, got "${ramp}"`);
  const lines: string[] = [];
  for (let y = 0; y < side; y++) {
    let line = "";
    for (let x = 0; x < side; x++) {
      const v = pixels[y * side + x]!;
      const t = Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
      line += ramp[Math.min(ramp.length - 1, Math.floor(t * ramp.length))]!.repeat(cellWidth);
    }
    lines.push(line);
  }
  return lines.join("\n");
};

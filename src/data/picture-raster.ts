// Minimal raster drawing into RGBA buffers: enough for the visualize app's grids and charts without
// a canvas package, and free of node: imports so the browser playground can use it too.
//
// An Image is a canvas: the draw functions (fillRect, drawLine, blit, drawText) paint into the image
// they are given and return it, because a chart is hundreds of strokes and copying the whole buffer
// per stroke would be quadratic. Functions that make a picture (createImage, the charts, tileGrid)
// return a fresh image and never touch their inputs.

/** Row-major RGBA pixels, 4 bytes per pixel, top-left first (the layout of PNG and of canvas ImageData). */
export interface Image {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** An sRGB colour, 0..255 per channel; alpha (default 255, opaque) is blended "source over". */
export type Color = readonly [number, number, number] | readonly [number, number, number, number];

export const WHITE: Color = [255, 255, 255];
export const BLACK: Color = [0, 0, 0];

const checkSize = (what: string, width: number, height: number): void => {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: the size must be positive integers, got ${width}x${height}`);
  }
};

/** A width x height image filled with one colour. */
export const createImage = (width: number, height: number, background: Color = WHITE): Image => {
  checkSize("createImage", width, height);
  const rgba = new Uint8Array(width * height * 4);
  const [r, g, b, a = 255] = background;
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = r;
    rgba[i + 1] = g;
    rgba[i + 2] = b;
    rgba[i + 3] = a;
  }
  return { width, height, rgba };
};

/** Paints one pixel, ignoring coordinates outside the image (every primitive clips through here). */
export const setPixel = (img: Image, x: number, y: number, color: Color): void => {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const xi = Math.floor(x);
  const yi = Math.floor(y);
  const i = (yi * img.width + xi) * 4;
  const [r, g, b, a = 255] = color;
  const px = img.rgba;
  if (a >= 255) {
    px[i] = r;
    px[i + 1] = g;
    px[i + 2] = b;
    px[i + 3] = 255;
    return;
  }
  // Source-over compositing with straight (non-premultiplied) alpha.
  const sa = a / 255;
  const da = px[i + 3]! / 255;
  const oa = sa + da * (1 - sa);
  if (oa === 0) return;
  const mix = (s: number, d: number): number => Math.round((s * sa + d * da * (1 - sa)) / oa);
  px[i] = mix(r, px[i]!);
  px[i + 1] = mix(g, px[i + 1]!);
  px[i + 2] = mix(b, px[i + 2]!);
  px[i + 3] = Math.round(oa * 255);
};

/** The colour at (x, y) as [r, g, b, a]. */
export const getPixel = (img: Image, x: number, y: number): [number, number, number, number] => {
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= img.width || y >= img.height) {
    throw new RangeError(`getPixel: (${x}, ${y}) is outside the ${img.width}x${img.height} image`);
  }
  const i = (y * img.width + x) * 4;
  const px = img.rgba;
  return [px[i]!, px[i + 1]!, px[i + 2]!, px[i + 3]!];
};

/** Fills the w x h rectangle whose top-left corner is (x, y), clipped to the image. */
export const fillRect = (img: Image, x: number, y: number, w: number, h: number, color: Color): Image => {
  const x0 = Math.max(0, Math.round(x));
  const y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(img.width, Math.round(x + w));
  const y1 = Math.min(img.height, Math.round(y + h));
  for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) setPixel(img, xx, yy, color);
  return img;
};

/** The 1-pixel outline of a rectangle (inside its w x h area). */
export const strokeRect = (img: Image, x: number, y: number, w: number, h: number, color: Color): Image => {
  fillRect(img, x, y, w, 1, color);
  fillRect(img, x, y + h - 1, w, 1, color);
  fillRect(img, x, y, 1, h, color);
  fillRect(img, x + w - 1, y, 1, h, color);
  return img;
};

/**
 * A straight line from (x0, y0) to (x1, y1), both ends included: Bresenham's algorithm on the
 * rounded end points, each step stamping a thickness x thickness square centred on the line.
 */
export const drawLine = (img: Image, x0: number, y0: number, x1: number, y1: number, color: Color, thickness = 1): Image => {
  if (![x0, y0, x1, y1].every(Number.isFinite)) return img; // a NaN end point has no line to draw
  let x = Math.round(x0);
  let y = Math.round(y0);
  const xe = Math.round(x1);
  const ye = Math.round(y1);
  const dx = Math.abs(xe - x);
  const dy = -Math.abs(ye - y);
  const sx = x < xe ? 1 : -1;
  const sy = y < ye ? 1 : -1;
  const t = Math.max(1, Math.round(thickness));
  const lo = -Math.floor((t - 1) / 2);
  // A segment far outside the image is clipped pixel by pixel; bound the walk so a stray 1e9 cannot hang.
  const limit = 4 * (img.width + img.height) + dx - dy;
  let err = dx + dy;
  for (let steps = 0; steps <= limit; steps++) {
    if (t === 1) setPixel(img, x, y, color);
    else fillRect(img, x + lo, y + lo, t, t, color);
    if (x === xe && y === ye) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
  return img;
};

/** Copies `src` into `dst` with its top-left corner at (x, y), clipped; src alpha is blended. */
export const blit = (dst: Image, src: Image, x: number, y: number): Image => {
  const ox = Math.round(x);
  const oy = Math.round(y);
  for (let sy = Math.max(0, -oy); sy < src.height && oy + sy < dst.height; sy++) {
    for (let sx = Math.max(0, -ox); sx < src.width && ox + sx < dst.width; sx++) {
      const i = (sy * src.width + sx) * 4;
      const s = src.rgba;
      setPixel(dst, ox + sx, oy + sy, [s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]!]);
    }
  }
  return dst;
};

/** The image enlarged by an integer factor, each pixel becoming a factor x factor block (nearest neighbour). */
export const scaleNearest = (img: Image, factor: number): Image => {
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`scaleNearest: the factor must be a positive integer, got ${factor}`);
  if (factor === 1) return { width: img.width, height: img.height, rgba: img.rgba.slice() };
  const out = createImage(img.width * factor, img.height * factor);
  for (let y = 0; y < out.height; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < out.width; x++) {
      const s = (sy * img.width + Math.floor(x / factor)) * 4;
      const d = (y * out.width + x) * 4;
      out.rgba.set(img.rgba.subarray(s, s + 4), d);
    }
  }
  return out;
};

/** The image turned a quarter turn anticlockwise (for y-axis labels that read bottom to top). */
export const rotateLeft = (img: Image): Image => {
  const out = createImage(img.height, img.width);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 4;
      // (x, y) -> (y, width - 1 - x)
      const d = ((img.width - 1 - x) * out.width + y) * 4;
      out.rgba.set(img.rgba.subarray(s, s + 4), d);
    }
  }
  return out;
};

/** How many distinct RGBA colours the image holds (specs use it to tell a picture from a blank). */
export const countColors = (img: Image): number => {
  const seen = new Set<number>();
  const view = new DataView(img.rgba.buffer, img.rgba.byteOffset, img.rgba.byteLength);
  for (let i = 0; i + 3 < img.rgba.length; i += 4) seen.add(view.getUint32(i));
  return seen.size;
};

// ---- colour maps ------------------------------------------------------------------------------

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;
const mixColor = (a: Color, b: Color, t: number): Color => [
  Math.round(lerp(a[0], b[0], t)),
  Math.round(lerp(a[1], b[1], t)),
  Math.round(lerp(a[2], b[2], t)),
];

/** The ends of the diverging map (ColorBrewer RdBu's strong blue and red). */
export const DIVERGING_NEGATIVE: Color = [33, 102, 172];
export const DIVERGING_POSITIVE: Color = [178, 24, 43];
/** NaN is drawn grey in every map, so a missing value is visible rather than silently white. */
export const NAN_COLOR: Color = [128, 128, 128];

/**
 * Diverging map for signed values v in [-1, 1]: blue at -1, white at 0, red at +1, linear in RGB in
 * between; values outside are clamped. Weights are drawn with it so the sign reads at a glance.
 */
export const diverging = (v: number): Color => {
  if (Number.isNaN(v)) return NAN_COLOR;
  const t = Math.max(-1, Math.min(1, v));
  return t < 0 ? mixColor(WHITE, DIVERGING_NEGATIVE, -t) : mixColor(WHITE, DIVERGING_POSITIVE, t);
};

const SEQUENTIAL_STOPS: readonly Color[] = [WHITE, [107, 174, 214], [8, 48, 107]];

/** Sequential map for t in [0, 1]: white, through mid blue, to dark blue (ColorBrewer Blues); clamped. */
export const sequential = (t: number): Color => {
  if (Number.isNaN(t)) return NAN_COLOR;
  const u = Math.max(0, Math.min(1, t)) * (SEQUENTIAL_STOPS.length - 1);
  const k = Math.min(SEQUENTIAL_STOPS.length - 2, Math.floor(u));
  return mixColor(SEQUENTIAL_STOPS[k]!, SEQUENTIAL_STOPS[k + 1]!, u - k);
};

/** Grey levels for t in [0, 1]: black at 0, white at 1 (MNIST's own look: white ink on black); clamped. */
export const grayscale = (t: number): Color => {
  if (Number.isNaN(t)) return NAN_COLOR;
  const g = Math.round(Math.max(0, Math.min(1, t)) * 255);
  return [g, g, g];
};

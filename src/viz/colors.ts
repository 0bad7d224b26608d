// Colour maps, as matplotlib's: a value becomes one of 256 colours of a map (so a raster can be a
// palette PNG), and a colour bar shows which value each colour stands for.

export type Rgb = readonly [number, number, number];

/** Piecewise-linear interpolation between equally spaced stops, t in [0, 1]. */
const ramp = (stops: readonly Rgb[]) => (t: number): Rgb => {
  const u = Math.min(1, Math.max(0, Number.isNaN(t) ? 0 : t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
};

/** ColorBrewer's RdBu (reversed), as matplotlib's "RdBu_r": v in [-1, 1], blue negative, near-white 0, red positive. */
const rdbu = ramp([[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]]);
export const diverging = (v: number): Rgb => rdbu((v + 1) / 2);

/** ColorBrewer's Blues: t in [0, 1], white to dark blue (counts, as a confusion matrix's). */
export const sequential = ramp([[247, 251, 255], [222, 235, 247], [198, 219, 239], [158, 202, 225], [107, 174, 214], [66, 146, 198], [33, 113, 181], [8, 81, 156], [8, 48, 107]]);

/** Grey levels: t in [0, 1], black to white (MNIST pixels: white ink on black). */
export const greys = (t: number): Rgb => {
  const v = Math.round(255 * Math.min(1, Math.max(0, Number.isNaN(t) ? 0 : t)));
  return [v, v, v];
};

export const hex = ([r, g, b]: Rgb): string => `#${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;

/** Black or white, whichever reads better on the colour (by its relative luminance). */
export const inkOn = ([r, g, b]: Rgb): string => (0.2126 * r + 0.7152 * g + 0.0722 * b > 140 ? "#222222" : "#ffffff");

/** A colour map as a domain and a function of t in [0, 1]: what a raster and its colour bar share. */
export interface ColorScale {
  readonly lo: number;
  readonly hi: number;
  readonly map: (t: number) => Rgb;
  /** How a value becomes t: linear, or log(1 + v) for counts spread over orders of magnitude. */
  readonly log?: boolean;
}

export const toUnit = (scale: ColorScale, v: number): number => {
  if (scale.log) return scale.hi <= 0 ? 0 : Math.log1p(Math.max(0, v)) / Math.log1p(scale.hi);
  return scale.hi === scale.lo ? 0.5 : (v - scale.lo) / (scale.hi - scale.lo);
};

/** The 256 colours of a map, as flat RGB bytes (a PNG palette). */
export const palette = (map: (t: number) => Rgb): Uint8Array => {
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) out.set(map(i / 255), 3 * i);
  return out;
};

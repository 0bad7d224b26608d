// Convolutions and pooling over images stored NCHW (batch, channels, rows, columns), as PyTorch.
//
// A 2-D convolution of x [N, C, H, W] with filters w [K, C, kh, kw] gives y [N, K, OH, OW]:
//
//   y[n, k, oy, ox] = sum over c, i, j of x[n, c, oy*sh - padTop + i*dh, ox*sw - padLeft + j*dw] * w[k, c, i, j]
//
// where x is zero outside the image (the padding). Every sum has one order, (c, i, j) row-major,
// each product rounded to the element type and added to the running sum from +0, as the matrix
// products do (./matmul.ts): it is the sum of im2col's row (the patch under the window) times the
// filter, so y equals im2col then matmul bit for bit. Terms whose x entry is zero (padding, black
// pixels, relu's zeros) are skipped: adding a +0 or -0 product changes no such sum.
//
// Its two vector-Jacobian products are kernels of their own:
//   conv2dTranspose   dx = the transposed convolution of g with w (scatter each output position's
//                     column g[n, :, oy, ox] . w[:, c, i, j] back under its window): col2im of G^T W
//   conv2dWeightGrad  dw[k, c, i, j] = sum over n, oy, ox of g[n, k, oy, ox] * (the x entry it saw)
// NOTE: as in the products, a skipped zero contributes nothing where 0 * Infinity would be NaN.
//
// Pooling slides a window with the same geometry (no dilation): maxPool2d keeps each window's
// maximum and its flat position in x (for the gradient), avgPool2d the window's mean.

import type { TypedArray } from "../dtype.ts";
import { defineKernel } from "../kernel.ts";

/** The geometry of a convolution (or pooling) of x [n, c, h, w] to y [n, k, oh, ow] through a kh x kw window. */
export interface ConvGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly strideH: number;
  readonly strideW: number;
  /** Zero rows above and columns left of the image; those below and right follow from oh and ow. */
  readonly padTop: number;
  readonly padLeft: number;
  readonly dilationH: number;
  readonly dilationW: number;
}

export interface ConvParams extends ConvGeometry {
  /** Output channels (filters). */
  readonly k: number;
}

export interface Conv2dParams extends ConvParams {
  /** A bias [k] is the third input, added to every position of its channel. */
  readonly bias: boolean;
  /** Then max(., 0), as the relu kernel computes it. */
  readonly relu: boolean;
}

const showGeometry = (p: ConvGeometry): string => {
  const pair = (a: number, b: number) => (a === b ? `${a}` : `${a},${b}`);
  return `${p.n}x${p.c}x${p.h}x${p.w} ${pair(p.kh, p.kw)}` +
    `${p.strideH !== 1 || p.strideW !== 1 ? ` stride ${pair(p.strideH, p.strideW)}` : ""}` +
    `${p.padTop !== 0 || p.padLeft !== 0 ? ` pad ${pair(p.padTop, p.padLeft)}` : ""}` +
    `${p.dilationH !== 1 || p.dilationW !== 1 ? ` dilation ${pair(p.dilationH, p.dilationW)}` : ""}`;
};

/**
 * The taps of a window: for output row oy (or column), the input rows iy = oy*stride - pad + i*dilation
 * for i = 0 .. kh-1, with -1 where iy falls in the padding. Computed once per kernel call.
 */
const taps = (outSize: number, inSize: number, kernel: number, stride: number, pad: number, dilation: number): Int32Array => {
  const t = new Int32Array(outSize * kernel);
  for (let o = 0; o < outSize; o++) {
    for (let i = 0; i < kernel; i++) {
      const at = o * stride - pad + i * dilation;
      t[o * kernel + i] = at >= 0 && at < inSize ? at : -1;
    }
  }
  return t;
};

const rowTaps = (p: ConvGeometry) => taps(p.oh, p.h, p.kh, p.strideH, p.padTop, p.dilationH);
const colTaps = (p: ConvGeometry) => taps(p.ow, p.w, p.kw, p.strideW, p.padLeft, p.dilationW);

/** y = conv(x, w) (+ bias, then relu), NCHW. */
export const conv2d = defineKernel<Conv2dParams>({
  name: "conv2d",
  outputs: (inputs, p) => [{ dtype: inputs[0]!.dtype, size: p.n * p.k * p.oh * p.ow }],
  run: ([x, w, bias], [y], p) => {
    const { n, c, h, w: width, k, kh, kw, oh, ow } = p;
    const single = y instanceof Float32Array;
    const rows = rowTaps(p), cols = colTaps(p);
    const f = Math.fround;
    let at = 0;
    for (let b = 0; b < n; b++) {
      for (let f0 = 0; f0 < k; f0++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++, at++) {
            let s = 0;
            for (let ch = 0; ch < c; ch++) {
              const plane = (b * c + ch) * h;
              const filter = (f0 * c + ch) * kh;
              for (let i = 0; i < kh; i++) {
                const iy = rows[oy * kh + i]!;
                if (iy < 0) continue;
                const src = (plane + iy) * width;
                const tap = (filter + i) * kw;
                for (let j = 0; j < kw; j++) {
                  const ix = cols[ox * kw + j]!;
                  if (ix < 0) continue;
                  const xv = x![src + ix]!;
                  if (xv === 0) continue;
                  s = single ? f(s + f(xv * w![tap + j]!)) : s + xv * w![tap + j]!;
                }
              }
            }
            y![at] = s;
            if (p.bias) y![at] = y![at]! + bias![f0]!;
            if (p.relu) { const v = y![at]!; y![at] = v > 0 ? v : 0; }
          }
        }
      }
    }
  },
  show: (p) => `${showGeometry(p)} -> ${p.k}${p.bias ? " bias" : ""}${p.relu ? " relu" : ""}`,
});

/**
 * The transposed convolution: g [N, K, OH, OW] back to dx [N, C, H, W] through w [K, C, kh, kw], the
 * adjoint of conv2d in x (<conv(x, w), g> = <x, conv2dTranspose(g, w)>). In im2col's terms, the
 * column under each output position's window is G^T W (a sum over k, skipping zero entries of g)
 * and col2im adds it back under the window: every dx entry is the sum of its columns' entries in
 * the order of their output positions, (n, oy, ox) row-major.
 */
export const conv2dTranspose = defineKernel<ConvParams>({
  name: "conv2dTranspose",
  outputs: (inputs, p) => [{ dtype: inputs[0]!.dtype, size: p.n * p.c * p.h * p.w }],
  run: ([g, w], [dx], p) => {
    const { n, c, h, w: width, k, kh, kw, oh, ow } = p;
    const single = dx instanceof Float32Array;
    const rows = rowTaps(p), cols = colTaps(p);
    const f = Math.fround;
    const plane = oh * ow;
    dx!.fill(0);
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const from = b * k * plane + oy * ow + ox; // g[b, 0, oy, ox]; channel kk is plane * kk further
          for (let ch = 0; ch < c; ch++) {
            for (let i = 0; i < kh; i++) {
              const iy = rows[oy * kh + i]!;
              if (iy < 0) continue;
              for (let j = 0; j < kw; j++) {
                const ix = cols[ox * kw + j]!;
                if (ix < 0) continue;
                let t = 0;
                for (let kk = 0; kk < k; kk++) {
                  const gv = g![from + kk * plane]!;
                  if (gv === 0) continue;
                  const wv = w![((kk * c + ch) * kh + i) * kw + j]!;
                  t = single ? f(t + f(gv * wv)) : t + gv * wv;
                }
                const to = ((b * c + ch) * h + iy) * width + ix;
                dx![to] = dx![to]! + t;
              }
            }
          }
        }
      }
    }
  },
  show: (p) => `${p.k} -> ${showGeometry(p)}`,
});

/**
 * The filters' gradient dw [K, C, kh, kw] = sum over n, oy, ox of g[n, k, oy, ox] times the x entry
 * under tap (c, i, j) of that window, in (n, oy, ox) row-major order, skipping zero entries of g
 * (and taps in the padding). In im2col's terms: G^T . patches.
 */
export const conv2dWeightGrad = defineKernel<ConvParams>({
  name: "conv2dWeightGrad",
  outputs: (inputs, p) => [{ dtype: inputs[0]!.dtype, size: p.k * p.c * p.kh * p.kw }],
  run: ([x, g], [dw], p) => {
    const { n, c, h, w: width, k, kh, kw, oh, ow } = p;
    const single = dw instanceof Float32Array;
    const rows = rowTaps(p), cols = colTaps(p);
    const f = Math.fround;
    const taps = c * kh * kw;
    const sums = single ? new Float32Array(taps) : new Float64Array(taps);
    for (let kk = 0; kk < k; kk++) {
      sums.fill(0);
      for (let b = 0; b < n; b++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const gv = g![((b * k + kk) * oh + oy) * ow + ox]!;
            if (gv === 0) continue;
            for (let ch = 0; ch < c; ch++) {
              for (let i = 0; i < kh; i++) {
                const iy = rows[oy * kh + i]!;
                if (iy < 0) continue;
                const src = ((b * c + ch) * h + iy) * width;
                const tap = (ch * kh + i) * kw;
                for (let j = 0; j < kw; j++) {
                  const ix = cols[ox * kw + j]!;
                  if (ix < 0) continue;
                  sums[tap + j] = sums[tap + j]! + (single ? f(gv * x![src + ix]!) : gv * x![src + ix]!);
                }
              }
            }
          }
        }
      }
      dw!.set(sums, kk * taps);
    }
  },
  show: (p) => `${showGeometry(p)} -> ${p.k}`,
});

/** The geometry of a pooling window over x [n, c, h, w] (k is c: one output channel per input channel). */
export type PoolParams = ConvGeometry;

/**
 * Calls visit(at, window, count) for each output position `at` of a pooling, channel plane by plane,
 * with window[0 .. count) the flat positions in x of its taps inside the image, row-major.
 */
const eachWindow = (p: ConvGeometry, visit: (at: number, window: Int32Array, count: number) => void): void => {
  const rows = rowTaps(p), cols = colTaps(p);
  const window = new Int32Array(p.kh * p.kw);
  let at = 0;
  for (let plane = 0; plane < p.n * p.c; plane++) {
    for (let oy = 0; oy < p.oh; oy++) {
      for (let ox = 0; ox < p.ow; ox++) {
        let count = 0;
        for (let i = 0; i < p.kh; i++) {
          const iy = rows[oy * p.kh + i]!;
          if (iy < 0) continue;
          for (let j = 0; j < p.kw; j++) {
            const ix = cols[ox * p.kw + j]!;
            if (ix >= 0) window[count++] = (plane * p.h + iy) * p.w + ix;
          }
        }
        visit(at++, window, count);
      }
    }
  }
};

/**
 * Each window's maximum (NCHW, channel by channel) and the flat position in x that holds it.
 * NOTE: ties go to the first in row-major order and NaN wins, as max does; taps in the padding are
 * never chosen (every window holds a real entry: padding is at most half the window).
 */
export const maxPool2d = defineKernel<PoolParams>({
  name: "maxPool2d",
  outputs: (inputs, p) => [{ dtype: inputs[0]!.dtype, size: p.n * p.c * p.oh * p.ow }, { dtype: "int32", size: p.n * p.c * p.oh * p.ow }],
  run: ([x], [values, positions], p) =>
    eachWindow(p, (at, window, count) => {
      let best = x![window[0]!]!;
      let pos = window[0]!;
      for (let t = 1; t < count; t++) {
        const v = x![window[t]!]!;
        if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
          best = v;
          pos = window[t]!;
        }
      }
      values![at] = best;
      positions![at] = pos;
    }),
  show: showGeometry,
});

/**
 * Each window's mean: the sum of its entries (row-major, the padding counting as zeros, as PyTorch's
 * default count_include_pad) divided by kh * kw.
 */
export const avgPool2d = defineKernel<PoolParams>({
  name: "avgPool2d",
  outputs: (inputs, p) => [{ dtype: inputs[0]!.dtype, size: p.n * p.c * p.oh * p.ow }],
  run: ([x], [out], p) => {
    const single = out instanceof Float32Array;
    eachWindow(p, (at, window, count) => {
      let s = 0;
      for (let t = 0; t < count; t++) s = single ? Math.fround(s + x![window[t]!]!) : s + x![window[t]!]!;
      out![at] = s / (p.kh * p.kw);
    });
  },
  show: showGeometry,
});

/**
 * The adjoint of avgPool2d: each output position's g / (kh * kw) (rounded to the element type)
 * added back to every entry of its window, positions in row-major order.
 */
export const avgPool2dTranspose = defineKernel<PoolParams>({
  name: "avgPool2dTranspose",
  outputs: (inputs, p) => [{ dtype: inputs[0]!.dtype, size: p.n * p.c * p.h * p.w }],
  run: ([g], [dx], p) => {
    const single = dx instanceof Float32Array;
    dx!.fill(0);
    eachWindow(p, (at, window, count) => {
      const share = single ? Math.fround(g![at]! / (p.kh * p.kw)) : g![at]! / (p.kh * p.kw);
      for (let t = 0; t < count; t++) dx![window[t]!] = dx![window[t]!]! + share;
    });
  },
  show: showGeometry,
});

/** For specs and the fast kernels: the im2col matrix [n * oh * ow, c * kh * kw] of x (zeros in the padding). */
export const im2col = (x: TypedArray, p: ConvGeometry, out: TypedArray): void => {
  const { n, c, h, w: width, kh, kw, oh, ow } = p;
  const rows = rowTaps(p), cols = colTaps(p);
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          for (let i = 0; i < kh; i++) {
            const iy = rows[oy * kh + i]!;
            for (let j = 0; j < kw; j++, at++) {
              const ix = cols[ox * kw + j]!;
              out[at] = iy < 0 || ix < 0 ? 0 : x[((b * c + ch) * h + iy) * width + ix]!;
            }
          }
        }
      }
    }
  }
};

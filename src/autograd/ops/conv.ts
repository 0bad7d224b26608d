// Convolution and pooling over images stored NCHW (batch, channels, rows, columns), as PyTorch's
// F.conv2d, F.conv_transpose2d, F.max_pool2d and F.avg_pool2d. Output sizes follow PyTorch's formula:
//
//   out = floor((in + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1
//
// A convolution y = conv(x, w) is bilinear: with B(x, w, g) = <conv(x, w), g>, its two gradients are
// the other two kernels, and each of the three ops differentiates into the other two:
//
//   conv2d(x, w)               vjp: dx = conv2dTranspose(g, w),  dw = weightGrad(x, g)
//   conv2dTranspose(g, w)      vjp: dg = conv2d(u, w),           dw = weightGrad(u, g)
//   weightGrad(x, g)           vjp: dx = conv2dTranspose(g, v),  dg = conv2d(x, v)
//
// so gradients of gradients (and jit) work through them. The fused bias and relu of conv2d follow
// linear's: the relu's derivative read from the output (maskPositive), the bias's gradient the sum
// over the batch and the positions.

import * as k from "../../backend/kernels.ts";
import { isFloat } from "../../backend/index.ts";
import { defineOp, run, run1, type Op } from "../define-op.ts";
import { ShapeError, shapeStr, type Shape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { maskPositive } from "./elementwise.ts";
import { reshape, scatterFlatOp, sumToShape } from "./movement.ts";

/** One number for both axes, or [rows, columns]. */
export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  /** Step of the window, default 1. */
  readonly stride?: Pair;
  /**
   * Zeros around the image: a number of rows/columns on each side, [rows, columns], "valid" (0) or
   * "same" (the output as large as the input; stride 1 only; an odd total goes one more below/right).
   */
  readonly padding?: Pair | "valid" | "same";
  /** Spacing of the window's taps, default 1. */
  readonly dilation?: Pair;
  /** A bias [K] added to every position of its output channel. */
  readonly bias?: Tensor;
  /** Applied inside the op: "relu", or null (the default) for none. */
  readonly activation?: "relu" | null;
}

export interface Conv2dTransposeOptions {
  readonly stride?: Pair;
  readonly padding?: Pair;
  readonly dilation?: Pair;
  /** Extra rows/columns on the bottom/right of the output (less than the stride), to pick among the input sizes a strided convolution maps to the same output. */
  readonly outputPadding?: Pair;
}

export interface Pool2dOptions {
  /** Step of the window, default the window's size (windows side by side). */
  readonly stride?: Pair;
  /** Rows/columns added on each side, at most half the window (-Infinity for max, zeros counted in the mean for avg). */
  readonly padding?: Pair;
}

const pair = (op: string, what: string, v: Pair, min: number): [number, number] => {
  const [a, b] = typeof v === "number" ? [v, v] : v;
  const ok = (d: unknown) => Number.isInteger(d) && (d as number) >= min;
  if ((typeof v !== "number" && (!Array.isArray(v) || v.length !== 2)) || !ok(a) || !ok(b)) {
    throw new ShapeError(`${op}: ${what} must be an integer >= ${min} or a pair [rows, columns] of them, got ${JSON.stringify(v)}`);
  }
  return [a!, b!];
};

const requireImages = (op: string, name: string, t: Tensor): void => {
  if (t.rank !== 4) throw new ShapeError(`${op}: ${name} must be a batch of images [N, C, H, W] (rank 4), got ${shapeStr(t.shape)}`);
  if (!isFloat(t.dtype)) throw new ShapeError(`${op}: expected float32 or float64 tensors, got ${t.dtype} (cast it first)`);
};

/** PyTorch's output size, or a ShapeError when the window does not fit the padded input. */
const outSize = (op: string, axis: string, size: number, before: number, after: number, kernel: number, stride: number, dilation: number): number => {
  const span = dilation * (kernel - 1) + 1;
  if (size + before + after < span) {
    throw new ShapeError(`${op}: the window spans ${span} ${axis} (kernel ${kernel}, dilation ${dilation}) but the input has ${size} ${axis}${before + after > 0 ? ` (${size + before + after} with padding)` : ""}; expected at least ${span}`);
  }
  return Math.floor((size + before + after - span) / stride) + 1;
};

const pureConv = (p: k.ConvParams): k.Conv2dParams => ({ ...p, bias: false, relu: false });
const geometry = ({ bias: _bias, relu: _relu, ...p }: k.Conv2dParams): k.ConvParams => p;

const conv2dOp: Op<k.Conv2dParams> = defineOp<k.Conv2dParams>({
  name: "conv2d",
  forward: (inputs, p) => run1(k.conv2d, inputs, p, [p.n, p.k, p.oh, p.ow]),
  vjp: (g, { inputs: [x, w], out, attrs: p, needs }) => {
    const gm = p.relu ? maskPositive(g, out) : g;
    const q = geometry(p);
    return [
      needs[0] ? transposeOp([gm, w!], q) : null,
      needs[1] ? weightGradOp([x!, gm], q) : null,
      ...(p.bias ? [needs[2] ? reshape(sumToShape(gm, [p.k, 1, 1]), [p.k]) : null] : []),
    ];
  },
});

const transposeOp: Op<k.ConvParams> = defineOp<k.ConvParams>({
  name: "conv2dTranspose",
  forward: ([g, w], p) => run1(k.conv2dTranspose, [g!, w!], p, [p.n, p.c, p.h, p.w]),
  vjp: (u, { inputs: [g, w], attrs: p, needs }) => [needs[0] ? conv2dOp([u, w!], pureConv(p)) : null, needs[1] ? weightGradOp([u, g!], p) : null],
});

const weightGradOp: Op<k.ConvParams> = defineOp<k.ConvParams>({
  name: "conv2dWeightGrad",
  forward: ([x, g], p) => run1(k.conv2dWeightGrad, [x!, g!], p, [p.k, p.c, p.kh, p.kw]),
  vjp: (v, { inputs: [x, g], attrs: p, needs }) => [needs[0] ? transposeOp([g!, v], p) : null, needs[1] ? conv2dOp([x!, v], pureConv(p)) : null],
});

/** conv2d's kernel params for x and weight of these shapes, or a ShapeError naming what does not fit. */
const convParams = (op: string, xShape: Shape, wShape: Shape, options: Conv2dOptions): k.Conv2dParams => {
  const { bias, activation = null } = options;
  if (xShape.length !== 4) throw new ShapeError(`${op}: x must be a batch of images [N, C, H, W] (rank 4), got ${shapeStr(xShape)}`);
  if (wShape.length !== 4) throw new ShapeError(`${op}: weight must be filters [K, C, kh, kw] (rank 4), got ${shapeStr(wShape)}`);
  const [n, c, h, width] = xShape as [number, number, number, number];
  const [kk, wc, kh, kw] = wShape as [number, number, number, number];
  if (wc !== c) throw new ShapeError(`${op}: x ${shapeStr(xShape)} has ${c} channels but weight ${shapeStr(wShape)} expects ${wc}`);
  if (kh < 1 || kw < 1 || kk < 1) throw new ShapeError(`${op}: weight ${shapeStr(wShape)} has an empty axis`);
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== kk)) throw new ShapeError(`${op}: bias must be [${kk}] (one per filter), got ${shapeStr(bias.shape)}`);
  if (activation !== null && activation !== "relu") throw new ShapeError(`${op}: unknown activation ${JSON.stringify(activation)} (expected "relu" or null)`);
  const [strideH, strideW] = pair(op, "stride", options.stride ?? 1, 1);
  const [dilationH, dilationW] = pair(op, "dilation", options.dilation ?? 1, 1);
  const padding = options.padding ?? 0;
  let pads: [number, number, number, number]; // top, bottom, left, right
  if (padding === "valid") pads = [0, 0, 0, 0];
  else if (padding === "same") {
    if (strideH !== 1 || strideW !== 1) throw new ShapeError(`${op}: padding "same" needs stride 1 (as PyTorch), got stride ${JSON.stringify(options.stride)}`);
    const th = dilationH * (kh - 1), tw = dilationW * (kw - 1);
    pads = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else {
    const [ph, pw] = pair(op, "padding", padding, 0);
    pads = [ph, ph, pw, pw];
  }
  const oh = outSize(op, "rows", h, pads[0], pads[1], kh, strideH, dilationH);
  const ow = outSize(op, "columns", width, pads[2], pads[3], kw, strideW, dilationW);
  return {
    n, c, h, w: width, k: kk, kh, kw, oh, ow, strideH, strideW, padTop: pads[0], padLeft: pads[2], dilationH, dilationW,
    bias: bias !== undefined, relu: activation === "relu",
  };
};

/** The shape conv2d gives for x and weight of these shapes, [N, K, OH, OW] (a ShapeError where they do not fit). */
export const conv2dShape = (xShape: Shape, weightShape: Shape, options: Omit<Conv2dOptions, "bias"> = {}): Shape => {
  const p = convParams("conv2d", xShape, weightShape, options);
  return [p.n, p.k, p.oh, p.ow];
};

/**
 * 2-D convolution (cross-correlation, as every deep-learning library computes it) of x [N, C, H, W]
 * with filters w [K, C, kh, kw]: y [N, K, OH, OW], y[n, k] = sum over c of x[n, c] slid under w[k, c];
 * with options.bias [K] added per output channel and options.activation "relu" applied, in one op.
 */
export const conv2d = (x: Tensor, weight: Tensor, options: Conv2dOptions = {}): Tensor => {
  requireImages("conv2d", "x", x);
  const p = convParams("conv2d", x.shape, weight.shape, options);
  return conv2dOp(options.bias === undefined ? [x, weight] : [x, weight, options.bias], p);
};

/**
 * The transposed convolution ("deconvolution", PyTorch's conv_transpose2d) of x [N, K, H, W] with
 * weight [K, C, kh, kw]: [N, C, OH, OW], OH = (H - 1) stride - 2 padding + dilation (kh - 1) +
 * outputPadding + 1. It is the adjoint of conv2d with the same weight and options:
 * <conv2d(y, w), x> = <y, conv2dTranspose(x, w)>, the gradient conv2d passes back to its input.
 */
export const conv2dTranspose = (x: Tensor, weight: Tensor, options: Conv2dTransposeOptions = {}): Tensor => {
  const op = "conv2dTranspose";
  requireImages(op, "x", x);
  if (weight.rank !== 4) throw new ShapeError(`${op}: weight must be [K, C, kh, kw] (rank 4), got ${shapeStr(weight.shape)}`);
  const [n, kk, ih, iw] = x.shape as [number, number, number, number];
  const [wk, c, kh, kw] = weight.shape as [number, number, number, number];
  if (wk !== kk) throw new ShapeError(`${op}: x ${shapeStr(x.shape)} has ${kk} channels but weight ${shapeStr(weight.shape)} expects ${wk}`);
  const [strideH, strideW] = pair(op, "stride", options.stride ?? 1, 1);
  const [padTop, padLeft] = pair(op, "padding", options.padding ?? 0, 0);
  const [dilationH, dilationW] = pair(op, "dilation", options.dilation ?? 1, 1);
  const [extraH, extraW] = pair(op, "outputPadding", options.outputPadding ?? 0, 0);
  if (extraH >= strideH || extraW >= strideW) throw new ShapeError(`${op}: outputPadding ${JSON.stringify(options.outputPadding)} must be less than the stride ${JSON.stringify(options.stride ?? 1)}`);
  const h = (ih - 1) * strideH - 2 * padTop + dilationH * (kh - 1) + extraH + 1;
  const width = (iw - 1) * strideW - 2 * padLeft + dilationW * (kw - 1) + extraW + 1;
  if (h < 1 || width < 1) throw new ShapeError(`${op}: the output would be ${h}x${width} for x ${shapeStr(x.shape)}: the padding is too large`);
  return transposeOp([x, weight], { n, c, h, w: width, k: kk, kh, kw, oh: ih, ow: iw, strideH, strideW, padTop, padLeft, dilationH, dilationW });
};

const poolParams = (op: string, xShape: Shape, kernel: Pair, options: Pool2dOptions): k.PoolParams => {
  if (xShape.length !== 4) throw new ShapeError(`${op}: x must be a batch of images [N, C, H, W] (rank 4), got ${shapeStr(xShape)}`);
  const [kh, kw] = pair(op, "kernel", kernel, 1);
  const [strideH, strideW] = pair(op, "stride", options.stride ?? [kh, kw], 1);
  const [padTop, padLeft] = pair(op, "padding", options.padding ?? 0, 0);
  if (2 * padTop > kh || 2 * padLeft > kw) {
    throw new ShapeError(`${op}: padding ${JSON.stringify(options.padding)} must be at most half the window ${JSON.stringify(kernel)} (as PyTorch)`);
  }
  const [n, c, h, width] = xShape as [number, number, number, number];
  const oh = outSize(op, "rows", h, padTop, padTop, kh, strideH, 1);
  const ow = outSize(op, "columns", width, padLeft, padLeft, kw, strideW, 1);
  return { n, c, h, w: width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH: 1, dilationW: 1 };
};

const maxPoolOp = defineOp<k.PoolParams>({
  name: "maxPool2d",
  forward: ([x], p) => {
    const shape = [p.n, p.c, p.oh, p.ow];
    const [values, positions] = run(k.maxPool2d, [x!], p, [shape, shape]);
    return { out: values!, saved: [positions!] };
  },
  // NOTE: each window's cotangent goes to its arg-max (the first among ties); overlapping windows add up.
  vjp: (g, { inputs: [x], saved: [positions] }) => [scatterFlatOp([g, positions!], { shape: x!.shape, inputShape: g.shape })],
});

/** The maximum of each kh x kw window of x [N, C, H, W] (PyTorch's max_pool2d); the gradient goes to each window's arg-max. */
export const maxPool2d = (x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor => {
  requireImages("maxPool2d", "x", x);
  return maxPoolOp([x], poolParams("maxPool2d", x.shape, kernel, options));
};

/** The shape a pooling (max or average) gives for x of this shape, [N, C, OH, OW] (a ShapeError where the window does not fit). */
export const pool2dShape = (xShape: Shape, kernel: Pair, options: Pool2dOptions = {}): Shape => {
  const p = poolParams("pool2d", xShape, kernel, options);
  return [p.n, p.c, p.oh, p.ow];
};

const avgPoolOp: Op<k.PoolParams> = defineOp<k.PoolParams>({
  name: "avgPool2d",
  forward: ([x], p) => run1(k.avgPool2d, [x!], p, [p.n, p.c, p.oh, p.ow]),
  vjp: (g, { attrs: p }) => [avgPoolTransposeOp([g], p)],
});
const avgPoolTransposeOp: Op<k.PoolParams> = defineOp<k.PoolParams>({
  name: "avgPool2dTranspose",
  forward: ([g], p) => run1(k.avgPool2dTranspose, [g!], p, [p.n, p.c, p.h, p.w]),
  vjp: (u, { attrs: p }) => [avgPoolOp([u], p)],
});

/** The mean of each kh x kw window of x [N, C, H, W] (PyTorch's avg_pool2d: padding counts as zeros). */
export const avgPool2d = (x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor => {
  requireImages("avgPool2d", "x", x);
  return avgPoolOp([x], poolParams("avgPool2d", x.shape, kernel, options));
};

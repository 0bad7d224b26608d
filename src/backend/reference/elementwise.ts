// Elementwise kernels: one output element from the same element of each input. Plain loops, one
// per operation (a loop calling a function per element would be many times slower in JavaScript).
// float32 results are rounded once from the double-precision result, which for +, -, *, / and
// sqrt is the correctly rounded float32 operation (53 >= 2 * 24 + 2 bits), as a float32 machine
// computes it.

import type { DType, TypedArray } from "../dtype.ts";
import { defineKernel, likeFirst } from "../kernel.ts";

export type UnaryOp =
  | "neg" | "exp" | "log" | "log1p" | "sqrt" | "abs" | "sign" | "relu" | "sigmoid" | "tanh" | "sin" | "cos" | "floor" | "isFinite";

export const UNARY_OPS: readonly UnaryOp[] = ["neg", "exp", "log", "log1p", "sqrt", "abs", "sign", "relu", "sigmoid", "tanh", "sin", "cos", "floor", "isFinite"];

const unaryLoops: Record<UnaryOp, (a: TypedArray, out: TypedArray) => void> = {
  neg: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = -a[i]!; },
  exp: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.exp(a[i]!); },
  log: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.log(a[i]!); },
  log1p: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.log1p(a[i]!); },
  sqrt: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.sqrt(a[i]!); },
  abs: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]!); },
  sign: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.sign(a[i]!); },
  // max(x, 0), written so that NaN and -0 give +0.
  relu: (a, out) => { for (let i = 0; i < a.length; i++) { const x = a[i]!; out[i] = x > 0 ? x : 0; } },
  // 1 / (1 + e^-x), without overflow for large |x|.
  sigmoid: (a, out) => {
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      out[i] = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
  },
  tanh: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.tanh(a[i]!); },
  sin: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.sin(a[i]!); },
  cos: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.cos(a[i]!); },
  floor: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Math.floor(a[i]!); },
  isFinite: (a, out) => { for (let i = 0; i < a.length; i++) out[i] = Number.isFinite(a[i]!) ? 1 : 0; },
};

/** out = op(a), elementwise. */
export const unary = defineKernel<{ readonly op: UnaryOp }>({
  name: "unary",
  outputs: likeFirst((a) => a.size),
  run: ([a], [out], { op }) => unaryLoops[op](a!, out!),
  inPlace: [0],
  show: ({ op }) => op,
});

export type BinaryOp = "add" | "sub" | "mul" | "div" | "maximum" | "minimum" | "pow" | "greater" | "less" | "equal";

export const BINARY_OPS: readonly BinaryOp[] = ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "greater", "less", "equal"];

// Each loop takes b of the same length as a, or of length 1 (a scalar, read once: a compiled
// program passes a broadcast scalar this way instead of repeating it).
type BinaryLoop = (a: TypedArray, b: TypedArray, out: TypedArray) => void;

const binaryLoops: Record<BinaryOp, BinaryLoop> = {
  add: (a, b, out) => {
    if (b.length === 1 && a.length !== 1) { const y = b[0]!; for (let i = 0; i < a.length; i++) out[i] = a[i]! + y; }
    else for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  },
  sub: (a, b, out) => {
    if (b.length === 1 && a.length !== 1) { const y = b[0]!; for (let i = 0; i < a.length; i++) out[i] = a[i]! - y; }
    else for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  },
  mul: (a, b, out) => {
    if (b.length === 1 && a.length !== 1) { const y = b[0]!; for (let i = 0; i < a.length; i++) out[i] = a[i]! * y; }
    else for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!;
  },
  div: (a, b, out) => {
    if (b.length === 1 && a.length !== 1) { const y = b[0]!; for (let i = 0; i < a.length; i++) out[i] = a[i]! / y; }
    else for (let i = 0; i < a.length; i++) out[i] = a[i]! / b[i]!;
  },
  // NaN propagates from either side; ties keep a.
  maximum: (a, b, out) => {
    const s = b.length === 1 && a.length !== 1;
    for (let i = 0; i < a.length; i++) { const x = a[i]!, y = s ? b[0]! : b[i]!; out[i] = x >= y || Number.isNaN(x) ? x : y; }
  },
  minimum: (a, b, out) => {
    const s = b.length === 1 && a.length !== 1;
    for (let i = 0; i < a.length; i++) { const x = a[i]!, y = s ? b[0]! : b[i]!; out[i] = x <= y || Number.isNaN(x) ? x : y; }
  },
  pow: (a, b, out) => {
    const s = b.length === 1 && a.length !== 1;
    for (let i = 0; i < a.length; i++) out[i] = a[i]! ** (s ? b[0]! : b[i]!);
  },
  greater: (a, b, out) => {
    const s = b.length === 1 && a.length !== 1;
    for (let i = 0; i < a.length; i++) out[i] = a[i]! > (s ? b[0]! : b[i]!) ? 1 : 0;
  },
  less: (a, b, out) => {
    const s = b.length === 1 && a.length !== 1;
    for (let i = 0; i < a.length; i++) out[i] = a[i]! < (s ? b[0]! : b[i]!) ? 1 : 0;
  },
  equal: (a, b, out) => {
    const s = b.length === 1 && a.length !== 1;
    for (let i = 0; i < a.length; i++) out[i] = a[i]! === (s ? b[0]! : b[i]!) ? 1 : 0;
  },
};

/** out = a op b, elementwise; b has a's length or is a single value. Comparisons give 1 or 0. */
export const binary = defineKernel<{ readonly op: BinaryOp }>({
  name: "binary",
  outputs: likeFirst((a) => a.size),
  run: ([a, b], [out], { op }) => binaryLoops[op](a!, b!, out!),
  inPlace: [0],
  show: ({ op }) => op,
});

/** out = a^p for a constant p. */
export const powConstant = defineKernel<{ readonly p: number }>({
  name: "powConstant",
  outputs: likeFirst((a) => a.size),
  run: ([a], [out], { p }) => { for (let i = 0; i < a!.length; i++) out![i] = a![i]! ** p; },
  show: ({ p }) => `p=${p}`,
});

/** out = a where condition is nonzero, else b (all of one length). */
export const where = defineKernel({
  name: "where",
  outputs: (inputs) => [{ dtype: inputs[1]!.dtype, size: inputs[0]!.size }],
  run: ([c, a, b], [out]) => { for (let i = 0; i < c!.length; i++) out![i] = c![i] !== 0 ? a![i]! : b![i]!; },
});

/** out = g where y > 0, else +0: the relu's vector-Jacobian product, reading the relu's output y. */
export const maskPositive = defineKernel({
  name: "maskPositive",
  outputs: likeFirst((g) => g.size),
  run: ([g, y], [out]) => { for (let i = 0; i < g!.length; i++) out![i] = y![i]! > 0 ? g![i]! : 0; },
});

/** The same values in another element type (out's); integers from floats truncate toward zero. */
export const cast = defineKernel<{ readonly dtype: DType }>({
  name: "cast",
  outputs: (inputs, { dtype }) => [{ dtype, size: inputs[0]!.size }],
  run: ([a], [out]) => {
    if (out instanceof Float32Array || out instanceof Float64Array || a instanceof Uint8Array || a instanceof Int32Array || a instanceof Uint32Array) out!.set(a!);
    else for (let i = 0; i < a!.length; i++) out![i] = Math.trunc(a![i]!);
  },
  show: ({ dtype }) => dtype,
});

/** Every element set to `value`. */
export const fill = defineKernel<{ readonly dtype: DType; readonly size: number; readonly value: number }>({
  name: "fill",
  outputs: (_inputs, { dtype, size }) => [{ dtype, size }],
  run: (_inputs, [out], { value }) => { out!.fill(value); },
  show: ({ value }) => `value=${value}`,
});

// Elementwise loops over typed arrays. No graph code here: these are the raw numerics.

import type { TypedArray } from "../tensor.ts";

export const like = (a: TypedArray, n = a.length): TypedArray =>
  a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);

export const map = (a: TypedArray, f: (x: number) => number): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]!);
  return out;
};

export const zip = (a: TypedArray, b: TypedArray, f: (x: number, y: number) => number): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]!, b[i]!);
  return out;
};

export const add = (a: TypedArray, b: TypedArray): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
};

export const sub = (a: TypedArray, b: TypedArray): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
};

export const mul = (a: TypedArray, b: TypedArray): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!;
  return out;
};

export const div = (a: TypedArray, b: TypedArray): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! / b[i]!;
  return out;
};

export const scale = (a: TypedArray, s: number): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * s;
  return out;
};

/** out = g where mask > 0, else 0 (the relu vjp, reading the relu output as the mask). */
export const maskPositive = (g: TypedArray, mask: TypedArray): TypedArray => {
  const out = like(g);
  for (let i = 0; i < g.length; i++) out[i] = mask[i]! > 0 ? g[i]! : 0;
  return out;
};

export const relu = (a: TypedArray): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    out[i] = x > 0 ? x : 0;
  }
  return out;
};

/** 1 / (1 + e^-x), without overflow for large |x|. */
export const sigmoid = (a: TypedArray): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    out[i] = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }
  return out;
};

/** g * s * (1 - s): the sigmoid vjp from its output s. */
export const sigmoidGrad = (g: TypedArray, s: TypedArray): TypedArray => {
  const out = like(g);
  for (let i = 0; i < g.length; i++) out[i] = g[i]! * s[i]! * (1 - s[i]!);
  return out;
};

export const tanh = (a: TypedArray): TypedArray => {
  const out = like(a);
  for (let i = 0; i < a.length; i++) out[i] = Math.tanh(a[i]!);
  return out;
};

/** g * (1 - t^2): the tanh vjp from its output t. */
export const tanhGrad = (g: TypedArray, t: TypedArray): TypedArray => {
  const out = like(g);
  for (let i = 0; i < g.length; i++) out[i] = g[i]! * (1 - t[i]! * t[i]!);
  return out;
};

/**
 * In place on `c` ([rows, n], a result this caller owns and nobody has seen yet): add `bias` ([n])
 * to every row, then, if `relu`, max(., 0). The same roundings as add then relu: each sum is
 * rounded to c's type once, then clamped.
 */
export const addBiasInPlace = (c: TypedArray, bias: TypedArray, relu: boolean): TypedArray => {
  const n = bias.length;
  if (n === 0) return c;
  for (let r = 0; r < c.length; r += n) {
    for (let j = 0; j < n; j++) {
      c[r + j] = c[r + j]! + bias[j]!;
      if (relu) { const x = c[r + j]!; c[r + j] = x > 0 ? x : 0; }
    }
  }
  return c;
};

/** Sums of the columns of a [rows, n] matrix, accumulated row by row in the array's own type. */
export const columnSums = (a: TypedArray, n: number): TypedArray => {
  const out = like(a, n);
  if (n === 0) return out;
  for (let r = 0; r < a.length; r += n) for (let j = 0; j < n; j++) out[j] = out[j]! + a[r + j]!;
  return out;
};

/**
 * The relu layer's backward in one pass over g [rows, n]: gm = maskPositive(g, mask) and its
 * columnSums, with the same roundings as the two loops (sums accumulated row by row in g's type).
 */
export const maskPositiveWithColumnSums = (g: TypedArray, mask: TypedArray, n: number): { masked: TypedArray; sums: TypedArray } => {
  const masked = like(g);
  const sums = like(g, n);
  if (n === 0) return { masked, sums };
  for (let r = 0; r < g.length; r += n) {
    for (let j = 0; j < n; j++) {
      const v = mask[r + j]! > 0 ? g[r + j]! : 0;
      masked[r + j] = v;
      sums[j] = sums[j]! + v;
    }
  }
  return { masked, sums };
};

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

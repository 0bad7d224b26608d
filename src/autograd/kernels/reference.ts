// The reference matrix products: plain loops over row-major typed arrays, any dtype. They define
// what the fast kernels (./matmul.ts picks WebAssembly SIMD for float32) must compute, serve
// float64 (gradchecks), and stand in wherever WebAssembly SIMD is unavailable. The SGD step at the
// end is the same kind of definition, for the optimizer.
// C[m,n] = op(A) . op(B) where op transposes when asked, so the gradients dA = G.B^T and
// dB = A^T.G need no explicit transpose copies.

import type { TypedArray } from "../tensor.ts";
import { like } from "./elementwise.ts";

/** C = A[m,k] . B[k,n] (i-k-j order: the inner loop walks rows of B and C contiguously). */
export const matmulNN = (a: TypedArray, b: TypedArray, m: number, k: number, n: number): TypedArray => {
  const c = like(a, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      if (aip === 0) continue; // zero inputs (most MNIST pixels, half of ReLU outputs) add nothing
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aip * b[bp + j]!;
    }
  }
  return c;
};

/** C = A[m,k] . B^T where B is stored [n,k] (dot products of rows). */
export const matmulNT = (a: TypedArray, b: TypedArray, m: number, k: number, n: number): TypedArray => {
  const c = like(a, m * n);
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
      c[i * n + j] = s;
    }
  }
  return c;
};

/** C = A^T . B where A is stored [k,m] and B is [k,n] (a sum of outer products of rows). */
export const matmulTN = (a: TypedArray, b: TypedArray, m: number, k: number, n: number): TypedArray => {
  const c = like(a, m * n);
  for (let p = 0; p < k; p++) {
    const ap = p * m;
    const bp = p * n;
    for (let i = 0; i < m; i++) {
      const api = a[ap + i]!;
      if (api === 0) continue;
      const ci = i * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + api * b[bp + j]!;
    }
  }
  return c;
};

/**
 * out[i] = p[i] - lr * (g[i] + decay * p[i]): plain gradient descent with decoupled decay. out may
 * be p. In float64 for Float64Array outputs; otherwise in float32: lr and decay are rounded to
 * float32 and so is every product and sum.
 */
export const sgdStepReference = (p: TypedArray, g: TypedArray, out: TypedArray, lr: number, decay: number): void => {
  if (out instanceof Float64Array) {
    for (let i = 0; i < p.length; i++) out[i] = p[i]! - lr * (g[i]! + decay * p[i]!);
    return;
  }
  const f = Math.fround;
  const lr32 = f(lr);
  const decay32 = f(decay);
  for (let i = 0; i < p.length; i++) out[i] = p[i]! - f(lr32 * f(g[i]! + f(decay32 * p[i]!)));
};

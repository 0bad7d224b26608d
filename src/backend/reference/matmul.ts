// Matrix products: C = op(A) . op(B) for a stack of `batch` matrices, where op transposes A (stored
// [k, m]) or B (stored [n, k]) when asked, so the gradients G.B^T and A^T.G need no transposed copy.
// A or B may be one matrix shared by the whole stack (batchA/batchB false: a broadcast batch axis).
//
// Every element of C is summed in one order, p = 0, 1, ..., k - 1, each product rounded to the
// element type and added to the running sum (rounded again): for float32, c = f32(c + f32(a * b)),
// as a float32 machine without fused multiply-add computes it. Terms whose A entry is zero are
// skipped: adding a +0 or -0 product changes no sum that starts at +0.
// NOTE: so an Infinity or NaN in B next to a zero in A does not reach C (0 * Inf would be NaN).

import type { TypedArray } from "../dtype.ts";
import { defineKernel } from "../kernel.ts";

export interface MatmulParams {
  readonly batch: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transA: boolean;
  readonly transB: boolean;
  /** A holds `batch` matrices (true) or one for all (false). */
  readonly batchA: boolean;
  readonly batchB: boolean;
}

// One loop per element type: float32 rounds each product (Math.fround), float64 needs no rounding.
// The store into C rounds each sum.

/** C[m,n] += A[m,k] . B[k,n] (i-p-j: the inner loop walks rows of B and C). C starts zeroed. */
const nn32 = (a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number, m: number, k: number, n: number): void => {
  for (let i = 0; i < m; i++) {
    const ci = co + i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[ao + i * k + p]!;
      if (aip === 0) continue;
      const bp = bo + p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + Math.fround(aip * b[bp + j]!);
    }
  }
};
const nn64 = (a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number, m: number, k: number, n: number): void => {
  for (let i = 0; i < m; i++) {
    const ci = co + i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[ao + i * k + p]!;
      if (aip === 0) continue;
      const bp = bo + p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aip * b[bp + j]!;
    }
  }
};

/** C[m,n] += A^T . B, A stored [k,m] (a sum of outer products of rows). */
const tn32 = (a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number, m: number, k: number, n: number): void => {
  for (let p = 0; p < k; p++) {
    const ap = ao + p * m;
    const bp = bo + p * n;
    for (let i = 0; i < m; i++) {
      const api = a[ap + i]!;
      if (api === 0) continue;
      const ci = co + i * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + Math.fround(api * b[bp + j]!);
    }
  }
};
const tn64 = (a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number, m: number, k: number, n: number): void => {
  for (let p = 0; p < k; p++) {
    const ap = ao + p * m;
    const bp = bo + p * n;
    for (let i = 0; i < m; i++) {
      const api = a[ap + i]!;
      if (api === 0) continue;
      const ci = co + i * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + api * b[bp + j]!;
    }
  }
};

/** C[m,n] = A . B^T (dot products of rows), with B stored [n,k]: the sum kept in C's type. */
const nt = (a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number, m: number, k: number, n: number): void => {
  const single = c instanceof Float32Array;
  for (let i = 0; i < m; i++) {
    const ai = ao + i * k;
    for (let j = 0; j < n; j++) {
      const bj = bo + j * k;
      let s = 0;
      if (single) {
        for (let p = 0; p < k; p++) { const x = a[ai + p]!; if (x !== 0) s = Math.fround(s + Math.fround(x * b[bj + p]!)); }
      } else {
        for (let p = 0; p < k; p++) { const x = a[ai + p]!; if (x !== 0) s += x * b[bj + p]!; }
      }
      c[co + i * n + j] = s;
    }
  }
};

/** C[m,n] = A^T . B^T (A stored [k,m], B [n,k]): rare, the plain definition. */
const tt = (a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number, m: number, k: number, n: number): void => {
  const single = c instanceof Float32Array;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const x = a[ao + p * m + i]!;
        if (x === 0) continue;
        s = single ? Math.fround(s + Math.fround(x * b[bo + j * k + p]!)) : s + x * b[bo + j * k + p]!;
      }
      c[co + i * n + j] = s;
    }
  }
};

/** The reference product of one matrix pair into C at offset co (C's m*n elements overwritten). */
export const matmulInto = (a: TypedArray, ao: number, b: TypedArray, bo: number, c: TypedArray, co: number, p: MatmulParams): void => {
  const { m, k, n, transA, transB } = p;
  const single = c instanceof Float32Array;
  if (!transB) {
    c.fill(0, co, co + m * n);
    if (transA) (single ? tn32 : tn64)(a, ao, b, bo, c, co, m, k, n);
    else (single ? nn32 : nn64)(a, ao, b, bo, c, co, m, k, n);
  } else if (!transA) nt(a, ao, b, bo, c, co, m, k, n);
  else tt(a, ao, b, bo, c, co, m, k, n);
};

const showMatmul = ({ batch, m, k, n, transA, transB }: MatmulParams) =>
  `${batch > 1 ? `${batch}x` : ""}${m}x${k}x${n}${transA ? " transA" : ""}${transB ? " transB" : ""}`;

/** C[batch, m, n] = op(A) . op(B) per matrix of the stack. */
export const matmul = defineKernel<MatmulParams>({
  name: "matmul",
  outputs: (inputs, { batch, m, n }) => [{ dtype: inputs[0]!.dtype, size: batch * m * n }],
  run: ([a, b], [c], p) => {
    const { batch, m, k, n } = p;
    for (let i = 0; i < batch; i++) matmulInto(a!, p.batchA ? i * m * k : 0, b!, p.batchB ? i * k * n : 0, c!, i * m * n, p);
  },
  show: showMatmul,
});

export interface LinearParams {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly relu: boolean;
}

/**
 * In place on C [rows, n]: add the bias [n] to every row, then, if relu, max(., 0) as the relu
 * kernel computes it: each sum rounded to C's type once, then clamped.
 */
export const addBiasInPlace = (c: TypedArray, bias: TypedArray, relu: boolean): void => {
  const n = bias.length;
  if (n === 0) return;
  for (let r = 0; r < c.length; r += n) {
    for (let j = 0; j < n; j++) {
      c[r + j] = c[r + j]! + bias[j]!;
      if (relu) { const x = c[r + j]!; c[r + j] = x > 0 ? x : 0; }
    }
  }
};

/** The dense layer's forward, act(x . W + b) with act relu or none: matmul, then the bias and relu in place. */
export const linear = defineKernel<LinearParams>({
  name: "linear",
  outputs: (inputs, { m, n }) => [{ dtype: inputs[0]!.dtype, size: m * n }],
  run: ([x, w, bias], [out], { m, k, n, relu }) => {
    matmulInto(x!, 0, w!, 0, out!, 0, { batch: 1, m, k, n, transA: false, transB: false, batchA: true, batchB: true });
    addBiasInPlace(out!, bias!, relu);
  },
  show: ({ m, k, n, relu }) => `${m}x${k}x${n}${relu ? " relu" : ""}`,
});

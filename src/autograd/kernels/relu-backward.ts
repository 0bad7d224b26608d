// The ReLU's backward, as every op that has one runs it (the relu op, and linear with its fused
// relu): keep the cotangent where the ReLU's output is positive. The loops of ./elementwise.ts define
// the results; for float32, WebAssembly SIMD (./wasm) computes the same bits without branches (the
// mask is a coin flip for a branch predictor: the loop lost ~90 µs a training step to it).

import type { TypedArray } from "../tensor.ts";
import * as e from "./elementwise.ts";
import { simd } from "./wasm/index.ts";

const fast = (g: TypedArray, y: TypedArray, n: number, wantSums: boolean) =>
  simd !== null && g instanceof Float32Array && y instanceof Float32Array ? simd.maskPositive(g, y, n, wantSums) : null;

/** g where y > 0, else 0: elementwise.maskPositive. */
export const maskPositive = (g: TypedArray, y: TypedArray): TypedArray => fast(g, y, g.length, false)?.masked ?? e.maskPositive(g, y);

/** maskPositive over g [rows, n] and its column sums (the bias's gradient): elementwise.maskPositiveWithColumnSums. */
export const maskPositiveWithColumnSums = (g: TypedArray, y: TypedArray, n: number): { masked: TypedArray; sums: TypedArray } => {
  const got = fast(g, y, n, true);
  return got !== null ? { masked: got.masked, sums: got.sums! } : e.maskPositiveWithColumnSums(g, y, n);
};

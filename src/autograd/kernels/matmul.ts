// Matrix products over row-major typed arrays. C[m,n] = op(A) . op(B) where op transposes when
// asked, so the gradients dA = G.B^T and dB = A^T.G need no explicit transpose copies.
// float32 runs on WebAssembly SIMD (./wasm), which skips the zero entries of A; float64 (for
// gradchecks), and any engine without WebAssembly SIMD, use the plain loops of ./reference.ts,
// which define the results. Each returns a new array of a's type.
// stableB: b is tensor data (never written after construction), so the fast kernels may keep it
// resident in their memory and skip copying it in when the same array comes again (a weight).

import type { TypedArray } from "../tensor.ts";
import { addBiasInPlace } from "./elementwise.ts";
import * as reference from "./reference.ts";
import { simd } from "./wasm/index.ts";

/** C = A[m,k] . B[k,n]. */
export const matmulNN = (a: TypedArray, b: TypedArray, m: number, k: number, n: number, stableB = false): TypedArray =>
  simd !== null && a instanceof Float32Array && b instanceof Float32Array
    ? simd.matmulNN(a, b, m, k, n, stableB)
    : reference.matmulNN(a, b, m, k, n);

/** C = A[m,k] . B^T where B is stored [n,k] (dot products of rows). */
export const matmulNT = (a: TypedArray, b: TypedArray, m: number, k: number, n: number, stableB = false): TypedArray =>
  simd !== null && a instanceof Float32Array && b instanceof Float32Array
    ? simd.matmulNT(a, b, m, k, n, stableB)
    : reference.matmulNT(a, b, m, k, n);

/**
 * C = A^T . B where A is stored [k,m] and B is [k,n] (a sum of outer products of rows).
 * tensorResult: C becomes tensor data, read only through Tensor.data, so its copy out of the fast
 * kernels' memory may be deferred (./deferred.ts).
 */
export const matmulTN = (a: TypedArray, b: TypedArray, m: number, k: number, n: number, stableB = false, tensorResult = false): TypedArray =>
  simd !== null && a instanceof Float32Array && b instanceof Float32Array
    ? simd.matmulTN(a, b, m, k, n, stableB, tensorResult)
    : reference.matmulTN(a, b, m, k, n);

/** act(A[m,k] . W[k,n] + bias[n]) with act relu or none: elementwise.addBiasInPlace on matmulNN's product, in one kernel for float32. */
export const linearNN = (a: TypedArray, w: TypedArray, bias: TypedArray, m: number, k: number, n: number, relu: boolean): TypedArray =>
  simd !== null && a instanceof Float32Array && w instanceof Float32Array && bias instanceof Float32Array
    ? simd.linearNN(a, w, bias, m, k, n, relu)
    : addBiasInPlace(reference.matmulNN(a, w, m, k, n), bias, relu);

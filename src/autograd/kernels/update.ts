// Optimizer arithmetic over typed arrays (no graph): the loops src/nn/optim.ts runs once per
// parameter per step. The plain loop defines the result: in the parameters' own precision, so for
// float32 every operation is rounded to float32 (as PyTorch's float32 SGD does), and WebAssembly
// SIMD (./wasm) computes the same bits four floats at a time.

import type { TypedArray } from "../tensor.ts";
import { settle } from "./deferred.ts";
import { sgdStepReference } from "./reference.ts";
import { simd } from "./wasm/index.ts";

export { sgdStepReference };

/**
 * sgdStepReference, on WebAssembly SIMD for float32 arrays where available. p and g may be
 * unsettled (./deferred.ts); tensorResult: out becomes tensor data, read only through Tensor.data,
 * so its copy out of the fast kernels' memory may be deferred.
 */
export const sgdStep = (p: TypedArray, g: TypedArray, out: TypedArray, lr: number, decay: number, tensorResult = false): void => {
  if (simd !== null && p instanceof Float32Array && g instanceof Float32Array && out instanceof Float32Array) simd.sgdStep(p, g, out, lr, decay, tensorResult);
  else {
    settle(p);
    settle(g);
    sgdStepReference(p, g, out, lr, decay);
  }
};

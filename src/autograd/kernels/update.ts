// Optimizer arithmetic over typed arrays (no graph): the loops src/nn/optim.ts runs once per
// parameter per step. The plain loop defines the result: in the parameters' own precision, so for
// float32 every operation is rounded to float32 (as PyTorch's float32 SGD does), and WebAssembly
// SIMD (./wasm) computes the same bits four floats at a time.

import type { TypedArray } from "../tensor.ts";
import { sgdStepReference } from "./reference.ts";
import { simd } from "./wasm/index.ts";

export { sgdStepReference };

/** sgdStepReference, on WebAssembly SIMD for float32 arrays where available. */
export const sgdStep = (p: TypedArray, g: TypedArray, out: TypedArray, lr: number, decay: number): void => {
  if (simd !== null && p instanceof Float32Array && g instanceof Float32Array && out instanceof Float32Array) simd.sgdStep(p, g, out, lr, decay);
  else sgdStepReference(p, g, out, lr, decay);
};

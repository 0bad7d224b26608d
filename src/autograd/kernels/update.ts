// Optimizer arithmetic over typed arrays (no graph): the loops src/nn/optim.ts runs once per
// parameter per step. The plain loop defines the result; for float32, WebAssembly SIMD (./wasm)
// computes the same bits (both in double precision, rounded once), several times faster.

import type { TypedArray } from "../tensor.ts";
import { simd } from "./wasm/index.ts";

/** out[i] = p[i] - lr * (g[i] + decay * p[i]): plain gradient descent with decoupled decay. out may be p. */
export const sgdStepReference = (p: TypedArray, g: TypedArray, out: TypedArray, lr: number, decay: number): void => {
  for (let i = 0; i < p.length; i++) out[i] = p[i]! - lr * (g[i]! + decay * p[i]!);
};

/** sgdStepReference, on WebAssembly SIMD for float32 arrays where available. */
export const sgdStep = (p: TypedArray, g: TypedArray, out: TypedArray, lr: number, decay: number): void => {
  if (simd !== null && p instanceof Float32Array && g instanceof Float32Array && out instanceof Float32Array) simd.sgdStep(p, g, out, lr, decay);
  else sgdStepReference(p, g, out, lr, decay);
};

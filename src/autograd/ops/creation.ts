// Tensors made from nothing but a shape and a value (a fill kernel, so that jit records a big one
// as a fill instead of capturing its values), or from a few numbers (arange, eye).

import * as k from "../../backend/kernels.ts";
import type { DType } from "../../backend/index.ts";
import { run1 } from "../define-op.ts";
import { checkShape, ShapeError, sizeOf, type Shape } from "../shape.ts";
import { tensor, type Tensor } from "../tensor.ts";

export const full = (shape: Shape, value: number, dtype: DType = "float32"): Tensor => {
  const s = checkShape("full", shape);
  return run1(k.fill, [], { dtype, size: sizeOf(s), value }, s);
};
export const zeros = (shape: Shape, dtype: DType = "float32"): Tensor => full(shape, 0, dtype);
export const ones = (shape: Shape, dtype: DType = "float32"): Tensor => full(shape, 1, dtype);
export const scalar = (value: number, dtype: DType = "float32"): Tensor => tensor(value, [], dtype);
export const zerosLike = (t: Tensor): Tensor => zeros(t.shape, t.dtype);
export const onesLike = (t: Tensor): Tensor => ones(t.shape, t.dtype);

/** [start, start+step, ...) up to but excluding stop, like numpy.arange. */
export const arange = (start: number, stop?: number, step = 1, dtype: DType = "float32"): Tensor => {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ShapeError(`arange: step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return tensor(Array.from({ length: n }, (_, i) => start + i * step), [n], dtype);
};

/** The n x n identity matrix. */
export const eye = (n: number, dtype: DType = "float32"): Tensor => {
  checkShape("eye", [n, n]);
  const values = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) values[i * n + i] = 1;
  return tensor(values, [n, n], dtype);
};

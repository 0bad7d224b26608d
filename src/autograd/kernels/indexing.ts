// Strided index maps: the one mechanism behind broadcasting, un-broadcasting, reductions,
// transposes and slices. For an output of `shape`, `offsets(shape, strides, base)[i]` is the
// flat position in the source read (or written) for output element i. A stride of 0 repeats a
// source element along that axis, which is exactly broadcasting.

import type { Shape } from "../shape.ts";
import type { TypedArray } from "../tensor.ts";
import { like } from "./elementwise.ts";

export const offsets = (shape: Shape, strides: readonly number[], base = 0): Int32Array => {
  let n = 1;
  for (const d of shape) n *= d;
  const out = new Int32Array(n);
  if (n === 0) return out;
  const rank = shape.length;
  const counter = new Array<number>(rank).fill(0);
  let offset = base;
  for (let i = 0; i < n; i++) {
    out[i] = offset;
    // Advance the multi-index like an odometer, keeping the source offset in step.
    for (let axis = rank - 1; axis >= 0; axis--) {
      offset += strides[axis]!;
      if (++counter[axis]! < shape[axis]!) break;
      offset -= strides[axis]! * shape[axis]!;
      counter[axis] = 0;
    }
  }
  return out;
};

/** Strides of `from` laid against `to` (right-aligned), with 0 wherever `from` is broadcast. */
export const broadcastStrides = (from: Shape, to: Shape): number[] => {
  const strides = new Array<number>(to.length).fill(0);
  let s = 1;
  for (let i = from.length - 1; i >= 0; i--) {
    const j = to.length - from.length + i;
    strides[j] = from[i] === 1 && to[j] !== 1 ? 0 : s;
    s *= from[i]!;
  }
  return strides;
};

/** Copy `data` (of shape `from`) out to the larger shape `to` by repeating along broadcast axes. */
export const broadcastTo = (data: TypedArray, from: Shape, to: Shape): TypedArray => {
  const n = to.reduce((p, d) => p * d, 1);
  const out = like(data, n);
  // Fast path: one value repeated everywhere (a scalar operand), no index map needed.
  if (data.length === 1) return out.fill(data[0]!);
  // Fast path: a row repeated down a matrix (the bias of a dense layer).
  if (from.length >= 1 && data.length === to[to.length - 1] && from[from.length - 1] === data.length) {
    const row = data.length;
    if (row > 0) for (let r = 0; r < n; r += row) out.set(data, r);
    return out;
  }
  const idx = offsets(to, broadcastStrides(from, to));
  for (let i = 0; i < n; i++) out[i] = data[idx[i]!]!;
  return out;
};

/** The adjoint of broadcastTo: sum `data` (of shape `from`) back down to shape `to`. */
export const sumToShape = (data: TypedArray, from: Shape, to: Shape): TypedArray => {
  const m = to.reduce((p, d) => p * d, 1);
  const out = like(data, m);
  if (m === 1) {
    // Everything sums into one slot (the adjoint of a scalar broadcast), in the same order.
    for (let i = 0; i < data.length; i++) out[0] = out[0]! + data[i]!;
    return out;
  }
  if (to.length >= 1 && m === from[from.length - 1] && to[to.length - 1] === m) {
    // Column sums of a matrix (the bias gradient).
    for (let r = 0; r < data.length; r += m) for (let j = 0; j < m; j++) out[j] = out[j]! + data[r + j]!;
    return out;
  }
  const idx = offsets(from, broadcastStrides(to, from));
  for (let i = 0; i < data.length; i++) { const j = idx[i]!; out[j] = out[j]! + data[i]!; }
  return out;
};

/** Max over the positions that map to the same output slot; also the first position that holds it. */
export const maxToShape = (data: TypedArray, from: Shape, to: Shape): { values: TypedArray; argmax: Int32Array } => {
  const m = to.reduce((p, d) => p * d, 1);
  const values = like(data, m).fill(-Infinity);
  const argmax = new Int32Array(m).fill(-1);
  const idx = offsets(from, broadcastStrides(to, from));
  for (let i = 0; i < data.length; i++) {
    const j = idx[i]!;
    const x = data[i]!;
    // NOTE: ties go to the first position in row-major order; NaN wins so it propagates.
    if (argmax[j] === -1 || x > values[j]! || (Number.isNaN(x) && !Number.isNaN(values[j]!))) {
      values[j] = x;
      argmax[j] = i;
    }
  }
  return { values, argmax };
};

/** Gather: out[i] = data[idx[i]]. */
export const take = (data: TypedArray, idx: Int32Array): TypedArray => {
  const out = like(data, idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = data[idx[i]!]!;
  return out;
};

/** Scatter-add: out (of length n) gets values[i] added at idx[i]. */
export const scatterAdd = (values: TypedArray, idx: Int32Array, n: number): TypedArray => {
  const out = like(values, n);
  for (let i = 0; i < idx.length; i++) { const j = idx[i]!; out[j] = out[j]! + values[i]!; }
  return out;
};

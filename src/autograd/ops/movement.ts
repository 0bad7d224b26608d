// Movement ops: reshape, transpose, broadcastTo, slice, concat, gather, takeAlongAxis,
// stopGradient. Each moves values without arithmetic; each vjp moves the cotangent back.

import { defineOp, type Op } from "../define-op.ts";
import { like } from "../kernels/elementwise.ts";
import * as k from "../kernels/indexing.ts";
import { broadcastShapes, normalizeAxis, sameShape, ShapeError, shapeStr, sizeOf, stridesOf, type Shape } from "../shape.ts";
import { Tensor, type DType } from "../tensor.ts";

const T = (data: Tensor["data"], shape: Shape): Tensor => new Tensor(data, shape);

const reshapeOp = defineOp<Shape>({
  name: "reshape",
  forward: ([a], shape) => T(a!.data, shape), // same values, same order: the data can be shared (never written)
  vjp: (g, { inputs }) => [T(g.data, inputs[0]!.shape)],
});

/** Same values in a new shape with the same number of elements; one dimension may be -1 (inferred). */
export const reshape = (a: Tensor, shape: Shape): Tensor => {
  const known = shape.filter((d) => d !== -1);
  const holes = shape.length - known.length;
  const knownSize = sizeOf(known);
  let target = [...shape];
  if (holes > 1) throw new ShapeError(`reshape: at most one -1 is allowed, got ${shapeStr(shape)}`);
  if (holes === 1) {
    if (knownSize === 0 || a.size % knownSize !== 0) {
      throw new ShapeError(`reshape: cannot infer -1 in ${shapeStr(shape)} for ${a.size} values of shape ${shapeStr(a.shape)}`);
    }
    target = shape.map((d) => (d === -1 ? a.size / knownSize : d));
  }
  if (target.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(target) !== a.size) {
    throw new ShapeError(`reshape: cannot reshape ${shapeStr(a.shape)} (${a.size} values) to ${shapeStr(shape)}`);
  }
  if (sameShape(target, a.shape)) return a;
  return reshapeOp([a], Object.freeze(target));
};

const checkPermutation = (op: string, perm: readonly number[], rank: number): void => {
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)) {
    throw new ShapeError(`${op}: ${JSON.stringify(perm)} is not a permutation of the ${rank} axes`);
  }
};

const transposeOp: Op<readonly number[]> = defineOp<readonly number[]>({
  name: "transpose",
  forward: ([a], perm) => {
    const strides = stridesOf(a!.shape);
    const shape = perm.map((p) => a!.shape[p]!);
    return T(k.take(a!.data, k.offsets(shape, perm.map((p) => strides[p]!))), shape);
  },
  vjp: (g, { attrs: perm }) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [transposeOp([g], inverse)];
  },
});

/** Permute the axes; with no permutation, reverse them (a matrix transpose for 2-D). */
export const transpose = (a: Tensor, perm?: readonly number[]): Tensor => {
  const p = perm ?? a.shape.map((_, i) => a.rank - 1 - i);
  checkPermutation("transpose", p, a.rank);
  return transposeOp([a], p);
};

const broadcastToOp = defineOp<Shape>({
  name: "broadcastTo",
  forward: ([a], shape) => T(k.broadcastTo(a!.data, a!.shape, shape), shape),
  // The gradient of repeating is summing back: written once here, used by every broadcasting op.
  vjp: (g, { inputs }) => [sumToShape(g, inputs[0]!.shape)],
});

/** Repeat `a` along size-1 (or missing leading) axes to reach `shape`, NumPy style. */
export const broadcastTo = (a: Tensor, shape: Shape): Tensor => {
  const result = broadcastShapes("broadcastTo", a.shape, shape);
  if (!sameShape(result, shape)) {
    throw new ShapeError(`broadcastTo: cannot broadcast ${shapeStr(a.shape)} to ${shapeStr(shape)}`);
  }
  return sameShape(a.shape, shape) ? a : broadcastToOp([a], Object.freeze([...shape]));
};

const sumToShapeOp = defineOp<Shape>({
  name: "sumToShape",
  forward: ([a], shape) => T(k.sumToShape(a!.data, a!.shape, shape), shape),
  vjp: (g, { inputs }) => [broadcastTo(g, inputs[0]!.shape)],
});

/** Sum `a` down to `shape`, the shape it was broadcast from (un-broadcasting). */
export const sumToShape = (a: Tensor, shape: Shape): Tensor => {
  if (sameShape(a.shape, shape)) return a;
  const check = broadcastShapes("sumToShape", shape, a.shape);
  if (!sameShape(check, a.shape)) throw new ShapeError(`sumToShape: ${shapeStr(a.shape)} is not a broadcast of ${shapeStr(shape)}`);
  return sumToShapeOp([a], Object.freeze([...shape]));
};

interface SliceAttrs {
  readonly starts: readonly number[];
  readonly shape: Shape;
}

const sliceOp = defineOp<SliceAttrs>({
  name: "slice",
  forward: ([a], { starts, shape }) => {
    const strides = stridesOf(a!.shape);
    const base = starts.reduce((s, st, i) => s + st * strides[i]!, 0);
    return T(k.take(a!.data, k.offsets(shape, strides, base)), shape);
  },
  vjp: (g, { inputs, attrs: { starts, shape } }) => {
    const a = inputs[0]!;
    const strides = stridesOf(a.shape);
    const base = starts.reduce((s, st, i) => s + st * strides[i]!, 0);
    return [T(k.scatterAdd(g.data, k.offsets(shape, strides, base), a.size), a.shape)];
  },
});

/**
 * The block from `starts` (inclusive) to `ends` (exclusive) along each axis. Missing entries mean
 * the whole axis; negative values count from the end, as in NumPy.
 */
export const slice = (a: Tensor, starts: readonly number[], ends?: readonly (number | undefined)[]): Tensor => {
  if (starts.length > a.rank || (ends && ends.length > a.rank)) {
    throw new ShapeError(`slice: got ${Math.max(starts.length, ends?.length ?? 0)} bounds for a tensor of rank ${a.rank} (shape ${shapeStr(a.shape)})`);
  }
  const s: number[] = [];
  const shape: number[] = [];
  a.shape.forEach((d, i) => {
    const fix = (v: number) => (v < 0 ? v + d : v);
    const lo = fix(starts[i] ?? 0);
    const hi = fix(ends?.[i] ?? d);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > d || lo > hi) {
      throw new ShapeError(`slice: bounds [${starts[i] ?? 0}, ${ends?.[i] ?? d}) are out of range for axis ${i} of size ${d} in ${shapeStr(a.shape)}`);
    }
    s.push(lo);
    shape.push(hi - lo);
  });
  return sliceOp([a], { starts: s, shape: Object.freeze(shape) });
};

const concatOp = defineOp<number>({
  name: "concat",
  forward: (inputs, axis) => {
    const first = inputs[0]!;
    const total = inputs.reduce((s, t) => s + t.shape[axis]!, 0);
    const shape = first.shape.map((d, i) => (i === axis ? total : d));
    const out = like(first.data, sizeOf(shape));
    const outer = sizeOf(first.shape.slice(0, axis));
    const rowOut = sizeOf(shape.slice(axis));
    let col = 0;
    for (const t of inputs) {
      const row = sizeOf(t.shape.slice(axis));
      for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * row, (o + 1) * row), o * rowOut + col);
      col += row;
    }
    return T(out, shape);
  },
  vjp: (g, { inputs, attrs: axis, needs }) => {
    let at = 0;
    return inputs.map((t, i) => {
      const starts = t.shape.map((_, j) => (j === axis ? at : 0));
      const ends = t.shape.map((d, j) => (j === axis ? at + d : g.shape[j]!));
      at += t.shape[axis]!;
      return needs[i] ? slice(g, starts, ends) : null;
    });
  },
});

/** Join tensors along an existing axis; all other dimensions must agree. */
export const concat = (tensors: readonly Tensor[], axis = 0): Tensor => {
  if (tensors.length === 0) throw new ShapeError("concat: needs at least one tensor");
  const first = tensors[0]!;
  const ax = normalizeAxis("concat", axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(`concat: cannot join ${shapeStr(first.shape)} and ${shapeStr(t.shape)} along axis ${ax}: the other dimensions must match`);
    }
  }
  return tensors.length === 1 ? first : concatOp(tensors, ax);
};

/** Check that every index is an integer in [0, size) and return them as Int32Array. */
const checkIndices = (op: string, indices: ArrayLike<number>, size: number, what: string): Int32Array => {
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    if (!Number.isInteger(v)) throw new ShapeError(`${op}: index ${v} at position ${i} is not an integer`);
    if (v < 0 || v >= size) throw new ShapeError(`${op}: index ${v} at position ${i} is out of range for ${what} of size ${size}`);
    out[i] = v;
  }
  return out;
};

interface PickAttrs {
  readonly idx: Int32Array; // flat source position for each output element
  readonly shape: Shape;
}

const pickOp = defineOp<PickAttrs>({
  name: "takeAlongAxis",
  forward: ([a], { idx, shape }) => T(k.take(a!.data, idx), shape),
  vjp: (g, { inputs, attrs: { idx } }) => [T(k.scatterAdd(g.data, idx, inputs[0]!.size), inputs[0]!.shape)],
});

/**
 * For each position of the other axes, take the entry at `indices` along `axis`: with logits of
 * shape [batch, classes] and integer labels of length batch, the logit of each row's label.
 * The result has `axis` removed.
 */
export const takeAlongAxis = (a: Tensor, indices: ArrayLike<number>, axis = -1): Tensor => {
  const ax = normalizeAxis("takeAlongAxis", axis, a.rank);
  const shape = a.shape.filter((_, i) => i !== ax);
  const n = sizeOf(shape);
  if (indices.length !== n) {
    throw new ShapeError(`takeAlongAxis: ${indices.length} indices for a tensor of shape ${shapeStr(a.shape)}: expected one per position of the other axes (${n})`);
  }
  const ix = checkIndices("takeAlongAxis", indices, a.shape[ax]!, `axis ${ax}`);
  const inner = sizeOf(a.shape.slice(ax + 1));
  const size = a.shape[ax]!;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = Math.floor(i / inner);
    const r = i % inner;
    idx[i] = (o * size + ix[i]!) * inner + r;
  }
  return pickOp([a], { idx, shape: Object.freeze(shape) });
};

/** Select whole slices along `axis` by index (rows of a matrix for axis 0), repeats allowed. */
export const gather = (a: Tensor, indices: ArrayLike<number>, axis = 0): Tensor => {
  const ax = normalizeAxis("gather", axis, a.rank);
  const ix = checkIndices("gather", indices, a.shape[ax]!, `axis ${ax}`);
  const shape = a.shape.map((d, i) => (i === ax ? ix.length : d));
  const outer = sizeOf(a.shape.slice(0, ax));
  const inner = sizeOf(a.shape.slice(ax + 1));
  const size = a.shape[ax]!;
  const idx = new Int32Array(sizeOf(shape));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const j of ix) for (let r = 0; r < inner; r++) idx[at++] = (o * size + j) * inner + r;
  }
  return pickOp([a], { idx, shape: Object.freeze(shape) });
};

/** The same values, treated as a constant by differentiation: no gradient flows through it. */
export const stopGradient = (a: Tensor): Tensor => (a.node === null ? a : T(a.data, a.shape));

const castOp: Op<DType> = defineOp<DType>({
  name: "cast",
  mixedDtypes: true,
  forward: ([a], dtype) => {
    const data = dtype === "float64" ? new Float64Array(a!.size) : new Float32Array(a!.size);
    data.set(a!.data);
    return T(data, a!.shape);
  },
  // The same values in another precision: the cotangent goes back in the input's precision.
  vjp: (g, { inputs: [a] }) => [castOp([g], a!.dtype)],
});

/** The same values in another dtype (a copy); differentiable, so float32 <-> float64 keeps the graph. */
export const cast = (a: Tensor, dtype: DType): Tensor => (a.dtype === dtype ? a : castOp([a], dtype));

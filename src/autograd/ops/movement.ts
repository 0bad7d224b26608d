// Movement ops: reshape, transpose, broadcastTo, sumToShape, slice, concat, gather, takeAlongAxis,
// stopGradient. Each moves values without arithmetic; each vjp moves the cotangent back.

import * as k from "../../backend/kernels.ts";
import { defineOp, run1, type Op } from "../define-op.ts";
import { broadcastShapes, normalizeAxis, sameShape, ShapeError, shapeStr, sizeOf, type Shape } from "../shape.ts";
import { detach, tensor, Tensor, withShape } from "../tensor.ts";

const reshapeOp: Op<Shape> = defineOp<Shape>({
  name: "reshape",
  // Same values in the same order: the result shares the input's values (they never change).
  forward: ([a], shape) => withShape(a!, shape),
  vjp: (g, { inputs }) => [reshapeOp([g], inputs[0]!.shape)],
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
  forward: ([a], perm) => run1(k.transpose, [a!], { shape: a!.shape, perm }, perm.map((p) => a!.shape[p]!)),
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
  return p.every((q, i) => q === i) ? a : transposeOp([a], p);
};

const broadcastToOp: Op<Shape> = defineOp<Shape>({
  name: "broadcastTo",
  forward: ([a], shape) => run1(k.broadcastTo, [a!], { from: a!.shape, to: shape }, shape),
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

const sumToShapeOp: Op<Shape> = defineOp<Shape>({
  name: "sumToShape",
  forward: ([a], shape) => run1(k.sumToShape, [a!], { from: a!.shape, to: shape }, shape),
  vjp: (g, { inputs }) => [broadcastTo(g, inputs[0]!.shape)],
});

/** Sum `a` down to `shape`, the shape it was broadcast from (un-broadcasting). */
export const sumToShape = (a: Tensor, shape: Shape): Tensor => {
  if (sameShape(a.shape, shape)) return a;
  const check = broadcastShapes("sumToShape", shape, a.shape);
  if (!sameShape(check, a.shape)) throw new ShapeError(`sumToShape: ${shapeStr(a.shape)} is not a broadcast of ${shapeStr(shape)}`);
  return sumToShapeOp([a], Object.freeze([...shape]));
};

interface Block {
  readonly shape: Shape;
  readonly starts: readonly number[];
  readonly block: Shape;
}

const sliceOp: Op<Block> = defineOp<Block>({
  name: "slice",
  forward: ([a], b) => run1(k.slice, [a!], b, b.block),
  vjp: (g, { attrs }) => [padBlockOp([g], attrs)],
});

const padBlockOp: Op<Block> = defineOp<Block>({
  name: "padBlock",
  forward: ([g], b) => run1(k.padBlock, [g!], b, b.shape),
  vjp: (gg, { attrs }) => [sliceOp([gg], attrs)],
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
  if (sameShape(shape, a.shape)) return a;
  return sliceOp([a], { shape: a.shape, starts: s, block: Object.freeze(shape) });
};

/**
 * x with zeros added around it: widths[i] = [before, after] for axis i (one pair per axis, as
 * NumPy's pad with constant zeros). Its gradient is the slice of the cotangent where x was.
 */
export const pad = (a: Tensor, widths: readonly (readonly [number, number])[]): Tensor => {
  if (widths.length !== a.rank || widths.some((w) => !Array.isArray(w) || w.length !== 2 || w.some((d) => !Number.isInteger(d) || d < 0))) {
    throw new ShapeError(`pad: expected one pair [before, after] of non-negative integers per axis of ${shapeStr(a.shape)} (${a.rank} pairs), got ${JSON.stringify(widths)}`);
  }
  const shape = a.shape.map((d, i) => d + widths[i]![0] + widths[i]![1]);
  if (sameShape(shape, a.shape)) return a;
  return padBlockOp([a], { shape: Object.freeze(shape), starts: widths.map(([before]) => before), block: a.shape });
};

const concatOp = defineOp<number>({
  name: "concat",
  forward: (inputs, axis) => {
    const first = inputs[0]!;
    const total = inputs.reduce((s, t) => s + t.shape[axis]!, 0);
    const shape = first.shape.map((d, i) => (i === axis ? total : d));
    return run1(k.concat, inputs, { outer: sizeOf(first.shape.slice(0, axis)), rows: inputs.map((t) => sizeOf(t.shape.slice(axis))) }, shape);
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

/** Integer indices as an int32 tensor: given as one, or checked (integers in [0, size)) and copied. */
export const indexTensor = (op: string, indices: ArrayLike<number> | Tensor, size: number, what: string): Tensor => {
  if (indices instanceof Tensor) {
    if (indices.dtype !== "int32" && indices.dtype !== "uint8" && indices.dtype !== "uint32") {
      throw new ShapeError(`${op}: indices must be an integer tensor (int32, uint32 or uint8), got ${indices.dtype}`);
    }
    return detach(indices); // checked by the kernel, which reads them
  }
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    if (!Number.isInteger(v)) throw new ShapeError(`${op}: index ${v} at position ${i} is not an integer`);
    if (v < 0 || v >= size) throw new ShapeError(`${op}: index ${v} at position ${i} is out of range for ${what} of size ${size}`);
  }
  return tensor(indices, [indices.length], "int32");
};

interface AxisView {
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
  readonly shape: Shape; // the result's (takeAlongAxis, gather) or the input's (their adjoints)
  readonly inputShape: Shape;
}

const gatherOp: Op<AxisView> = defineOp<AxisView>({
  name: "gather",
  mixedDtypes: true,
  forward: ([a, idx], v) => run1(k.gatherAxis, [a!, idx!], v, v.shape),
  vjp: (g, { inputs: [, idx], attrs: v }) => [scatterOp([g, idx!], { ...v, shape: v.inputShape, inputShape: v.shape }), null],
});
const scatterOp: Op<AxisView> = defineOp<AxisView>({
  name: "scatter",
  mixedDtypes: true,
  forward: ([g, idx], v) => run1(k.scatterAxis, [g!, idx!], v, v.shape),
  vjp: (gg, { inputs: [, idx], attrs: v }) => [gatherOp([gg, idx!], { ...v, shape: v.inputShape, inputShape: v.shape }), null],
});

/** Select whole slices along `axis` by index (rows of a matrix for axis 0), repeats allowed. */
export const gather = (a: Tensor, indices: ArrayLike<number> | Tensor, axis = 0): Tensor => {
  const ax = normalizeAxis("gather", axis, a.rank);
  const idx = indexTensor("gather", indices, a.shape[ax]!, `axis ${ax}`);
  const shape = a.shape.map((d, i) => (i === ax ? idx.size : d));
  const v = { outer: sizeOf(a.shape.slice(0, ax)), size: a.shape[ax]!, inner: sizeOf(a.shape.slice(ax + 1)), shape, inputShape: a.shape };
  return gatherOp([a, idx], v);
};

const takeAlongOp: Op<AxisView> = defineOp<AxisView>({
  name: "takeAlongAxis",
  mixedDtypes: true,
  forward: ([a, idx], v) => run1(k.takeAlong, [a!, idx!], v, v.shape),
  vjp: (g, { inputs: [, idx], attrs: v }) => [putAlongOp([g, idx!], { ...v, shape: v.inputShape, inputShape: v.shape }), null],
});
const putAlongOp: Op<AxisView> = defineOp<AxisView>({
  name: "putAlongAxis",
  mixedDtypes: true,
  forward: ([g, idx], v) => run1(k.putAlong, [g!, idx!], v, v.shape),
  vjp: (gg, { inputs: [, idx], attrs: v }) => [takeAlongOp([gg, idx!], { ...v, shape: v.inputShape, inputShape: v.shape }), null],
});

/**
 * For each position of the other axes, take the entry at `indices` along `axis`: with logits of
 * shape [batch, classes] and integer labels of length batch, the logit of each row's label.
 * The result has `axis` removed.
 */
export const takeAlongAxis = (a: Tensor, indices: ArrayLike<number> | Tensor, axis = -1): Tensor => {
  const ax = normalizeAxis("takeAlongAxis", axis, a.rank);
  const shape = a.shape.filter((_, i) => i !== ax);
  const n = sizeOf(shape);
  const count = indices instanceof Tensor ? indices.size : indices.length;
  if (count !== n) {
    throw new ShapeError(`takeAlongAxis: ${count} indices for a tensor of shape ${shapeStr(a.shape)}: expected one per position of the other axes (${n})`);
  }
  const idx = indexTensor("takeAlongAxis", indices, a.shape[ax]!, `axis ${ax}`);
  const v = { outer: sizeOf(a.shape.slice(0, ax)), size: a.shape[ax]!, inner: sizeOf(a.shape.slice(ax + 1)), shape: Object.freeze(shape), inputShape: a.shape };
  return takeAlongOp([a, idx], v);
};

/** The same values, treated as a constant by differentiation: no gradient flows through it. */
export const stopGradient = (a: Tensor): Tensor => detach(a);

interface Flat {
  readonly shape: Shape; // the result's
  readonly inputShape: Shape;
}

// The adjoint pair behind max's gradient: values scattered to flat positions, and gathered back.
export const scatterFlatOp: Op<Flat> = defineOp<Flat>({
  name: "scatterFlat",
  mixedDtypes: true,
  forward: ([g, positions], { shape }) => run1(k.scatterFlat, [g!, positions!], { size: sizeOf(shape) }, shape),
  vjp: (gg, { inputs: [, positions], attrs: { shape, inputShape } }) => [takeFlatOp([gg, positions!], { shape: inputShape, inputShape: shape }), null],
});
const takeFlatOp: Op<Flat> = defineOp<Flat>({
  name: "takeFlat",
  mixedDtypes: true,
  forward: ([x, positions], { shape }) => run1(k.takeFlat, [x!, positions!], undefined, shape),
  vjp: (g, { inputs: [, positions], attrs: { shape, inputShape } }) => [scatterFlatOp([g, positions!], { shape: inputShape, inputShape: shape }), null],
});

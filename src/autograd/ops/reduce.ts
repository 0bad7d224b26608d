// Reductions over one axis, several axes, or all of them, optionally keeping reduced axes as size 1.

import { defineOp } from "../define-op.ts";
import * as k from "../kernels/indexing.ts";
import { normalizeAxes, normalizeAxis, reducedShape, type Shape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { add, div, exp, log, neg, sub } from "./elementwise.ts";
import { broadcastTo, reshape, stopGradient } from "./movement.ts";

export type Axis = number | readonly number[] | undefined;

interface ReduceAttrs {
  readonly kept: Shape; // the result with reduced axes kept as 1 (the shape to broadcast back from)
  readonly shape: Shape; // the result's shape
}

const attrsFor = (op: string, a: Tensor, axis: Axis, keepDims: boolean): ReduceAttrs => {
  const axes = normalizeAxes(op, axis, a.rank);
  return { kept: reducedShape(a.shape, axes, true), shape: reducedShape(a.shape, axes, keepDims) };
};

const sumOp = defineOp<ReduceAttrs>({
  name: "sum",
  forward: ([a], { kept, shape }) => new Tensor(k.sumToShape(a!.data, a!.shape, kept), shape),
  // Every input element contributes once: the cotangent is copied back to each of them.
  vjp: (g, { inputs, attrs: { kept } }) => [broadcastTo(reshape(g, kept), inputs[0]!.shape)],
});

/** Sum over `axis` (a number, a list, or all axes when omitted). */
export const sum = (a: Tensor, axis?: Axis, keepDims = false): Tensor => sumOp([a], attrsFor("sum", a, axis, keepDims));

/** Mean over `axis`: the sum divided by the number of elements reduced (a composition, not a primitive). */
export const mean = (a: Tensor, axis?: Axis, keepDims = false): Tensor => {
  const { kept } = attrsFor("mean", a, axis, keepDims);
  const count = a.size / kept.reduce((p, d) => p * d, 1);
  return div(sum(a, axis, keepDims), count);
};

interface MaxAttrs extends ReduceAttrs {
  argmax: Int32Array | null; // filled by forward, read by the vjp
}

const maxOp = defineOp<MaxAttrs>({
  name: "max",
  forward: ([a], attrs) => {
    const { values, argmax } = k.maxToShape(a!.data, a!.shape, attrs.kept);
    attrs.argmax = argmax;
    return new Tensor(values, attrs.shape);
  },
  // NOTE: the whole cotangent goes to the arg-max; among ties, to the first in row-major order.
  vjp: (g, { inputs, attrs: { argmax } }) => [new Tensor(k.scatterAdd(g.data, argmax!, inputs[0]!.size), inputs[0]!.shape)],
});

/** Maximum over `axis`. The gradient flows to the (first) position that holds the maximum. */
export const max = (a: Tensor, axis?: Axis, keepDims = false): Tensor => {
  if (a.size === 0) throw new RangeError(`max: cannot take the maximum of an empty tensor`);
  return maxOp([a], { ...attrsFor("max", a, axis, keepDims), argmax: null });
};

/** Minimum over `axis`, as -max(-a). */
export const min = (a: Tensor, axis?: Axis, keepDims = false): Tensor => {
  attrsFor("min", a, axis, keepDims); // check the axis here, so an error names min rather than max
  return neg(max(neg(a), axis, keepDims));
};

/**
 * log(sum(exp(a))) over `axis`, computed stably: m + log(sum(exp(a - m))) with m the maximum, so
 * nothing overflows for large logits. m is held constant for differentiation: the result does not
 * depend on it, so its gradient is exactly softmax.
 */
export const logSumExp = (a: Tensor, axis?: Axis, keepDims = false): Tensor => {
  const { shape } = attrsFor("logSumExp", a, axis, keepDims); // checks the axis, naming logSumExp
  const m = stopGradient(max(a, axis, true));
  // NOTE: a row of all -Infinity would give -Inf - (-Inf) = NaN; shift such rows by 0 instead.
  const shift = m.data.some((x) => !Number.isFinite(x))
    ? new Tensor(m.data.map((x) => (Number.isFinite(x) ? x : 0)), m.shape)
    : m;
  const s = add(log(sum(exp(sub(a, shift)), axis, true)), shift);
  return reshape(s, shape);
};

/** Index of the largest entry along `axis` (first among ties), as integers; no gradient. */
export const argmax = (a: Tensor, axis = -1): Int32Array => {
  const ax = normalizeAxis("argmax", axis, a.rank);
  if (ax === a.rank - 1 && a.shape[ax]! > 0) {
    // The last axis (a row of logits per example): one pass per row, no index map.
    const size = a.shape[ax]!;
    const d = a.data;
    const out = new Int32Array(a.size / size);
    for (let r = 0, o = 0; r < out.length; r++, o += size) {
      let best = 0;
      let m = d[o]!;
      // NOTE: ties go to the first; NaN wins so it propagates (as in maxToShape).
      for (let j = 1; j < size; j++) {
        const x = d[o + j]!;
        if (x > m || (Number.isNaN(x) && !Number.isNaN(m))) { m = x; best = j; }
      }
      out[r] = best;
    }
    return out;
  }
  const { kept } = attrsFor("argmax", a, ax, true);
  const { argmax: flat } = k.maxToShape(a.data, a.shape, kept);
  const inner = a.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
  const size = a.shape[ax]!;
  return flat.map((i) => Math.floor(i / inner) % size);
};

// Reductions over one axis, several axes, or all of them, optionally keeping reduced axes as size 1.

import * as k from "../../backend/kernels.ts";
import { defineOp, run, run1 } from "../define-op.ts";
import { normalizeAxes, normalizeAxis, reducedShape, sizeOf, type Shape } from "../shape.ts";
import { detach, type Tensor } from "../tensor.ts";
import { add, div, exp, isFinite, log, neg, sub, where } from "./elementwise.ts";
import { reshape, scatterFlatOp, stopGradient, sumToShape } from "./movement.ts";

export type Axis = number | readonly number[] | undefined;

interface ReduceAttrs {
  readonly kept: Shape; // the result with reduced axes kept as 1 (the shape to broadcast back from)
  readonly shape: Shape; // the result's shape
}

const attrsFor = (op: string, a: Tensor, axis: Axis, keepDims: boolean): ReduceAttrs => {
  const axes = normalizeAxes(op, axis, a.rank);
  return { kept: reducedShape(a.shape, axes, true), shape: reducedShape(a.shape, axes, keepDims) };
};

/** Sum over `axis` (a number, a list, or all axes when omitted): sumToShape, the adjoint of broadcasting. */
export const sum = (a: Tensor, axis?: Axis, keepDims = false): Tensor => {
  const { kept, shape } = attrsFor("sum", a, axis, keepDims);
  return reshape(sumToShape(a, kept), shape);
};

/** Mean over `axis`: the sum divided by the number of elements reduced (a composition, not a primitive). */
export const mean = (a: Tensor, axis?: Axis, keepDims = false): Tensor => {
  const { kept } = attrsFor("mean", a, axis, keepDims);
  const count = a.size / sizeOf(kept);
  return div(sum(a, axis, keepDims), count);
};

const maxOp = defineOp<ReduceAttrs>({
  name: "max",
  forward: ([a], { kept, shape }) => {
    const [values, positions] = run(k.maxToShape, [a!], { from: a!.shape, to: kept }, [shape, shape]);
    return { out: values!, saved: [positions!] };
  },
  // NOTE: the whole cotangent goes to the arg-max; among ties, to the first in row-major order.
  vjp: (g, { inputs: [a], saved: [positions] }) => [scatterFlatOp([g, positions!], { shape: a!.shape, inputShape: g.shape })],
});

/** Maximum over `axis`. The gradient flows to the (first) position that holds the maximum. */
export const max = (a: Tensor, axis?: Axis, keepDims = false): Tensor => {
  if (a.size === 0) throw new RangeError(`max: cannot take the maximum of an empty tensor`);
  return maxOp([a], attrsFor("max", a, axis, keepDims));
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
  // NOTE: a row of all -Infinity would give -Inf - (-Inf) = NaN; such rows are shifted by 0 instead.
  const shift = where(isFinite(m), m, 0);
  const s = add(log(sum(exp(sub(a, shift)), axis, true)), shift);
  return reshape(s, shape);
};

/** Index of the largest entry along `axis` (first among ties; NaN wins), as an int32 tensor; no gradient. */
export const argmax = (a: Tensor, axis = -1): Tensor => {
  const ax = normalizeAxis("argmax", axis, a.rank);
  const shape = a.shape.filter((_, i) => i !== ax);
  const view = { outer: sizeOf(a.shape.slice(0, ax)), size: a.shape[ax]!, inner: sizeOf(a.shape.slice(ax + 1)) };
  if (view.size === 0) throw new RangeError(`argmax: axis ${ax} of ${JSON.stringify(a.shape)} is empty`);
  return run1(k.argmax, [detach(a)], view, shape);
};

// Elementwise ops. Binary primitives take equal shapes; the public functions broadcast their
// inputs first with broadcastTo, whose vjp (sumToShape) is the only un-broadcasting anywhere.

import { defineOp } from "../define-op.ts";
import * as e from "../kernels/elementwise.ts";
import { maskPositive } from "../kernels/relu-backward.ts";
import { broadcastShapes, sameShape, type Shape } from "../shape.ts";
import { full, Tensor, type TypedArray } from "../tensor.ts";
import { broadcastTo } from "./movement.ts";

const T = (data: TypedArray, shape: Shape): Tensor => new Tensor(data, shape);

/** A number becomes a scalar tensor of the other operand's dtype. */
export type Operand = Tensor | number;
const asTensor = (x: Operand, like: Tensor | number): Tensor => {
  if (typeof x !== "number") return x;
  if (typeof like === "number") throw new TypeError("elementwise op: at least one operand must be a Tensor");
  return full([], x, like.dtype);
};

/** Broadcast every operand to their common shape (a no-op for operands already of that shape). */
const broadcastAll = (op: string, ts: Tensor[]): Tensor[] => {
  let shape: Shape = ts[0]!.shape;
  for (const t of ts.slice(1)) shape = broadcastShapes(op, shape, t.shape);
  return ts.map((t) => (sameShape(t.shape, shape) ? t : broadcastTo(t, shape)));
};

const binary = (
  op: ReturnType<typeof defineOp<undefined>>,
  name: string,
) => (a: Operand, b: Operand): Tensor => {
  const ta = asTensor(a, b);
  const tb = asTensor(b, ta);
  const [x, y] = broadcastAll(name, [ta, tb]);
  return op([x!, y!], undefined);
};

// ---- binary primitives on equal shapes ----------------------------------------------------

const addOp = defineOp({
  name: "add",
  forward: ([a, b]) => T(e.add(a!.data, b!.data), a!.shape),
  vjp: (g) => [g, g],
});

const subOp = defineOp({
  name: "sub",
  forward: ([a, b]) => T(e.sub(a!.data, b!.data), a!.shape),
  vjp: (g, { needs }) => [g, needs[1] ? T(e.scale(g.data, -1), g.shape) : null],
});

const mulOp = defineOp({
  name: "mul",
  forward: ([a, b]) => T(e.mul(a!.data, b!.data), a!.shape),
  vjp: (g, { inputs: [a, b], needs }) => [
    needs[0] ? T(e.mul(g.data, b!.data), g.shape) : null,
    needs[1] ? T(e.mul(g.data, a!.data), g.shape) : null,
  ],
});

const divOp = defineOp({
  name: "div",
  forward: ([a, b]) => T(e.div(a!.data, b!.data), a!.shape),
  // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2 = -out/b
  vjp: (g, { inputs: [, b], out, needs }) => [
    needs[0] ? T(e.div(g.data, b!.data), g.shape) : null,
    needs[1] ? T(e.zip(g.data, e.div(out.data, b!.data), (gi, q) => -gi * q), g.shape) : null,
  ],
});

const maximumOp = defineOp({
  name: "maximum",
  forward: ([a, b]) => T(e.zip(a!.data, b!.data, (x, y) => (x >= y || Number.isNaN(x) ? x : y)), a!.shape),
  // NOTE: where a == b the gradient is split evenly between them (as PyTorch does).
  vjp: (g, { inputs: [a, b] }) => {
    const gd = g.data;
    const share = (self: TypedArray, other: TypedArray) =>
      T(e.like(gd).map((_, i) => (self[i]! > other[i]! ? gd[i]! : self[i] === other[i] ? gd[i]! / 2 : 0)), g.shape);
    return [share(a!.data, b!.data), share(b!.data, a!.data)];
  },
});

const whereOp = defineOp({
  name: "where",
  forward: ([c, a, b]) => {
    const cd = c!.data, ad = a!.data, bd = b!.data;
    return T(e.like(ad).map((_, i) => (cd[i] !== 0 ? ad[i]! : bd[i]!)), a!.shape);
  },
  vjp: (g, { inputs: [c], needs }) => [
    null, // no gradient through the condition
    needs[1] ? T(e.zip(g.data, c!.data, (gi, ci) => (ci !== 0 ? gi : 0)), g.shape) : null,
    needs[2] ? T(e.zip(g.data, c!.data, (gi, ci) => (ci !== 0 ? 0 : gi)), g.shape) : null,
  ],
});

/** a + b, broadcasting. */
export const add = binary(addOp, "add");
/** a - b, broadcasting. */
export const sub = binary(subOp, "sub");
/** a * b elementwise, broadcasting. */
export const mul = binary(mulOp, "mul");
/** a / b elementwise, broadcasting. */
export const div = binary(divOp, "div");
/** The larger of a and b elementwise, broadcasting. */
export const maximum = binary(maximumOp, "maximum");

/** Elementwise choice: a where condition is non-zero, b elsewhere (all three broadcast). */
export const where = (condition: Tensor, a: Operand, b: Operand): Tensor => {
  const ta = typeof a === "number" ? asTensor(a, typeof b === "number" ? condition : b) : a;
  const tb = asTensor(b, ta);
  const cd = condition.data;
  const c = condition.dtype === ta.dtype ? condition : T(e.like(ta.data, condition.size).map((_, i) => cd[i]!), condition.shape);
  const [x, y, z] = broadcastAll("where", [c, ta, tb]);
  return whereOp([x!, y!, z!], undefined);
};

// ---- unary ops --------------------------------------------------------------------------------

/** f is the elementwise function: a closure per element, or a dedicated loop over the whole array. */
const unary = (
  name: string,
  f: ((x: number) => number) | { readonly loop: (a: TypedArray) => TypedArray },
  vjp: (g: TypedArray, x: TypedArray, out: TypedArray) => TypedArray,
) => {
  const forward = typeof f === "function" ? (a: TypedArray) => e.map(a, f) : f.loop;
  const op = defineOp({
    name,
    forward: ([a]) => T(forward(a!.data), a!.shape),
    vjp: (g, { inputs: [a], out }) => [T(vjp(g.data, a!.data, out.data), g.shape)],
  });
  return (a: Tensor): Tensor => op([a], undefined);
};

/** -a */
export const neg = unary("neg", (x) => -x, (g) => e.scale(g, -1));
/** e^a; its derivative is itself, so the vjp reuses the output. */
export const exp = unary("exp", Math.exp, (g, _x, out) => e.mul(g, out));
/** Natural logarithm; d/dx log x = 1/x. */
export const log = unary("log", Math.log, (g, x) => e.div(g, x));
/** Square root; d/dx sqrt x = 1/(2 sqrt x). */
export const sqrt = unary("sqrt", Math.sqrt, (g, _x, out) => e.zip(g, out, (gi, o) => gi / (2 * o)));
/** max(a, 0); its derivative is 1 where a > 0 and 0 elsewhere (0 at exactly 0, by convention). */
export const relu = unary("relu", { loop: e.relu }, (g, _x, out) => maskPositive(g, out));
/** 1 / (1 + e^-a), computed without overflow for large |a|; derivative out (1 - out). */
export const sigmoid = unary("sigmoid", { loop: e.sigmoid }, (g, _x, out) => e.sigmoidGrad(g, out));
/** Hyperbolic tangent; derivative 1 - out^2. */
export const tanh = unary("tanh", { loop: e.tanh }, (g, _x, out) => e.tanhGrad(g, out));
/** |a|; derivative sign(a) (0 at exactly 0, by convention). */
export const abs = unary("abs", Math.abs, (g, x) => e.zip(g, x, (gi, xi) => gi * Math.sign(xi)));

const powOp = defineOp<number>({
  name: "pow",
  forward: ([a], p) => T(e.map(a!.data, (x) => x ** p), a!.shape),
  // d/dx x^p = p x^(p-1)
  vjp: (g, { inputs: [a], attrs: p }) => [T(e.zip(g.data, a!.data, (gi, x) => (p === 0 ? 0 : gi * p * x ** (p - 1))), g.shape)],
});

/** a raised to a constant exponent p. */
export const pow = (a: Tensor, p: number): Tensor => {
  if (!Number.isFinite(p)) throw new RangeError(`pow: the exponent must be a finite number, got ${p}`);
  return powOp([a], p);
};

/** a * a */
export const square = (a: Tensor): Tensor => mul(a, a);

// ---- comparisons: constants (0 or 1), no gradient --------------------------------------------

const compare = (name: string, f: (x: number, y: number) => boolean) => (a: Operand, b: Operand): Tensor => {
  const ta = asTensor(a, b);
  const tb = asTensor(b, ta);
  const shape = broadcastShapes(name, ta.shape, tb.shape);
  const x = sameShape(ta.shape, shape) ? ta.data : broadcastTo(ta, shape).data;
  const y = sameShape(tb.shape, shape) ? tb.data : broadcastTo(tb, shape).data;
  return T(e.zip(x, y, (u, v) => (f(u, v) ? 1 : 0)), shape);
};

export const greater = compare("greater", (x, y) => x > y);
export const less = compare("less", (x, y) => x < y);
export const equal = compare("equal", (x, y) => x === y);

// Elementwise ops. Binary primitives take equal shapes; the public functions broadcast their
// inputs first with broadcastTo, whose vjp (sumToShape) is the only un-broadcasting anywhere.
// Every vjp is written with ops, so it can be differentiated again.

import * as k from "../../backend/kernels.ts";
import { isFloat, type DType } from "../../backend/index.ts";
import { defineOp, run1, type Op } from "../define-op.ts";
import { broadcastShapes, sameShape, ShapeError, type Shape } from "../shape.ts";
import { detach, tensor, Tensor } from "../tensor.ts";
import { broadcastTo } from "./movement.ts";

/** A number becomes a scalar tensor of the other operand's dtype. */
export type Operand = Tensor | number;
const asTensor = (x: Operand, like: Tensor | number): Tensor => {
  if (typeof x !== "number") return x;
  if (typeof like === "number") throw new TypeError("elementwise op: at least one operand must be a Tensor");
  return tensor(x, [], like.dtype);
};

/** Broadcast every operand to their common shape (a no-op for operands already of that shape). */
const broadcastAll = (op: string, ts: Tensor[]): Tensor[] => {
  let shape: Shape = ts[0]!.shape;
  for (const t of ts.slice(1)) shape = broadcastShapes(op, shape, t.shape);
  return ts.map((t) => (sameShape(t.shape, shape) ? t : broadcastTo(t, shape)));
};

const requireFloat = (op: string, t: Tensor): void => {
  if (!isFloat(t.dtype)) throw new ShapeError(`${op}: expected a float32 or float64 tensor, got ${t.dtype} (cast it first)`);
};

// ---- binary primitives on equal shapes -------------------------------------------------------

type Binary = Op<undefined>;

const binaryOp = (op: k.BinaryOp, vjp: Parameters<typeof defineOp<undefined>>[0]["vjp"]): Binary =>
  defineOp({ name: op, forward: ([a, b]) => run1(k.binary, [a!, b!], { op }, a!.shape), vjp });

const public2 = (op: Binary, name: string) => (a: Operand, b: Operand): Tensor => {
  const ta = asTensor(a, b);
  const tb = asTensor(b, ta);
  const [x, y] = broadcastAll(name, [ta, tb]);
  return op([x!, y!], undefined);
};

const addOp = binaryOp("add", (g) => [g, g]);
const subOp = binaryOp("sub", (g, { needs }) => [g, needs[1] ? neg(g) : null]);
const mulOp = binaryOp("mul", (g, { inputs: [a, b], needs }) => [needs[0] ? mul(g, b!) : null, needs[1] ? mul(g, a!) : null]);
// d(a/b)/da = 1/b; d(a/b)/db = -a/b^2 = -out/b
const divOp = binaryOp("div", (g, { inputs: [, b], out, needs }) => [needs[0] ? div(g, b!) : null, needs[1] ? neg(mul(g, div(out, b!))) : null]);

/** 1 where x wins over y, 1/2 where they tie, else 0 (constants: the comparison has no gradient). */
const share = (x: Tensor, y: Tensor, wins: (a: Tensor, b: Tensor) => Tensor): Tensor => add(wins(x, y), mul(equal(x, y), 0.5));
// NOTE: where a == b the gradient is split evenly between them (as PyTorch does).
const maximumOp = binaryOp("maximum", (g, { inputs: [a, b], needs }) => [
  needs[0] ? mul(g, share(a!, b!, greater)) : null,
  needs[1] ? mul(g, share(b!, a!, greater)) : null,
]);
const minimumOp = binaryOp("minimum", (g, { inputs: [a, b], needs }) => [
  needs[0] ? mul(g, share(a!, b!, less)) : null,
  needs[1] ? mul(g, share(b!, a!, less)) : null,
]);
// d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log a
const powOp = binaryOp("pow", (g, { inputs: [a, b], out, needs }) => [
  needs[0] ? mul(g, mul(b!, pow(a!, sub(b!, 1)))) : null,
  needs[1] ? mul(g, mul(out, log(a!))) : null,
]);

/** a + b, broadcasting. */
export const add = public2(addOp, "add");
/** a - b, broadcasting. */
export const sub = public2(subOp, "sub");
/** a * b elementwise, broadcasting. */
export const mul = public2(mulOp, "mul");
/** a / b elementwise, broadcasting. */
export const div = public2(divOp, "div");
/** The larger of a and b elementwise, broadcasting. */
export const maximum = public2(maximumOp, "maximum");
/** The smaller of a and b elementwise, broadcasting. */
export const minimum = public2(minimumOp, "minimum");

const powConstantOp: Op<number> = defineOp<number>({
  name: "pow",
  forward: ([a], p) => run1(k.powConstant, [a!], { p }, a!.shape),
  // d/dx x^p = p x^(p-1)
  vjp: (g, { inputs: [a], attrs: p }) => [p === 0 ? mul(g, 0) : mul(g, mul(powConstantOp([a!], p - 1), p))],
});

/** a raised to the power b: a constant exponent (a number), or a tensor of exponents (broadcasting). */
export function pow(a: Tensor, b: number): Tensor;
export function pow(a: Operand, b: Operand): Tensor;
export function pow(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && typeof a !== "number") {
    if (!Number.isFinite(b)) throw new RangeError(`pow: the exponent must be a finite number, got ${b}`);
    return powConstantOp([a], b);
  }
  return public2(powOp, "pow")(a, b);
}

const whereOp = defineOp({
  name: "where",
  forward: ([c, a, b]) => run1(k.where, [c!, a!, b!], undefined, a!.shape),
  vjp: (g, { inputs: [c], needs }) => [
    null, // no gradient through the condition
    needs[1] ? where(c!, g, 0) : null,
    needs[2] ? where(c!, 0, g) : null,
  ],
});

/** Elementwise choice: a where condition is non-zero, b elsewhere (all three broadcast). */
export const where = (condition: Tensor, a: Operand, b: Operand): Tensor => {
  const ta = typeof a === "number" ? asTensor(a, typeof b === "number" ? condition : b) : a;
  const tb = asTensor(b, ta);
  const c = condition.dtype === ta.dtype ? detach(condition) : cast(detach(condition), ta.dtype);
  const [x, y, z] = broadcastAll("where", [c, ta, tb]);
  return whereOp([x!, y!, z!], undefined);
};

// ---- unary ops --------------------------------------------------------------------------------

const unary = (op: k.UnaryOp, vjp: Parameters<typeof defineOp<undefined>>[0]["vjp"]) => {
  const o = defineOp({ name: op, forward: ([a]) => run1(k.unary, [a!], { op }, a!.shape), vjp });
  return (a: Tensor): Tensor => {
    requireFloat(op, a);
    return o([a], undefined);
  };
};

/** -a */
export const neg = unary("neg", (g) => [neg(g)]);
/** e^a; its derivative is itself, so the vjp reuses the output. */
export const exp = unary("exp", (g, { out }) => [mul(g, out)]);
/** Natural logarithm; d/dx log x = 1/x. */
export const log = unary("log", (g, { inputs: [x] }) => [div(g, x!)]);
/** log(1 + a), accurate for small a; derivative 1/(1 + a). */
export const log1p = unary("log1p", (g, { inputs: [x] }) => [div(g, add(x!, 1))]);
/** Square root; d/dx sqrt x = 1/(2 sqrt x). */
export const sqrt = unary("sqrt", (g, { out }) => [div(g, mul(out, 2))]);
/** |a|; derivative sign(a) (0 at exactly 0, by convention). */
export const abs = unary("abs", (g, { inputs: [x] }) => [mul(g, sign(x!))]);
/** -1, 0 or 1; its derivative is 0 wherever it has one. */
export const sign = unary("sign", () => [null]);
/** max(a, 0); its derivative is 1 where a > 0 and 0 elsewhere (0 at exactly 0, by convention). */
export const relu = unary("relu", (g, { out }) => [maskPositive(g, out)]);
/** 1 / (1 + e^-a), computed without overflow for large |a|; derivative out (1 - out). */
export const sigmoid = unary("sigmoid", (g, { out }) => [mul(g, mul(out, sub(1, out)))]);
/** Hyperbolic tangent; derivative 1 - out^2. */
export const tanh = unary("tanh", (g, { out }) => [mul(g, sub(1, mul(out, out)))]);
/** Sine; derivative cos. */
export const sin = unary("sin", (g, { inputs: [x] }) => [mul(g, cos(x!))]);
/** Cosine; derivative -sin. */
export const cos = unary("cos", (g, { inputs: [x] }) => [neg(mul(g, sin(x!)))]);
/** The largest integer <= a; its derivative is 0 wherever it has one. */
export const floor = unary("floor", () => [null]);

const maskPositiveOp = defineOp({
  name: "maskPositive",
  forward: ([g, y]) => run1(k.maskPositive, [g!, y!], undefined, g!.shape),
  // Linear in g; the mask y only switches, so it gets no gradient.
  vjp: (gg, { inputs: [, y], needs }) => [needs[0] ? maskPositive(gg, y!) : null, null],
});

/** g where y > 0, else 0: the relu's vector-Jacobian product, reading the relu's output y. */
export const maskPositive = (g: Tensor, y: Tensor): Tensor => {
  if (!sameShape(g.shape, y.shape)) throw new ShapeError(`maskPositive: g ${JSON.stringify(g.shape)} and y ${JSON.stringify(y.shape)} must have the same shape`);
  return maskPositiveOp([g, y], undefined);
};

/** a * a */
export const square = (a: Tensor): Tensor => mul(a, a);

// ---- comparisons: constants (0 or 1), no gradient --------------------------------------------

const compare = (op: "greater" | "less" | "equal") => (a: Operand, b: Operand): Tensor => {
  const ta = asTensor(a, b);
  const tb = asTensor(b, ta);
  if (ta.dtype !== tb.dtype) throw new ShapeError(`${op}: mismatched dtypes ${ta.dtype} and ${tb.dtype} (cast one input first)`);
  const [x, y] = broadcastAll(op, [detach(ta), detach(tb)]);
  return run1(k.binary, [x!, y!], { op }, x!.shape);
};

/** 1 where a > b, else 0 (broadcasting); a constant. */
export const greater = compare("greater");
/** 1 where a < b, else 0 (broadcasting); a constant. */
export const less = compare("less");
/** 1 where a == b, else 0 (broadcasting); a constant. */
export const equal = compare("equal");

/** 1 where a is finite (not NaN or infinite), else 0; a constant. */
export const isFinite = (a: Tensor): Tensor => {
  requireFloat("isFinite", a);
  return run1(k.unary, [detach(a)], { op: "isFinite" }, a.shape);
};

// ---- casts ----------------------------------------------------------------------------------------

const castOp: Op<DType> = defineOp<DType>({
  name: "cast",
  mixedDtypes: true,
  outputDtype: (_inputs, dtype) => dtype,
  forward: ([a], dtype) => run1(k.cast, [a!], { dtype }, a!.shape),
  // The same values in another precision: the cotangent goes back in the input's precision.
  vjp: (g, { inputs: [a] }) => [castOp([g], a!.dtype)],
});

/**
 * The same values in another dtype (a copy). Between float32 and float64 it is differentiable; to an
 * integer dtype it truncates toward zero and the result is a constant.
 */
export const cast = (a: Tensor, dtype: DType): Tensor => {
  if (a.dtype === dtype) return a;
  return isFloat(dtype) && isFloat(a.dtype) ? castOp([a], dtype) : castOp([detach(a)], dtype);
};

// The README's example of extending the engine: a new kernel (its loops) and a new op over it written
// with defineOp (forward and vjp side by side), and a new function composed from existing ops, which
// needs no gradient code at all. checkOp gives both every check the engine's own ops pass.

import { describe, expect, it } from "vitest";
import { defineKernel, defineOp, grad, gradcheck, jit, mul, run1, sigmoid, sum, Tensor, tensor } from "../src/autograd/index.ts";
import { checkOp } from "../src/testing/index.ts";

// ---- the README example -----------------------------------------------------------------------

// A new kernel: softplus(x) = log(1 + e^x), computed as max(x, 0) + log(1 + e^-|x|) so that e^x
// never overflows. Its loops define it; every backend runs them, compiled programs too.
const softplusKernel = defineKernel({
  name: "softplus",
  outputs: ([x]) => [x!], // one output of x's dtype and size
  run: ([x], [out]) => {
    for (let i = 0; i < x!.length; i++) out![i] = Math.max(x![i]!, 0) + Math.log1p(Math.exp(-Math.abs(x![i]!)));
  },
});

// A new op: the kernel as its forward, and its vjp written with ops: d/dx softplus(x) = sigmoid(x).
const softplusOp = defineOp({
  name: "softplus",
  forward: ([x]) => run1(softplusKernel, [x!], undefined, x!.shape),
  vjp: (g, { inputs: [x] }) => [mul(g, sigmoid(x!))],
});
const softplus = (x: Tensor): Tensor => softplusOp([x], undefined);

// A composition: swish(x) = x * sigmoid(x). Its gradient comes from mul's and sigmoid's vjps.
const swish = (x: Tensor): Tensor => mul(x, sigmoid(x));

const x = tensor([-3, -0.5, 0.5, 3], [4], "float64");
// gradcheck(softplus, [x]).ok and gradcheck(swish, [x]).ok are true, and
// checkOp({ name: "softplus", op: softplus, arity: 1, values: { min: -6, max: 6 } }) passes every
// check; the first specs of each describe below run exactly these calls.
// ---- end of the README example ----------------------------------------------------------------

const sigmoidOf = (v: number): number => 1 / (1 + Math.exp(-v));
const slope = (f: (x: Tensor) => Tensor) => (t: Tensor) => grad((u: Tensor) => sum(f(u)))(t);

describe("a new op written with defineOp: softplus(x) = log(1 + e^x)", () => {
  it("passes gradcheck on the README's example values", () => {
    const result = gradcheck(softplus, [x]);
    expect(result.ok, result.message).toBe(true);
  });

  it("passes checkOp on random shapes and values in [-6, 6]: gradcheck, gradcheck of its gradient, purity, graph, float32 and jit", () => {
    const report = checkOp({ name: "softplus", op: softplus, arity: 1, values: { min: -6, max: 6 } });
    expect(report.passed.map((p) => p.check)).toEqual(["gradcheck", "gradOfGrad", "purity", "graph", "float32", "jit"]);
  });

  it("equals log(1 + e^x) where that is accurate, and stays exact at +-1000 where e^x overflows", () => {
    const t = tensor([-6, -1.5, 0, 0.25, 4, 6], [6], "float64");
    softplus(t).data.forEach((v, i) => expect(v).toBeCloseTo(Math.log(1 + Math.exp(t.data[i]!)), 12));
    expect(softplus(tensor([1000, -1000, 0], [3], "float64")).toArray()).toEqual([1000, 0, Math.LN2]);
  });

  it("has gradient sigmoid(x), 1/2 at 0, and second derivative sigmoid(x) (1 - sigmoid(x))", () => {
    const t = tensor([0, 2, -3], [3], "float64");
    const first = slope(softplus)(t).data;
    expect(first[0]).toBe(0.5);
    first.forEach((v, i) => expect(v).toBeCloseTo(sigmoidOf(t.data[i]!), 15));
    slope(slope(softplus))(t).data.forEach((v, i) => expect(v).toBeCloseTo(sigmoidOf(t.data[i]!) * (1 - sigmoidOf(t.data[i]!)), 12));
  });

  it("records a graph node named after it, and runs compiled with the eager values", () => {
    const g = grad((t: Tensor) => {
      expect(softplus(t).node?.op).toBe("softplus");
      return sum(softplus(t));
    });
    expect(g(tensor([1, 2])).dtype).toBe("float32");
    expect(jit(softplus)(x)).toEqual(softplus(x));
  });
});

describe("a new function composed from existing ops: swish(x) = x * sigmoid(x)", () => {
  it("passes gradcheck on the README's example values with no gradient code of its own", () => {
    const result = gradcheck(swish, [x]);
    expect(result.ok, result.message).toBe(true);
  });

  it("passes checkOp on random shapes and values in [-6, 6], as every composition of checked ops should", () => {
    expect(checkOp({ name: "swish", op: swish, arity: 1, values: { min: -6, max: 6 } }).passed).toHaveLength(6);
  });

  it("has the closed-form gradient sigmoid(x) (1 + x (1 - sigmoid(x)))", () => {
    const t = tensor([-6, -1.5, 0, 0.25, 4, 6], [6], "float64");
    slope(swish)(t).data.forEach((v, i) => {
      const s = sigmoidOf(t.data[i]!);
      expect(v).toBeCloseTo(s * (1 + t.data[i]! * (1 - s)), 12);
    });
  });

  it("is 0 at 0 with slope 1/2 there: sigmoid(0) (1 + 0) = 1/2", () => {
    const zero = tensor([0], [1], "float64");
    expect(swish(zero).item()).toBe(0);
    expect(slope(swish)(zero).item()).toBe(0.5);
  });
});

// The README's worked example of extending the engine: a new kernel (its loops) and a new op over it
// written with defineOp (forward and vjp side by side), and a new function composed from existing
// ops, which needs no gradient code at all. Both are checked against central differences, and both
// run compiled (jit) as they run eagerly.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defineKernel, defineOp, grad, gradcheck, jit, mul, run1, sigmoid, sum, Tensor, tensor } from "../../src/autograd/index.ts";
import { shapes, tensorOfShape } from "../arbitraries.ts";

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
// gradcheck(softplus, [x]).ok and gradcheck(swish, [x]).ok are both true: the first spec of each
// describe below runs exactly these calls.
// ---- end of the README example ----------------------------------------------------------------

const inputs = shapes().chain((shape) => tensorOfShape(shape, { min: -6, max: 6 }));
const sigmoidOf = (v: number): number => 1 / (1 + Math.exp(-v));

describe("a new op written with defineOp: softplus(x) = log(1 + e^x)", () => {
  it("passes gradcheck on the README's example values", () => {
    const result = gradcheck(softplus, [x]);
    expect(result.ok, result.message).toBe(true);
  });

  it("passes gradcheck on random shapes and values", () => {
    fc.assert(
      fc.property(inputs, (t) => {
        const result = gradcheck(softplus, [t]);
        expect(result.ok, result.message).toBe(true);
      }),
    );
  });

  it("equals log(1 + e^x) where that is accurate, and stays exact at +-1000 where e^x overflows", () => {
    fc.assert(
      fc.property(inputs, (t) => {
        softplus(t).data.forEach((v, i) => expect(v).toBeCloseTo(Math.log(1 + Math.exp(t.data[i]!)), 12));
      }),
    );
    expect(softplus(tensor([1000, -1000, 0], [3], "float64")).toArray()).toEqual([1000, 0, Math.LN2]);
  });

  it("has gradient sigmoid(x): at 0 it is 1/2", () => {
    const g = grad((t: Tensor) => sum(softplus(t)))(tensor([0, 2], [2], "float64"));
    expect(g.data[0]).toBe(0.5);
    expect(g.data[1]).toBeCloseTo(sigmoidOf(2), 15);
  });

  it("runs compiled (jit) with the same values as eagerly, gradient too, and can be differentiated twice", () => {
    const both = (t: Tensor) => ({ value: softplus(t), slope: grad((u: Tensor) => sum(softplus(u)))(t) });
    const t = tensor([-2, 0, 3], [3], "float64");
    expect(jit(both)(t)).toEqual(both(t));
    const curvature = grad((u: Tensor) => sum(grad((v: Tensor) => sum(softplus(v)))(u)))(t); // sigmoid'(x) = s (1 - s)
    Array.from(curvature.data).forEach((v, i) => expect(v).toBeCloseTo(sigmoidOf(t.data[i]!) * (1 - sigmoidOf(t.data[i]!)), 12));
  });

  it("records a graph node named after it, and keeps float32 in float32", () => {
    const g = grad((t: Tensor) => {
      expect(softplus(t).node?.op).toBe("softplus");
      return sum(softplus(t));
    });
    expect(g(tensor([1, 2])).dtype).toBe("float32");
  });
});

describe("a new function composed from existing ops: swish(x) = x * sigmoid(x)", () => {
  it("passes gradcheck on the README's example values with no gradient code of its own", () => {
    const result = gradcheck(swish, [x]);
    expect(result.ok, result.message).toBe(true);
  });

  it("passes gradcheck on random shapes and values", () => {
    fc.assert(
      fc.property(inputs, (t) => {
        const result = gradcheck(swish, [t]);
        expect(result.ok, result.message).toBe(true);
      }),
    );
  });

  it("has the closed-form gradient sigmoid(x) (1 + x (1 - sigmoid(x)))", () => {
    fc.assert(
      fc.property(inputs, (t) => {
        const g = grad((u: Tensor) => sum(swish(u)))(t);
        g.data.forEach((v, i) => {
          const xi = t.data[i]!;
          const s = sigmoidOf(xi);
          expect(v).toBeCloseTo(s * (1 + xi * (1 - s)), 12);
        });
      }),
    );
  });

  it("is 0 at 0 with slope 1/2 there: sigmoid(0) (1 + 0) = 1/2", () => {
    const zero = tensor([0], [1], "float64");
    expect(swish(zero).item()).toBe(0);
    expect(grad((u: Tensor) => sum(swish(u)))(zero).item()).toBe(0.5);
  });
});

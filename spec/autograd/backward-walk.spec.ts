// How valueAndGrad walks the recorded graph (src/autograd/grad.ts): from the output back to the
// inputs, each node after every node that used it, each vjp turning its node's cotangent into one
// per parent, and a tensor used twice receiving the sum. One small graph, walked step by step:
//
//   a = x w       (mul)      x = 2, w = -1      a = -2
//   b = a + c     (add)      c = 0.5            b = -1.5
//   d = tanh(b)   (tanh)                        d = tanh(-1.5) = -0.905148
//   L = d a       (mul)      a is used twice    L = 1.810297

import { describe, expect, it } from "vitest";
import { add, backward, backwardOrder, gradcheck, mul, ones, tanh, tensor, watch, type Tensor } from "../../src/autograd/index.ts";

const scalar = (v: number) => watch(tensor(v, [], "float64"));
const [x, w, c] = [scalar(2), scalar(-1), scalar(0.5)];
const a = mul(x, w);
const b = add(a, c);
const d = tanh(b);
const L = mul(d, a);
const names = new Map<Tensor, string>([[x, "x"], [w, "w"], [c, "c"], [a, "a"], [b, "b"], [d, "d"], [L, "L"]]);
const named = (ts: readonly Tensor[]): string[] => ts.map((t) => names.get(t) ?? "?");
/** dL/dt: the walk stopped at t, so t receives the sum of every cotangent flowing into it. */
const cotangentOf = (t: Tensor): number => backward(L, [t], ones([], "float64"))[0]!.item();

const D = Math.tanh(-1.5);

describe("the backward walk of L = tanh(x w + c) (x w) at x = 2, w = -1, c = 0.5", () => {
  it("records one node per op, each naming its op and pointing at its parents: a = x w, b = a + c, d = tanh(b), L = d a", () => {
    expect([a, b, d, L].map((t) => [names.get(t), t.node!.op, named(t.node!.parents)])).toEqual([
      ["a", "mul", ["x", "w"]],
      ["b", "add", ["a", "c"]],
      ["d", "tanh", ["b"]],
      ["L", "mul", ["d", "a"]],
    ]);
    expect(L.item()).toBeCloseTo(-2 * D, 15);
  });

  it("visits L, d, b, a in that order (reverse topological): a comes last because b and L both use it", () => {
    expect(named(backwardOrder(L, [x, w, c]))).toEqual(["L", "d", "b", "a"]);
  });

  it("starts from dL/dL = 1, and L = d a's vjp gives dL/dd = a = -2", () => {
    expect(cotangentOf(L)).toBe(1);
    expect(cotangentOf(d)).toBe(-2);
  });

  it("then tanh's vjp gives dL/db = dL/dd (1 - d^2) = -2 (1 - tanh(-1.5)^2) = -0.361413", () => {
    expect(cotangentOf(b)).toBeCloseTo(-2 * (1 - D * D), 15);
    expect(cotangentOf(b)).toBeCloseTo(-0.361413, 6);
  });

  it("a gets the sum of its two uses: d = -0.905148 from L = d a, and dL/db = -0.361413 through b = a + c, so dL/da = -1.266562", () => {
    expect(cotangentOf(a)).toBeCloseTo(D + -2 * (1 - D * D), 15);
    expect(cotangentOf(a)).toBeCloseTo(-1.266562, 6);
  });

  it("a = x w's vjp ends the walk at the inputs: dL/dx = w dL/da = 1.266562, dL/dw = x dL/da = -2.533123, dL/dc = dL/db = -0.361413", () => {
    const [gx, gw, gc] = backward(L, [x, w, c], ones([], "float64")).map((g) => g.item());
    const da = D - 2 * (1 - D * D);
    expect([gx, gw, gc]).toEqual([-1 * da, 2 * da, -2 * (1 - D * D)].map((v) => expect.closeTo(v, 15)));
    const f = (u: Tensor, v: Tensor, k: Tensor) => mul(tanh(add(mul(u, v), k)), mul(u, v));
    const check = gradcheck(f, [2, -1, 0.5].map((v) => tensor(v, [], "float64")));
    expect(check.ok, check.message).toBe(true);
  });

  it("visits only what leads to a requested input: asked for dL/dc alone, it walks L, d, b and never calls a's vjp", () => {
    expect(named(backwardOrder(L, [c]))).toEqual(["L", "d", "b"]);
  });
});

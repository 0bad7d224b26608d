// Gradients of gradients: inside a differentiated function, a gradient is built from ops that are
// recorded too, so the outer gradient differentiates through it.

import { describe, expect, it } from "vitest";
import {
  add, defineOp, exp, grad, mul, random, scalar, sigmoid, sum, tanh, tensor, treeLeaves, treeMap, valueAndGrad, type Tensor,
} from "../../src/autograd/index.ts";
import { flattenTree, mlp, softmaxCrossEntropy, type Params } from "../../src/nn/index.ts";

const f64 = (values: number[], shape?: number[]) => tensor(values, shape ?? [values.length], "float64");
const values = (t: Tensor) => Array.from(t.data);
const closeTo = (got: number[], want: number[], tol = 1e-12) => got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(tol));

describe("second derivatives", () => {
  const xs = [-2, -0.5, 0, 0.3, 1.7];
  const d = (f: (x: Tensor) => Tensor) => (x: Tensor) => grad((y: Tensor) => sum(f(y)))(x);

  it("of tanh: tanh'' = -2 tanh (1 - tanh^2)", () => {
    closeTo(values(d(d(tanh))(f64(xs))), xs.map((x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2)));
  });

  it("of sigmoid: s'' = s (1 - s) (1 - 2 s)", () => {
    const s = (x: number) => 1 / (1 + Math.exp(-x));
    closeTo(values(d(d(sigmoid))(f64(xs))), xs.map((x) => s(x) * (1 - s(x)) * (1 - 2 * s(x))));
  });

  it("of x^3 = x * x * x, to the third: 6", () => {
    const cube = (x: Tensor) => mul(mul(x, x), x);
    closeTo(values(d(d(d(cube)))(f64(xs))), xs.map(() => 6));
  });
  // Every op of the op table: its gradient gradchecked too (spec/autograd/op-table.spec.ts, checkOp).
});

describe("a Hessian-vector product of an MLP loss", () => {
  it("equals the central difference of the gradient along v: (grad L(p + h v) - grad L(p - h v)) / 2h", () => {
    const net = mlp([5, 4, 3], { activation: "tanh" });
    const params = treeMap(net.init(random.key(3), [5], "float64").params, (t) => t);
    const x = random.normal(random.key(4), [6, 5], { dtype: "float64" });
    const labels = [0, 1, 2, 1, 0, 2];
    const loss = (p: Params) => softmaxCrossEntropy(net.apply(p, x), labels);
    const v = treeMap(params, (t, path) => random.normal(random.foldIn(random.key(5), path.length), t.shape, { dtype: "float64" }));
    // docs/engine.md's two lines: H v is the gradient of <grad(loss), v>.
    const dot = (a: Params, b: Params) => treeLeaves(a).reduce((s, { path, leaf }) => add(s, sum(mul(leaf, flattenTree(b)[path]!))), scalar(0, "float64"));
    const hvp = (p: Params, w: Params) => grad((q: Params) => dot(grad(loss)(q), w))(p);
    const hv = hvp(params, v);
    const h = 1e-5;
    const shifted = (sign: number) => grad(loss)(treeMap(params, (t, path) => add(t, mul(treeLeaves(v).find((l) => l.path === path)!.leaf, sign * h))));
    const [plus, minus] = [shifted(1), shifted(-1)];
    for (const { path, leaf } of treeLeaves(hv)) {
      const p = treeLeaves(plus).find((l) => l.path === path)!.leaf.data;
      const m = treeLeaves(minus).find((l) => l.path === path)!.leaf.data;
      Array.from(leaf.data).forEach((got, i) => expect(Math.abs(got - (p[i]! - m[i]!) / (2 * h))).toBeLessThan(1e-6));
    }
  });
});

describe("an op whose vjp cannot be differentiated again", () => {
  // A vjp written with the values of its inputs (x.data), not with ops: fine for a gradient, but
  // there is nothing to differentiate a second time.
  const cubeOp = defineOp({
    name: "cubeByValues",
    forward: ([x]) => mul(mul(x!, x!), x!),
    vjp: (g, { inputs: [x] }) => [mul(g, tensor(Array.from(x!.data, (v) => 3 * v * v), x!.shape, x!.dtype))],
  });
  const cube = (x: Tensor) => cubeOp([x], undefined);

  it("still gives its first derivative", () => {
    expect(values(grad((x: Tensor) => sum(cube(x)))(f64([2])))).toEqual([12]);
  });

  it("throws, naming the op, when a second derivative is asked for, instead of giving zeros", () => {
    const second = () => grad((y: Tensor) => sum(grad((x: Tensor) => sum(cube(x)))(y)))(f64([2]));
    expect(second).toThrow(/cubeByValues: its vjp reads the values of a tracked tensor/);
  });
});

describe("valueAndGrad inside valueAndGrad", () => {
  it("gives the inner value and gradient as tensors the outer gradient flows through: d/dx (x * d/dx e^x) = e^x (1 + x)", () => {
    const { value, grads } = valueAndGrad((x: Tensor) => {
      const inner = valueAndGrad((y: Tensor) => sum(exp(y)))(x);
      return sum(mul(x, inner.grads));
    })(f64([0.5, -1]));
    closeTo(values(grads), [0.5, -1].map((x) => Math.exp(x) * (1 + x)));
    closeTo([value.item()], [0.5 * Math.exp(0.5) - Math.exp(-1)]);
  });
});

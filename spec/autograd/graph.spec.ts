// The recorded graph and reverse-mode differentiation over parameter trees.

import fc from "fast-check";
import { freeze } from "immer";
import { describe, expect, it } from "vitest";
import {
  add, backward, cast, defineOp, exp, grad, linear, matmul, mul, neg, ones, random, relu, reshape, sum, tanh, tensor, treeLeaves, treeMap,
  valueAndGrad, valueAndGradAux, vjp, watch, zeros, type Tensor, type Tree,
} from "../../src/autograd/index.ts";
import { tensorOfShape } from "../../src/testing/index.ts";

const f64 = (values: Parameters<typeof tensor>[0], shape?: readonly number[]): Tensor => tensor(values, shape, "float64");

/** An op that computes a + b and writes down the `needs` flags each vjp call received. */
const recordingAdd = () => {
  const calls: boolean[][] = [];
  const op = defineOp({
    name: "recordingAdd",
    forward: ([a, b]) => add(a!, b!),
    vjp: (g, { needs }) => {
      calls.push([...needs]);
      return [needs[0] ? g : null, needs[1] ? g : null];
    },
  });
  return { calls, op: (a: Tensor, b: Tensor) => op([a, b], undefined) };
};

/** An identity op that counts its vjp calls by tag. */
const countingIdentity = () => {
  const visits: string[] = [];
  const op = defineOp<string>({
    name: "countingIdentity",
    forward: ([a]) => a!, // the output shares the input's values, never writing them
    vjp: (g, { attrs }) => {
      visits.push(attrs);
      return [g];
    },
  });
  return { visits, op: (a: Tensor, tag: string) => op([a], tag) };
};

const params = () => ({
  layers: [
    { w: f64([[0.1, -0.2], [0.3, 0.4]]), b: f64([0.01, -0.02]) },
    { w: f64([[0.5], [-0.6]]), b: f64([0.03]) },
  ],
  scale: f64(2, []),
  name: "two-layer net",
  depth: 2,
});
type Params = ReturnType<typeof params>;

const loss = (p: Params, x: Tensor): Tensor => {
  let h = x;
  for (const { w, b } of p.layers) h = tanh(add(matmul(h, w), b));
  return sum(mul(h, p.scale));
};

describe("valueAndGrad over parameter trees", () => {
  it("returns grads shaped exactly like the params tree: the same keys, arrays, shapes, and non-tensor leaves", () => {
    const p = params();
    const { value, grads } = valueAndGrad(loss)(p, f64([[1, 2], [3, 4], [5, 6]]));
    expect(value.shape).toEqual([]);
    expect(Object.keys(grads)).toEqual(Object.keys(p));
    expect(grads.layers).toHaveLength(2);
    grads.layers.forEach((layer, i) => {
      expect(layer.w.shape).toEqual(p.layers[i]!.w.shape);
      expect(layer.b.shape).toEqual(p.layers[i]!.b.shape);
    });
    expect(grads.scale.shape).toEqual([]);
    expect(grads.name).toBe("two-layer net");
    expect(grads.depth).toBe(2);
    expect(treeLeaves(grads).map(({ path }) => path)).toEqual(["layers.0.w", "layers.0.b", "layers.1.w", "layers.1.b", "scale"]);
  });

  it("gives the same value and gradients when called twice: nothing is stored between calls", () => {
    const p = params();
    const x = f64([[1, -1], [0.5, 2]]);
    const first = valueAndGrad(loss)(p, x);
    const second = valueAndGrad(loss)(p, x);
    expect(second.value.item()).toBe(first.value.item());
    expect(treeLeaves(second.grads).map(({ leaf }) => Array.from(leaf.data))).toEqual(treeLeaves(first.grads).map(({ leaf }) => Array.from(leaf.data)));
  });

  it("accepts a deep-frozen (immer) params tree and returns gradients without touching it", () => {
    const p = freeze(params(), true);
    const before = treeLeaves(p).map(({ leaf }) => Array.from(leaf.data));
    const { grads } = valueAndGrad(loss)(p, f64([[1, 2]]));
    expect(Object.isFrozen(p.layers[0])).toBe(true);
    expect(treeLeaves(p).map(({ leaf }) => Array.from(leaf.data))).toEqual(before);
    expect(treeLeaves(grads)).toHaveLength(5);
  });

  it("returns a constant value and constant gradients (no graph attached)", () => {
    const { value, grads } = valueAndGrad(loss)(params(), f64([[1, 2]]));
    expect(value.node).toBeNull();
    for (const { leaf } of treeLeaves(grads)) expect(leaf.node).toBeNull();
  });

  it("gives zeros for a parameter the loss does not depend on", () => {
    const { grads } = valueAndGrad((p: { used: Tensor; unused: Tensor }) => sum(p.used))({ used: f64([1, 2]), unused: f64([[3, 4, 5]]) });
    expect(grads.unused.toArray()).toEqual([[0, 0, 0]]);
    expect(grads.used.toArray()).toEqual([1, 1]);
  });

  it("gives zeros for every parameter when the loss is a constant", () => {
    const g = grad((_p: Tensor) => sum(f64([1, 2])))(f64([5]));
    expect(g.toArray()).toEqual([0]);
  });

  it("differentiates a loss that is a parameter itself: d/dx x = 1", () => {
    expect(grad((x: Tensor) => x)(f64(3, [])).item()).toBe(1);
  });

  it("valueAndGradAux passes the auxiliary output through untouched", () => {
    const { value, grads, aux } = valueAndGradAux((w: Tensor, x: Tensor) => {
      const y = mul(w, x);
      return [sum(y), { logits: y, note: "aux" }] as const;
    })(f64([2, 3]), f64([5, 7]));
    expect(value.item()).toBe(31); // 2*5 + 3*7
    expect(grads.toArray()).toEqual([5, 7]);
    expect(aux.note).toBe("aux");
    expect(aux.logits.toArray()).toEqual([10, 21]);
  });
});

describe("the backward pass", () => {
  it("hands each vjp its inputs as constants, so a vjp written with ops records no graph of its own", () => {
    const seen: (Tensor | null)[] = [];
    const square = defineOp({
      name: "square",
      forward: ([x]) => mul(x!, x!),
      vjp: (g, { inputs: [x] }) => {
        const dx = mul(mul(g, x!), 2);
        seen.push(x!, dx);
        return [dx];
      },
    });
    const g = grad((t: Tensor) => sum(square([t], undefined)))(f64([1, -2, 3]));
    expect(Array.from(g.data)).toEqual([2, -4, 6]);
    expect(seen.map((t) => t!.node)).toEqual([null, null]);
  });

  it("gives x*x the gradient 2x: a tensor used twice receives the sum of both paths", () => {
    fc.assert(
      fc.property(tensorOfShape([3]), (x) => {
        const g = grad((t: Tensor) => sum(mul(t, t)))(x);
        expect(Array.from(g.data)).toEqual(Array.from(x.data, (v) => 2 * v));
      }),
    );
  });

  it("adds the gradients of different ops that read the same tensor: d/dx (e^x + 3x) = e^x + 3", () => {
    const x = f64([0, 1]);
    const g = grad((t: Tensor) => sum(add(exp(t), mul(t, 3))))(x);
    expect(g.data[0]).toBe(4);
    expect(g.data[1]).toBeCloseTo(Math.E + 3, 14);
  });

  it("sums the cotangents of a tensor used twice (h feeds relu and add): float32 gradients equal float64's", () => {
    const f = (p: { w1: Tensor; w2: Tensor; bias: Tensor }, x: Tensor) => {
      const h = matmul(x, p.w1);
      const b = add(relu(h), h);
      const c = linear(reshape(b, [6, 5]), p.w2, p.bias, { activation: "relu" });
      return sum(mul(c, c));
    };
    const x = random.normal(random.key(1), [6, 4]);
    const params = { w1: random.normal(random.key(2), [4, 5]), w2: random.normal(random.key(3), [5, 3]), bias: random.normal(random.key(4), [3]) };
    const g32 = grad(f)(params, x);
    const g64 = grad(f)(treeMap(params, (t) => cast(t, "float64")), cast(x, "float64"));
    for (const key of ["w1", "w2", "bias"] as const) {
      const want = Array.from(g64[key].data);
      const scale = Math.max(...want.map(Math.abs));
      Array.from(g32[key].data).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5 * scale));
    }
    expect(Array.from(add(g32.w1, g32.w1).data)).toEqual(Array.from(g32.w1.data, (v) => 2 * v)); // the returned gradients are live
  });

  it("differentiates a chain of 100,000 ops without overflowing the stack: 100,000 negations give back x, gradient 1", () => {
    const { value, grads } = valueAndGrad((x: Tensor) => {
      let y = x;
      for (let i = 0; i < 100_000; i++) y = neg(y);
      return y;
    })(f64(0.5, []));
    expect(value.item()).toBe(0.5);
    expect(grads.item()).toBe(1);
  });

  it("records no graph for constants: data passed in `rest`, and everything computed only from it, has node null", () => {
    const seen: (Tensor | null)[] = [];
    valueAndGrad((w: Tensor, x: Tensor) => {
      const scaled = mul(x, 2); // data only
      const y = mul(w, scaled); // depends on w
      seen.push(x, scaled, y);
      return sum(y);
    })(f64([1]), f64([4]));
    const [x, scaled, y] = seen;
    expect(x!.node).toBeNull();
    expect(scaled!.node).toBeNull();
    expect(y!.node?.op).toBe("mul");
  });

  it("computes no gradient for inputs nobody asked about: a vjp is told needs = [true, false] for (params, data)", () => {
    const { calls, op } = recordingAdd();
    grad((w: Tensor, x: Tensor) => sum(op(w, x)))(f64([1]), f64([2]));
    expect(calls).toEqual([[true, false]]);
  });

  it("computes no gradient for a tracked input that was not requested", () => {
    const { calls, op } = recordingAdd();
    const [a, b] = [watch(f64([1])), watch(f64([2]))];
    const out = op(a, b);
    const [ga] = backward(out, [a], ones([1], "float64"));
    expect(ga!.toArray()).toEqual([1]);
    expect(calls).toEqual([[true, false]]);
  });

  it("walks only the nodes between the loss and the requested leaves", () => {
    const { visits, op } = countingIdentity();
    const [a, b] = [watch(f64([1])), watch(f64([2]))];
    const fromA = op(op(a, "a1"), "a2");
    const fromB = op(op(b, "b1"), "b2");
    const unused = op(a, "unused"); // not on the path to the loss
    const out = add(fromA, fromB);
    expect(unused.node).not.toBeNull();
    backward(out, [a], ones([1], "float64"));
    expect(visits).toEqual(["a2", "a1"]);
  });

  it("throws naming the op when a vjp returns a cotangent of the wrong shape", () => {
    const flattenGrad = defineOp({
      name: "badVjp",
      forward: ([a]) => a!,
      vjp: (g) => [reshape(g, [-1])],
    });
    const f = (x: Tensor) => sum(flattenGrad([x], undefined));
    expect(() => grad(f)(zeros([2, 2], "float64"))).toThrow("badVjp: vjp returned a cotangent of shape [4] for input 0 of shape [2, 2]");
  });

  it("a vjp may return null for an input: that input then gets a zero gradient", () => {
    const onlyFirst = defineOp({ name: "onlyFirst", forward: ([a, b]) => add(a!, b!), vjp: (g) => [g, null] });
    const g = grad((p: { a: Tensor; b: Tensor }) => sum(onlyFirst([p.a, p.b], undefined)))({ a: f64([1]), b: f64([2]) });
    expect([g.a.item(), g.b.item()]).toEqual([1, 0]);
  });

  it("an op declared with mixedDtypes accepts inputs of different dtypes; other ops refuse them", () => {
    const defs = { forward: ([a]: readonly Tensor[]) => a!, vjp: (g: Tensor) => [g, null] };
    const mixed = defineOp({ name: "mixed", mixedDtypes: true, ...defs });
    const strict = defineOp({ name: "strict", ...defs });
    const inputs = [f64([1]), tensor([2])];
    expect(mixed(inputs, undefined).toArray()).toEqual([1]);
    expect(() => strict(inputs, undefined)).toThrow("strict: mismatched dtypes float64 and float32");
  });

  it("vjp maps any cotangent of a non-scalar output back to the inputs: for y = a * b, (g b, g a)", () => {
    const { out, backward: back } = vjp((a, b) => mul(a!, b!), f64([1, 2]), f64([3, 4]));
    expect(out.toArray()).toEqual([3, 8]);
    expect(out.node).toBeNull();
    const [ga, gb] = back(f64([10, 100]));
    expect(ga!.toArray()).toEqual([30, 400]);
    expect(gb!.toArray()).toEqual([10, 200]);
  });

  it("watch makes a fresh tracked handle on the same values; the original stays a constant", () => {
    const x = f64([1, 2]);
    const w = watch(x);
    expect(w.node?.op).toBe("input");
    expect(Array.from(w.data)).toEqual(Array.from(x.data));
    expect(x.node).toBeNull();
    expect(w.tracked).toBe(true);
    expect(x.tracked).toBe(false);
  });
});

describe("parameter trees", () => {
  const tree: Tree = { a: [f64([1]), { b: f64([2, 3]) }], c: 4, d: null };

  it("treeLeaves lists the tensor leaves with dotted paths, keys as written and arrays by index", () => {
    expect(treeLeaves(tree).map(({ path, leaf }) => [path, leaf.toArray()])).toEqual([
      ["a.0", [1]],
      ["a.1.b", [2, 3]],
    ]);
  });

  it("a tree may be an array at its root: paths start at the index", () => {
    expect(treeLeaves([f64([1]), [f64([2])]]).map(({ path }) => path)).toEqual(["0", "1.0"]);
  });

  it("treeMap replaces tensor leaves and keeps the structure and the other leaves", () => {
    const doubled = treeMap(tree, (t, path) => (path === "a.0" ? t : mul(t, 2)));
    expect(treeLeaves(doubled).map(({ leaf }) => leaf.toArray())).toEqual([[1], [4, 6]]);
    expect((doubled as { c: number }).c).toBe(4);
    expect((doubled as { d: null }).d).toBeNull();
  });
});

describe("cast", () => {
  it("keeps the graph: the gradient flows back through a change of precision, in the input's dtype", () => {
    const g = grad((t: Tensor) => sum(mul(cast(t, "float64"), cast(t, "float64"))))(tensor([1.5, -2], [2], "float32"));
    expect(g.dtype).toBe("float32");
    expect(Array.from(g.data)).toEqual([3, -4]);
  });
});

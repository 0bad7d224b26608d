import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gradcheck, ones, random, sum, tensor, treeLeaves, treeMap, valueAndGrad, type Tensor } from "../../src/autograd/index.ts";
import {
  countParams,
  crossEntropy,
  dense,
  dropout,
  flatten,
  glorotUniform,
  mlp,
  relu,
  serial,
  sigmoid,
  softmaxCrossEntropy,
  tanh,
  unflattenTree,
  zeros,
  type Activation,
  type Params,
} from "../../src/nn/index.ts";
import { expectClose, maxAbs, snapshot } from "./helpers.ts";

const f64 = (values: number[][]) => tensor(values, undefined, "float64");
const randomBatch = (seed: number, shape: number[], dtype: "float32" | "float64" = "float64") => random.normal(random.key(seed), shape, { dtype });

describe("dense", () => {
  it("computes y = x.W + b with the weight stored [in, out]", () => {
    const params = { weight: f64([[1, 2, 3], [4, 5, 6]]), bias: tensor([0.5, -0.5, 1], undefined, "float64") };
    const y = dense(3).apply(params, f64([[1, 1], [2, -1]]));
    // [1, 1].W = [5, 7, 9]; [2, -1].W = [-2, -1, 0]; then + b
    expect(y.toArray()).toEqual([[5.5, 6.5, 10], [-1.5, -1.5, 1]]);
  });

  it("starts with an [in, units] weight from its initializer and a zero [units] bias", () => {
    const { params, outputShape } = dense(3, { init: glorotUniform }).init(random.key(1), [4], "float64");
    expect(outputShape).toEqual([3]);
    expect(params.weight.shape).toEqual([4, 3]);
    expect(params.weight.dtype).toBe("float64");
    expect(Array.from(params.weight.data)).toEqual(Array.from(glorotUniform(random.key(1), [4, 3], "float64").data));
    expect(params.bias.toArray()).toEqual([0, 0, 0]);
    expect(Object.isFrozen(params)).toBe(true);
  });

  it("refuses a non-positive number of units and inputs that are not flat", () => {
    expect(() => dense(0)).toThrow(/units must be a positive integer/);
    expect(() => dense(2).init(random.key(0), [28, 28])).toThrow(/dense: expects inputs of shape \[features\].*put flatten first/);
  });
});

describe("the relu, sigmoid and tanh layers", () => {
  it("have no parameters, keep the shape, and apply their function elementwise", () => {
    const x = f64([[-2, 0, 3]]);
    for (const [layer, f] of [
      [relu, (v: number) => Math.max(v, 0)],
      [sigmoid, (v: number) => 1 / (1 + Math.exp(-v))],
      [tanh, Math.tanh],
    ] as const) {
      expect(layer.init(random.key(0), [3])).toEqual({ params: {}, outputShape: [3] });
      expectClose(layer.apply({}, x).data, [-2, 0, 3].map(f), 1e-15);
    }
  });
});

describe("flatten", () => {
  it("turns [batch, 28, 28] into [batch, 784] rows, keeping the row-major order", () => {
    expect(flatten.init(random.key(0), [28, 28]).outputShape).toEqual([784]);
    const x = tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    expect(flatten.apply({}, x).toArray()).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
  });
});

describe("dropout", () => {
  it("is the identity at evaluation (the default context), with or without a key", () => {
    const x = randomBatch(1, [4, 5]);
    expect(dropout(0.5).apply({}, x)).toBe(x);
    expect(dropout(0.5).apply({}, x, { training: false, key: random.key(1) })).toBe(x);
    expect(dropout(0).apply({}, x, { training: true })).toBe(x);
  });

  it("in training keeps a fraction within 0.02 of 1 - dropProbability, scaled by 1/(1 - p) so the mean is preserved", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.9, noNaN: true }), fc.nat(), (p, seed) => {
        const n = 10_000;
        const y = dropout(p).apply({}, ones([n], "float64"), { training: true, key: random.key(seed) });
        const q = 1 - p;
        const values = Array.from(y.data);
        const kept = values.filter((v) => v !== 0).length;
        expect(values.every((v) => v === 0 || Math.abs(v - 1 / q) < 1e-12)).toBe(true);
        expect(Math.abs(kept / n - q)).toBeLessThan(0.02); // std of the fraction is at most 0.005
        // E[y] = q * (1/q) = 1; the sample mean's std is sqrt(p/q / n) <= 0.03 here.
        expect(Math.abs(sum(y).item() / n - 1)).toBeLessThan(0.15);
      }),
      { numRuns: 30 },
    );
  });

  it("draws the same mask from the same key and a different one from another key", () => {
    const x = ones([50, 20]);
    const a = dropout(0.5).apply({}, x, { training: true, key: random.key(7) });
    const b = dropout(0.5).apply({}, x, { training: true, key: random.key(7) });
    const c = dropout(0.5).apply({}, x, { training: true, key: random.key(8) });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });

  it("passes the gradient through the mask: d sum(dropout(x)) / dx = mask / (1 - p)", () => {
    const x = randomBatch(3, [6, 7]);
    const context = { training: true, key: random.key(9) };
    const y = dropout(0.3).apply({}, x, context);
    const { grads } = valueAndGrad((t: Tensor) => sum(dropout(0.3).apply({}, t, context)))(x);
    expectClose(grads.data, Array.from(y.data, (v, i) => v / x.data[i]!), 1e-12);
  });

  it("needs a key in training and a probability in [0, 1)", () => {
    expect(() => dropout(0.5).apply({}, ones([2]), { training: true })).toThrow(/dropout: training needs a random key in the context/);
    expect(() => dropout(1)).toThrow(/dropProbability must be in \[0, 1\)/);
    expect(() => dropout(-0.1)).toThrow(/dropProbability must be in \[0, 1\)/);
  });
});

describe("serial", () => {
  const net = serial(flatten, dense(4), relu, dense(3), tanh, dense(2));

  it("names parameters by layer kind and position (dense1, dense2, dense3), leaving out layers without any", () => {
    const { params, outputShape } = net.init(random.key(1), [2, 3]);
    expect(outputShape).toEqual([2]);
    expect(Object.keys(params)).toEqual(["dense1", "dense2", "dense3"]);
    expect(treeLeaves(params).map(({ path, leaf }) => `${path} [${leaf.shape.join(", ")}]`)).toEqual([
      "dense1.weight [6, 4]",
      "dense1.bias [4]",
      "dense2.weight [4, 3]",
      "dense2.bias [3]",
      "dense3.weight [3, 2]",
      "dense3.bias [2]",
    ]);
  });

  it("gives every layer its own key: layers of the same shape start different, the same seed gives the same tree", () => {
    const twin = serial(dense(5), dense(5));
    const { params } = twin.init(random.key(2), [5]);
    const again = twin.init(random.key(2), [5]).params;
    expect(snapshot(params)).toEqual(snapshot(again));
    expect(snapshot(params)["dense1.weight"]).not.toEqual(snapshot(params)["dense2.weight"]);
  });

  it("applies the layers in order: serial(f, g).apply(x) = g(f(x))", () => {
    const { params } = net.init(random.key(3), [2, 3], "float64");
    const x = randomBatch(4, [5, 2, 3]);
    const p = params as Record<string, Params>;
    const byHand = dense(2).apply(p.dense3 as never, tanh.apply({}, dense(3).apply(p.dense2 as never, relu.apply({}, dense(4).apply(p.dense1 as never, flatten.apply({}, x))))));
    expect(Array.from(net.apply(params, x).data)).toEqual(Array.from(byHand.data));
  });

  it("nests: a serial inside a serial is named serial1 and holds its own tree", () => {
    const { params } = serial(serial(dense(2), relu), dense(1)).init(random.key(4), [3]);
    expect(treeLeaves(params).map(({ path }) => path)).toEqual(["serial1.dense1.weight", "serial1.dense1.bias", "dense1.weight", "dense1.bias"]);
  });

  it("splits the training key so every dropout layer draws its own mask: two dropouts of 1/2 keep about 1/4", () => {
    const y = serial(dropout(0.5), dropout(0.5)).apply({}, ones([10_000]), { training: true, key: random.key(5) });
    const kept = Array.from(y.data).filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([4]));
    expect(Math.abs(kept.length / 10_000 - 0.25)).toBeLessThan(0.02);
  });
});

describe("mlp", () => {
  it("for [784, 128, 64, 10] has dense1..dense3 with weights [784, 128], [128, 64], [64, 10]: 109,386 numbers, 109,184 of them weights", () => {
    const { params, outputShape } = mlp([784, 128, 64, 10]).init(random.key(1));
    expect(outputShape).toEqual([10]);
    expect(treeLeaves(params).map(({ path, leaf }) => `${path} [${leaf.shape.join(", ")}]`)).toEqual([
      "dense1.weight [784, 128]",
      "dense1.bias [128]",
      "dense2.weight [128, 64]",
      "dense2.bias [64]",
      "dense3.weight [64, 10]",
      "dense3.bias [10]",
    ]);
    expect(countParams(params)).toEqual({ total: 109_386, weights: 109_184, biases: 202 });
  });

  it("takes any number and size of hidden layers", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 6 }), (sizes) => {
        const net = mlp(sizes);
        const { params, outputShape } = net.init(random.key(sizes.length));
        expect(outputShape).toEqual([sizes[sizes.length - 1]]);
        expect(Object.keys(params)).toEqual(sizes.slice(1).map((_, i) => `dense${i + 1}`));
        expect(net.apply(params, ones([3, sizes[0]!])).shape).toEqual([3, sizes[sizes.length - 1]]);
      }),
      { numRuns: 30 },
    );
  });

  it("draws He-normal weights for relu and Glorot-uniform weights for tanh and sigmoid by default", () => {
    const std = (t: Tensor) => Math.sqrt(Array.from(t.data).reduce((s, v) => s + v * v, 0) / t.size);
    const he = mlp([400, 300, 10]).init(random.key(2)).params as { dense1: { weight: Tensor } };
    expect(Math.abs(std(he.dense1.weight) / Math.sqrt(2 / 400) - 1)).toBeLessThan(0.02);
    for (const activation of ["tanh", "sigmoid"] as const) {
      const glorot = mlp([400, 300, 10], { activation }).init(random.key(3)).params as { dense1: { weight: Tensor } };
      const limit = Math.sqrt(6 / 700);
      expect(maxAbs(glorot.dense1.weight.data)).toBeLessThanOrEqual(limit);
      expect(Math.abs(std(glorot.dense1.weight) / (limit / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
    }
    const custom = mlp([3, 2], { init: zeros }).init(random.key(4)).params as { dense1: { weight: Tensor } };
    expect(Array.from(custom.dense1.weight.data)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("has a loss that passes gradcheck with respect to every parameter, for each activation (float64)", () => {
    const x = randomBatch(5, [3, 4]);
    const ys = [0, 2, 1];
    for (const activation of ["relu", "tanh", "sigmoid"] as Activation[]) {
      for (const loss of [crossEntropy, softmaxCrossEntropy]) {
        const net = mlp([4, 5, 3, 3], { activation });
        // At a generic point: random biases too, so no ReLU input sits exactly on its kink at 0
        // (with zero biases, a unit whose inputs are all 0 would).
        const params = treeMap(net.init(random.key(6), [4], "float64").params, (leaf, path) =>
          path.endsWith("bias") ? random.normal(random.foldIn(random.key(7), leaf.size), leaf.shape, { dtype: "float64" }) : leaf,
        );
        const leaves = treeLeaves(params);
        const f = (...ws: Tensor[]) => loss(net.apply(unflattenTree(Object.fromEntries(leaves.map(({ path }, i) => [path, ws[i]!]))), x), ys);
        const result = gradcheck(f, leaves.map(({ leaf }) => leaf));
        expect(result.ok, `${activation}: ${result.message}`).toBe(true);
      }
    }
  });

  it("with dropout computes at evaluation exactly what the same network without dropout computes", () => {
    const plain = mlp([6, 5, 4, 3]);
    const dropped = mlp([6, 5, 4, 3], { dropout: 0.5 });
    const { params } = plain.init(random.key(7));
    expect(snapshot(dropped.init(random.key(7)).params)).toEqual(snapshot(params)); // dropout has no parameters
    const x = randomBatch(8, [4, 6], "float32");
    expect(Array.from(dropped.apply(params, x).data)).toEqual(Array.from(plain.apply(params, x).data));
  });

  it("with dropout in training gives the same output for the same key and a different one for another key", () => {
    const net = mlp([6, 8, 3], { dropout: 0.5 });
    const { params } = net.init(random.key(9));
    const x = randomBatch(10, [4, 6], "float32");
    const run = (seed: number) => Array.from(net.apply(params, x, { training: true, key: random.key(seed) }).data);
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  it("accepts any input shape with sizes[0] values per example, and refuses bad sizes and options", () => {
    const net = mlp([4, 2]);
    expect([net.name, net.sizes, net.activation, net.dropout]).toEqual(["mlp", [4, 2], "relu", 0]);
    expect(net.init(random.key(0), [2, 2]).outputShape).toEqual([2]);
    expect(() => net.init(random.key(0), [5])).toThrow(/mlp: input shape \[5\] has 5 values per example, but the network takes 4/);
    expect(() => mlp([4])).toThrow(/sizes must be at least \[inputs, outputs\]/);
    expect(() => mlp([4, 0])).toThrow(/positive integers/);
    expect(() => mlp([4, 2], { activation: "gelu" as Activation })).toThrow(/unknown activation "gelu"/);
    expect(() => mlp([4, 2], { activation: "toString" as Activation })).toThrow(/unknown activation "toString"/);
    expect(() => mlp([4, 3, 2], { dropout: -0.5 })).toThrow(/mlp: dropout must be a probability in \[0, 1\), got -0.5/);
  });
});

describe("apply", () => {
  it("never changes the parameters or the input, and the parameter tree is frozen", () => {
    const net = mlp([5, 4, 3], { dropout: 0.2 });
    const { params } = net.init(random.key(11), [5], "float64");
    const x = randomBatch(12, [2, 5]);
    const before = { params: snapshot(params), x: Array.from(x.data) };
    expect(Object.isFrozen(params)).toBe(true);
    expect(Object.isFrozen(params.dense1)).toBe(true);
    const loss = (p: Params) => softmaxCrossEntropy(net.apply(p, x, { training: true, key: random.key(13) }), [0, 1]);
    valueAndGrad(loss)(params);
    net.apply(params, x);
    expect(snapshot(params)).toEqual(before.params);
    expect(Array.from(x.data)).toEqual(before.x);
  });
});

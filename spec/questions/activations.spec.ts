// The seed's questions about activation functions: why a network needs them, and why ReLU rather than
// sigmoid in the hidden layers.

import { describe, expect, it } from "vitest";
import { add, grad, matmul, random, sigmoid, sum, tanh, relu, tensor, treeLeaves, valueAndGrad, type Tensor } from "../../src/autograd/index.ts";
import { batchOf, scalePixels } from "../../src/data/index.ts";
import { adam, mlp, softmaxCrossEntropy, type Activation, type Params } from "../../src/nn/index.ts";
import { expectClose } from "../nn/helpers.ts";
import { firstN, mnist } from "./fit.ts";

describe("Why does a network need nonlinear activations?", () => {
  it("without them [784, 128, 64, 10] is one linear map: ((x W1 + b1) W2 + b2) W3 + b3 = x (W1 W2 W3) + ((b1 W2 + b2) W3 + b3)", () => {
    const f64 = (seed: number, shape: number[]) => random.normal(random.key(seed), shape, { dtype: "float64" });
    const [W1, W2, W3] = [f64(1, [784, 128]), f64(2, [128, 64]), f64(3, [64, 10])];
    const [b1, b2, b3] = [f64(4, [1, 128]), f64(5, [1, 64]), f64(6, [1, 10])];
    const x = random.uniform(random.key(7), [5, 784], { dtype: "float64" });
    const stacked = add(matmul(add(matmul(add(matmul(x, W1), b1), W2), b2), W3), b3);
    const W = matmul(matmul(W1, W2), W3);
    const b = add(matmul(add(matmul(b1, W2), b2), W3), b3);
    expectClose(stacked.data, add(matmul(x, W), b).data, 1e-10);
    expect(W.shape).toEqual([784, 10]);
  });

  it("so stacked linear layers cannot learn XOR: their loss never falls below ln 2 = 0.693 (a 50/50 answer), while one tanh layer of 4 units fits all four points", () => {
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], undefined, "float64");
    const y = [0, 1, 1, 0];
    const train = (act: (h: Tensor) => Tensor) => {
      let params: Params = {
        w1: random.normal(random.key(3), [2, 4], { dtype: "float64" }), b1: tensor([0, 0, 0, 0], [4], "float64"),
        w2: random.normal(random.key(4), [4, 2], { dtype: "float64" }), b2: tensor([0, 0], [2], "float64"),
      };
      const forward = (p: Params) => {
        const q = p as Record<"w1" | "b1" | "w2" | "b2", Tensor>;
        return add(matmul(act(add(matmul(x, q.w1), q.b1)), q.w2), q.b2);
      };
      const optimizer = adam({ learningRate: 0.05 });
      let state = optimizer.init(params);
      let lowest = Infinity;
      for (let step = 0; step < 300; step++) {
        const { value, grads } = valueAndGrad((p: Params) => softmaxCrossEntropy(forward(p), y))(params);
        lowest = Math.min(lowest, value.item());
        ({ params, state } = optimizer.update(grads, state, params));
      }
      const predicted = Array.from({ length: 4 }, (_, i) => (forward(params).data[2 * i + 1]! > forward(params).data[2 * i]! ? 1 : 0));
      return { lowest, predicted };
    };
    const linear = train((h) => h);
    expect(linear.lowest).toBeGreaterThanOrEqual(Math.log(2) - 1e-9);
    const nonlinear = train(tanh);
    expect(nonlinear.predicted).toEqual(y);
    expect(nonlinear.lowest).toBeLessThan(0.05);
  });
});

describe("Why ReLU rather than sigmoid in hidden layers? (vanishing gradients)", () => {
  it("sigmoid's slope is at most 1/4 (at 0) and tanh's at most 1, and both fall towards 0 as |z| grows; relu's is 1 wherever z > 0", () => {
    const z = tensor([-6, -2, 0, 2, 6], [5], "float64");
    const slope = (f: (t: Tensor) => Tensor) => Array.from(grad((t: Tensor) => sum(f(t)))(z).data);
    expect(Math.max(...slope(sigmoid))).toBe(0.25);
    expect(slope(sigmoid)[0]).toBeLessThan(0.003);
    expect(Math.max(...slope(tanh))).toBe(1);
    expect(slope(tanh)[0]).toBeLessThan(3e-5);
    expect(slope(relu)).toEqual([0, 0, 0, 1, 1]);
  });

  it("so through 10 sigmoid layers the gradient shrinks about 4x per layer: at initialization on 256 MNIST images dense1's weight gradient is 6e-6 of dense9's (RMS), against 0.7 of it with tanh and 0.8 with relu", () => {
    const batch = batchOf(mnist().train, firstN(256));
    const x = scalePixels(batch.pixels);
    const ratio = (activation: Activation): number => {
      const net = mlp([784, ...Array<number>(9).fill(128), 10], { activation });
      const g = grad((p: Params) => softmaxCrossEntropy(net.apply(p, x), batch.labels))(net.init(random.key(1)).params);
      const rms = (path: string) => {
        const t = treeLeaves(g).find((l) => l.path === path)!.leaf;
        return Math.sqrt(Array.from(t.data).reduce((s, v) => s + v * v, 0) / t.size);
      };
      return rms("dense1.weight") / rms("dense9.weight");
    };
    expect(ratio("sigmoid")).toBeGreaterThan(5.5e-6);
    expect(ratio("sigmoid")).toBeLessThan(6.5e-6);
    expect(ratio("tanh")).toBeCloseTo(0.7, 1);
    expect(ratio("relu")).toBeCloseTo(0.8, 1);
  });
});

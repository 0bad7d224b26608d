// The seed's questions about initialization, answered by measurement on real MNIST.

import { describe, expect, it } from "vitest";
import { add, full, matmul, random, relu, type Tensor } from "../../src/autograd/index.ts";
import { batchOf, scalePixels } from "../../src/data/index.ts";
import { heNormal, mlp, zeros, type DenseParams, type Initializer } from "../../src/nn/index.ts";
import { fit, firstN, mnist, once } from "./fit.ts";

const constant = (value: number): Initializer => (_key, shape, dtype = "float32") => full(shape, value, dtype);
const normal = (std: number): Initializer => (key, shape, dtype = "float32") => random.normal(key, shape, { std, dtype });
const firstLayer = (params: unknown): Tensor => (params as { dense1: DenseParams }).dense1.weight;

/** The largest difference between a unit's incoming weights and unit 0's. */
const spreadAcrossUnits = (w: Tensor): number => {
  const [inputs, units] = w.shape as [number, number];
  let spread = 0;
  for (let i = 0; i < inputs; i++) for (let u = 1; u < units; u++) spread = Math.max(spread, Math.abs(w.data[i * units + u]! - w.data[i * units]!));
  return spread;
};

describe("Why not start every weight at zero? (3 epochs of SGD on the first 2,000 training images, [784, 128, 64, 10])", () => {
  const run = (init: Initializer) => fit({ sizes: [784, 128, 64, 10], among: firstN(2000), epochs: 3, init });
  const [zero, equal, he] = [once(() => run(zeros)), once(() => run(constant(0.01))), once(() => run(heNormal))];
  const test = () => mnist().test;

  it("with every weight 0, no weight below the output layer ever moves: relu'(0) = 0 passes no gradient back, dense1 is still all zeros after 96 steps, and the network scores 10.3%", () => {
    expect(Array.from(firstLayer(zero().params).data).every((w) => w === 0)).toBe(true);
    expect(zero().losses[0]).toBeCloseTo(Math.log(10), 6); // every class 1/10
    expect(zero().score(test()).accuracy).toBeCloseTo(0.103, 3);
  });

  it("with every weight equal (0.01), the 128 units of dense1 stay identical to the last bit: same inputs, same weights, so the same gradient at every step; it learns like one unit per layer (14.8%)", () => {
    const w = firstLayer(equal().params);
    expect(spreadAcrossUnits(w)).toBe(0);
    expect(Math.max(...Array.from(w.data, Math.abs))).toBeGreaterThan(0.01); // they moved, together
    expect(equal().score(test()).accuracy).toBeCloseTo(0.148, 3);
  });

  it("random He-normal weights break the symmetry: the units differ from the start, and the same 96 steps reach 83.2%", () => {
    expect(spreadAcrossUnits(firstLayer(he().params))).toBeGreaterThan(0.1);
    expect(he().score(test()).accuracy).toBeCloseTo(0.832, 3);
  });
});

describe("Why He initialization for ReLU layers? (256 MNIST images through 10 ReLU layers of 256 units, no training)", () => {
  const x = once(() => scalePixels(batchOf(mnist().train, firstN(256)).pixels));
  /** The root mean square of each of the 10 layers' outputs, for weights from `init`. */
  const scales = (init: Initializer): number[] => {
    const params = mlp([784, ...Array<number>(10).fill(256), 10], { init }).init(random.key(1)).params as Record<string, DenseParams>;
    let h = x();
    return Array.from({ length: 10 }, (_, i) => {
      h = relu(add(matmul(h, params[`dense${i + 1}`]!.weight), params[`dense${i + 1}`]!.bias));
      return Math.sqrt(Array.from(h.data).reduce((s, v) => s + v * v, 0) / h.size);
    });
  };

  it("He-normal weights, std sqrt(2 / fanIn) = 0.088, keep every layer's RMS within 15% of the first's: a unit sums fanIn products, E[z^2] = fanIn Var(w) E[h^2], and relu keeps half of E[z^2]", () => {
    const he = scales(heNormal);
    for (const s of he) expect(Math.abs(s / he[0]! - 1)).toBeLessThan(0.15);
  });

  it("with std 0.01 each layer shrinks the signal about 9 times (0.01 sqrt(256 / 2) = 0.11): after 10 layers it is 1e-10 of the input's", () => {
    const small = scales(normal(0.01));
    expect(small[9]! / small[0]!).toBeLessThan(1e-8);
    expect(small[9]!).toBeLessThan(1e-9);
  });

  it("with std 1 each layer grows it about 11 times (sqrt(256 / 2) = 11.3): after 10 layers, 1e10", () => {
    const large = scales(normal(1));
    expect(large[9]! / large[0]!).toBeGreaterThan(1e8);
    expect(large[9]!).toBeGreaterThan(1e9);
  });
});

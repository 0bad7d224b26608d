// The seed's hint: before any hidden layer, a single dense layer [784, 10] (multinomial logistic
// regression) trained the same way already reads most digits. Measured on all of MNIST.

import { describe, expect, it } from "vitest";
import type { DenseParams } from "../../src/nn/index.ts";
import { fit, firstN, mnist, once } from "./fit.ts";

const linear = once(() => fit({ sizes: [784, 10], among: firstN(60000), epochs: 5 }));

describe("How far does a network with no hidden layer get? ([784, 10], logistic regression)", () => {
  it("about 92%: 5 epochs of SGD (lr 0.1, batch 64) on the 60,000 training images score 92.2% on the 10,000 test images", () => {
    expect(linear().score(mnist().test).accuracy).toBeCloseTo(0.922, 3);
  });

  it("with 7,850 parameters (784 x 10 weights and 10 biases), against 109,386 for [784, 128, 64, 10]", () => {
    const { weight, bias } = (linear().params as { dense1: DenseParams }).dense1;
    expect(weight.size + bias.size).toBe(7850);
  });

  it("each of its ten units is a template of its digit: unit c's weights, dotted with the mean image of each digit, score highest on digit c, for all ten", () => {
    const { weight } = (linear().params as { dense1: DenseParams }).dense1;
    const w = weight.data;
    const { train } = mnist();
    const means = Array.from({ length: 10 }, () => new Float64Array(784));
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < train.count; i++) {
      const y = train.labels[i]!;
      counts[y]!++;
      for (let p = 0; p < 784; p++) means[y]![p] = means[y]![p]! + train.images[i * 784 + p]! / 255;
    }
    const best = Array.from({ length: 10 }, (_, unit) => {
      const scores = means.map((m, digit) => m.reduce((s, v, p) => s + (v / counts[digit]!) * w[p * 10 + unit]!, 0));
      return scores.indexOf(Math.max(...scores));
    });
    expect(best).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

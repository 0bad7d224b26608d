// The seed's question "what do momentum and Adam add to plain SGD?", measured on the same short run:
// [784, 128, 64, 10], 3 epochs (96 steps of 64) on the first 2,000 training images, seed 1.

import { describe, expect, it } from "vitest";
import { adam, momentum, sgd, type Optimizer } from "../../src/nn/index.ts";
import { fit, firstN, mnist } from "./fit.ts";

const testAccuracy = (optimizer: Optimizer): number => fit({ sizes: [784, 128, 64, 10], among: firstN(2000), epochs: 3, optimizer }).score(mnist().test).accuracy;

describe("What do momentum and Adam add to plain SGD? (96 steps on 2,000 training images)", () => {
  it("momentum (0.9) keeps a running sum of past gradients, so steps grow along directions that agree: 87.75% against SGD's 83.2% at the same learning rate 0.1", () => {
    expect(testAccuracy(sgd({ learningRate: 0.1 }))).toBeCloseTo(0.832, 3);
    expect(testAccuracy(momentum({ learningRate: 0.1 }))).toBe(0.8775);
  });

  it("its velocity builds up to 1 / (1 - 0.9) = 10 gradients, so at learning rate 0.01 it still reaches 85.9%, where SGD at 0.01 reaches 61.9%", () => {
    expect(testAccuracy(momentum({ learningRate: 0.01 }))).toBeCloseTo(0.859, 3);
    expect(testAccuracy(sgd({ learningRate: 0.01 }))).toBeCloseTo(0.619, 3);
  });

  it("Adam scales each weight's step by its own gradient's recent size, so one learning rate (1e-3) suits every layer: 88.8%", () => {
    expect(testAccuracy(adam({ learningRate: 1e-3 }))).toBeCloseTo(0.888, 3);
  });
});

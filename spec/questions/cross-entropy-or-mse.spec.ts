// The seed's question "why cross-entropy and not mean squared error for classification?", answered
// with the gradients both give the logits, and with a measured training run.

import { describe, expect, it } from "vitest";
import { grad, mean, square, sub, sum, tensor, type Tensor } from "../../src/autograd/index.ts";
import { crossEntropy, oneHot, softmax } from "../../src/nn/index.ts";
import { fit, firstN, mnist } from "./fit.ts";

/** Mean over the batch of sum_j (p_j - y_j)^2, p = softmax(z): squared error on the probabilities. */
const squaredError = (logits: Tensor, labels: Tensor | number[]): Tensor =>
  mean(sum(square(sub(softmax(logits), oneHot(labels, logits.shape[1]!, logits.dtype))), -1));

/** The length of the gradient with respect to the logits. */
const norm = (g: Tensor): number => Math.sqrt(Array.from(g.data).reduce((s, v) => s + v * v, 0));

/** Ten logits, the wrong class 3 ahead of the others by `margin`; the true class is 0. */
const confidentlyWrong = (margin: number) => tensor([[0, 0, 0, margin, 0, 0, 0, 0, 0, 0]], undefined, "float64");

describe("Why cross-entropy and not mean squared error for classification?", () => {
  it("for a confidently wrong answer cross-entropy's gradient stays large and MSE's vanishes: with the wrong class 10 ahead (p_true = 5e-5), 1.41 against 0.001", () => {
    const z = confidentlyWrong(10);
    expect(norm(grad((t: Tensor) => crossEntropy(t, [0]))(z))).toBeCloseTo(1.41, 2);
    expect(norm(grad((t: Tensor) => squaredError(t, [0]))(z))).toBeCloseTo(0.001, 3);
  });

  it("as the wrong class pulls ahead by 0, 3, 10, 20, cross-entropy's gradient grows to sqrt(2) (0.95, 1.19, 1.41, 1.41) while MSE's collapses (0.19, 0.35, 0.001, 4e-8)", () => {
    const margins = [0, 3, 10, 20].map(confidentlyWrong);
    const ce = margins.map((z) => norm(grad((t: Tensor) => crossEntropy(t, [0]))(z)));
    const mse = margins.map((z) => norm(grad((t: Tensor) => squaredError(t, [0]))(z)));
    expect(ce.map((v) => Number(v.toFixed(2)))).toEqual([0.95, 1.19, 1.41, 1.41]);
    expect(mse.map((v, i) => Number(v.toPrecision(i < 2 ? 2 : 1)))).toEqual([0.19, 0.35, 0.001, 4e-8]);
  });

  it("because MSE's gradient goes through softmax's Jacobian diag(p) - p p^T, which is 0 when p is one-hot; cross-entropy's log cancels it, leaving p - y", () => {
    const z = confidentlyWrong(30);
    const p = softmax(z).data;
    const jacobianSize = Array.from(p).reduce((s, pi) => s + pi * (1 - pi), 0); // the trace of diag(p) - p p^T
    expect(jacobianSize).toBeLessThan(1e-11);
    expect(Array.from(grad((t: Tensor) => crossEntropy(t, [0]))(z).data, (g) => Math.round(g))).toEqual([-1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it("trained the same way (3 epochs of SGD, lr 0.1, on the first 2,000 training images), cross-entropy reaches 83.2% on the test set and MSE 78.8%", () => {
    const run = (loss?: (z: Tensor, y: Tensor) => Tensor) => fit({ sizes: [784, 128, 64, 10], among: firstN(2000), epochs: 3, ...(loss && { loss }) });
    expect(run().score(mnist().test).accuracy).toBeCloseTo(0.832, 3);
    expect(run(squaredError).score(mnist().test).accuracy).toBeCloseTo(0.788, 3);
  });
});

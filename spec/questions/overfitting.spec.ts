// The seed's questions about overfitting: how it shows, and what dropout does about it. The seed's
// network [784, 128, 64, 10] trained by SGD (lr 0.1, batch 64, seed 1) for 40 epochs on only the
// first 1,000 training images, scored on the 10,000 test images every 4 epochs.

import { describe, expect, it } from "vitest";
import { fit, firstN, mnist, once, type Fitted } from "./fit.ts";

const among = firstN(1000);
const { train, test } = mnist();
const run = (dropout: number) => {
  const trainLoss: number[] = [];
  const testLoss: number[] = [];
  const every4 = (epoch: number, score: Fitted["score"]) => {
    if (epoch % 4 !== 0) return;
    trainLoss.push(score(train, among).loss);
    testLoss.push(score(test).loss);
  };
  const fitted = fit({ sizes: [784, 128, 64, 10], among, epochs: 40, dropout, afterEpoch: every4 });
  return { trained: fitted.score(train, among), tested: fitted.score(test), trainLoss, testLoss };
};
const runs = once(() => ({ plain: run(0), dropped: run(0.2) }));

describe("What does overfitting look like, and what does dropout do about it? (40 epochs on 1,000 training images)", () => {
  it("the network learns its 1,000 images perfectly (100%, loss 0.015) but gets 87.7% of the test images: 12 points of the training accuracy are memorized, not learned", () => {
    const { plain } = runs();
    expect(plain.trained.accuracy).toBe(1);
    expect(plain.trained.loss).toBeCloseTo(0.015, 3);
    expect(plain.tested.accuracy).toBeCloseTo(0.877, 3);
  });

  it("its test loss stops falling after about 20 epochs (0.426) and rises again (0.451 at epoch 40) while the training loss keeps falling", () => {
    const { plain } = runs();
    const lowest = Math.min(...plain.testLoss);
    expect(plain.testLoss.indexOf(lowest)).toBe(4); // epoch 20
    expect(lowest).toBeCloseTo(0.426, 3);
    expect(plain.testLoss.at(-1)).toBeCloseTo(0.451, 3);
    plain.trainLoss.slice(1).forEach((loss, i) => expect(loss).toBeLessThan(plain.trainLoss[i]!));
  });

  it("dropout 0.2 (each hidden unit zeroed with probability 0.2 at every step) holds the test loss down, 0.383 at epoch 40 against 0.451, and raises test accuracy to 89.1%", () => {
    const { dropped } = runs();
    expect(dropped.testLoss.at(-1)).toBeCloseTo(0.383, 3);
    expect(Math.min(...dropped.testLoss.slice(5))).toBeGreaterThan(0.38); // no rise from epoch 24 on, unlike without dropout
    expect(dropped.tested.accuracy).toBeCloseTo(0.891, 3);
  });

  it("so the gap between training and test accuracy narrows from 12.3 to 10.9 points", () => {
    const { plain, dropped } = runs();
    expect((plain.trained.accuracy - plain.tested.accuracy) * 100).toBeCloseTo(12.3, 1);
    expect((dropped.trained.accuracy - dropped.tested.accuracy) * 100).toBeCloseTo(10.9, 1);
  });
});

// The seed's questions about mini-batches: what the batch size changes, and why the order of the
// examples is shuffled every epoch.

import { describe, expect, it } from "vitest";
import { grad, jit, random, treeLeaves, type Tensor } from "../../src/autograd/index.ts";
import { batchCount, batchOf, scalePixels } from "../../src/data/index.ts";
import { mlp, softmaxCrossEntropy, type Params } from "../../src/nn/index.ts";
import { fit, firstN, mnist, once } from "./fit.ts";

describe("What does the batch size change? ([784, 128, 64, 10] at initialization, the first 4,096 training images)", () => {
  const net = mlp([784, 128, 64, 10]);
  const { params } = net.init(random.key(1));
  const compiled = jit((p: Params, pixels: Tensor, labels: Tensor) => grad((q: Params) => softmaxCrossEntropy(net.apply(q, scalePixels(pixels)), labels))(p));
  /** The gradient of the mean loss over these images: one array of numbers per parameter. */
  const gradient = (indices: Int32Array): ArrayLike<number>[] => {
    const batch = batchOf(mnist().train, indices);
    return treeLeaves(compiled(params, batch.pixels, batch.labels)).map(({ leaf }) => leaf.data);
  };
  const squaredDistance = (a: ArrayLike<number>[], b: ArrayLike<number>[]): number => {
    let total = 0;
    a.forEach((values, k) => {
      for (let i = 0; i < values.length; i++) total += (values[i]! - b[k]![i]!) ** 2;
    });
    return total;
  };
  const full = once(() => gradient(firstN(4096)));
  /** The root mean square distance of the batches' gradients from the full gradient. */
  const noise = (size: number): number => {
    let total = 0;
    for (let b = 0; b < 4096 / size; b++) total += squaredDistance(gradient(Int32Array.from({ length: size }, (_, i) => b * size + i)), full());
    return Math.sqrt(total / (4096 / size));
  };

  it("a batch's gradient is a noisy estimate of the full one: quadrupling the batch halves the noise (1 / sqrt(batch)): 2.64, 1.36, 0.69 for batches of 16, 64, 256, against a full gradient of length 1.46", () => {
    const [n16, n64, n256] = [noise(16), noise(64), noise(256)];
    expect([n16, n64, n256].map((v) => Number(v.toFixed(2)))).toEqual([2.64, 1.36, 0.69]);
    expect(Math.sqrt(squaredDistance(full(), full().map((values) => new Float64Array(values.length))))).toBeCloseTo(1.46, 2);
    expect(n16 / n64).toBeCloseTo(2, 0);
    expect(n64 / n256).toBeCloseTo(2, 0);
  });

  it("while a larger batch makes fewer steps per epoch: 60,000 images are 3,750 steps of 16, 938 of 64 and 235 of 256", () => {
    expect([16, 64, 256].map((size) => batchCount(60000, size))).toEqual([3750, 938, 235]);
  });
});

describe("Why shuffle the examples every epoch? (1 epoch of SGD on the first 2,000 training images)", () => {
  const among = firstN(2000);

  it("in a shuffled order the network reaches 65.25% on the test set", () => {
    expect(fit({ sizes: [784, 128, 64, 10], among, epochs: 1 }).score(mnist().test).accuracy).toBe(0.6525);
  });

  it("sorted by label (all the 0s, then all the 1s, ...), each stretch of batches teaches one digit and undoes the last: it ends answering 9, the last digit it saw, for every test image (10.09%, the share of 9s)", () => {
    const { train, test } = mnist();
    const sorted = Int32Array.from(Array.from(among).sort((a, b) => train.labels[a]! - train.labels[b]! || a - b));
    const run = fit({ sizes: [784, 128, 64, 10], among: sorted, epochs: 1, shuffle: false });
    expect(run.score(test).accuracy).toBe(1009 / 10000);
    expect(test.labels.filter((y) => y === 9).length).toBe(1009);
  });
});

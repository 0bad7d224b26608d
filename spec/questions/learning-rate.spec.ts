// The seed's questions about the learning rate and the inputs' scale, answered by measurement: the
// seed's network [784, 128, 64, 10] trained by plain SGD (batch 64, seed 1) for 3 epochs on the first
// 2,000 MNIST training images (96 steps), and scored on the 10,000 test images.

import { describe, expect, it } from "vitest";
import { add, argmax, cast, grad, matmul, relu, treeLeaves, type Tensor } from "../../src/autograd/index.ts";
import { batchOf, scalePixels } from "../../src/data/index.ts";
import { sgd, softmaxCrossEntropy, type DenseParams, type Params } from "../../src/nn/index.ts";
import { fit, firstN, mnist, once, type Fitted } from "./fit.ts";

const among = firstN(2000);
const withRate = (learningRate: number, inputs?: (pixels: Tensor) => Tensor): Fitted =>
  fit({ sizes: [784, 128, 64, 10], among, epochs: 3, optimizer: sgd({ learningRate }), ...(inputs && { inputs }) });
const test = (run: Fitted) => run.score(mnist().test);
const raw = (pixels: Tensor) => cast(pixels, "float32");
const untrained = once(() => fit({ sizes: [784, 128, 64, 10], among, epochs: 0 }));
const [tiny, seed, huge] = [once(() => withRate(1e-4)), once(() => withRate(0.1)), once(() => withRate(2))];
const rawSeed = once(() => withRate(0.1, raw));

describe("What does a learning rate that is too small or too large do?", () => {
  it("the seed's 0.1 takes the test loss from 2.40 to 0.53 in 96 steps: 83.2% of the test images right", () => {
    expect(test(untrained()).loss).toBeCloseTo(2.40, 2);
    expect(test(seed()).loss).toBeCloseTo(0.53, 2);
    expect(test(seed()).accuracy).toBeCloseTo(0.832, 3);
  });

  it("too small (1e-4): after the same 96 steps the test loss is still 2.39 and accuracy 10.6%: it has hardly moved", () => {
    expect(test(tiny()).loss).toBeCloseTo(2.39, 2);
    expect(test(tiny()).accuracy).toBeCloseTo(0.106, 3);
  });

  it("too large (2): the loss jumps from 2.3 to 313 in three steps, then the network is stuck answering 1 for every image: 11.35%, the share of 1s", () => {
    expect(huge().losses.slice(0, 4).map((l) => Math.round(l))).toEqual([2, 3, 22, 313]);
    expect(test(huge()).accuracy).toBe(1135 / 10000);
    expect(mnist().test.labels.filter((y) => y === 1).length).toBe(1135);
    const answers = argmax(huge().net.apply(huge().params, scalePixels(batchOf(mnist().test, firstN(1000)).pixels)), -1);
    expect(new Set(answers.data)).toEqual(new Set([1]));
  });
});

describe("How do the specs tell that a network is stuck (dead ReLUs)?", () => {
  const images = once(() => batchOf(mnist().train, firstN(1000)));
  const hidden = once(() => {
    const x = scalePixels(images().pixels);
    const { dense1, dense2 } = huge().params as Record<"dense1" | "dense2", DenseParams>;
    const h1 = relu(add(matmul(x, dense1.weight), dense1.bias));
    return { h1, h2: relu(add(matmul(h1, dense2.weight), dense2.bias)) };
  });
  /** The units of a layer that are positive for at least one of the images. */
  const alive = (h: Tensor): number => {
    const [n, units] = h.shape as [number, number];
    let count = 0;
    for (let u = 0; u < units; u++) for (let i = 0; i < n; i++) if (h.data[i * units + u]! > 0) { count++; break; }
    return count;
  };

  it("every one of the 64 units of dense2 is 0 for all of 1,000 training images: a whole layer of dead ReLUs", () => {
    expect(alive(hidden().h2)).toBe(0);
    expect(alive(hidden().h1)).toBeLessThan(128);
  });

  it("so no gradient reaches any weight: relu passes none where its input is negative, and only the output bias can still learn", () => {
    const grads = grad((p: Params) => softmaxCrossEntropy(huge().net.apply(p, scalePixels(images().pixels)), images().labels))(huge().params);
    for (const { path, leaf } of treeLeaves(grads)) {
      const largest = Math.max(...Array.from(leaf.data, Math.abs));
      if (path === "dense3.bias") expect(largest).toBeGreaterThan(0);
      else expect(largest, path).toBe(0);
    }
  });

  it("and the loss sits near ln 10 = 2.30, the loss of a guess that ignores the image", () => {
    expect(test(huge()).loss).toBeCloseTo(Math.log(10), 1);
  });
});

describe("Why scale the pixels to [0, 1]?", () => {
  it("raw pixels (0 to 255) make every first-layer input 255 times larger: the first loss is 145 instead of 2.3", () => {
    expect(rawSeed().losses[0]).toBeCloseTo(145.2, 1);
    expect(seed().losses[0]).toBeCloseTo(2.32, 2);
  });

  it("at the seed's learning rate 0.1 the network then ends stuck at 11.35%, where scaled pixels reach 83.2%", () => {
    expect(test(rawSeed()).accuracy).toBe(0.1135);
    expect(test(seed()).accuracy).toBeCloseTo(0.832, 3);
  });

  it("raw pixels need a learning rate 100 times smaller, and even then reach only 71.6%, with a test loss of 5.2", () => {
    const slow = test(withRate(0.001, raw));
    expect(slow.accuracy).toBeCloseTo(0.716, 3);
    expect(slow.loss).toBeCloseTo(5.2, 1);
  });
});

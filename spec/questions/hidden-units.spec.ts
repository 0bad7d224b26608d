// The seed's questions about what the network is made of: how many numbers it learns, and what a
// hidden unit of the first layer learns from the pixels.

import { describe, expect, it } from "vitest";
import { random } from "../../src/autograd/index.ts";
import { countParams, mlp, type DenseParams } from "../../src/nn/index.ts";
import { fit, firstN, mnist, once } from "./fit.ts";

describe("How many parameters does [784, 128, 64, 10] have?", () => {
  it("784 x 128 + 128 + 128 x 64 + 64 + 64 x 10 + 10 = 109,386: 109,184 weights and 202 biases, 92% of them in the first layer", () => {
    const { params } = mlp([784, 128, 64, 10]).init(random.key(0));
    expect(countParams(params)).toEqual({ total: 109386, weights: 109184, biases: 202 });
    expect(784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10).toBe(109386);
    expect((784 * 128 + 128) / 109386).toBeCloseTo(0.92, 2);
  });
});

describe("What does a hidden unit of the first layer learn? (3 epochs of SGD on the first 2,000 training images)", () => {
  const among = firstN(2000);
  const measured = once(() => {
    const { train } = mnist();
    const start = mlp([784, 128, 64, 10]).init(random.key(7)).params;
    const before = Float32Array.from((start as { dense1: DenseParams }).dense1.weight.data); // the step takes the tensors over
    const after = (fit({ sizes: [784, 128, 64, 10], among, epochs: 3, params: start }).params as { dense1: DenseParams }).dense1.weight.data;
    const inked = new Uint8Array(784);
    for (const i of among) for (let p = 0; p < 784; p++) if (train.images[i * 784 + p]! > 0) inked[p] = 1;
    const moved = (pixel: number): boolean => before.subarray(pixel * 128, (pixel + 1) * 128).some((w, u) => w !== after[pixel * 128 + u]);
    const pixels = Array.from(inked.keys());
    return { blank: pixels.filter((p) => inked[p] === 0), withInk: pixels.filter((p) => inked[p] === 1), moved };
  });

  it("a weight on a pixel learns only from images with ink there: its gradient is pixel x unit's error, so the 145 pixels blank in all 2,000 images keep their initial weights bit for bit", () => {
    const { blank, moved } = measured();
    expect(blank).toHaveLength(145);
    expect(blank.filter(moved)).toEqual([]);
  });

  it("while every weight row of the 639 inked pixels has moved: what a unit learns is a pattern of ink, drawn where digits are (visualize's weights_layer1.png)", () => {
    const { withInk, moved } = measured();
    expect(withInk).toHaveLength(639);
    expect(withInk.every(moved)).toBe(true);
  });
});

// The thinking exercise from the project's seed, worked by hand and then checked against the engine:
// one example x through a 3 -> 2 (ReLU) -> 2 network, class 0 the right answer.
//
//   z1 = x.W1 + b1
//      = [0.5*0.1 + 0.8*0.3 + 0.2*0.5 + 0.1,  0.5*0.2 + 0.8*0.4 + 0.2*0.6 + 0.1]
//      = [0.05 + 0.24 + 0.10 + 0.1,  0.10 + 0.32 + 0.12 + 0.1] = [0.49, 0.64]
//   h1 = relu(z1) = [0.49, 0.64]                       (both positive: ReLU passes them)
//   z2 = h1.W2 + b2
//      = [0.49*0.3 + 0.64*0.4 + 0.1,  0.49*0.7 + 0.64*0.6 + 0.1]
//      = [0.147 + 0.256 + 0.1,  0.343 + 0.384 + 0.1] = [0.503, 0.827]
//   probs = softmax(z2): the gap is 0.324 and e^0.324 = 1.382647, so
//      p0 = 1 / (1 + 1.382647) = 0.419701,  p1 = 1.382647 / 2.382647 = 0.580299
//   loss = -log p0 = -log 0.419701 = 0.868212
//   dL/dz2 = probs - y = [0.419701 - 1, 0.580299] = [-0.580299, 0.580299]
//   dL/dW2 = h1^T . dL/dz2 = [[0.49 * -0.580299, 0.49 * 0.580299],   = [[-0.284346, 0.284346],
//                             [0.64 * -0.580299, 0.64 * 0.580299]]      [-0.371391, 0.371391]]
//   dL/db2 = dL/dz2 = [-0.580299, 0.580299]
//   dL/dh1 = dL/dz2 . W2^T = [-0.580299*0.3 + 0.580299*0.7, -0.580299*0.4 + 0.580299*0.6]
//          = [0.580299*0.4, 0.580299*0.2] = [0.232120, 0.116060]
//   dL/dz1 = dL/dh1 (ReLU's slope is 1 where z1 > 0)
//   dL/dW1 = x^T . dL/dz1 = [[0.5*0.232120, 0.5*0.116060],   = [[0.116060, 0.058030],
//                            [0.8*0.232120, 0.8*0.116060],      [0.185696, 0.092848],
//                            [0.2*0.232120, 0.2*0.116060]]      [0.046424, 0.023212]]

import { describe, expect, it } from "vitest";
import { add, matmul, random, relu as reluOp, tensor, valueAndGradAux } from "../../src/autograd/index.ts";
import { crossEntropy, mlp, oneHot, softmax, softmaxCrossEntropy } from "../../src/nn/index.ts";
import { expectClose } from "./helpers.ts";

const x = tensor([[0.5, 0.8, 0.2]], undefined, "float64");
const params = {
  dense1: { weight: tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], undefined, "float64"), bias: tensor([0.1, 0.1], undefined, "float64") },
  dense2: { weight: tensor([[0.3, 0.7], [0.4, 0.6]], undefined, "float64"), bias: tensor([0.1, 0.1], undefined, "float64") },
};
const y = [0]; // one-hot [1, 0]

// The forward pass written out op by op, returning the intermediate values too.
const forward = (p: typeof params) => {
  const z1 = add(matmul(x, p.dense1.weight), p.dense1.bias);
  const h1 = reluOp(z1);
  const z2 = add(matmul(h1, p.dense2.weight), p.dense2.bias);
  return { z1, h1, z2, probs: softmax(z2) };
};
const lossAndValues = (p: typeof params) => {
  const values = forward(p);
  return [crossEntropy(values.z2, y), values] as const;
};

describe("the seed's worked example: x = [0.5, 0.8, 0.2] through 3 -> 2 (ReLU) -> 2, true class 0", () => {
  const { value, grads, aux: values } = valueAndGradAux(lossAndValues)(params);

  it("has pre-activations z1 = x.W1 + b1 = [0.49, 0.64], which ReLU passes unchanged", () => {
    expectClose(values.z1.data, [0.49, 0.64], 1e-12);
    expectClose(values.h1.data, [0.49, 0.64], 1e-12);
  });

  it("has logits z2 = h1.W2 + b2 = [0.503, 0.827]", () => {
    expectClose(values.z2.data, [0.503, 0.827], 1e-12);
  });

  it("has probabilities softmax(z2) = [0.419701, 0.580299]", () => {
    expectClose(values.probs.data, [0.419701, 0.580299], 1e-6);
  });

  it("has loss -log 0.419701 = 0.868212", () => {
    expect(value.item()).toBeCloseTo(0.868212, 6);
    expect(softmaxCrossEntropy(values.z2, y).item()).toBeCloseTo(0.868212, 6);
  });

  it("has dL/dz2 = probs - y = [-0.580299, 0.580299], which is also dL/db2", () => {
    const dz2 = Array.from(values.probs.data, (p, i) => p - oneHot(y, 2).data[i]!);
    expectClose(dz2, [-0.580299, 0.580299], 1e-6);
    expectClose(grads.dense2.bias.data, [-0.580299, 0.580299], 1e-6);
  });

  it("has dL/dW2 = h1^T.dL/dz2 = [[-0.284346, 0.284346], [-0.371391, 0.371391]]", () => {
    expectClose(grads.dense2.weight.data, [-0.284346, 0.284346, -0.371391, 0.371391], 1e-6);
  });

  it("has dL/dW1 = x^T.(dL/dz2.W2^T) = [[0.116060, 0.058030], [0.185696, 0.092848], [0.046424, 0.023212]]", () => {
    expectClose(grads.dense1.weight.data, [0.11606, 0.05803, 0.185696, 0.092848, 0.046424, 0.023212], 1e-6);
    expectClose(grads.dense1.bias.data, [0.23212, 0.11606], 1e-6);
  });

  it("gives the same loss when the network is mlp([3, 2, 2]) with these parameters", () => {
    const net = mlp([3, 2, 2]);
    expect(Object.keys(net.init(random.key(0)).params)).toEqual(["dense1", "dense2"]);
    expect(softmaxCrossEntropy(net.apply(params, x), y).item()).toBeCloseTo(0.868212, 6);
  });
});

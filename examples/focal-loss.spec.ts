// A loss of your own, composed from the engine's ops: focal loss (Lin et al., 2017),
//   FL(z, y) = mean over the batch of -(1 - p_y)^gamma log p_y,   p = softmax(z),
// cross-entropy with each example weighted by (1 - p_y)^gamma, so that examples the network already
// gets right count for little. It needs no gradient code: checkOp proves the composed gradient, and
// it trains a network like any other loss.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exp, mean, mul, neg, pow, random, sub, takeAlongAxis, tensor, valueAndGrad, type Tensor } from "../src/autograd/index.ts";
import { accuracy, adam, crossEntropy, logSoftmax, mlp, type Params } from "../src/nn/index.ts";
import { checkOp, logitsAndLabels, opCase } from "../src/testing/index.ts";

// ---- the loss ---------------------------------------------------------------------------------

/** Focal loss of logits [batch, classes] for integer labels; gamma = 0 is cross-entropy. */
const focalLoss = (logits: Tensor, labels: readonly number[], gamma = 2): Tensor => {
  const logP = takeAlongAxis(logSoftmax(logits), labels, -1); // log p_y for each example, exact in log space
  const weight = pow(sub(1, exp(logP)), gamma); // (1 - p_y)^gamma
  return mean(neg(mul(weight, logP)));
};

// ---- end of the loss --------------------------------------------------------------------------

const f64 = (rows: number[][]) => tensor(rows, undefined, "float64");

describe("focal loss, a custom loss composed from ops: mean of -(1 - p_y)^gamma log p_y", () => {
  it("passes checkOp with respect to the logits (labels held fixed): gradcheck, gradcheck of its gradient, purity, graph, float32 and jit", () => {
    const cases = logitsAndLabels({ scale: 5 }).map(({ logits, labels }) => opCase((z) => focalLoss(z, labels), [logits], `labels ${JSON.stringify(labels)}`));
    expect(checkOp({ name: "focalLoss", cases }).passed.map((p) => p.check)).toEqual(["gradcheck", "gradOfGrad", "purity", "graph", "float32", "jit"]);
  });

  it("with gamma = 0 is cross-entropy, for any logits and labels", () => {
    fc.assert(
      fc.property(logitsAndLabels(), ({ logits, labels }) => {
        expect(focalLoss(logits, labels, 0).item()).toBeCloseTo(crossEntropy(logits, labels).item(), 12);
      }),
    );
  });

  it("counts a well-classified example (p_y = 0.9) 100 times less than cross-entropy does, a badly classified one (p_y = 0.1) only 1.23 times less", () => {
    // Two classes with logits [0, t] give p_1 = sigmoid(t): t = ln 9 gives 0.9, t = -ln 9 gives 0.1.
    const easy = f64([[0, Math.log(9)]]);
    const hard = f64([[0, -Math.log(9)]]);
    expect(crossEntropy(easy, [1]).item() / focalLoss(easy, [1]).item()).toBeCloseTo(1 / 0.1 ** 2, 9);
    expect(crossEntropy(hard, [1]).item() / focalLoss(hard, [1]).item()).toBeCloseTo(1 / 0.9 ** 2, 9);
  });

  it("trains a network like any loss: 150 adam steps fit 10 random 784-pixel examples, one per class", () => {
    const x = random.uniform(random.key(1), [10, 784]);
    const y = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const net = mlp([784, 32, 10]);
    let { params } = net.init(random.key(0));
    const optimizer = adam({ learningRate: 1e-2 });
    let state = optimizer.init(params);
    const loss = (p: Params) => focalLoss(net.apply(p, x), y);
    const first = loss(params).item();
    for (let step = 0; step < 150; step++) {
      const { grads } = valueAndGrad(loss)(params);
      ({ params, state } = optimizer.update(grads, state, params));
    }
    expect(first).toBeGreaterThan(1);
    expect(loss(params).item()).toBeLessThan(1e-3);
    expect(accuracy(net.apply(params, x), y)).toBe(1);
  });
});

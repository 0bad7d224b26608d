// A learning check, not a timing test: can the pieces together fit a tiny training set?

import { describe, expect, it } from "vitest";
import { random, valueAndGrad, type Tensor } from "../../src/autograd/index.ts";
import { accuracy, adam, momentum, mlp, softmaxCrossEntropy, type Activation, type Optimizer, type Params } from "../../src/nn/index.ts";

// Ten fixed random 784-pixel "images" in [0, 1), one of each class.
const x = random.uniform(random.key(1), [10, 784]);
const y = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/** Train for `steps` steps; report when the training set was first classified perfectly, and the losses. */
const fit = (activation: Activation, optimizer: Optimizer, dropout?: number, steps = 150) => {
  const net = mlp([784, 32, 10], dropout === undefined ? { activation } : { activation, dropout });
  let { params } = net.init(random.key(0));
  let state = optimizer.init(params);
  const loss = (p: Params, key: random.Key): Tensor => softmaxCrossEntropy(net.apply(p, x, { training: true, key }), y);
  const evaluate = () => ({ accuracy: accuracy(net.apply(params, x), y), loss: softmaxCrossEntropy(net.apply(params, x), y).item() });
  const initial = evaluate();
  let firstPerfect = Infinity;
  for (let step = 0; step < steps; step++) {
    const { grads } = valueAndGrad(loss)(params, random.foldIn(random.key(2), step));
    ({ params, state } = optimizer.update(grads, state, params));
    if (firstPerfect === Infinity && evaluate().accuracy === 1) firstPerfect = step + 1;
  }
  return { initial, final: evaluate(), firstPerfect };
};

describe("an mlp trained on 10 fixed random 784-pixel examples", () => {
  it("goes from chance to 100% training accuracy, and a loss under 0.05, within 150 steps of adam (relu, dropout 0.1)", () => {
    const run = fit("relu", adam({ learningRate: 1e-2 }), 0.1);
    expect(run.initial.accuracy).toBeLessThan(0.5);
    expect(run.initial.loss).toBeGreaterThan(1);
    expect(run.firstPerfect).toBeLessThanOrEqual(150);
    expect(run.final.accuracy).toBe(1);
    expect(run.final.loss).toBeLessThan(0.05);
  });

  it("goes from chance to 100% training accuracy, and a loss under 0.05, within 150 steps of nesterov momentum (tanh)", () => {
    const run = fit("tanh", momentum({ learningRate: 0.05, nesterov: true }));
    expect(run.initial.accuracy).toBeLessThan(0.5);
    expect(run.initial.loss).toBeGreaterThan(1);
    expect(run.firstPerfect).toBeLessThanOrEqual(150);
    expect(run.final.accuracy).toBe(1);
    expect(run.final.loss).toBeLessThan(0.05);
  });
});

// optimizer.update(grads, state, params, { donate: true }): the same values as the default update,
// written into the donated buffers; the donated tensors are dead afterwards (ops refuse them).

import { describe, expect, it } from "vitest";
import { matmul, ownsBuffer, random, Tensor, treeLeaves, valueAndGrad, type Tensor as T } from "../../src/autograd/index.ts";
import { adam, mlp, momentum, sgd, softmaxCrossEntropy, type Optimizer, type Params } from "../../src/nn/index.ts";
import { snapshot } from "./helpers.ts";

const net = mlp([6, 5, 4, 3]);
const x = random.normal(random.key(3), [7, 6]);
const labels = [0, 1, 2, 0, 1, 2, 0];
const lossOf = valueAndGrad((p: Params) => softmaxCrossEntropy(net.apply(p, x), labels));

/** n steps of `opt` from the same start, donating or not; the snapshots of params and state after each. */
const run = (opt: Optimizer, donate: boolean, steps: number) => {
  let params = net.init(random.key(1)).params;
  let state = opt.init(params);
  const trace: unknown[] = [];
  for (let i = 0; i < steps; i++) {
    const { grads } = lossOf(params);
    ({ params, state } = opt.update(grads, state, params, { donate }));
    trace.push({ params: snapshot(params), state: snapshot(state as unknown as Params), step: state.step });
  }
  return trace;
};

describe("optimizer.update with donate: true", () => {
  for (const [name, opt] of [
    ["sgd", sgd({ learningRate: 0.1, weightDecay: 0.01 })],
    ["momentum", momentum({ learningRate: 0.1, nesterov: true })],
    ["adam", adam({ learningRate: 0.01, weightDecay: 0.01 })],
  ] as const) {
    it(`${name}: gives exactly the parameters and state of the default update, step after step`, () => {
      expect(run(opt as Optimizer, true, 5)).toEqual(run(opt as Optimizer, false, 5));
    });
  }

  it("writes the new parameters into the old ones' buffers, and ops refuse the donated tensors", () => {
    const opt = sgd({ learningRate: 0.1 });
    const params = net.init(random.key(2)).params;
    const { grads } = lossOf(params);
    const old = params as { dense1: { weight: T } };
    const buffer = old.dense1.weight.data.buffer;
    const next = opt.update(grads, opt.init(params), params, { donate: true }).params as { dense1: { weight: T } };
    expect(next.dense1.weight.data.buffer).toBe(buffer);
    expect(next.dense1.weight.data).not.toBe(old.dense1.weight.data); // a new array object: no identity-keyed cache can confuse them
    expect(() => matmul(x, old.dense1.weight)).toThrow(/matmul: input 1 .* was donated/);
    expect(() => net.apply(params, x)).toThrow(/was donated/);
    expect(() => net.apply(grads, x)).toThrow(/was donated/); // the gradients went to the kernels' free-list
    expect(net.apply(next, x).shape).toEqual([7, 3]);
  });

  it("leaves everything untouched without donate (the default), and copes with parameters that are views or share a buffer", () => {
    const opt = momentum({ learningRate: 0.1 });
    const params = net.init(random.key(4)).params;
    const { grads } = lossOf(params);
    const state = opt.init(params);
    const before = { params: snapshot(params), grads: snapshot(grads), state: snapshot(state as unknown as Params) };
    opt.update(grads, state, params);
    expect({ params: snapshot(params), grads: snapshot(grads), state: snapshot(state as unknown as Params) }).toEqual(before);

    // Views into one buffer (as loaded from a file) and a gradient shared by two leaves: computed into fresh arrays.
    const backing = new Float32Array(8).fill(1);
    const viewParams = { a: new Tensor(backing.subarray(0, 4), [4]), b: new Tensor(backing.subarray(4, 8), [4]) };
    const shared = new Tensor(new Float32Array([1, 2, 3, 4]), [4]);
    const plain = sgd({ learningRate: 0.5 });
    const out = plain.update({ a: shared, b: shared }, plain.init(viewParams), viewParams, { donate: true }).params;
    expect(treeLeaves(out).map(({ leaf }) => Array.from(leaf.data))).toEqual([[0.5, 0, -0.5, -1], [0.5, 0, -0.5, -1]]);
    expect(Array.from(backing)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(shared.data)).toEqual([1, 2, 3, 4]);
  });

  it("never takes over a SharedArrayBuffer, and needs none to exist (a browser page without cross-origin isolation has none)", () => {
    expect(ownsBuffer(new Tensor(new Float32Array(new SharedArrayBuffer(16)), [4]))).toBe(false);
    expect(ownsBuffer(new Tensor(new Float32Array(4), [4]))).toBe(true);
    const saved = globalThis.SharedArrayBuffer;
    try {
      // @ts-expect-error: removed, as on such a page
      delete globalThis.SharedArrayBuffer;
      expect(ownsBuffer(new Tensor(new Float32Array(4), [4]))).toBe(true);
      const { grads } = lossOf(net.init(random.key(5)).params); // the backward pass gives used-up cotangents back
      expect(treeLeaves(grads).length).toBe(6);
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
  });
});

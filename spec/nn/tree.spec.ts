import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/index.ts";
import { adam, countParams, flattenTree, isBias, isWeight, momentum, setLeaves, sgd, treeMismatch, unflattenTree, type Tree } from "../../src/nn/index.ts";
import { snapshot } from "./helpers.ts";

const params = {
  dense1: { weight: tensor([[1, 2], [3, 4]]), bias: tensor([5, 6]) },
  dense2: { weight: tensor([[7], [8]]), bias: tensor([9]) },
};

describe("parameter trees", () => {
  it("name each tensor by its dotted path: dense1.weight, dense1.bias, ...", () => {
    expect(Object.keys(flattenTree(params))).toEqual(["dense1.weight", "dense1.bias", "dense2.weight", "dense2.bias"]);
  });

  it("rebuild from their named tensors: unflattenTree(flattenTree(p)) has the same paths and values", () => {
    const back = unflattenTree(flattenTree(params));
    expect(snapshot(back)).toEqual(snapshot(params));
    expect(Object.isFrozen(back) && Object.isFrozen(back.dense1)).toBe(true);
    expect(() => unflattenTree({ a: tensor([1]), "a.b": tensor([2]) })).toThrow(/"a" is both a leaf and a branch/);
    expect(() => unflattenTree({ "a.b": tensor([1]), a: tensor([2]) })).toThrow(/"a" is both a leaf and a branch/);
  });

  it("count weights and biases separately: 4 + 2 weights, 2 + 1 biases", () => {
    expect(countParams(params)).toEqual({ total: 9, weights: 6, biases: 3 });
    expect([isWeight("dense1.weight"), isWeight("weight"), isWeight("dense1.weights"), isBias("dense1.bias")]).toEqual([true, true, false, true]);
  });

  it("are edited into a new tree by setLeaves, sharing untouched branches and leaving the original as it was", () => {
    const replacement = tensor([0]);
    const next = setLeaves(params, [["dense2.bias", replacement]]);
    expect(next.dense2.bias).toBe(replacement);
    expect(next.dense1).toBe(params.dense1);
    expect(params.dense2.bias.toArray()).toEqual([9]);
    expect(Object.isFrozen(next)).toBe(true);
  });
});

describe("treeMismatch", () => {
  const params = { dense1: { weight: tensor([[1, 2], [3, 4]]), bias: tensor([0, 0]) } };

  it("is null for a tree of the same structure, whatever the values, and for every optimizer's own state", () => {
    expect(treeMismatch(params, { dense1: { weight: tensor([[9, 9], [9, 9]]), bias: tensor([5, 6]) } })).toBeNull();
    for (const optimizer of [sgd({ learningRate: 0.1 }), momentum({ learningRate: 0.1 }), adam({ learningRate: 0.1 })]) {
      const state = optimizer.init(params) as unknown as Tree;
      expect(treeMismatch(state, optimizer.init(params) as unknown as Tree)).toBeNull();
    }
  });

  it("names the dotted path of a missing or unexpected key, a wrong shape, dtype or kind of leaf", () => {
    const state = adam({ learningRate: 0.1 }).init(params) as unknown as Tree;
    const { v: _v, ...noV } = state as unknown as Record<string, Tree>;
    expect(treeMismatch(state, noV)).toBe('"v" is missing, expected an object');
    expect(treeMismatch(state, { ...(state as object), extra: 1 })).toBe('the tree has "extra", which is not expected (expected step, m, v)');
    expect(treeMismatch(params, { dense1: { weight: tensor([[1, 2, 3]]), bias: tensor([0, 0]) } })).toBe('"dense1.weight" has shape [1, 3], expected [2, 2]');
    expect(treeMismatch(params, { dense1: { weight: tensor([[1, 2], [3, 4]], undefined, "float64"), bias: tensor([0, 0]) } })).toBe('"dense1.weight" is float64, expected float32');
    expect(treeMismatch(params, { dense1: { weight: 3, bias: tensor([0, 0]) } })).toBe('"dense1.weight" is a number, expected a tensor of shape [2, 2]');
    expect(treeMismatch({ ...(state as object) }, { ...(state as object), step: "0" })).toBe('"step" is a string, expected a tensor of shape []');
    expect(treeMismatch([1, 2], [1])).toBe("the tree is a list of 1, expected a list of 2");
    expect(treeMismatch(params, null)).toBe("the tree is null, expected an object");
  });
});

import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/index.ts";
import { countParams, flattenTree, isBias, isWeight, setLeaves, unflattenTree } from "../../src/nn/index.ts";
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

// The convolutional layers (conv2d, maxPool2d, avgPool2d, reshape) and networks as layer lists: what
// model files store and the apps rebuild.

import { describe, expect, it } from "vitest";
import { avgPool2d as avgPoolOp, conv2d as convOp, maxPool2d as maxPoolOp, random, reshape as reshapeOp, treeLeaves, type Tensor } from "../../src/autograd/index.ts";
import {
  avgPool2d, cnnLayerList, conv2d, countParams, describeLayer, flatten, layerRows, LayerListError, listSize, maxPool2d, mlp, mlpLayerList, networkFromList, reshape, serial,
  type Params,
} from "../../src/nn/index.ts";

const same = (a: Tensor, b: Tensor) => {
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.data)).toEqual(Array.from(b.data));
};

describe("the conv2d layer", () => {
  it("makes filters [K, C, kh, kw] with He init over their fan-in C kh kw, zero biases, and gives its output shape", () => {
    const { params, outputShape } = conv2d(32, 5).init(random.key(1), [16, 12, 12]);
    expect(params.weight.shape).toEqual([32, 16, 5, 5]);
    expect(Array.from(params.bias.data)).toEqual(new Array(32).fill(0));
    expect(outputShape).toEqual([32, 8, 8]);
    const w = Array.from(params.weight.data);
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(Math.abs(variance / (2 / (16 * 25)) - 1)).toBeLessThan(0.05);
    expect(() => conv2d(4, [3, 5], { stride: 2, padding: "same" }).init(random.key(1), [1, 9, 9])).toThrow(/"same" needs stride 1/);
    expect(conv2d(4, 3, { padding: "same" }).init(random.key(1), [2, 9, 7]).outputShape).toEqual([4, 9, 7]);
    expect(conv2d(4, 3, { stride: 2, padding: 1 }).init(random.key(1), [2, 9, 7]).outputShape).toEqual([4, 5, 4]);
  });

  it("applies conv2d with its bias (and relu), as the op", () => {
    const layer = conv2d(3, 3, { padding: 1, activation: "relu" });
    const { params } = layer.init(random.key(2), [2, 5, 5]);
    const biased = { ...params, bias: random.normal(random.key(3), [3]) };
    const x = random.normal(random.key(4), [2, 2, 5, 5]);
    same(layer.apply(biased, x), convOp(x, biased.weight, { padding: 1, bias: biased.bias, activation: "relu" }));
  });

  it("refuses inputs that are not images, and a kernel larger than the image, naming the shapes", () => {
    expect(() => conv2d(4, 5).init(random.key(1), [784])).toThrow(/expects images \[channels, rows, columns\] per example, got \[784\] \(put reshape\(\[1, 28, 28\]\) first\)/);
    expect(() => conv2d(4, 5).init(random.key(1), [1, 4, 4])).toThrow(/the window spans 5 rows/);
    expect(() => conv2d(0, 5)).toThrow(/filters must be a positive integer/);
  });
});

describe("the pooling and reshape layers", () => {
  it("pool with the ops, halving 2 x 2 by default stride, and have no parameters", () => {
    const x = random.normal(random.key(5), [2, 3, 6, 6]);
    const pool = maxPool2d(2);
    expect(pool.init(random.key(0), [3, 6, 6])).toEqual({ params: {}, outputShape: [3, 3, 3] });
    same(pool.apply({}, x), maxPoolOp(x, 2));
    same(avgPool2d(3, { stride: 1, padding: 1 }).apply({}, x), avgPoolOp(x, 3, { stride: 1, padding: 1 }));
    expect(avgPool2d(3, { stride: 1, padding: 1 }).init(random.key(0), [3, 6, 6]).outputShape).toEqual([3, 6, 6]);
  });

  it("reshape turns rows of 784 pixels into images [1, 28, 28], and refuses a size that does not match", () => {
    const x = random.uniform(random.key(6), [4, 784]);
    same(reshape([1, 28, 28]).apply({}, x), reshapeOp(x, [4, 1, 28, 28]));
    expect(() => reshape([1, 28, 28]).init(random.key(0), [100])).toThrow(/cannot reshape \[100\] \(100 values per example\) to \[1, 28, 28\]/);
  });
});

describe("a network as a layer list", () => {
  it("of an MLP builds exactly mlp's network: the same initial parameters and outputs", () => {
    const sizes = [784, 32, 16, 10];
    const reference = mlp(sizes, { activation: "tanh", dropout: 0.2 });
    const { net } = networkFromList(mlpLayerList(sizes, "tanh", 0.2), [784]);
    const [a, b] = [reference.init(random.key(7)).params, net.init(random.key(7), [784]).params];
    expect(treeLeaves(b).map((l) => l.path)).toEqual(treeLeaves(a).map((l) => l.path));
    treeLeaves(a).forEach(({ leaf }, i) => same(treeLeaves(b)[i]!.leaf, leaf));
    const x = random.uniform(random.key(8), [3, 784]);
    same(net.apply(b, x), reference.apply(a, x));
  });

  it("of the CNN recipe: conv1, conv2, dense1, dense2, with layer rows that count each layer's parameters and output", () => {
    const list = cnnLayerList(28, 28, [16, 32], [128], 10, 0.25);
    const { net, outputShape, outputs } = networkFromList(list, [784]);
    const { params } = net.init(random.key(9), [784]);
    expect(Object.keys(params)).toEqual(["conv1", "conv2", "dense1", "dense2"]);
    const rows = layerRows(list, [784]);
    expect(rows.map((r) => r.outputShape)).toEqual([[1, 28, 28], [16, 24, 24], [16, 12, 12], [32, 8, 8], [32, 4, 4], [512], [128], [128], [10]]);
    expect(listSize(list, [784]).parameters).toBe(countParams(params).total);
    expect(outputShape).toEqual([10]);
    expect(rows.map((r) => describeLayer(r.spec))).toEqual(["reshape to [1, 28, 28]", "conv2d 16 5x5 relu", "maxPool2d 2x2", "conv2d 32 5x5 relu", "maxPool2d 2x2", "flatten", "dense 128 relu", "dropout 0.25", "dense 10"]);
    // outputs: every layer's result, the last the network's.
    const x = random.uniform(random.key(10), [2, 784]);
    const all = outputs(params as Params, x);
    expect(all.map((t) => t.shape.slice(1))).toEqual(rows.map((r) => r.outputShape));
    same(all[all.length - 1]!, net.apply(params, x));
  });

  it("is the same network as the layers composed by hand", () => {
    const list = cnnLayerList(12, 12, [4], [], 3);
    const byHand = serial(reshape([1, 12, 12]), conv2d(4, 5, { activation: "relu" }), maxPool2d(2), flatten, mlp([64, 3]));
    expect(layerRows(list, [144]).at(-1)!.outputShape).toEqual([3]);
    const { net } = networkFromList(list, [144]);
    const p = net.init(random.key(11), [144]).params;
    const x = random.uniform(random.key(12), [2, 144]);
    const q = { conv1: p.conv1!, mlp1: { dense1: p.dense1! } } as Params;
    same(net.apply(p, x), byHand.apply(q, x));
  });

  it("refuses a list it cannot build, naming the layer and the field", () => {
    const fails = (list: unknown, input: number[], message: RegExp) => {
      expect(() => networkFromList(list, input, "layers")).toThrow(LayerListError);
      expect(() => networkFromList(list, input, "layers")).toThrow(message);
    };
    fails([{ type: "conv3d" }], [784], /layers\[0\] is \{"type":"conv3d"\}: expected a layer description/);
    fails([{ type: "reshape", shape: [1, 28, 28] }, { type: "conv2d", filters: 8, kernel: [5] }], [784], /layers\[1\]\.kernel is \[5\]: expected a pair \[rows, columns\]/);
    fails([{ type: "dense", units: 10, activation: "gelu" }], [784], /layers\[0\]\.activation is "gelu": expected one of relu, tanh, sigmoid/);
    fails([{ type: "dense", units: 10, bias: false }], [784], /layers\[0\]\.bias is false: expected no such field for a dense layer/);
    fails([{ type: "conv2d", filters: 8, kernel: [5, 5] }], [784], /layers\[0\] \(conv2d\) does not fit the shape before it, \[784\]/);
    fails([], [784], /expected a list of 1 to 64 layer descriptions/);
    expect(() => listSize(cnnLayerList(28, 28, [8, 8, 8], [], 10), [784])).toThrow(/layers\[5\] \(conv2d\) does not fit the shape before it, \[8, 4, 4\]/);
  });
});

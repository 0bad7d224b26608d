// The dense layer's gradients on a real batch: the first 64 MNIST training images through the seed's
// first layer, z = x W + b with W of shape (784, 128), then the rest of [784, 128, 64, 10] and the
// mean cross-entropy. Each gradient's shape is the shape of what it is the gradient of, and each is
// a matrix product (or a sum) of what the layer already has.

import { describe, expect, it } from "vitest";
import { add, backward, broadcastTo, matmul, ones, random, relu, sum, sumToShape, transpose, watch, type Tensor } from "../../src/autograd/index.ts";
import { batchOf, loadMnist, scalePixels } from "../../src/data/index.ts";
import { mlp, softmaxCrossEntropy, type DenseParams } from "../../src/nn/index.ts";
import { expectClose } from "./helpers.ts";

const { train } = loadMnist();
const batch = batchOf(train, Int32Array.from({ length: 64 }, (_, i) => i));
const net = mlp([784, 128, 64, 10]);
const { params } = net.init(random.key(1));
const { dense1, dense2, dense3 } = params as Record<"dense1" | "dense2" | "dense3", DenseParams>;
const layer = (h: Tensor, p: DenseParams) => add(matmul(h, p.weight), p.bias);

// The forward pass written out, with the first layer's inputs watched so that the walk can stop at them.
const [x, W, b] = [watch(scalePixels(batch.pixels)), watch(dense1.weight), watch(dense1.bias)];
const z = layer(x, { weight: W, bias: b });
const loss = softmaxCrossEntropy(layer(relu(layer(relu(z), dense2)), dense3), batch.labels);
const seed = ones([], "float32");
const [dz] = backward(loss, [z], seed) as [Tensor];
const [dx, dW, db] = backward(loss, [x, W, b], seed) as [Tensor, Tensor, Tensor];

describe("the dense layer's gradients, for the first 64 MNIST training images through z = x W + b, W of shape (784, 128)", () => {
  it("has x of shape (64, 784), a row of 784 pixels per image, and z = x W + b of shape (64, 128), a row of 128 outputs per image", () => {
    expect([x.shape, W.shape, b.shape, z.shape]).toEqual([[64, 784], [784, 128], [128], [64, 128]]);
  });

  it("receives dL/dz of z's shape (64, 128): how the loss changes with each output of each image", () => {
    expect(dz.shape).toEqual([64, 128]);
  });

  it("gives dL/dW = x^T dL/dz: (784, 64) times (64, 128) is (784, 128), W's shape, one product per image summed", () => {
    expect(dW.shape).toEqual([784, 128]);
    expectClose(dW.data, matmul(transpose(x), dz).data, 1e-6);
  });

  it("gives dL/dx = dL/dz W^T: (64, 128) times (128, 784) is (64, 784), x's shape: what a layer below would receive", () => {
    expect(dx.shape).toEqual([64, 784]);
    expectClose(dx.data, matmul(dz, transpose(W)).data, 1e-6);
  });

  it("gives dL/db = the column sums of dL/dz, of b's shape (128)", () => {
    expect(db.shape).toEqual([128]);
    expectClose(db.data, sum(dz, 0).data, 1e-6);
  });
});

describe("why the bias gradient sums over the batch", () => {
  it("adding b (128) to x W (64, 128) broadcasts it: the same b is added to each of the 64 rows, as if copied by broadcastTo", () => {
    const xW = matmul(x, W);
    expect(add(xW, b).data).toEqual(add(xW, broadcastTo(b, [64, 128])).data);
  });

  it("a value used several times gets the sum of its uses' gradients, so broadcastTo's gradient is sumToShape: a sum over the 64 copies", () => {
    const copies = watch(b);
    const used = broadcastTo(copies, [64, 128]);
    const [g] = backward(used, [copies], dz);
    expect(g!.data).toEqual(sumToShape(dz, [128]).data);
  });

  it("so for the batch's mean loss, dL/db is the mean of the 64 images' own bias gradients, and dL/dW the mean of their weight gradients", () => {
    const own = (i: number) => {
      const one = batchOf(train, Int32Array.of(i));
      const [u, v, c] = [watch(dense1.weight), watch(dense1.bias), scalePixels(one.pixels)];
      const l = softmaxCrossEntropy(layer(relu(layer(relu(layer(c, { weight: u, bias: v })), dense2)), dense3), one.labels);
      return backward(l, [u, v], seed) as [Tensor, Tensor];
    };
    const sums = [new Float64Array(784 * 128), new Float64Array(128)];
    for (let i = 0; i < 64; i++) own(i).forEach((g, k) => g.data.forEach((v, j) => (sums[k]![j] = sums[k]![j]! + v / 64)));
    expectClose(dW.data, sums[0]!, 1e-6);
    expectClose(db.data, sums[1]!, 1e-6);
  });
});

// linear(x, W, b, { activation }) = act(x.W + b): the dense layer as one op, fused for speed.
// It is the composition relu(add(matmul(x, W), b)) (or without the relu) written out: one matrix
// product, the bias added and the relu applied in place on the product's fresh array, and a vjp that
// goes straight to the three cotangents instead of through broadcastTo, sumToShape, add and relu.
// spec/autograd/linear.spec.ts proves value and gradients equal to the composition, bit for bit.
//
//   forward   y  = act(x.W + b)                     x [m, k], W [k, n], b [n], y [m, n]
//   vjp       gm = g * (y > 0) for relu, else g      (the relu's derivative read from its output)
//             dx = gm.W^T   (only when x needs a gradient: not for the MNIST pixels)
//             dW = x^T.gm
//             db = column sums of gm                 (the bias was broadcast down the batch)

import { defineOp } from "../define-op.ts";
import * as e from "../kernels/elementwise.ts";
import * as mm from "../kernels/matmul.ts";
import { giveBack } from "../kernels/pool.ts";
import * as r from "../kernels/relu-backward.ts";
import { ShapeError, shapeStr } from "../shape.ts";
import { Tensor, unsettledData as dataOf } from "../tensor.ts";

export type LinearActivation = "relu" | null;

export interface LinearOptions {
  /** Applied to x.W + b inside the op: "relu", or null (the default) for none. */
  readonly activation?: LinearActivation;
}

interface LinearAttrs {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly relu: boolean;
}

const linearOp = defineOp<LinearAttrs>({
  name: "linear",
  forward: ([x, w, b], { m, k, n, relu }) =>
    // The product is a new array that only this op has seen, so the bias and relu go in place (on
    // WebAssembly, before the product leaves its memory). x and W go to the kernel unsettled: it
    // finds a batch or a weight left in its memory there (../kernels/deferred.ts).
    new Tensor(mm.linearNN(dataOf(x!), dataOf(w!), b!.data, m, k, n, relu), [m, n]),
  vjp: (g, { inputs: [x, w, b], out, attrs: { m, k, n, relu }, needs }) => {
    // The mask and the bias's column sums in one pass when both are wanted.
    const fused = relu && needs[2] ? r.maskPositiveWithColumnSums(g.data, out.data, n) : null;
    const gm = fused !== null ? fused.masked : relu ? r.maskPositive(g.data, out.data) : g.data;
    const cotangents = [
      needs[0] ? new Tensor(mm.matmulNT(gm, dataOf(w!), m, n, k, true), x!.shape) : null, // G[m,n].W^T
      needs[1] ? new Tensor(mm.matmulTN(dataOf(x!), gm, k, m, n, false, true), w!.shape) : null, // X^T.G[m,n], left in the kernel's memory
      needs[2] ? new Tensor(fused !== null ? fused.sums : e.columnSums(gm, n), b!.shape) : null,
    ];
    if (gm !== g.data && gm instanceof Float32Array) giveBack(gm); // the mask's scratch result, used up
    return cotangents;
  },
});

/**
 * act(x.W + b) for a batch of rows x [m, k], a weight W [k, n] and a bias b [n]: the dense layer.
 * Equal, value and gradient, to relu(add(matmul(x, W), b)) (activation "relu") or add(matmul(x, W), b).
 */
export const linear = (x: Tensor, weight: Tensor, bias: Tensor, { activation = null }: LinearOptions = {}): Tensor => {
  if (activation !== null && activation !== "relu") {
    throw new ShapeError(`linear: unknown activation ${JSON.stringify(activation)} (expected "relu" or null)`);
  }
  if (x.rank !== 2 || weight.rank !== 2 || bias.rank !== 1 || x.shape[1] !== weight.shape[0] || bias.shape[0] !== weight.shape[1]) {
    throw new ShapeError(
      `linear: expected x [m, k], weight [k, n] and bias [n], got ${shapeStr(x.shape)}, ${shapeStr(weight.shape)} and ${shapeStr(bias.shape)}`,
    );
  }
  return linearOp([x, weight, bias], { m: x.shape[0]!, k: x.shape[1]!, n: weight.shape[1]!, relu: activation === "relu" });
};

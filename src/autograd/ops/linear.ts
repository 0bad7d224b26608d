// linear(x, W, b, { activation }) = act(x.W + b): the dense layer as one op, fused for speed. Its
// forward is one kernel (the product, the bias and the relu in one pass over the result); its vjp is
// the composition's, written with ops:
//
//   forward   y  = act(x.W + b)                     x [m, k], W [k, n], b [n], y [m, n]
//   vjp       gm = g * (y > 0) for relu, else g      (the relu's derivative read from its output)
//             dx = gm.W^T   (only when x needs a gradient: not for the MNIST pixels)
//             dW = x^T.gm
//             db = column sums of gm                 (the bias was broadcast down the batch)
//
// spec/autograd/linear.spec.ts proves value and gradients equal to relu(add(matmul(x, W), b)).

import * as k from "../../backend/kernels.ts";
import { defineOp, run1 } from "../define-op.ts";
import { ShapeError, shapeStr } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { maskPositive } from "./elementwise.ts";
import { matmul } from "./matmul.ts";
import { sumToShape } from "./movement.ts";

export type LinearActivation = "relu" | null;

export interface LinearOptions {
  /** Applied to x.W + b inside the op: "relu", or null (the default) for none. */
  readonly activation?: LinearActivation;
}

const linearOp = defineOp<k.LinearParams>({
  name: "linear",
  forward: ([x, w, b], p) => run1(k.linear, [x!, w!, b!], p, [p.m, p.n]),
  vjp: (g, { inputs: [x, w, b], out, attrs: { relu }, needs }) => {
    const gm = relu ? maskPositive(g, out) : g;
    return [
      needs[0] ? matmul(gm, w!, { transposeB: true }) : null,
      needs[1] ? matmul(x!, gm, { transposeA: true }) : null,
      needs[2] ? sumToShape(gm, b!.shape) : null, // the adjoint of broadcasting b down the batch
    ];
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

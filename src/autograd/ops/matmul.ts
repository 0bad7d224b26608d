// Matrix products: 2-D, or stacks of matrices with a batch axis (which may be broadcast: a stack
// times one matrix, or a stack times a stack of one, as NumPy and PyTorch broadcast it). transposeA / transposeB multiply by A^T or B^T without a transposed copy, as
// the gradients need: for C = A.B, dA = G.B^T and dB = A^T.G.

import * as k from "../../backend/kernels.ts";
import { isFloat } from "../../backend/index.ts";
import { defineOp, run1 } from "../define-op.ts";
import { ShapeError, shapeStr } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { reshape } from "./movement.ts";
import { sum } from "./reduce.ts";

export interface MatmulOptions {
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
}

type Attrs = k.MatmulParams;

const matmulOp = defineOp<Attrs>({
  name: "matmul",
  forward: ([a, b], p) => run1(k.matmul, [a!, b!], p, p.batchA || p.batchB ? [p.batch, p.m, p.n] : [p.m, p.n]),
  vjp: (g, { inputs: [a, b], attrs: p, needs }) => {
    // With op(X) = X or X^T: d op(A) = G.op(B)^T and d op(B) = op(A)^T.G, transposed back where op did.
    const dA = () =>
      p.transA ? matmul(b!, g, { transposeA: p.transB, transposeB: true }) : matmul(g, b!, { transposeB: !p.transB });
    const dB = () =>
      p.transB ? matmul(g, a!, { transposeA: true, transposeB: p.transA }) : matmul(a!, g, { transposeA: !p.transA });
    // An operand shared by the whole stack receives the sum over the stack.
    const unstack = (d: Tensor, batched: boolean) => (batched || d.rank === 2 ? d : sum(d, 0));
    return [needs[0] ? unstack(dA(), p.batchA) : null, needs[1] ? unstack(dB(), p.batchB) : null];
  },
});

/** A stack of one matrix [1, r, c] against a longer stack is that one matrix for every entry of it. */
const broadcastOne = (x: Tensor, other: Tensor): Tensor =>
  x.rank === 3 && other.rank === 3 && x.shape[0] === 1 && other.shape[0]! > 1 ? reshape(x, x.shape.slice(1)) : x;

/**
 * Matrix product of [m, k] by [k, n]; of stacks [batch, m, k] by [batch, k, n]; or of a stack by one
 * matrix ([batch, m, k] by [k, n], or [m, k] by [batch, k, n]; a stack of one, [1, m, k] or
 * [1, k, n], counts as one matrix: its gradient is the sum over the other stack). transposeA: A is
 * given as [k, m] (or [batch, k, m]) and A^T is used; transposeB likewise.
 */
export const matmul = (a0: Tensor, b0: Tensor, { transposeA = false, transposeB = false }: MatmulOptions = {}): Tensor => {
  const a = broadcastOne(a0, b0);
  const b = broadcastOne(b0, a0);
  const ranksOk = (a.rank === 2 || a.rank === 3) && (b.rank === 2 || b.rank === 3);
  const batch = a.rank === 3 ? a.shape[0]! : b.rank === 3 ? b.shape[0]! : 1;
  if (!ranksOk || (a.rank === 3 && b.rank === 3 && a.shape[0] !== b.shape[0])) {
    throw new ShapeError(`matmul: cannot multiply ${shapeStr(a.shape)} by ${shapeStr(b.shape)}: expected matrices, or stacks of matrices with the same batch size (or a stack and one matrix, or a stack of one)`);
  }
  if (!isFloat(a.dtype)) throw new ShapeError(`matmul: expected float32 or float64 tensors, got ${a.dtype}`);
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const [m, k1] = transposeA ? [ca, ra] : [ra, ca];
  const [k2, n] = transposeB ? [cb, rb] : [rb, cb];
  if (k1 !== k2) {
    throw new ShapeError(`matmul: cannot multiply ${shapeStr(a.shape)}${transposeA ? "^T" : ""} by ${shapeStr(b.shape)}${transposeB ? "^T" : ""}: inner dimensions ${k1} and ${k2} differ`);
  }
  return matmulOp([a, b], { batch, m, k: k1, n, transA: transposeA, transB: transposeB, batchA: a.rank === 3, batchB: b.rank === 3 });
};

// Matrix product, 2-D or batched 3-D. Gradients: dA = G.B^T and dB = A^T.G (per batch).

import { defineOp } from "../define-op.ts";
import * as mm from "../kernels/matmul.ts";
import { like } from "../kernels/elementwise.ts";
import { ShapeError, shapeStr } from "../shape.ts";
import { Tensor, type TypedArray } from "../tensor.ts";

type Kernel = (a: TypedArray, b: TypedArray, m: number, k: number, n: number, stableB?: boolean) => TypedArray;

/**
 * Run a 2-D kernel over `batch` stacked matrices. stableB: b is a tensor's whole data (a weight, as
 * a rule), which the fast kernels may keep resident (see ../kernels/matmul.ts).
 */
const batched = (kernel: Kernel, a: TypedArray, b: TypedArray, batch: number, m: number, k: number, n: number, stableB = false): TypedArray => {
  if (batch === 1) return kernel(a, b, m, k, n, stableB);
  const out = like(a, batch * m * n);
  for (let i = 0; i < batch; i++) {
    out.set(kernel(a.subarray(i * m * k, (i + 1) * m * k), b.subarray(i * k * n, (i + 1) * k * n), m, k, n), i * m * n);
  }
  return out;
};

interface Dims {
  readonly batch: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

const matmulOp = defineOp<Dims>({
  name: "matmul",
  forward: ([a, b], { batch, m, k, n }) =>
    new Tensor(batched(mm.matmulNN, a!.data, b!.data, batch, m, k, n, true), a!.rank === 3 ? [batch, m, n] : [m, n]),
  vjp: (g, { inputs: [a, b], attrs: { batch, m, k, n }, needs }) => [
    needs[0] ? new Tensor(batched(mm.matmulNT, g.data, b!.data, batch, m, n, k, true), a!.shape) : null, // G[m,n].B^T
    needs[1] ? new Tensor(batched(mm.matmulTN, a!.data, g.data, batch, k, m, n), b!.shape) : null, // A^T.G[m,n]
  ],
});

/** Matrix product of [m, k] by [k, n], or of [batch, m, k] by [batch, k, n]. */
export const matmul = (a: Tensor, b: Tensor): Tensor => {
  const ok = (a.rank === 2 && b.rank === 2) || (a.rank === 3 && b.rank === 3 && a.shape[0] === b.shape[0]);
  if (!ok) {
    throw new ShapeError(`matmul: cannot multiply ${shapeStr(a.shape)} by ${shapeStr(b.shape)}: expected two matrices, or two stacks of matrices with the same batch size`);
  }
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) {
    throw new ShapeError(`matmul: cannot multiply ${shapeStr(a.shape)} by ${shapeStr(b.shape)}: inner dimensions ${k} and ${k2} differ`);
  }
  return matmulOp([a, b], { batch: a.rank === 3 ? a.shape[0]! : 1, m, k, n });
};

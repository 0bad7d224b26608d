// Kernels that exist only as fusions: a compiled program's rewrite rules (./rules.ts) replace chains
// of ordinary kernels by these, where the WebAssembly backend has a faster way to compute the same
// bits. Each carries its reference loops, built from the ordinary kernels' own, so it is defined
// (and checked) like any other kernel.
//
// "lists": a layer's input given by its nonzero entries, pairs of columns at a time (see
// ./assembly/kernels.ts, columnLists). Its bytes are private to the backend that made them; the
// reference loops keep the scaled input itself there instead.

import { defineKernel } from "../kernel.ts";
import { addBiasInPlace, matmulInto } from "../reference/matmul.ts";
import type { TypedArray } from "../dtype.ts";
import { checkedRate } from "../reference/training.ts";

const f32View = (bytes: TypedArray, length: number): Float32Array => new Float32Array(bytes.buffer, bytes.byteOffset, length);

/** Bytes of the lists of an [m, k] input: 16 bytes per entry, at most m per pair of columns, then a count per pair. */
export const listBytes = (m: number, k: number): number => 8 * m * k + 2 * k;

/** Pixels (bytes) to floats x / 255, correctly rounded: cast then divide by the constant 255. */
export const unitFloats = defineKernel({
  name: "unitFloats",
  outputs: (inputs) => [{ dtype: "float32", size: inputs[0]!.size }],
  run: ([bytes], [out]) => {
    for (let i = 0; i < bytes!.length; i++) out![i] = bytes![i]! / 255;
  },
});

/** linear (act(x.W + b)) of the pixels' scaled values x = pixels / 255, read as bytes. */
export const linearFromBytes = defineKernel<{ readonly m: number; readonly k: number; readonly n: number; readonly relu: boolean }>({
  name: "linearFromBytes",
  outputs: (_inputs, { m, n }) => [{ dtype: "float32", size: m * n }],
  run: ([bytes, w, bias], [out], { m, k, n, relu }) => {
    const x = Float32Array.from(bytes!, (v) => v / 255);
    matmulInto(x, 0, w!, 0, out!, 0, { batch: 1, m, k, n, transA: false, transB: false, batchA: true, batchB: true });
    addBiasInPlace(out!, bias!, relu);
  },
  show: ({ m, k, n, relu }) => `${m}x${k}x${n}${relu ? " relu" : ""}`,
});

interface Lists {
  readonly m: number;
  readonly k: number;
}

/** The lists of the scaled pixels x / 255 of an input [m, k] (k even), for products whose rows are n floats long. */
export const columnListsFromBytes = defineKernel<Lists & { readonly n: number }>({
  name: "columnListsFromBytes",
  outputs: (_inputs, { m, k }) => [{ dtype: "uint8", size: listBytes(m, k) }],
  run: ([bytes], [lists], { m, k }) => {
    lists!.fill(0);
    const x = f32View(lists!, m * k);
    for (let i = 0; i < m * k; i++) x[i] = bytes![i]! / 255;
  },
  show: ({ m, k }) => `${m}x${k}`,
});

/** linear (act(x.W + b)) with x given by its lists. */
export const linearFromLists = defineKernel<Lists & { readonly n: number; readonly relu: boolean }>({
  name: "linearFromLists",
  outputs: (_inputs, { m, n }) => [{ dtype: "float32", size: m * n }],
  run: ([lists, w, bias], [out], { m, k, n, relu }) => {
    matmulInto(f32View(lists!, m * k), 0, w!, 0, out!, 0, { batch: 1, m, k, n, transA: false, transB: false, batchA: true, batchB: true });
    addBiasInPlace(out!, bias!, relu);
  },
  show: ({ m, k, n, relu }) => `${m}x${k}x${n}${relu ? " relu" : ""}`,
});

/** x^T . G with x [m, k] given by its lists: the weight gradient [k, n]. */
export const matmulTNFromLists = defineKernel<Lists & { readonly n: number }>({
  name: "matmulTNFromLists",
  outputs: (_inputs, { k, n }) => [{ dtype: "float32", size: k * n }],
  run: ([lists, g], [out], { m, k, n }) => {
    matmulInto(f32View(lists!, m * k), 0, g!, 0, out!, 0, { batch: 1, m: k, k: m, n, transA: true, transB: false, batchA: true, batchB: true });
  },
  show: ({ m, k, n }) => `${k}x${m}x${n}`,
});

/** p - lr (dW + decay p) in float32, as the sgdUpdate kernel (its reference loop). */
const sgdInto = (p: TypedArray, dw: TypedArray, out: TypedArray, lr: number, decay: number): void => {
  const f = Math.fround;
  const lr32 = f(checkedRate("sgdUpdate", lr));
  const decay32 = f(decay);
  for (let i = 0; i < p.length; i++) out[i] = p[i]! - f(lr32 * f(dw[i]! + f(decay32 * p[i]!)));
};

/** sgdUpdate(P, x^T . G) with x given by its lists: the weight gradient is never stored. */
export const matmulTNListsSgd = defineKernel<Lists & { readonly n: number; readonly decay: number }>({
  name: "matmulTNListsSgd",
  outputs: (inputs) => [inputs[2]!],
  run: ([lists, g, p, lr], [out], { m, k, n, decay }) => {
    const dw = new Float32Array(k * n);
    matmulInto(f32View(lists!, m * k), 0, g!, 0, dw, 0, { batch: 1, m: k, k: m, n, transA: true, transB: false, batchA: true, batchB: true });
    sgdInto(p!, dw, out!, lr![0]!, decay);
  },
  inPlace: [2],
  show: ({ m, k, n, decay }) => `${k}x${m}x${n}${decay ? ` decay=${decay}` : ""}`,
});

/** sgdUpdate(P, A^T . G) (A stored [k, m]): the weight gradient is never stored whole. */
export const matmulTNSgd = defineKernel<{ readonly m: number; readonly k: number; readonly n: number; readonly decay: number }>({
  name: "matmulTNSgd",
  outputs: (inputs) => [inputs[2]!],
  run: ([a, g, p, lr], [out], { m, k, n, decay }) => {
    const dw = new Float32Array(m * n);
    matmulInto(a!, 0, g!, 0, dw, 0, { batch: 1, m, k, n, transA: true, transB: false, batchA: true, batchB: true });
    sgdInto(p!, dw, out!, lr![0]!, decay);
  },
  inPlace: [2],
  show: ({ m, k, n, decay }) => `${m}x${k}x${n}${decay ? ` decay=${decay}` : ""}`,
});

/** maskPositive(g, y) and the column sums of the result (a relu layer's backward and its bias gradient), in one pass. */
export const maskColumnSums = defineKernel<{ readonly m: number; readonly n: number }>({
  name: "maskColumnSums",
  outputs: (inputs, { n }) => [inputs[0]!, { dtype: inputs[0]!.dtype, size: n }],
  run: ([g, y], [masked, sums], { n }) => {
    sums!.fill(0);
    for (let r = 0; r < g!.length; r += n) {
      for (let j = 0; j < n; j++) {
        const v = y![r + j]! > 0 ? g![r + j]! : 0;
        masked![r + j] = v;
        sums![j] = sums![j]! + v;
      }
    }
  },
  show: ({ m, n }) => `${m}x${n}`,
});

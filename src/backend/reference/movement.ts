// Kernels that move values without arithmetic (broadcast, transpose, slice, concat, gather) and
// the reductions (sum, max, argmax). Shapes come in the params; the loops walk strided index maps:
// for an output of `shape`, offsets(shape, strides, base)[i] is the flat position in the source of
// output element i, and a stride of 0 repeats a source element along that axis (broadcasting).

import type { TypedArray } from "../dtype.ts";
import { defineKernel, KernelError, likeFirst } from "../kernel.ts";

type Shape = readonly number[];

const sizeOf = (shape: Shape): number => shape.reduce((p, d) => p * d, 1);

/** Row-major strides: the step in the flat array for one step along each axis. */
export const stridesOf = (shape: Shape): number[] => {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
};

/** Flat source positions of every element of an output of `shape` read with `strides` from `base`. */
export const offsets = (shape: Shape, strides: readonly number[], base = 0): Int32Array => {
  const n = sizeOf(shape);
  const out = new Int32Array(n);
  if (n === 0) return out;
  const rank = shape.length;
  const counter = new Array<number>(rank).fill(0);
  let offset = base;
  for (let i = 0; i < n; i++) {
    out[i] = offset;
    // Advance the multi-index like an odometer, keeping the source offset in step.
    for (let axis = rank - 1; axis >= 0; axis--) {
      offset += strides[axis]!;
      if (++counter[axis]! < shape[axis]!) break;
      offset -= strides[axis]! * shape[axis]!;
      counter[axis] = 0;
    }
  }
  return out;
};

/** Strides of `from` laid against `to` (right-aligned), with 0 wherever `from` is broadcast. */
export const broadcastStrides = (from: Shape, to: Shape): number[] => {
  const strides = new Array<number>(to.length).fill(0);
  let s = 1;
  for (let i = from.length - 1; i >= 0; i--) {
    const j = to.length - from.length + i;
    strides[j] = from[i] === 1 && to[j] !== 1 ? 0 : s;
    s *= from[i]!;
  }
  return strides;
};

interface Reshaping {
  readonly from: Shape;
  readonly to: Shape;
}
const showReshaping = ({ from, to }: Reshaping) => `[${from.join(",")}] -> [${to.join(",")}]`;

/** Repeat x (of shape `from`) along broadcast axes to fill `to`. */
export const broadcastTo = defineKernel<Reshaping>({
  name: "broadcastTo",
  outputs: (inputs, { to }) => [{ dtype: inputs[0]!.dtype, size: sizeOf(to) }],
  run: ([x], [out], { from, to }) => {
    const data = x!, o = out!, n = o.length;
    if (data.length === 1) { o.fill(data[0]!); return; } // a scalar
    const row = data.length;
    if (from.length >= 1 && row === to[to.length - 1] && from[from.length - 1] === row) {
      for (let r = 0; r < n; r += row) o.set(data, r); // a row repeated down a matrix (a bias)
      return;
    }
    const idx = offsets(to, broadcastStrides(from, to));
    for (let i = 0; i < n; i++) o[i] = data[idx[i]!]!;
  },
  show: showReshaping,
});

/** Sum x (of shape `from`) down to `to`, the shape it was broadcast from: the adjoint of broadcastTo. */
export const sumToShape = defineKernel<Reshaping>({
  name: "sumToShape",
  outputs: (inputs, { to }) => [{ dtype: inputs[0]!.dtype, size: sizeOf(to) }],
  run: ([x], [out], { from, to }) => {
    const data = x!, o = out!, m = o.length;
    o.fill(0);
    if (m === 1) {
      for (let i = 0; i < data.length; i++) o[0] = o[0]! + data[i]!; // everything into one slot, in order
      return;
    }
    if (to.length >= 1 && m === from[from.length - 1] && to[to.length - 1] === m) {
      // Column sums of a matrix (a bias's gradient), accumulated row by row.
      for (let r = 0; r < data.length; r += m) for (let j = 0; j < m; j++) o[j] = o[j]! + data[r + j]!;
      return;
    }
    const idx = offsets(from, broadcastStrides(to, from));
    for (let i = 0; i < data.length; i++) { const j = idx[i]!; o[j] = o[j]! + data[i]!; }
  },
  show: showReshaping,
});

/**
 * The maximum over the positions of x (shape `from`) that map to each element of `to`, and the
 * first flat position that holds it. NOTE: ties go to the first in row-major order; NaN wins.
 */
export const maxToShape = defineKernel<Reshaping>({
  name: "maxToShape",
  outputs: (inputs, { to }) => [{ dtype: inputs[0]!.dtype, size: sizeOf(to) }, { dtype: "int32", size: sizeOf(to) }],
  run: ([x], [values, argmax], { from, to }) => {
    const data = x!, v = values!, arg = argmax!;
    v.fill(-Infinity);
    arg.fill(-1);
    const idx = offsets(from, broadcastStrides(to, from));
    for (let i = 0; i < data.length; i++) {
      const j = idx[i]!;
      const value = data[i]!;
      if (arg[j] === -1 || value > v[j]! || (Number.isNaN(value) && !Number.isNaN(v[j]!))) {
        v[j] = value;
        arg[j] = i;
      }
    }
  },
  show: showReshaping,
});

/** out (of `size` zeros) gets g[i] added at flat position positions[i]: the adjoint of a gather. */
export const scatterFlat = defineKernel<{ readonly size: number }>({
  name: "scatterFlat",
  outputs: (inputs, { size }) => [{ dtype: inputs[0]!.dtype, size }],
  run: ([g, positions], [out]) => {
    out!.fill(0);
    for (let i = 0; i < positions!.length; i++) { const j = positions![i]!; out![j] = out![j]! + g![i]!; }
  },
  show: ({ size }) => `size=${size}`,
});

/** out[i] = x[positions[i]]: the adjoint of scatterFlat. */
export const takeFlat = defineKernel({
  name: "takeFlat",
  outputs: (inputs) => [{ dtype: inputs[0]!.dtype, size: inputs[1]!.size }],
  run: ([x, positions], [out]) => {
    for (let i = 0; i < positions!.length; i++) out![i] = x![positions![i]!]!;
  },
});

/** The axes of x (of `shape`) permuted: output axis i is input axis perm[i]. */
export const transpose = defineKernel<{ readonly shape: Shape; readonly perm: readonly number[] }>({
  name: "transpose",
  outputs: likeFirst((x) => x.size),
  run: ([x], [out], { shape, perm }) => {
    const strides = stridesOf(shape);
    const idx = offsets(perm.map((p) => shape[p]!), perm.map((p) => strides[p]!));
    for (let i = 0; i < idx.length; i++) out![i] = x![idx[i]!]!;
  },
  show: ({ perm }) => `perm=[${perm.join(",")}]`,
});

interface Block {
  /** The whole tensor's shape. */
  readonly shape: Shape;
  /** The block's first index along each axis, and its shape. */
  readonly starts: readonly number[];
  readonly block: Shape;
}
const blockOffsets = ({ shape, starts, block }: Block): Int32Array => {
  const strides = stridesOf(shape);
  return offsets(block, strides, starts.reduce((s, st, i) => s + st * strides[i]!, 0));
};
const showBlock = ({ starts, block }: Block) => `starts=[${starts.join(",")}] block=[${block.join(",")}]`;

/** The block of x (of `shape`) at `starts` of shape `block`. */
export const slice = defineKernel<Block>({
  name: "slice",
  outputs: (inputs, { block }) => [{ dtype: inputs[0]!.dtype, size: sizeOf(block) }],
  run: ([x], [out], params) => {
    const idx = blockOffsets(params);
    for (let i = 0; i < idx.length; i++) out![i] = x![idx[i]!]!;
  },
  show: showBlock,
});

/** Zeros of `shape` with g written into the block at `starts`: the adjoint of slice. */
export const padBlock = defineKernel<Block>({
  name: "padBlock",
  outputs: (inputs, { shape }) => [{ dtype: inputs[0]!.dtype, size: sizeOf(shape) }],
  run: ([g], [out], params) => {
    out!.fill(0);
    const idx = blockOffsets(params);
    for (let i = 0; i < idx.length; i++) out![idx[i]!] = g![i]!;
  },
  show: showBlock,
});

/** The inputs joined along an axis: `outer` blocks, input j contributing rows[j] values to each. */
export const concat = defineKernel<{ readonly outer: number; readonly rows: readonly number[] }>({
  name: "concat",
  outputs: (inputs) => [{ dtype: inputs[0]!.dtype, size: inputs.reduce((s, x) => s + x.size, 0) }],
  run: (inputs, [out], { outer, rows }) => {
    const rowOut = rows.reduce((s, r) => s + r, 0);
    let col = 0;
    inputs.forEach((x, j) => {
      const row = rows[j]!;
      for (let o = 0; o < outer; o++) out!.set(x.subarray(o * row, (o + 1) * row), o * rowOut + col);
      col += row;
    });
  },
  show: ({ rows }) => `rows=[${rows.join(",")}]`,
});

/** x viewed as [outer, size, inner]: an axis of `size` between the others. */
interface AxisView {
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
}
const showAxis = ({ outer, size, inner }: AxisView) => `[${outer}, ${size}, ${inner}]`;

const checkIndex = (who: string, indices: TypedArray, i: number, size: number): number => {
  const v = indices[i]!;
  if (!(v >= 0 && v < size)) throw new KernelError(`${who}: index ${v} at position ${i} is out of range for an axis of size ${size}`);
  return v;
};

/** Whole slices along the axis by index: out [outer, count, inner] from x [outer, size, inner]. */
export const gatherAxis = defineKernel<AxisView>({
  name: "gatherAxis",
  outputs: (inputs, { outer, inner }) => [{ dtype: inputs[0]!.dtype, size: outer * inputs[1]!.size * inner }],
  run: ([x, indices], [out], { outer, size, inner }) => {
    const count = indices!.length;
    for (let o = 0, at = 0; o < outer; o++) {
      for (let i = 0; i < count; i++, at += inner) {
        const from = (o * size + checkIndex("gather", indices!, i, size)) * inner;
        out!.set(x!.subarray(from, from + inner), at);
      }
    }
  },
  show: showAxis,
});

/** The adjoint of gatherAxis: g [outer, count, inner] summed into zeros [outer, size, inner]. */
export const scatterAxis = defineKernel<AxisView>({
  name: "scatterAxis",
  outputs: (inputs, { outer, size, inner }) => [{ dtype: inputs[0]!.dtype, size: outer * size * inner }],
  run: ([g, indices], [out], { outer, size, inner }) => {
    out!.fill(0);
    const count = indices!.length;
    for (let o = 0, at = 0; o < outer; o++) {
      for (let i = 0; i < count; i++, at += inner) {
        const to = (o * size + checkIndex("gather", indices!, i, size)) * inner;
        for (let r = 0; r < inner; r++) out![to + r] = out![to + r]! + g![at + r]!;
      }
    }
  },
  show: showAxis,
});

/** One entry per position of the other axes: out[o, r] = x[o, indices[o, r], r]. */
export const takeAlong = defineKernel<AxisView>({
  name: "takeAlong",
  outputs: (inputs, { outer, inner }) => [{ dtype: inputs[0]!.dtype, size: outer * inner }],
  run: ([x, indices], [out], { outer, size, inner }) => {
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < inner; r++) {
        const i = o * inner + r;
        out![i] = x![(o * size + checkIndex("takeAlongAxis", indices!, i, size)) * inner + r]!;
      }
    }
  },
  show: showAxis,
});

/** The adjoint of takeAlong: zeros [outer, size, inner] with g[o, r] at [o, indices[o, r], r]. */
export const putAlong = defineKernel<AxisView>({
  name: "putAlong",
  outputs: (inputs, { outer, size, inner }) => [{ dtype: inputs[0]!.dtype, size: outer * size * inner }],
  run: ([g, indices], [out], { outer, size, inner }) => {
    out!.fill(0);
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < inner; r++) {
        const i = o * inner + r;
        out![(o * size + checkIndex("takeAlongAxis", indices!, i, size)) * inner + r] = g![i]!;
      }
    }
  },
  show: showAxis,
});

/** The index of the largest entry along the axis (the first among ties; NaN wins), as int32. */
export const argmax = defineKernel<AxisView>({
  name: "argmax",
  outputs: (_inputs, { outer, inner }) => [{ dtype: "int32", size: outer * inner }],
  run: ([x], [out], { outer, size, inner }) => {
    const d = x!;
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < inner; r++) {
        const base = o * size * inner + r;
        let best = 0;
        let m = d[base]!;
        for (let j = 1; j < size; j++) {
          const v = d[base + j * inner]!;
          if (v > m || (Number.isNaN(v) && !Number.isNaN(m))) { m = v; best = j; }
        }
        out![o * inner + r] = best;
      }
    }
  },
  show: showAxis,
});

/** An unchanged copy (a compiled program's output that is also one of its inputs). */
export const copy = defineKernel({
  name: "copy",
  outputs: likeFirst((x) => x.size),
  run: ([x], [out]) => { out!.set(x!); },
});

// The WebAssembly backend: the float32 kernels that training spends its time in, compiled from
// ./assembly/kernels.ts to WebAssembly SIMD (f32x4), and every other kernel's reference loops.
// It owns one WebAssembly memory. Compiled programs (jit) live there: their values at places
// planned once, their parameters in slots that stay between calls, every kernel called with fixed
// pointers. Eager calls copy their operands into a scratch region of the memory, run, and copy the
// result out: no array outside the memory is ever read by a kernel after the call returns.
//
// The module is loaded from bytes held in a generated TypeScript module, so the same code runs in
// Node, in a browser page and in a Web Worker, with no file to fetch.

import { lowerToLoops, type Backend, type Place } from "../backend.ts";
import { dtypeOf, viewOf, type TypedArray } from "../dtype.ts";
import * as k from "../kernels.ts";
import type { Kernel } from "../kernel.ts";
import { align, linearMemory } from "../memory.ts";
import * as fused from "./fused.ts";
import { kernelsWasm } from "./kernels.wasm.ts";
import { rules } from "./rules.ts";
import { checkedRate } from "../reference/training.ts";

/** What the module exports (pointers are byte offsets into `memory`). */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  matmulNN(a: number, b: number, c: number, list: number, m: number, k: number, n: number): void;
  matmulTN(a: number, b: number, c: number, list: number, m: number, k: number, n: number): void;
  matmulNT(a: number, b: number, c: number, list: number, bt: number, m: number, k: number, n: number): void;
  sgdStep(p: number, g: number, out: number, n: number, lr: number, decay: number): void;
  addBias(c: number, bias: number, m: number, n: number, relu: number): void;
  unitFloats(src: number, dst: number, n: number): void;
  maskColumnSums(g: number, y: number, out: number, sums: number, m: number, n: number, wantSums: number): void;
  columnListsFromBytes(a: number, lists: number, counts: number, m: number, k: number, rowBytes: number): void;
  matmulNNLists(lists: number, counts: number, b: number, c: number, m: number, k: number, n: number): void;
  matmulTNLists(lists: number, counts: number, b: number, c: number, m: number, n: number, rows: number): void;
  matmulTNListsSgd(lists: number, counts: number, b: number, rows: number, p: number, out: number, m: number, n: number, lr: number, decay: number, batch: number): void;
  matmulTNSgd(a: number, b: number, rows: number, list: number, p: number, out: number, m: number, k: number, n: number, lr: number, decay: number): void;
  linearFromBytes(a: number, b: number, bias: number, c: number, list: number, m: number, k: number, n: number, relu: number): void;
  bytesListScratch(k: number): number;
  linear(x: number, w: number, bias: number, c: number, list: number, m: number, k: number, n: number, relu: number): void;
  im2col(x: number, cols: number, ...geometry: ConvArgs): void;
  col2im(cols: number, dx: number, ...geometry: ConvArgs): void;
  positionsToChannels(src: number, dst: number, n: number, p: number, k: number, bias: number, hasBias: number, relu: number): void;
  channelsToPositions(src: number, dst: number, n: number, k: number, p: number): void;
  sumOuterInner(src: number, dst: number, outer: number, mid: number, inner: number): void;
  maxPool(x: number, values: number, positions: number, planes: number, h: number, w: number, kh: number, kw: number, oh: number, ow: number, sh: number, sw: number, pt: number, pl: number): void;
  scatterAdd(g: number, positions: number, out: number, count: number, size: number): void;
  matmulTNAccumulate(a: number, b: number, c: number, list: number, m: number, k: number, n: number): void;
}

/**
 * A sum of `from` down to `to` (a shape it was broadcast from) that keeps one block of axes and sums
 * every axis before and after it: [outer, mid, inner] -> [mid] (a bias's gradient: [N, K, H, W] ->
 * [K, 1, 1]; column sums: [m, n] -> [n]), or null when the kept axes are not one block.
 */
export const middleBlock = (from: readonly number[], to: readonly number[]): { outer: number; mid: number; inner: number } | null => {
  const t = [...new Array<number>(Math.max(0, from.length - to.length)).fill(1), ...to];
  const kept = from.map((d, i) => d > 1 && t[i] === d).map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
  const size = (a: readonly number[]) => a.reduce((p, d) => p * d, 1);
  if (kept.length === 0) return { outer: size(from), mid: 1, inner: 1 };
  const [first, last] = [kept[0]!, kept[kept.length - 1]!];
  for (let i = first; i <= last; i++) if (t[i] !== from[i]) return null;
  return { outer: size(from.slice(0, first)), mid: size(from.slice(first, last + 1)), inner: size(from.slice(last + 1)) };
};

/** A convolution's geometry as the module's functions take it, for `n` images. */
type ConvArgs = [n: number, c: number, h: number, w: number, kh: number, kw: number, oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number];
const convArgs = (p: k.ConvGeometry, n: number): ConvArgs =>
  [n, p.c, p.h, p.w, p.kh, p.kw, p.oh, p.ow, p.strideH, p.strideW, p.padTop, p.padLeft, p.dilationH, p.dilationW];

/**
 * The most bytes of patch matrix (im2col) a convolution lays out at once: images go in groups whose
 * patches stay in the L2 cache while the product reads them.
 */
const PATCH_BYTES = 256 << 10;
/** Images per group, and the bytes of the patches, the output rows and the list of one group. */
const convPlan = (p: k.ConvParams) => {
  const positions = p.oh * p.ow;
  const taps = p.c * p.kh * p.kw;
  const group = Math.max(1, Math.min(p.n, Math.floor(PATCH_BYTES / (4 * positions * taps))));
  const cols = align(4 * group * positions * taps + 16);
  const rows = align(4 * group * positions * p.k + 16);
  return { positions, taps, group, cols, rows, list: listScratch(Math.max(taps, p.k)) };
};

/** The bytes of a base64 string (atob exists in Node >= 16, browsers and workers). */
export const decodeBase64 = (text: string): Uint8Array<ArrayBuffer> => {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
};

const PAGE = 65536;
/** The module keeps no data of its own; regions start past a small reserve at the bottom. */
const BASE = 1024;

/**
 * A fast implementation of a kernel: when it applies, how much scratch memory it needs, and how to
 * run it on pointers. `scalar(place)` reads a one-element input (a learning rate) as a number.
 */
interface Fast<P> {
  readonly applies: (params: P, inputs: readonly Place[]) => boolean;
  readonly scratch: (params: P) => number;
  readonly call: (inputs: readonly number[], outputs: readonly number[], scratch: number, params: P, scalar: (i: number) => number, sizes: readonly number[]) => void;
}

const allF32 = (inputs: readonly Place[]) => inputs.every((p) => p.dtype === "float32");
const listScratch = (k: number) => align((k + 4) * 16);

/** Implementations keyed by kernel. */
const fastKernels = (wasm: KernelExports): Map<Kernel<never>, Fast<never>> => {
  const table = new Map<Kernel<never>, Fast<never>>();
  const add = <P>(kernel: Kernel<P>, fast: Fast<P>) => table.set(kernel as Kernel<never>, fast as unknown as Fast<never>);

  add(k.matmul, {
    applies: (p, inputs) => allF32(inputs) && !(p.transA && p.transB),
    scratch: (p) => listScratch(Math.max(p.k, p.m)) + (p.transB ? align(4 * p.k * p.n) : 0),
    call: ([a, b], [c], s, p) => {
      const { m, k: kk, n } = p;
      for (let i = 0; i < p.batch; i++) {
        const ai = a! + (p.batchA ? 4 * i * m * kk : 0);
        const bi = b! + (p.batchB ? 4 * i * kk * n : 0);
        const ci = c! + 4 * i * m * n;
        if (p.transA) wasm.matmulTN(ai, bi, ci, s, m, kk, n);
        else if (p.transB) wasm.matmulNT(ai, bi, ci, s, s + listScratch(Math.max(p.k, p.m)), m, kk, n);
        else wasm.matmulNN(ai, bi, ci, s, m, kk, n);
      }
    },
  });
  add(k.linear, {
    applies: (_p, inputs) => allF32(inputs),
    scratch: (p) => listScratch(p.k),
    call: ([x, w, b], [out], s, { m, k: kk, n, relu }) => wasm.linear(x!, w!, b!, out!, s, m, kk, n, relu ? 1 : 0),
  });
  add(k.maskPositive, {
    applies: (_p, inputs) => allF32(inputs),
    scratch: () => 0,
    call: ([g, y], [out], _s, _p, _scalar, sizes) => wasm.maskColumnSums(g!, y!, out!, 0, 1, sizes[0]!, 0),
  });
  add(k.sgdUpdate, {
    applies: (_p, inputs) => inputs[0]!.dtype === "float32" && inputs[1]!.dtype === "float32",
    scratch: () => 0,
    call: ([p, g], [out], _s, { decay }, scalar, sizes) => wasm.sgdStep(p!, g!, out!, sizes[0]!, checkedRate("sgdUpdate", scalar(2)), decay),
  });
  add(fused.unitFloats, {
    applies: () => true,
    scratch: () => 0,
    call: ([src], [dst], _s, _p, _scalar, sizes) => wasm.unitFloats(src!, dst!, sizes[0]!),
  });
  add(fused.columnListsFromBytes, {
    applies: () => true,
    scratch: () => 0,
    // The entries hold offsets of rows n floats long: the readers' (see rules.ts).
    call: ([a], [lists], _s, { m, k: kk, n }) => wasm.columnListsFromBytes(a!, lists!, lists! + 8 * m * kk, m, kk, 4 * n),
  });
  add(fused.linearFromLists, {
    applies: () => true,
    scratch: () => 0,
    call: ([lists, w, b], [out], _s, { m, k: kk, n, relu }) => {
      wasm.matmulNNLists(lists!, lists! + 8 * m * kk, w!, out!, m, kk, n);
      wasm.addBias(out!, b!, m, n, relu ? 1 : 0);
    },
  });
  add(fused.matmulTNFromLists, {
    applies: () => true,
    scratch: () => 0,
    call: ([lists, g], [out], _s, { m, k: kk, n }) => wasm.matmulTNLists(lists!, lists! + 8 * m * kk, g!, out!, kk, n, m),
  });
  add(fused.matmulTNListsSgd, {
    applies: () => true,
    scratch: (p) => align(8 * p.n),
    call: ([lists, g, p], [out], s, { m, k: kk, n, decay }, scalar) => wasm.matmulTNListsSgd(lists!, lists! + 8 * m * kk, g!, s, p!, out!, kk, n, checkedRate("sgdUpdate", scalar(3)), decay, m),
  });
  add(fused.matmulTNSgd, {
    applies: () => true,
    scratch: (p) => align(8 * p.n) + listScratch(p.k),
    call: ([a, g, p], [out], s, { m, k: kk, n, decay }, scalar) => wasm.matmulTNSgd(a!, g!, s, s + align(8 * n), p!, out!, m, kk, n, checkedRate("sgdUpdate", scalar(3)), decay),
  });
  add(fused.linearFromBytes, {
    applies: () => true,
    scratch: (p) => Math.max(listScratch(p.k), align(wasm.bytesListScratch(p.k))),
    call: ([x, w, b], [out], s, { m, k: kk, n, relu }) => wasm.linearFromBytes(x!, w!, b!, out!, s, m, kk, n, relu ? 1 : 0),
  });
  add(fused.maskColumnSums, {
    applies: () => true,
    scratch: () => 0,
    call: ([g, y], [out, sums], _s, { m, n }) => wasm.maskColumnSums(g!, y!, out!, sums!, m, n, 1),
  });
  // Convolutions: im2col and the products, images in groups whose patches fit PATCH_BYTES.
  add(k.conv2d, {
    applies: (_p, inputs) => allF32(inputs),
    scratch: (p) => { const q = convPlan(p); return q.cols + q.rows + align(4 * q.taps * p.k + 16) + q.list; },
    call: ([x, w, b], [y], s, p) => {
      const { positions, taps, group, cols, rows } = convPlan(p);
      const wt = s + cols + rows, list = wt + align(4 * taps * p.k + 16);
      wasm.channelsToPositions(w!, wt, 1, p.k, taps); // the filters as columns [taps, k]
      for (let b0 = 0; b0 < p.n; b0 += group) {
        const n = Math.min(group, p.n - b0);
        wasm.im2col(x! + 4 * b0 * p.c * p.h * p.w, s, ...convArgs(p, n));
        wasm.matmulNN(s, wt, s + cols, list, n * positions, taps, p.k);
        wasm.positionsToChannels(s + cols, y! + 4 * b0 * p.k * positions, n, positions, p.k, b ?? 0, p.bias ? 1 : 0, p.relu ? 1 : 0);
      }
    },
  });
  add(k.conv2dTranspose, {
    applies: (_p, inputs) => allF32(inputs),
    scratch: (p) => { const q = convPlan(p); return q.cols + q.rows + q.list; },
    call: ([g, w], [dx], s, p) => {
      const { positions, taps, group, cols, rows } = convPlan(p);
      for (let b0 = 0; b0 < p.n; b0 += group) {
        const n = Math.min(group, p.n - b0);
        wasm.channelsToPositions(g! + 4 * b0 * p.k * positions, s + cols, n, p.k, positions);
        wasm.matmulNN(s + cols, w!, s, s + cols + rows, n * positions, p.k, taps);
        wasm.col2im(s, dx! + 4 * b0 * p.c * p.h * p.w, ...convArgs(p, n));
      }
    },
  });
  add(k.conv2dWeightGrad, {
    // G^T . patches summed over the whole batch, a group of images at a time (the sums go on from
    // the last group's: matmulTNAccumulate).
    applies: (_p, inputs) => allF32(inputs),
    scratch: (p) => { const q = convPlan(p); return q.cols + q.rows + listScratch(Math.max(p.k, q.group * q.positions) + 2); },
    call: ([x, g], [dw], s, p) => {
      const { positions, taps, group, cols, rows } = convPlan(p);
      for (let b0 = 0; b0 < p.n; b0 += group) {
        const n = Math.min(group, p.n - b0);
        wasm.im2col(x! + 4 * b0 * p.c * p.h * p.w, s, ...convArgs(p, n));
        wasm.channelsToPositions(g! + 4 * b0 * p.k * positions, s + cols, n, p.k, positions);
        (b0 === 0 ? wasm.matmulTN : wasm.matmulTNAccumulate)(s + cols, s, dw!, s + cols + rows, p.k, n * positions, taps);
      }
    },
  });
  add(k.sumToShape, {
    applies: (p, inputs) => allF32(inputs) && middleBlock(p.from, p.to) !== null,
    scratch: () => 0,
    call: ([x], [out], _s, p) => {
      const { outer, mid, inner } = middleBlock(p.from, p.to)!;
      wasm.sumOuterInner(x!, out!, outer, mid, inner);
    },
  });
  add(k.maxPool2d, {
    applies: (_p, inputs) => allF32(inputs),
    scratch: () => 0,
    call: ([x], [values, positions], _s, p) =>
      wasm.maxPool(x!, values!, positions!, p.n * p.c, p.h, p.w, p.kh, p.kw, p.oh, p.ow, p.strideH, p.strideW, p.padTop, p.padLeft),
  });
  add(k.scatterFlat, {
    applies: (_p, inputs) => inputs[0]!.dtype === "float32" && inputs[1]!.dtype === "int32",
    scratch: () => 0,
    call: ([g, positions], [out], _s, { size }, _scalar, sizes) => wasm.scatterAdd(g!, positions!, out!, sizes[1]!, size),
  });
  return table;
};

/** The backend on an instantiated module. */
export const bindBackend = (wasm: KernelExports): Backend => {
  const memory = linearMemory(BASE, () => wasm.memory.buffer, (bytes) => {
    const have = wasm.memory.buffer.byteLength;
    if (bytes > have) wasm.memory.grow(Math.ceil((bytes - have) / PAGE));
  });
  const fast = fastKernels(wasm);

  // Eager calls borrow one scratch region, grown when a call needs more.
  let scratch = -1;
  let scratchBytes = 0;
  const borrow = (bytes: number): number => {
    if (bytes > scratchBytes) {
      if (scratch >= 0) memory.free(scratch);
      scratchBytes = Math.max(bytes, 2 * scratchBytes, 1 << 20);
      scratch = memory.alloc(scratchBytes);
    }
    return scratch;
  };

  const implOf = <P>(kernel: Kernel<P>, params: P, inputs: readonly Place[]): Fast<P> | null => {
    const impl = fast.get(kernel as Kernel<never>) as Fast<P> | undefined;
    return impl !== undefined && impl.applies(params, inputs) ? impl : null;
  };

  return {
    name: "wasm",
    memory,
    rules,
    run: (kernel, inputs, outputs, params) => {
      const impl = implOf(kernel, params, inputs.map((a) => ({ offset: 0, dtype: dtypeOf(a)!, size: a.length })));
      if (impl === null) {
        kernel.run(inputs, outputs, params);
        return;
      }
      // Lay the operands out in the scratch region (16 bytes of room after each: some kernels read
      // a little past a row), run, copy the results out.
      const sizes = [...inputs, ...outputs].map((a) => align(a.byteLength + 16));
      const need = sizes.reduce((s, b) => s + b, 0) + align(impl.scratch(params as never));
      const base = borrow(need);
      const heap = memory.buffer;
      let at = base;
      const place = (a: TypedArray) => {
        const p = at;
        at += align(a.byteLength + 16);
        return p;
      };
      const ins = inputs.map((a) => {
        const p = place(a);
        viewOf(dtypeOf(a)!, heap, p, a.length).set(a as never);
        return p;
      });
      const outs = outputs.map(place);
      impl.call(ins, outs, at, params, (i) => inputs[i]![0]!, inputs.map((a) => a.length));
      const after = memory.buffer;
      outputs.forEach((a, i) => a.set(viewOf(dtypeOf(a)!, after, outs[i]!, a.length) as never));
    },
    lower: (kernel, params, inputs, outputs) => {
      const impl = implOf(kernel, params, inputs);
      if (impl === null) return lowerToLoops(memory, kernel, params, inputs, outputs);
      return {
        scratchBytes: impl.scratch(params),
        make: (s) => {
          const buffer = memory.buffer;
          const scalars = inputs.map((p) => (p.size === 1 ? viewOf(p.dtype, buffer, p.offset, 1) : null));
          const scalar = (i: number) => scalars[i]![0]!;
          const ins = inputs.map((p) => p.offset);
          const outs = outputs.map((p) => p.offset);
          const sizes = inputs.map((p) => p.size);
          return () => impl.call(ins, outs, s, params, scalar, sizes);
        },
      };
    },
  };
};

/** Instantiate the module, or null where WebAssembly (with SIMD) is unavailable. */
export const wasmBackend = (bytes: Uint8Array<ArrayBuffer> = decodeBase64(kernelsWasm)): Backend | null => {
  if (typeof WebAssembly !== "object") return null;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return bindBackend(instance.exports as unknown as KernelExports);
  } catch {
    return null; // a CompileError: this engine lacks SIMD (the only feature the module needs)
  }
};

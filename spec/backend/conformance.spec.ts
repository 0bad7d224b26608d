// Every kernel the WebAssembly backend runs its own way computes the bits of the reference loops:
// eagerly (operands copied into its memory and out) and inside a compiled program (operands at
// planned places), for random shapes around the kernels' edges and values with many exact zeros
// (the entries the products skip).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arrayOf, compile, getBackend, type Backend, type Kernel, type Program, type TypedArray } from "../../src/backend/index.ts";
import * as k from "../../src/backend/kernels.ts";
import * as fused from "../../src/backend/wasm/fused.ts";
import { broadcastablePair, convCases, poolCases, type ConvCase } from "../../src/testing/index.ts";

const reference = getBackend("reference")!;
const wasm = getBackend("wasm")!;

interface Case {
  readonly kernel: Kernel<unknown>;
  readonly params: unknown;
  readonly inputs: readonly TypedArray[];
}

/** Run a kernel eagerly on a backend. */
const eager = (backend: Backend, { kernel, params, inputs }: Case): TypedArray[] => {
  const outputs = kernel.outputs(inputs.map((a) => ({ dtype: dtypeOf(a), size: a.length })), params).map((s) => arrayOf(s.dtype, s.size));
  backend.run(kernel, inputs, outputs, params);
  return outputs;
};

/** Run a kernel as a one-instruction compiled program on a backend. */
const compiled = (backend: Backend, { kernel, params, inputs }: Case): TypedArray[] => {
  const specs = kernel.outputs(inputs.map((a) => ({ dtype: dtypeOf(a), size: a.length })), params);
  const values = [...inputs.map((a) => ({ dtype: dtypeOf(a), size: a.length, shape: [a.length] })), ...specs.map((s) => ({ ...s, shape: [s.size] }))];
  const ins = inputs.map((_, i) => i);
  const outs = specs.map((_, i) => inputs.length + i);
  const program: Program = { name: "spec", values, inputs: ins, inputNames: ins.map(String), constants: new Map(), instrs: [{ kernel, params, inputs: ins, outputs: outs, op: kernel.name }], outputs: outs, outputNames: outs.map(String) };
  const exe = compile(program, { ...backend, rules: [] }, ins.map(() => false));
  const { Storage } = storageModule;
  return exe.call(inputs.map((a) => Storage.own(a.slice(), dtypeOf(a), "spec"))).map((s) => s.read());
};

import * as storageModule from "../../src/backend/storage.ts";
import { dtypeOf as dtypeOfArray } from "../../src/backend/dtype.ts";
const dtypeOf = (a: TypedArray) => dtypeOfArray(a)!;

const bits = (arrays: readonly TypedArray[]) => arrays.map((a) => Array.from(a, (x) => (Object.is(x, -0) ? "-0" : x)));

const expectSameBits = (c: Case) => {
  const want = eager(reference, c);
  expect(bits(eager(wasm, c))).toEqual(bits(want));
  expect(bits(compiled(wasm, c))).toEqual(bits(want));
};

// Sizes around the kernels' edges: single dimensions, odd row counts (rows go in pairs), column
// counts on either side of the 4-wide vectors and 16-wide register blocks.
const dim = fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33);
/** Batch sizes: one row, a pair, and whole and partial blocks of the kernels that go 32 rows at a time. */
const rows = fc.constantFrom(1, 2, 3, 31, 32, 33, 64, 70);
const evenDim = fc.constantFrom(2, 4, 6, 16, 34);

/** float32 values with many exact zeros (and -0) at a per-case rate. */
const floats = (size: number, zeroRate: number) =>
  fc.array(
    fc.oneof(
      { weight: Math.round(zeroRate * 10), arbitrary: fc.constantFrom(0, 0, -0) },
      { weight: Math.round((1 - zeroRate) * 10) + 1, arbitrary: fc.double({ min: -8, max: 8, noNaN: true }) },
    ),
    { minLength: size, maxLength: size },
  ).map((xs) => Float32Array.from(xs));
const zeroRate = fc.constantFrom(0, 0.5, 0.8);
const bytes = (size: number) => fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })), { minLength: size, maxLength: size }).map((xs) => Uint8Array.from(xs));
const rate = fc.double({ min: 0.001, max: 1, noNaN: true }).map((x) => Float64Array.of(x));

const matmulCase = fc.record({ batch: fc.constantFrom(1, 2), m: dim, k: dim, n: dim, transA: fc.boolean(), transB: fc.boolean(), batchA: fc.boolean(), batchB: fc.boolean(), z: zeroRate })
  .filter((p) => !(p.transA && p.transB))
  .chain((p) => {
    const batchA = p.batch === 1 || p.batchA, batchB = p.batch === 1 || p.batchB || !batchA;
    const params = { batch: p.batch, m: p.m, k: p.k, n: p.n, transA: p.transA, transB: p.transB, batchA, batchB };
    return fc.tuple(floats((batchA ? p.batch : 1) * p.m * p.k, p.z), floats((batchB ? p.batch : 1) * p.k * p.n, 0.2))
      .map(([a, b]): Case => ({ kernel: k.matmul as Kernel<unknown>, params, inputs: [a, b] }));
  });

describe("the WebAssembly backend's kernels give the reference loops' bits, eagerly and in compiled programs", () => {
  it("matmul: A.B, A^T.B and A.B^T, single and stacked, skipping A's zeros", () => {
    fc.assert(fc.property(matmulCase, expectSameBits));
  });

  it("linear: x.W + b, with and without the relu", () => {
    fc.assert(fc.property(fc.record({ m: rows, k: dim, n: dim, relu: fc.boolean(), z: zeroRate }).chain(({ m, k: kk, n, relu, z }) =>
      fc.tuple(floats(m * kk, z), floats(kk * n, 0.1), floats(n, 0.1)).map(([x, w, b]): Case => ({ kernel: k.linear as Kernel<unknown>, params: { m, k: kk, n, relu }, inputs: [x, w, b] }))), expectSameBits));
  });

  it("maskPositive: g where y > 0 (the relu's vjp)", () => {
    fc.assert(fc.property(dim.chain((n) => fc.tuple(floats(n * 3, 0.3), floats(n * 3, 0.5))).map(([g, y]): Case => ({ kernel: k.maskPositive as Kernel<unknown>, params: undefined, inputs: [g, y] })), expectSameBits));
  });

  it("sgdUpdate: p - lr (g + decay p), every operation rounded to float32", () => {
    fc.assert(fc.property(fc.tuple(dim, fc.constantFrom(0, 0.01, 0.5)).chain(([n, decay]) => fc.tuple(floats(n * 5, 0.1), floats(n * 5, 0.3), rate).map(([p, g, lr]): Case => ({ kernel: k.sgdUpdate as Kernel<unknown>, params: { decay }, inputs: [p, g, lr] }))), expectSameBits));
  });
});

/** A convolution's kernel params for a generated case. */
const convParams = (g: ConvCase) => {
  const [n, c, h, w] = g.x;
  const [kk, , kh, kw] = g.weight;
  const size = (d: number, kernel: number, s: number, p: number, dil: number) => Math.floor((d + 2 * p - dil * (kernel - 1) - 1) / s) + 1;
  return {
    n, c, h, w, k: kk, kh, kw, oh: size(h, kh, g.stride[0], g.padding[0], g.dilation[0]), ow: size(w, kw, g.stride[1], g.padding[1], g.dilation[1]),
    strideH: g.stride[0], strideW: g.stride[1], padTop: g.padding[0], padLeft: g.padding[1], dilationH: g.dilation[0], dilationW: g.dilation[1],
  };
};
const convCase = convCases({ maxBatch: 3, maxChannels: 3, maxFilters: 17, maxKernel: 5, maxStride: 3, maxPadding: 2, maxExtra: 6 });

describe("the WebAssembly backend's convolutions give the reference loops' bits, eagerly and in compiled programs", () => {
  it("conv2d, with and without a bias and relu, skipping the input's zeros", () => {
    fc.assert(fc.property(convCase.chain((g) => {
      const p = convParams(g);
      return fc.tuple(fc.constant(p), fc.boolean(), fc.boolean(), floats(p.n * p.c * p.h * p.w, 0.6), floats(p.k * p.c * p.kh * p.kw, 0.1), floats(p.k, 0.2));
    }).map(([p, bias, relu, x, w, b]): Case => ({ kernel: k.conv2d as Kernel<unknown>, params: { ...p, bias, relu }, inputs: bias ? [x, w, b] : [x, w] })), expectSameBits));
  });

  it("conv2dTranspose (the input's gradient), skipping the output gradient's zeros", () => {
    fc.assert(fc.property(convCase.chain((g) => {
      const p = convParams(g);
      return fc.tuple(fc.constant(p), floats(p.n * p.k * p.oh * p.ow, 0.7), floats(p.k * p.c * p.kh * p.kw, 0.1));
    }).map(([p, g, w]): Case => ({ kernel: k.conv2dTranspose as Kernel<unknown>, params: p, inputs: [g, w] })), expectSameBits));
  });

  it("conv2dWeightGrad (the filters' gradient), summed over every image and position in order", () => {
    fc.assert(fc.property(convCase.chain((g) => {
      const p = convParams(g);
      return fc.tuple(fc.constant(p), floats(p.n * p.c * p.h * p.w, 0.6), floats(p.n * p.k * p.oh * p.ow, 0.7));
    }).map(([p, x, g]): Case => ({ kernel: k.conv2dWeightGrad as Kernel<unknown>, params: p, inputs: [x, g] })), expectSameBits));
  });

  it("conv2d, conv2dTranspose and conv2dWeightGrad on a batch of many groups of patches (160 MNIST-sized images)", () => {
    const p = { n: 160, c: 1, h: 28, w: 28, k: 3, kh: 5, kw: 5, oh: 24, ow: 24, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1 };
    const x = Float32Array.from({ length: p.n * 28 * 28 }, (_, i) => ((i * 7919) % 13 < 9 ? 0 : ((i * 104729) % 255) / 255));
    const w = Float32Array.from({ length: 3 * 25 }, (_, i) => Math.sin(i));
    const g = Float32Array.from({ length: p.n * 3 * 24 * 24 }, (_, i) => ((i * 31) % 4 === 0 ? Math.cos(i) : 0));
    expectSameBits({ kernel: k.conv2d as Kernel<unknown>, params: { ...p, bias: false, relu: true }, inputs: [x, w] });
    expectSameBits({ kernel: k.conv2dTranspose as Kernel<unknown>, params: p, inputs: [g, w] });
    expectSameBits({ kernel: k.conv2dWeightGrad as Kernel<unknown>, params: p, inputs: [x, g] }); // summed group after group
  });
});

describe("the WebAssembly backend's reductions and pooling give the reference loops' bits", () => {
  it("sumToShape: sums over the axes around a kept block (a bias's gradient, column sums), and every other reduction", () => {
    fc.assert(fc.property(broadcastablePair({ maxRank: 4, maxDim: 6 }).chain(({ a, shape }) => floats(shape.reduce((p, d) => p * d, 1), 0.3).map((x): Case => ({ kernel: k.sumToShape as Kernel<unknown>, params: { from: shape, to: a }, inputs: [x] }))), expectSameBits));
    expectSameBits({ kernel: k.sumToShape as Kernel<unknown>, params: { from: [5, 7, 9, 11], to: [7, 1, 1] }, inputs: [Float32Array.from({ length: 5 * 7 * 9 * 11 }, (_, i) => Math.sin(i) * 100)] });
  });

  it("maxPool2d: each window's maximum and its position, ties to the first (many ties: zeros)", () => {
    fc.assert(fc.property(poolCases({ maxBatch: 2, maxChannels: 3, maxKernel: 4, maxStride: 3, maxExtra: 9 }).chain((g) => {
      const [n, c, h, w] = g.x;
      const size = (d: number, kernel: number, s: number, p: number) => Math.floor((d + 2 * p - kernel) / s) + 1;
      const params = { n, c, h, w, kh: g.kernel[0], kw: g.kernel[1], oh: size(h, g.kernel[0], g.stride[0], g.padding[0]), ow: size(w, g.kernel[1], g.stride[1], g.padding[1]), strideH: g.stride[0], strideW: g.stride[1], padTop: g.padding[0], padLeft: g.padding[1], dilationH: 1, dilationW: 1 };
      return floats(n * c * h * w, 0.5).map((x): Case => ({ kernel: k.maxPool2d as Kernel<unknown>, params, inputs: [x] }));
    }), expectSameBits));
  });

  it("scatterFlat: values added at their positions, repeats summed in order", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }).chain((size) => fc.integer({ min: 0, max: 60 }).chain((count) =>
      fc.tuple(floats(count, 0.2), fc.array(fc.integer({ min: 0, max: size - 1 }), { minLength: count, maxLength: count })).map(([g, at]): Case => ({ kernel: k.scatterFlat as Kernel<unknown>, params: { size }, inputs: [g, Int32Array.from(at)] })))), expectSameBits));
  });
});

describe("the fused kernels of compiled programs compute the bits of the kernels they replace", () => {
  const chain = (backend: Backend, steps: (run: (kernel: Kernel<unknown>, params: unknown, inputs: TypedArray[]) => TypedArray[]) => TypedArray[]) =>
    steps((kernel, params, inputs) => eager(backend, { kernel, params, inputs }));

  it("unitFloats(pixels) is cast then divide by 255", () => {
    fc.assert(fc.property(dim.chain((n) => bytes(n * 7)), (pixels) => {
      const want = chain(reference, (run) => run(k.binary as Kernel<unknown>, { op: "div" }, [run(k.cast as Kernel<unknown>, { dtype: "float32" }, [pixels])[0]!, Float32Array.of(255)]));
      expect(bits(eager(wasm, { kernel: fused.unitFloats as Kernel<unknown>, params: undefined, inputs: [pixels] }))).toEqual(bits(want));
    }));
  });

  it("linearFromBytes is linear of x = pixels / 255, one row or many", () => {
    fc.assert(fc.property(fc.record({ m: rows, k: dim, n: dim, relu: fc.boolean() }).chain(({ m, k: kk, n, relu }) =>
      fc.record({ m: fc.constant(m), k: fc.constant(kk * 9), n: fc.constant(n), relu: fc.constant(relu), pixels: bytes(m * kk * 9), w: floats(kk * 9 * n, 0.1), b: floats(n, 0) })),
    ({ m, k: kk, n, relu, pixels, w, b }) => {
      const x = Float32Array.from(pixels, (v) => v / 255);
      const want = eager(reference, { kernel: k.linear as Kernel<unknown>, params: { m, k: kk, n, relu }, inputs: [x, w, b] });
      for (const backend of [reference, wasm]) {
        expect(bits(eager(backend, { kernel: fused.linearFromBytes as Kernel<unknown>, params: { m, k: kk, n, relu }, inputs: [pixels, w, b] }))).toEqual(bits(want));
      }
    }));
  });

  it("linear and x^T.G from the lists of the pixels are linear and matmul of x = pixels / 255", () => {
    fc.assert(fc.property(fc.record({ m: dim, k: evenDim, n: dim, relu: fc.boolean() }).chain(({ m, k: kk, n, relu }) =>
      fc.record({ m: fc.constant(m), k: fc.constant(kk), n: fc.constant(n), relu: fc.constant(relu), pixels: bytes(m * kk), w: floats(kk * n, 0.1), b: floats(n, 0), g: floats(m * n, 0.5), p: floats(kk * n, 0), lr: rate })),
    ({ m, k: kk, n, relu, pixels, w, b, g, p, lr }) => {
      const x = Float32Array.from(pixels, (v) => v / 255);
      const forward = eager(reference, { kernel: k.linear as Kernel<unknown>, params: { m, k: kk, n, relu }, inputs: [x, w, b] });
      const dw = eager(reference, { kernel: k.matmul as Kernel<unknown>, params: { batch: 1, m: kk, k: m, n, transA: true, transB: false, batchA: true, batchB: true }, inputs: [x, g] });
      const stepped = eager(reference, { kernel: k.sgdUpdate as Kernel<unknown>, params: { decay: 0 }, inputs: [p, dw[0]!, lr] });
      for (const backend of [reference, wasm]) {
        const [lists] = eager(backend, { kernel: fused.columnListsFromBytes as Kernel<unknown>, params: { m, k: kk, n }, inputs: [pixels] });
        expect(bits(eager(backend, { kernel: fused.linearFromLists as Kernel<unknown>, params: { m, k: kk, n, relu }, inputs: [lists!, w, b] }))).toEqual(bits(forward));
        expect(bits(eager(backend, { kernel: fused.matmulTNFromLists as Kernel<unknown>, params: { m, k: kk, n }, inputs: [lists!, g] }))).toEqual(bits(dw));
        expect(bits(eager(backend, { kernel: fused.matmulTNListsSgd as Kernel<unknown>, params: { m, k: kk, n, decay: 0 }, inputs: [lists!, g, p, lr] }))).toEqual(bits(stepped));
      }
    }));
  });

  it("matmulTNSgd is sgdUpdate(P, A^T.G), and maskColumnSums is maskPositive then the column sums", () => {
    fc.assert(fc.property(fc.record({ m: dim, k: dim, n: dim }).chain(({ m, k: kk, n }) =>
      fc.record({ m: fc.constant(m), k: fc.constant(kk), n: fc.constant(n), a: floats(kk * m, 0.5), g: floats(kk * n, 0.3), p: floats(m * n, 0), lr: rate, y: floats(kk * n, 0.5) })),
    ({ m, k: kk, n, a, g, p, lr, y }) => {
      const dw = eager(reference, { kernel: k.matmul as Kernel<unknown>, params: { batch: 1, m, k: kk, n, transA: true, transB: false, batchA: true, batchB: true }, inputs: [a, g] });
      const stepped = eager(reference, { kernel: k.sgdUpdate as Kernel<unknown>, params: { decay: 0.01 }, inputs: [p, dw[0]!, lr] });
      const masked = eager(reference, { kernel: k.maskPositive as Kernel<unknown>, params: undefined, inputs: [g, y] });
      const sums = eager(reference, { kernel: k.sumToShape as Kernel<unknown>, params: { from: [kk, n], to: [1, n] }, inputs: [masked[0]!] });
      for (const backend of [reference, wasm]) {
        expect(bits(eager(backend, { kernel: fused.matmulTNSgd as Kernel<unknown>, params: { m, k: kk, n, decay: 0.01 }, inputs: [a, g, p, lr] }))).toEqual(bits(stepped));
        expect(bits(eager(backend, { kernel: fused.maskColumnSums as Kernel<unknown>, params: { m: kk, n }, inputs: [g, y] }))).toEqual(bits([...masked, ...sums]));
      }
    }));
  });
});

// Convolution and pooling: the facts that define them, for every stride, padding and dilation. The
// op table (op-table.ts) gradchecks them, checks jit against eager and differentiates them twice.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  add, avgPool2d, conv2d, conv2dTranspose, grad, matmul, maxPool2d, mul, pad, relu, reshape, ShapeError, sizeOf, sum, tensor, transpose, vjp, zeros,
  type Tensor,
} from "../../src/autograd/index.ts";
import { im2col } from "../../src/backend/reference/conv.ts";
import { convCases, poolCases, tensorOfShape, type ConvCase } from "../../src/testing/index.ts";

const dot = (a: Tensor, b: Tensor): number => sum(mul(a, b)).item();
const bits = (t: Tensor) => Array.from(t.data, (v) => (Object.is(v, -0) ? "-0" : v));
const options = ({ stride, padding, dilation }: ConvCase) => ({ stride, padding, dilation });

/** PyTorch's output size, written out independently of the ops. */
const torchSize = (size: number, kernel: number, stride: number, padding: number, dilation: number) =>
  Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;

/** float32 values with exact zeros at a per-case rate (the entries the kernels skip). */
const images = (shape: readonly number[], zeroRate: number) =>
  fc
    .array(fc.oneof({ weight: Math.round(10 * zeroRate), arbitrary: fc.constant(0) }, { weight: 10, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }) }), {
      minLength: sizeOf(shape), maxLength: sizeOf(shape),
    })
    .map((xs) => tensor(xs.map((v) => v + 0), shape, "float32"));

describe("conv2d", () => {
  it("has PyTorch's output shape for every stride, padding and dilation", () => {
    fc.assert(fc.property(convCases({ maxStride: 3, maxPadding: 2, maxDilation: 3 }), (g) => {
      const y = conv2d(zeros(g.x), zeros(g.weight), options(g));
      expect(y.shape).toEqual([g.x[0], g.weight[0], torchSize(g.x[2], g.weight[2], g.stride[0], g.padding[0], g.dilation[0]), torchSize(g.x[3], g.weight[3], g.stride[1], g.padding[1], g.dilation[1])]);
    }));
  });

  it("equals im2col followed by a matrix product, bit for bit, in float32", () => {
    fc.assert(fc.property(convCases({ maxChannels: 3, maxFilters: 5 }).chain((g) => fc.tuple(fc.constant(g), images(g.x, 0.5), images(g.weight, 0.1))), ([g, x, w]) => {
      const y = conv2d(x, w, options(g));
      const [n, k, oh, ow] = y.shape as [number, number, number, number];
      const taps = g.weight[1] * g.weight[2] * g.weight[3];
      const cols = new Float32Array(n * oh * ow * taps);
      im2col(x.data, { n, c: g.x[1], h: g.x[2], w: g.x[3], kh: g.weight[2], kw: g.weight[3], oh, ow, strideH: g.stride[0], strideW: g.stride[1], padTop: g.padding[0], padLeft: g.padding[1], dilationH: g.dilation[0], dilationW: g.dilation[1] }, cols);
      // [n * positions, taps] . [k, taps]^T = [n * positions, k], then channels first.
      const product = matmul(tensor(cols, [n * oh * ow, taps]), reshape(w, [k, taps]), { transposeB: true });
      expect(bits(y)).toEqual(bits(reshape(transpose(reshape(product, [n, oh * ow, k]), [0, 2, 1]), [n, k, oh, ow])));
    }));
  });

  it("is linear in x and in w", () => {
    fc.assert(fc.property(convCases().chain((g) => fc.tuple(fc.constant(g), tensorOfShape(g.x), tensorOfShape(g.x), tensorOfShape(g.weight), tensorOfShape(g.weight))), ([g, x1, x2, w1, w2]) => {
      const o = options(g);
      const close = (a: Tensor, b: Tensor) => a.data.forEach((v, i) => expect(Math.abs(v - b.data[i]!)).toBeLessThan(1e-12 * (1 + Math.abs(v)) * 64));
      close(conv2d(add(mul(x1, 2.5), mul(x2, -0.75)), w1, o), add(mul(conv2d(x1, w1, o), 2.5), mul(conv2d(x2, w1, o), -0.75)));
      close(conv2d(x1, add(mul(w1, 2.5), mul(w2, -0.75)), o), add(mul(conv2d(x1, w1, o), 2.5), mul(conv2d(x1, w2, o), -0.75)));
    }));
  });

  it("with a one-hot 3x3 kernel shifts the image (zeros come in at the edge)", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), tensorOfShape([1, 1, 5, 6]), (i0, j0, x) => {
      const w = zeros([1, 1, 3, 3]).data;
      w[i0 * 3 + j0] = 1;
      const y = conv2d(x, tensor(w, [1, 1, 3, 3], "float64"), { padding: 1 });
      for (let r = 0; r < 5; r++) {
        for (let c = 0; c < 6; c++) {
          const [sr, sc] = [r - 1 + i0, c - 1 + j0];
          expect(y.data[r * 6 + c]).toBe(sr >= 0 && sr < 5 && sc >= 0 && sc < 6 ? x.data[sr * 6 + sc] : 0);
        }
      }
    }));
  });

  it("has the transposed convolution as its vjp in x: <conv(x, w), y> = <x, conv2dTranspose(y, w)>", () => {
    fc.assert(fc.property(convCases({ maxStride: 3, maxPadding: 0, maxDilation: 3 }).chain((g) => fc.tuple(fc.constant(g), tensorOfShape(g.x), tensorOfShape(g.weight))), ([g, x, w]) => {
      const { stride, dilation } = g;
      const y0 = conv2d(x, w, { stride, dilation });
      const y = tensor(Array.from(y0.data, (_, i) => Math.sin(i + 1)), y0.shape, "float64");
      // outputPadding recovers the sizes a strided convolution maps to the same output.
      const outputPadding: [number, number] = [(g.x[2] - dilation[0] * (g.weight[2] - 1) - 1) % stride[0], (g.x[3] - dilation[1] * (g.weight[3] - 1) - 1) % stride[1]];
      const back = conv2dTranspose(y, w, { stride, dilation, outputPadding });
      expect(back.shape).toEqual(x.shape);
      expect(Math.abs(dot(y0, y) - dot(x, back))).toBeLessThan(1e-10 * (1 + Math.abs(dot(y0, y))));
      // ...and it is exactly the gradient conv2d passes back to x.
      expect(bits(vjp((a: Tensor) => conv2d(a, w, { stride, dilation }), x).backward(y)[0]!)).toEqual(bits(back));
    }));
  });

  it("with a bias and relu fused gives exactly relu(conv2d(x, w) + b), value and gradients", () => {
    fc.assert(fc.property(convCases().chain((g) => fc.tuple(fc.constant(g), images(g.x, 0.3), images(g.weight, 0), images([g.weight[0]], 0))), ([g, x, w, b]) => {
      const o = options(g);
      const want = vjp((u: Tensor, v: Tensor, c: Tensor) => relu(add(conv2d(u, v, o), reshape(c, [c.size, 1, 1]))), x, w, b);
      const got = vjp((u: Tensor, v: Tensor, c: Tensor) => conv2d(u, v, { ...o, bias: c, activation: "relu" }), x, w, b);
      expect(bits(got.out)).toEqual(bits(want.out));
      const cotangent = tensor(Array.from(got.out.data, (_, i) => Math.cos(i)), got.out.shape, "float32");
      const [gw, gg] = [want.backward(cotangent), got.backward(cotangent)];
      // The gradients of x and w are the same kernels' bits; the bias's sums the same values in another order.
      expect(bits(gg[0]!)).toEqual(bits(gw[0]!));
      expect(bits(gg[1]!)).toEqual(bits(gw[1]!));
      gg[2]!.data.forEach((v, i) => expect(v).toBeCloseTo(gw[2]!.data[i]!, 3));
    }));
  });

  it("refuses what it cannot compute, naming the shapes", () => {
    expect(() => conv2d(zeros([1, 2, 5, 5]), zeros([3, 1, 3, 3]))).toThrow(/conv2d: x \[1, 2, 5, 5\] has 2 channels but weight \[3, 1, 3, 3\] expects 1/);
    expect(() => conv2d(zeros([1, 1, 2, 5]), zeros([1, 1, 3, 3]))).toThrow(/the window spans 3 rows .* the input has 2 rows/);
    expect(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), { padding: "same", stride: 2 })).toThrow(/"same" needs stride 1/);
    expect(() => conv2d(zeros([5, 5]), zeros([1, 1, 3, 3]))).toThrow(/\[N, C, H, W\]/);
    expect(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), { stride: 0 })).toThrow(/stride must be an integer >= 1/);
    expect(() => conv2d(zeros([1, 1, 5, 5]), zeros([2, 1, 3, 3]), { bias: zeros([3]) })).toThrow(/bias must be \[2\]/);
    expect(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), { padding: -1 })).toThrow(ShapeError);
  });

  it("with padding \"same\" keeps the image's size, for odd and even kernels", () => {
    for (const kernel of [1, 2, 3, 4, 5]) expect(conv2d(zeros([1, 1, 7, 6]), zeros([2, 1, kernel, kernel]), { padding: "same" }).shape).toEqual([1, 2, 7, 6]);
  });
});

describe("maxPool2d", () => {
  it("has PyTorch's output shape", () => {
    fc.assert(fc.property(poolCases(), (g) => {
      expect(maxPool2d(zeros(g.x), g.kernel, { stride: g.stride, padding: g.padding }).shape).toEqual([g.x[0], g.x[1], torchSize(g.x[2], g.kernel[0], g.stride[0], g.padding[0], 1), torchSize(g.x[3], g.kernel[1], g.stride[1], g.padding[1], 1)]);
    }));
  });

  it("sends each window's cotangent to one arg-max of the window, and the gradient sums to the cotangent's sum", () => {
    const unpadded = poolCases().map((g) => ({ ...g, x: [g.x[0], g.x[1], Math.max(g.x[2], g.kernel[0]), Math.max(g.x[3], g.kernel[1])] as const }));
    fc.assert(fc.property(unpadded.chain((g) => fc.tuple(fc.constant(g), fc.array(fc.integer({ min: -3, max: 3 }), { minLength: sizeOf(g.x), maxLength: sizeOf(g.x) }))), ([g, ints]) => {
      const x = tensor(ints, g.x, "float64"); // small integers: many ties
      const y = maxPool2d(x, g.kernel, { stride: g.kernel }); // side by side: every entry in at most one window
      const cotangent = tensor(Array.from(y.data, (_, i) => i + 1), y.shape, "float64");
      const dx = vjp((a: Tensor) => maxPool2d(a, g.kernel, { stride: g.kernel }), x).backward(cotangent)[0]!;
      expect(sum(dx).item()).toBe(sum(cotangent).item());
      const [n, c, h, w] = g.x;
      const [oh, ow] = y.shape.slice(2) as [number, number];
      for (let plane = 0; plane < n * c; plane++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const window: number[] = [];
            for (let i = 0; i < g.kernel[0]; i++) for (let j = 0; j < g.kernel[1]; j++) window.push((plane * h + oy * g.kernel[0] + i) * w + ox * g.kernel[1] + j);
            const receivers = window.filter((at) => dx.data[at] !== 0);
            const at = plane * oh * ow + oy * ow + ox;
            expect(receivers).toHaveLength(1);
            expect(dx.data[receivers[0]!]).toBe(cotangent.data[at]);
            expect(x.data[receivers[0]!]).toBe(y.data[at]); // the receiver holds the maximum
            expect(receivers[0]).toBe(window.find((p) => x.data[p] === y.data[at])); // the first among ties
          }
        }
      }
    }));
  });

  it("passes on every window's cotangent when windows overlap (the gradient sums to the cotangent's sum)", () => {
    fc.assert(fc.property(poolCases().chain((g) => fc.tuple(fc.constant(g), tensorOfShape(g.x))), ([g, x]) => {
      const f = (a: Tensor) => maxPool2d(a, g.kernel, { stride: g.stride, padding: g.padding });
      const y = f(x);
      const cotangent = tensor(Array.from(y.data, (_, i) => (i % 3) + 1), y.shape, "float64");
      expect(sum(vjp(f, x).backward(cotangent)[0]!).item()).toBe(sum(cotangent).item());
    }));
  });

  it("refuses padding over half the window", () => {
    expect(() => maxPool2d(zeros([1, 1, 4, 4]), 2, { padding: 2 })).toThrow(/at most half the window/);
  });
});

describe("avgPool2d", () => {
  it("is the mean of each window, and the adjoint of its gradient: <avg(x), y> = <x, vjp(y)>", () => {
    fc.assert(fc.property(poolCases().chain((g) => fc.tuple(fc.constant(g), tensorOfShape(g.x))), ([g, x]) => {
      const f = (a: Tensor) => avgPool2d(a, g.kernel, { stride: g.stride, padding: g.padding });
      const y = f(x);
      const [h, w] = g.x.slice(2) as [number, number];
      const [oh, ow] = y.shape.slice(2) as [number, number];
      const at = (oy: number, ox: number) => {
        let s = 0;
        for (let i = 0; i < g.kernel[0]; i++) {
          for (let j = 0; j < g.kernel[1]; j++) {
            const [r, c] = [oy * g.stride[0] - g.padding[0] + i, ox * g.stride[1] - g.padding[1] + j];
            if (r >= 0 && r < h && c >= 0 && c < w) s += x.data[r * w + c]!;
          }
        }
        return s / (g.kernel[0] * g.kernel[1]);
      };
      expect(y.data[0]).toBeCloseTo(at(0, 0), 12);
      expect(y.data[oh * ow - 1]).toBeCloseTo(at(oh - 1, ow - 1), 12);
      const cotangent = tensor(Array.from(y.data, (_, i) => Math.sin(i)), y.shape, "float64");
      expect(dot(y, cotangent)).toBeCloseTo(dot(x, vjp(f, x).backward(cotangent)[0]!), 10);
    }));
  });
});

describe("pad", () => {
  it("surrounds the values with zeros, and its gradient is the slice where they were", () => {
    const x = tensor([[1, 2], [3, 4]]);
    const y = pad(x, [[1, 0], [0, 2]]);
    expect(y.toArray()).toEqual([[0, 0, 0, 0], [1, 2, 0, 0], [3, 4, 0, 0]]);
    expect(grad((a: Tensor) => sum(mul(pad(a, [[1, 0], [0, 2]]), tensor([[9, 9, 9, 9], [1, 2, 9, 9], [3, 4, 9, 9]]))))(x).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(() => pad(x, [[1, 0]])).toThrow(/one pair \[before, after\] of non-negative integers per axis of \[2, 2\] \(2 pairs\)/);
  });
});

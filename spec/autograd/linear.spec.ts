// The fused dense op: linear(x, W, b, { activation }) is act(x.W + b) as one op. It is proved equal,
// value and gradients, bit for bit, to the composition it replaces, relu(add(matmul(x, W), b)),
// in float32 (the fast kernels, with the zero-skipping paths) and float64 (the reference loops).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add, gradcheck, linear, matmul, relu, ShapeError, tensor, vjp, zeros, type DType, type Tensor } from "../../src/autograd/index.ts";

// Dimensions around the kernels' edges: empty, single, odd row counts, 4- and 16-wide column blocks.
const dim = fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 16, 17, 33);

/** Values with exact zeros at a per-case rate (the entries the kernels skip), as a tensor. */
const values = (shape: number[], zeroRate: number, dtype: DType) =>
  fc
    .array(
      fc.oneof(
        { weight: Math.round(zeroRate * 10), arbitrary: fc.constant(0) },
        { weight: Math.round((1 - zeroRate) * 10), arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
      ),
      { minLength: shape.reduce((p, d) => p * d, 1), maxLength: shape.reduce((p, d) => p * d, 1) },
    )
    .map((xs) => tensor(xs.map((v) => v + 0), shape, dtype));

const cases = (dtype: DType) =>
  fc.record({ m: dim, k: dim, n: dim, zeroRate: fc.constantFrom(0, 0.5, 0.9), relu: fc.boolean() }).chain(({ m, k, n, zeroRate, relu }) =>
    fc.record({
      x: values([m, k], zeroRate, dtype),
      w: values([k, n], 0.1, dtype),
      b: values([n], 0.3, dtype),
      g: values([m, n], 0.2, dtype),
      relu: fc.constant(relu),
    }),
  );

const composition = (useRelu: boolean) => (x: Tensor, w: Tensor, b: Tensor) => {
  const y = add(matmul(x, w), b);
  return useRelu ? relu(y) : y;
};
const fused = (useRelu: boolean) => (x: Tensor, w: Tensor, b: Tensor) => linear(x, w, b, { activation: useRelu ? "relu" : null });

describe("linear (the fused dense op)", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`gives exactly the value and gradients of relu(add(matmul(x, W), b)) and of add(matmul(x, W), b), in ${dtype}`, () => {
      fc.assert(
        fc.property(cases(dtype), ({ x, w, b, g, relu: useRelu }) => {
          const want = vjp(composition(useRelu), x, w, b);
          const got = vjp(fused(useRelu), x, w, b);
          expect(got.out.shape).toEqual(want.out.shape);
          expect(got.out.dtype).toBe(dtype);
          expect(Array.from(got.out.data)).toEqual(Array.from(want.out.data));
          const [gotGrads, wantGrads] = [got.backward(g), want.backward(g)];
          gotGrads.forEach((t, i) => {
            expect(t.shape).toEqual(wantGrads[i]!.shape);
            expect(Array.from(t.data), `gradient ${i}`).toEqual(Array.from(wantGrads[i]!.data));
          });
        }),
        { numRuns: 150 },
      );
    });
  }

  it("passes gradcheck in float64 with and without relu (pre-activations kept clear of relu's kink)", () => {
    // x >= 0, and each column's weights and bias share one sign with |b| >= 0.25: every
    // pre-activation then has that sign and |x.W + b| >= 0.25, so relu is differentiable there.
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([m, k, n]) =>
        fc.record({
          x: fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: m * k, maxLength: m * k }).map((v) => tensor(v, [m, k], "float64")),
          w: fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: k * n, maxLength: k * n }),
          b: fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: n, maxLength: n }),
          signs: fc.array(fc.constantFrom(-1, 1), { minLength: n, maxLength: n }),
          relu: fc.boolean(),
        }).map(({ x, w, b, signs, relu: r }) => ({
          x,
          w: tensor(w.map((v, i) => v * signs[i % n]!), [k, n], "float64"),
          b: tensor(b.map((v, j) => (v + 0.25) * signs[j]!), [n], "float64"),
          relu: r,
        })),
      );
    fc.assert(
      fc.property(arb, ({ x, w, b, relu: useRelu }) => {
        const result = gradcheck(fused(useRelu), [x, w, b], { eps: 1e-6, atol: 1e-5, rtol: 1e-3 });
        expect(result.ok, result.message).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("computes no gradient for an input that does not need one (the pixels), and records nothing for constants", () => {
    const x = tensor([[1, 0], [0, 2]]);
    const w = tensor([[1, -1], [2, 3]]);
    const b = tensor([0.5, -10]);
    expect(linear(x, w, b).node).toBeNull();
    const { out, backward } = vjp((ww: Tensor, bb: Tensor) => linear(x, ww, bb, { activation: "relu" }), w, b);
    expect(Array.from(out.data)).toEqual([1.5, 0, 4.5, 0]);
    const [dw, db] = backward(tensor([[1, 1], [1, 1]]));
    expect(Array.from(dw!.data)).toEqual([1, 0, 2, 0]);
    expect(Array.from(db!.data)).toEqual([2, 0]);
  });

  it("refuses shapes that do not line up and unknown activations, naming linear", () => {
    expect(() => linear(zeros([2, 3]), zeros([4, 5]), zeros([5]))).toThrow(ShapeError);
    expect(() => linear(zeros([2, 3]), zeros([3, 5]), zeros([4]))).toThrow(/linear: expected x \[m, k\], weight \[k, n\] and bias \[n\], got \[2, 3\], \[3, 5\] and \[4\]/);
    expect(() => linear(zeros([3]), zeros([3, 5]), zeros([5]))).toThrow(/linear/);
    expect(() => linear(zeros([2, 3]), zeros([3, 5]), zeros([5]), { activation: "gelu" as "relu" })).toThrow(/linear: unknown activation "gelu"/);
  });
});

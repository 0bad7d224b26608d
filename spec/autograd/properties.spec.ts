// Algebraic facts the ops must obey for any small shapes and values.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  add, broadcastShapes, broadcastTo, cast, concat, div, equal, exp, greater, less, log, logSumExp, matmul, max, maximum,
  mean, min, mul, neg, reshape, sizeOf, slice, sub, sum, sumToShape, tensor, transpose, vjp, watch, type Tensor,
} from "../../src/autograd/index.ts";
import { broadcastablePair, broadcastableTensors, domains, shapes, tensorOfShape } from "../../src/testing/index.ts";

/** |got - want| <= atol + rtol |want| at every index, and the same shape. */
const expectClose = (got: Tensor, want: Tensor, rtol = 1e-12, atol = 1e-12): void => {
  expect(got.shape).toEqual(want.shape);
  got.data.forEach((v, i) => {
    const w = want.data[i]!;
    expect(Math.abs(v - w), `index ${i}: ${v} vs ${w}`).toBeLessThanOrEqual(atol + rtol * Math.abs(w));
  });
};

const expectSame = (got: Tensor, want: Tensor): void => {
  expect(got.shape).toEqual(want.shape);
  expect(Array.from(got.data)).toEqual(Array.from(want.data));
};

const matrices = (maxDim = 5) =>
  fc
    .tuple(fc.integer({ min: 1, max: maxDim }), fc.integer({ min: 1, max: maxDim }), fc.integer({ min: 1, max: maxDim }))
    .chain(([m, k, n]) => fc.tuple(tensorOfShape([m, k]), tensorOfShape([k, n])));

describe("add and mul", () => {
  it("add is commutative, with broadcasting: a + b = b + a exactly", () => {
    fc.assert(fc.property(broadcastableTensors(), ([a, b]) => expectSame(add(a, b), add(b, a))));
  });

  it("mul is commutative, with broadcasting: a * b = b * a exactly", () => {
    fc.assert(fc.property(broadcastableTensors(), ([a, b]) => expectSame(mul(a, b), mul(b, a))));
  });

  it("sub and div undo add and mul: (a + b) - b = a and (a * b) / b = a, up to rounding", () => {
    fc.assert(
      fc.property(
        broadcastablePair().chain(({ a, b }) => fc.tuple(tensorOfShape(a), tensorOfShape(b, { domain: domains.awayFromZero }))),
        ([a, b]) => {
          const wide = broadcastTo(a, broadcastShapes("spec", a.shape, b.shape));
          expectClose(sub(add(a, b), b), wide, 1e-12, 1e-12);
          expectClose(div(mul(a, b), b), wide, 1e-12, 1e-12);
        },
      ),
    );
  });
});

describe("broadcasting", () => {
  it("every binary op on broadcastable shapes equals the op on both inputs explicitly broadcastTo the common shape", () => {
    fc.assert(
      fc.property(broadcastableTensors(), ([a, b]) => {
        const shape = broadcastShapes("spec", a.shape, b.shape);
        const [wa, wb] = [broadcastTo(a, shape), broadcastTo(b, shape)];
        for (const op of [add, sub, mul, div, maximum, greater, less, equal]) expectSame(op(a, b), op(wa, wb));
      }),
    );
  });

  it("the sum of a broadcast equals the sum of the original scaled by the number of copies", () => {
    fc.assert(
      fc.property(
        broadcastablePair().chain(({ a, shape }) => tensorOfShape(a).map((x) => [x, shape] as const)),
        ([x, shape]) => {
          const copies = sizeOf(shape) / x.size;
          expectClose(sum(broadcastTo(x, shape)), mul(sum(x), copies), 1e-12, 1e-12);
        },
      ),
    );
  });

  it("sumToShape is the adjoint of broadcastTo: <broadcastTo(x), y> = <x, sumToShape(y)>", () => {
    fc.assert(
      fc.property(
        broadcastablePair().chain(({ a, shape }) => fc.tuple(tensorOfShape(a), tensorOfShape(shape))),
        ([x, y]) => {
          const left = sum(mul(broadcastTo(x, y.shape), y));
          const right = sum(mul(x, sumToShape(y, x.shape)));
          expectClose(left, right, 1e-12, 1e-12);
        },
      ),
    );
  });
});

describe("matmul", () => {
  it("(A B)^T = B^T A^T within rounding", () => {
    fc.assert(
      fc.property(matrices(), ([a, b]) => {
        expectClose(transpose(matmul(a, b)), matmul(transpose(b), transpose(a)), 1e-12, 1e-12);
      }),
    );
  });

  it("each entry is the dot product of a row of A and a column of B", () => {
    fc.assert(
      fc.property(matrices(), ([a, b]) => {
        const [m, k] = a.shape as [number, number];
        const n = b.shape[1]!;
        const c = matmul(a, b);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let dot = 0;
            for (let p = 0; p < k; p++) dot += a.data[i * k + p]! * b.data[p * n + j]!;
            expect(c.data[i * n + j]).toBeCloseTo(dot, 12);
          }
        }
      }),
    );
  });

  it("a stack of one broadcasts against a longer stack, as in NumPy: [1, m, k] . [batch, k, n] is that one matrix times each", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 2, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
          .chain(([batch, m, k, n]) => fc.tuple(tensorOfShape([1, m, k]), tensorOfShape([batch, k, n]), tensorOfShape([batch, n, m]))),
        ([one, stack, back]) => {
          const [, m, k] = one.shape as [number, number, number];
          const n = stack.shape[2]!;
          expectSame(matmul(one, stack), matmul(reshape(one, [m, k]), stack));
          expectSame(matmul(back, one), matmul(back, reshape(one, [m, k])));
          expect(matmul(one, stack).shape).toEqual([stack.shape[0], m, n]);
        },
      ),
    );
  });

  it("a batched product equals the product of each pair of matrices in the stack", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
          .chain(([batch, m, k, n]) => fc.tuple(tensorOfShape([batch, m, k]), tensorOfShape([batch, k, n]))),
        ([a, b]) => {
          const c = matmul(a, b);
          const [batch, m, k] = a.shape as [number, number, number];
          const n = b.shape[2]!;
          for (let i = 0; i < batch; i++) {
            const ai = reshape(slice(a, [i], [i + 1]), [m, k]);
            const bi = reshape(slice(b, [i], [i + 1]), [k, n]);
            expectSame(reshape(slice(c, [i], [i + 1]), [m, n]), matmul(ai, bi));
          }
        },
      ),
    );
  });
});

describe("matmul in float32", () => {
  // Larger shapes than the op table's, so that every block and remainder of a vectorised kernel
  // runs; about a third of A's entries are exactly 0, which a kernel may skip.
  const sparse = (shape: number[]) =>
    fc
      .tuple(tensorOfShape(shape), fc.array(fc.boolean(), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }))
      .map(([t, keep]) => tensor(Array.from(t.data, (v, i) => (keep[i] || i % 3 ? v : 0)), shape, "float64"));
  const dims = fc.integer({ min: 1, max: 19 });

  it("agrees with float64 to float32 precision, forward and both gradients, batched or not", () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 0, max: 2 }), dims, dims, dims).chain(([batch, m, k, n]) => {
          const lead = batch === 0 ? [] : [batch];
          return fc.tuple(sparse([...lead, m, k]), tensorOfShape([...lead, k, n]), tensorOfShape([...lead, m, n]));
        }),
        ([a, b, g]) => {
          const [a32, b32, g32] = [a, b, g].map((t) => cast(cast(t, "float32"), "float64"));
          const product = (x: Tensor, y: Tensor) => matmul(x, y);
          const want = vjp(product, a32!, b32!);
          const got = vjp(product, cast(a32!, "float32"), cast(b32!, "float32"));
          // float32 rounding grows with the length of the dot products: k forward, n and m backward.
          const tol = 1e-5 * Math.max(...a.shape.slice(-2), b.shape.at(-1)!);
          expectClose(got.out, want.out, tol, tol);
          const [wa, wb] = want.backward(g32!);
          const [ga, gb] = got.backward(cast(g32!, "float32"));
          expectClose(ga!, wa!, tol, tol);
          expectClose(gb!, wb!, tol, tol);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("movement ops", () => {
  it("reshape round-trips: reshape(reshape(x, s), x.shape) gives x back", () => {
    fc.assert(
      fc.property(
        shapes().chain((shape) => fc.tuple(tensorOfShape(shape), fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }))),
        ([x, permuted]) => {
          const there = reshape(x, [sizeOf(permuted)]);
          const back = reshape(reshape(there, permuted), x.shape);
          expectSame(back, x);
        },
      ),
    );
  });

  it("transposing by a permutation and then by its inverse gives x back", () => {
    fc.assert(
      fc.property(
        shapes().chain((shape) =>
          fc.tuple(tensorOfShape(shape), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length })),
        ),
        ([x, perm]) => {
          const inverse = perm.map((_, i) => perm.indexOf(i));
          expectSame(transpose(transpose(x, perm), inverse), x);
        },
      ),
    );
  });

  it("slicing a concatenation at the seams gives back the parts", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
          .chain(([rows, left, right]) => fc.tuple(tensorOfShape([rows, left]), tensorOfShape([rows, right]))),
        ([a, b]) => {
          const joined = concat([a, b], 1);
          expectSame(slice(joined, [0, 0], [undefined, a.shape[1]!]), a);
          expectSame(slice(joined, [0, a.shape[1]!]), b);
        },
      ),
    );
  });
});

describe("reductions", () => {
  it("mean is the sum divided by the number of elements reduced", () => {
    fc.assert(
      fc.property(shapes({ minRank: 1 }).chain((shape) => fc.tuple(tensorOfShape(shape), fc.integer({ min: 0, max: shape.length - 1 }))), ([x, axis]) => {
        expectClose(mean(x, axis), div(sum(x, axis), x.shape[axis]!), 1e-15, 1e-15);
      }),
    );
  });

  it("min is -max(-x), and max bounds every entry from above", () => {
    fc.assert(
      fc.property(shapes({ minRank: 1 }).chain((shape) => tensorOfShape(shape)), (x) => {
        expectSame(min(x, -1), neg(max(neg(x), -1)));
        const m = max(x).item();
        expect(Array.from(x.data).every((v) => v <= m)).toBe(true);
        expect(Array.from(x.data)).toContain(m);
      }),
    );
  });

  it("keepDims keeps each reduced axis as size 1 and the values are the same", () => {
    fc.assert(
      fc.property(shapes({ minRank: 1 }).chain((shape) => fc.tuple(tensorOfShape(shape), fc.integer({ min: 0, max: shape.length - 1 }))), ([x, axis]) => {
        const kept = sum(x, axis, true);
        expect(kept.shape).toEqual(x.shape.map((d, i) => (i === axis ? 1 : d)));
        expect(Array.from(kept.data)).toEqual(Array.from(sum(x, axis).data));
      }),
    );
  });
});

describe("logSumExp", () => {
  const wide = fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }))
    .chain(([rows, cols]) => tensorOfShape([rows, cols], { min: -1e4, max: 1e4 }));

  it("is finite for values up to +-1e4, where exp alone overflows", () => {
    fc.assert(
      fc.property(wide, (x) => {
        expect(Array.from(logSumExp(x, -1).data).every(Number.isFinite)).toBe(true);
      }),
    );
    expect(exp(tensor([1e4], [1], "float64")).data[0]).toBe(Infinity);
  });

  it("equals max + log(sum(exp(x - max))) row by row", () => {
    fc.assert(
      fc.property(wide, (x) => {
        const [rows, cols] = x.shape as [number, number];
        const got = logSumExp(x, -1);
        for (let r = 0; r < rows; r++) {
          const row = Array.from(x.data.subarray(r * cols, (r + 1) * cols));
          const m = Math.max(...row);
          const want = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
          expect(got.data[r]).toBeCloseTo(want, 9);
        }
      }),
    );
  });

  it("equals log(sum(exp(x))) where that does not overflow", () => {
    fc.assert(
      fc.property(shapes().chain((shape) => tensorOfShape(shape, { min: -20, max: 20 })), (x) => {
        expectClose(logSumExp(x), log(sum(exp(x))), 1e-12, 1e-12);
      }),
    );
  });
});

describe("comparisons", () => {
  it("exactly one of greater, less and equal holds at every position", () => {
    fc.assert(
      fc.property(broadcastableTensors({ min: -1, max: 1 }), ([a, b]) => {
        const total = add(add(greater(a, b), less(a, b)), equal(a, b));
        expect(Array.from(total.data).every((v) => v === 1)).toBe(true);
      }),
    );
  });

  it("give constants: no graph even when an input is tracked", () => {
    const x = watch(tensor([1, 2, 3]));
    expect(Array.from(greater(x, 2).data)).toEqual([0, 0, 1]);
    expect(greater(x, 2).node).toBeNull();
  });
});

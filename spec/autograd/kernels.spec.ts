import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as fast from "../../src/autograd/kernels/matmul.ts";
import * as reference from "../../src/autograd/kernels/reference.ts";
import { bindKernels, loadSimdKernels, simd, type Float32Kernel } from "../../src/autograd/kernels/wasm/index.ts";
import type { TypedArray } from "../../src/autograd/tensor.ts";

type Kind = "matmulNN" | "matmulNT" | "matmulTN";
const kinds: readonly Kind[] = ["matmulNN", "matmulNT", "matmulTN"];

// Sizes around the kernels' edges: empty and single dimensions, odd row counts (rows go in
// pairs), and column counts on either side of the 4-wide vectors and 16-wide register blocks.
const dim = fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 20, 31, 32, 33, 64);

/** Values with many exact zeros (the entries the kernels skip; -0 among them), at a per-case rate. */
const values = (size: number, zeroRate: number) =>
  fc.array(
    fc.oneof(
      { weight: Math.round(zeroRate * 10), arbitrary: fc.constantFrom(0, 0, 0, -0) },
      { weight: Math.round((1 - zeroRate) * 10), arbitrary: fc.double({ min: -8, max: 8, noNaN: true }) },
    ),
    { minLength: size, maxLength: size },
  ).map((xs) => Float32Array.from(xs));

/** A product's dimensions and operands, A stored as the kernel reads it ([m,k], or [k,m] for TN). */
const product = (kind: Kind) =>
  fc.record({ m: dim, k: dim, n: dim, zeroRate: fc.constantFrom(0, 0.5, 0.8, 0.95) }).chain(({ m, k, n, zeroRate }) =>
    fc.record({
      m: fc.constant(m), k: fc.constant(k), n: fc.constant(n),
      a: values(m * k, zeroRate),
      b: values(k * n, kind === "matmulNN" || kind === "matmulTN" ? 0.3 : zeroRate), // NT's B is a weight matrix
    }),
  );

/** Entry (i, j) of sum_p |A[i,p]| |B[p,j]|: the scale of float32 rounding error in C[i,j]. */
const magnitudes = (kind: Kind, a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array => {
  const abs = (x: Float32Array) => Float64Array.from(x, Math.abs);
  return reference[kind](abs(a), abs(b), m, k, n) as Float64Array;
};

/** Every entry agrees within k+2 float32 roundings of its magnitude sum. */
const expectClose = (kind: Kind, got: TypedArray, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void => {
  const want = reference[kind](a, b, m, k, n);
  expect(got).toBeInstanceOf(Float32Array);
  expect(got.length).toBe(m * n);
  const scale = magnitudes(kind, a, b, m, k, n);
  const eps = 2 ** -23;
  for (let i = 0; i < m * n; i++) {
    const error = Math.abs(got[i]! - want[i]!);
    if (!(error <= (k + 2) * eps * scale[i]!)) {
      expect.fail(`${kind} [${m}x${k}]x[${k}x${n}]: C[${Math.floor(i / n)},${i % n}] = ${got[i]} but the reference gives ${want[i]} (tolerance ${(k + 2) * eps * scale[i]!})`);
    }
  }
};

describe("the WebAssembly SIMD kernels", () => {
  it("load in Node 20, which supports 128-bit WebAssembly SIMD", () => {
    expect(simd).not.toBeNull();
  });

  it("are unavailable (null, so the reference loops serve) when the module cannot compile", () => {
    expect(loadSimdKernels(new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]))).toBeNull();
  });

  it("leave a product too large for their memory to the reference loops", () => {
    const unreachable = () => expect.fail("the WebAssembly function should not run");
    const tiny = bindKernels({
      memory: new WebAssembly.Memory({ initial: 1, maximum: 1 }), // 64 KB, and it cannot grow
      matmulNN: unreachable, matmulNT: unreachable, matmulTN: unreachable,
    });
    const a = Float32Array.from({ length: 96 * 96 }, (_, i) => (i % 7) - 3);
    for (const kind of kinds) expect(tiny[kind](a, a, 96, 96, 96)).toEqual(reference[kind](a, a, 96, 96, 96));
  });

  for (const kind of kinds) {
    it(`${kind} equals the reference loops within float32 rounding, for any shapes and any share of zeros`, () => {
      const kernel: Float32Kernel = simd![kind];
      fc.assert(fc.property(product(kind), ({ a, b, m, k, n }) => expectClose(kind, kernel(a, b, m, k, n), a, b, m, k, n)));
    });
  }

  it("give the same answers however calls of different sizes follow one another (no stale memory)", () => {
    const big = { m: 67, k: 300, n: 129 };
    const ones = (size: number) => new Float32Array(size).fill(1);
    for (const kind of kinds) {
      const { m, k, n } = big;
      const first = simd![kind](ones(m * k), ones(k * n), m, k, n);
      expect(first.every((x) => x === k)).toBe(true);
      const second = simd![kind](new Float32Array(3 * 5), ones(5 * 2), 3, 5, 2); // zeros: nothing left over
      expect([...second]).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });

  it("read only their operands when given views into larger arrays (as batched matmul passes)", () => {
    const backing = Float32Array.from({ length: 40 }, (_, i) => (i % 3) - 1);
    const a = backing.subarray(4, 10); // [2, 3]
    const b = backing.subarray(20, 32); // [3, 4]
    expectClose("matmulNN", simd!.matmulNN(a, b, 2, 3, 4), a, b, 2, 3, 4);
  });
});

describe("the matrix product kernels used by the ops", () => {
  for (const kind of kinds) {
    it(`${kind} returns float32 for float32 operands, within rounding of the reference`, () => {
      fc.assert(fc.property(product(kind), ({ a, b, m, k, n }) => expectClose(kind, fast[kind](a, b, m, k, n), a, b, m, k, n)), { numRuns: 20 });
    });

    it(`${kind} runs the reference loops exactly for float64 operands (gradchecks need every bit)`, () => {
      fc.assert(
        fc.property(product(kind), ({ a, b, m, k, n }) => {
          const a64 = Float64Array.from(a);
          const b64 = Float64Array.from(b);
          const got = fast[kind](a64, b64, m, k, n);
          expect(got).toBeInstanceOf(Float64Array);
          expect(got).toEqual(reference[kind](a64, b64, m, k, n));
        }),
        { numRuns: 20 },
      );
    });
  }

  it("agree with the reference on the MLP's shapes with mostly-zero inputs, like MNIST pixels", () => {
    // A deterministic stand-in for a batch of 64 images: ~80% zeros, the rest in (0, 1].
    let s = 12345;
    const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const pixels = Float32Array.from({ length: 64 * 784 }, () => (next() < 0.8 ? 0 : next()));
    const w = Float32Array.from({ length: 784 * 128 }, () => next() - 0.5);
    const g = Float32Array.from({ length: 64 * 128 }, () => (next() < 0.5 ? 0 : next() - 0.5));
    expectClose("matmulNN", fast.matmulNN(pixels, w, 64, 784, 128), pixels, w, 64, 784, 128);
    expectClose("matmulTN", fast.matmulTN(pixels, g, 784, 64, 128), pixels, g, 784, 64, 128);
    expectClose("matmulNT", fast.matmulNT(g, w, 64, 128, 784), g, w, 64, 128, 784);
  });
});

// The fast paths added around the WebAssembly kernels, each checked against the plain loops:
// resident right operands (weights kept in the module's memory by identity), products split into
// blocks of rows instead of growing the memory, sgdStep, the fused bias and relu (linearNN), the
// batch gather and scale (gatherUnitFloats, and the batch kept for the products), donated buffers reused for results, and
// the broadcastTo / sumToShape shortcuts.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { broadcastTo as broadcastKernel, broadcastStrides, offsets, sumToShape as sumKernel } from "../../src/autograd/kernels/indexing.ts";
import { isDeferred } from "../../src/autograd/kernels/deferred.ts";
import { clearPool, float32Uninitialized, give, pooledBytes } from "../../src/autograd/kernels/pool.ts";
import * as reference from "../../src/autograd/kernels/reference.ts";
import { sgdStep, sgdStepReference } from "../../src/autograd/kernels/update.ts";
import { maxToShape } from "../../src/autograd/kernels/indexing.ts";
import { argmax, recycle, Tensor, tensor } from "../../src/autograd/index.ts";
import { bindKernels, decodeBase64, gatherUnitFloatsReference, loadSimdKernels, simd, type KernelExports } from "../../src/autograd/kernels/wasm/index.ts";
import { kernelsWasm } from "../../src/autograd/kernels/wasm/kernels.wasm.ts";
import { addBiasInPlace, columnSums, maskPositive, maskPositiveWithColumnSums } from "../../src/autograd/kernels/elementwise.ts";
import * as mm from "../../src/autograd/kernels/matmul.ts";
import * as dispatched from "../../src/autograd/kernels/relu-backward.ts";

type Kind = "matmulNN" | "matmulNT" | "matmulTN";
const dim = fc.constantFrom(0, 1, 2, 3, 5, 8, 16, 17, 33);
const floats = (n: number, zeroRate = 0.3) =>
  fc
    .array(fc.oneof({ weight: Math.round(zeroRate * 10), arbitrary: fc.constant(0) }, { weight: 10 - Math.round(zeroRate * 10), arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) }), {
      minLength: n,
      maxLength: n,
    })
    .map((xs) => Float32Array.from(xs));

/** |got - want| within k+2 float32 roundings of sum |a||b|, as in kernels.spec.ts. */
const expectClose = (kind: Kind, got: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number) => {
  const want = reference[kind](a, b, m, k, n);
  const scale = reference[kind](Float64Array.from(a, Math.abs), Float64Array.from(b, Math.abs), m, k, n);
  expect(got.length).toBe(m * n);
  for (let i = 0; i < m * n; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= (k + 2) * 2 ** -23 * scale[i]!)) expect.fail(`${kind} ${m}x${k}x${n}: C[${i}] = ${got[i]}, reference ${want[i]}`);
  }
};

describe("resident right operands (stableB)", () => {
  for (const kind of ["matmulNN", "matmulNT", "matmulTN"] as const) {
    it(`${kind} gives the reference's answer whether the weight was resident or not, call after call`, () => {
      fc.assert(
        fc.property(
          fc.record({ m: dim, k: dim, n: dim }).chain(({ m, k, n }) =>
            fc.record({ m: fc.constant(m), k: fc.constant(k), n: fc.constant(n), a1: floats(m * k, 0.5), a2: floats(m * k, 0.8), b: floats(k * n) }),
          ),
          ({ m, k, n, a1, a2, b }) => {
            expectClose(kind, simd![kind](a1, b, m, k, n, true), a1, b, m, k, n); // copied in
            expectClose(kind, simd![kind](a2, b, m, k, n, true), a2, b, m, k, n); // reused
            const other = b.map((v) => -v); // a different array: never mistaken for b
            expectClose(kind, simd![kind](a2, other, m, k, n, true), a2, other, m, k, n);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it("survive the resident area filling up and starting over (more weights than fit)", () => {
    const k = 500, n = 500; // 1 MB each: a handful go round the ring of resident arrays
    const weights = Array.from({ length: 8 }, (_, i) => Float32Array.from({ length: k * n }, (_, j) => ((i + j) % 5) - 2));
    const a = Float32Array.from({ length: 2 * k }, (_, j) => (j % 3) - 1);
    for (let round = 0; round < 2; round++) {
      for (const w of weights) expect(Array.from(simd!.matmulNN(a, w, 2, k, n, true))).toEqual(Array.from(reference.matmulNN(a, w, 2, k, n)));
    }
  });
});

describe("products taller than the memory", () => {
  it("go in blocks of rows and equal the reference (6,000 rows of 784: more than the 16 MB memory holds at once)", () => {
    const m = 6_000, k = 784, n = 8;
    let s = 7;
    const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const a = Float32Array.from({ length: m * k }, () => (next() < 0.8 ? 0 : next()));
    const b = Float32Array.from({ length: k * n }, () => next() - 0.5);
    expectClose("matmulNN", simd!.matmulNN(a, b, m, k, n, true), a, b, m, k, n);
    const g = Float32Array.from({ length: m * n }, () => next() - 0.5);
    const bt = Float32Array.from({ length: n * k }, () => next() - 0.5);
    expectClose("matmulNT", simd!.matmulNT(g, bt, m, n, k), g, bt, m, n, k);
  });

  it("and tall products that would fit go in cache-sized blocks of rows, with the same values (an odd count of rows: a lone row last)", () => {
    const m = 1_201, k = 784, n = 24; // 3.9 MB of rows: blocks of about 2 MB
    let s = 11;
    const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const a = Float32Array.from({ length: m * k }, () => (next() < 0.8 ? 0 : next()));
    const b = Float32Array.from({ length: k * n }, () => next() - 0.5);
    const bias = Float32Array.from({ length: n }, () => next() - 0.5);
    expectClose("matmulNN", simd!.matmulNN(a, b, m, k, n), a, b, m, k, n);
    const fused = simd!.linearNN(a, b, bias, m, k, n, true);
    const want = reference.matmulNN(a, b, m, k, n);
    for (let i = 0; i < m * n; i++) expect(fused[i]).toBeCloseTo(Math.max(0, want[i]! + bias[i % n]!), 4);
  });
});

describe("sgdStep", () => {
  it("on WebAssembly SIMD gives exactly the bits of the plain loop, in place or not, for any length", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 37 }).chain((n) => fc.tuple(floats(n, 0.1), floats(n, 0.3))),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.constantFrom(0, 1e-4, 0.5),
        ([p, g], lr, decay) => {
          const want = new Float32Array(p.length);
          sgdStepReference(p, g, want, lr, decay);
          const out = new Float32Array(p.length);
          sgdStep(p, g, out, lr, decay);
          expect(Array.from(out)).toEqual(Array.from(want));
          const inPlace = p.slice();
          sgdStep(inPlace, g, inPlace, lr, decay);
          expect(Array.from(inPlace)).toEqual(Array.from(want));
        },
      ),
    );
  });

  it("runs the plain loop for float64", () => {
    const p = Float64Array.of(1, 2), g = Float64Array.of(0.5, -1), out = new Float64Array(2);
    sgdStep(p, g, out, 0.1, 0);
    expect(Array.from(out)).toEqual([1 - 0.1 * 0.5, 2 + 0.1]);
  });
});

describe("arrays kept resident in the module's memory", () => {
  it("are read from there only while they hold the array's values, and a deferred copy lands only in its own array: any sequence of batches gathered, products, weight gradients, SGD steps (fresh, in place, into a donated buffer), reads and recycled gradients equals the plain loops", () => {
    const m = 16, k = 24, n = 20;
    const lr = 0.5;
    const random = (seed: number, length: number) => Float32Array.from({ length }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * (i % 3 === 0 ? 0 : 1));
    // 1 MB stable operands: a few of these go round the ring of resident arrays, dropping the oldest.
    const row = random(5, 500);
    // 40 rows of k bytes, half of them 0, for the batches.
    const pixels = { length: 40, flat: Uint8Array.from({ length: 40 * k }, (_, i) => (i % 2 === 0 ? 0 : (i * 37) % 256)) };
    const bigs = [6, 7, 8].map((seed) => {
      const array = random(seed, 500 * 500);
      return { array, want: reference.matmulNN(row, array, 1, 500, 500) };
    });
    /** `array` read as a tensor's data (which settles a deferred copy) holds exactly `want`. */
    const expectHolds = (array: Float32Array, want: Float32Array, shape: number[]) =>
      expect(Array.from(new Tensor(array, shape).data)).toEqual(Array.from(want));
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            // "fill" takes a quarter of the ring: often enough that the ring comes round in most runs.
            op: fc.oneof(
              fc.constantFrom("forward", "gradTN", "gradTNStable", "gradJS", "step", "stepInPlace", "stepDonated", "gather", "gatherReused", "read", "recycle"),
              fc.constant("fill"),
            ),
            w: fc.nat(3),
            seed: fc.nat(1000),
            deferred: fc.boolean(), // tensorResult: the result's copy out may be deferred
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (actions) => {
          let x: Float32Array = random(1, m * k);
          let xWant: Float32Array = x.slice();
          const reused = new ArrayBuffer(4 * m * k); // as batches({ reuseBuffers: true }): a new view of the same memory each batch
          // The arrays the kernels see, and what each should hold (a copy the kernels never see).
          const weights = [0, 1, 2, 3].map((i): { array: Float32Array; want: Float32Array } => ({ array: random(10 + i, k * n), want: random(10 + i, k * n) }));
          let g: Float32Array = random(3, k * n);
          let gWant: Float32Array = g.slice();
          clearPool();
          for (const { op, w, seed, deferred } of actions) {
            const wt = weights[w]!;
            if (op === "forward") {
              expectClose("matmulNN", simd!.matmulNN(x, wt.array, m, k, n, true), xWant, wt.want, m, k, n);
            } else if (op === "gradTN" || op === "gradTNStable") {
              // Stable: the right operand is kept too, after the result's room was taken. The same
              // product copied out at once gives the bits the deferred one must hold.
              const stable = op === "gradTNStable";
              gWant = simd!.matmulTN(x, random(seed, m * n), k, m, n, stable);
              expectClose("matmulTN", gWant, xWant, random(seed, m * n), k, m, n);
              g = simd!.matmulTN(x, random(seed, m * n), k, m, n, stable, deferred);
            } else if (op === "gradJS") {
              g = random(seed, k * n);
              gWant = g.slice();
            } else if (op === "recycle") {
              // As the optimizer's donation: the gradient is dead, its buffer goes to the free-list,
              // and the next weight gradient is made in it.
              recycle(new Tensor(g, [k, n]));
              g = random(seed, k * n);
              gWant = g.slice();
            } else if (op === "gather" || op === "gatherReused") {
              // A new batch x (kept as tensor data), into a fresh array or over the last one's memory.
              const rows = Array.from({ length: m }, (_, r) => (seed + r * 7) % pixels.length);
              const out = op === "gather" ? new Float32Array(m * k) : new Float32Array(reused);
              x = simd!.gatherUnitFloats(pixels.flat, rows, k, out, true);
              xWant = gatherUnitFloatsReference(pixels.flat, rows, k, new Float32Array(m * k));
            } else if (op === "fill") {
              const big = bigs[seed % 3]!;
              const got = simd!.matmulNN(row, big.array.slice(), 1, 500, 500, true); // a new array each time: copied in
              got.forEach((v, j) => expect(Math.abs(v - big.want[j]!)).toBeLessThan(1e-3));
            } else if (op === "read") {
              [() => expectHolds(x, xWant, [m, k]), () => expectHolds(g, gWant, [k, n]), () => expectHolds(wt.array, wt.want, [k, n])][seed % 3]!();
            } else {
              const expected = new Float32Array(k * n);
              sgdStepReference(wt.want, gWant, expected, lr, 0);
              const out = op === "step" ? new Float32Array(k * n) : op === "stepInPlace" ? wt.array : new Float32Array(wt.array.buffer);
              sgdStep(wt.array, g, out, lr, 0, deferred);
              wt.array = out; // "step": the old array stays as it was, and is simply not used again here
              wt.want = expected;
            }
          }
          // Whatever was left deferred, and whatever rooms were reused meanwhile: every live array holds its values.
          expectHolds(x, xWant, [m, k]);
          expectHolds(g, gWant, [k, n]);
          for (const wt of weights) expectHolds(wt.array, wt.want, [k, n]);
        },
      ),
      { numRuns: 200 },
    );
  });

  // The two specs below lay rooms out in a fresh instance's ring (empty, starting at byte 16) with
  // the products and steps that keep arrays: a room is the array's bytes rounded up to 16.
  const ringLayout = () => {
    const kernels = loadSimdKernels()!;
    const ring = kernels.residentBytes;
    const m = 64, k = 784, n = 128; // dW is 401,408 bytes
    const x = Float32Array.from({ length: m * k }, (_, i) => (i % 3 === 0 ? Math.sin(i) : 0));
    const gm = Float32Array.from({ length: m * n }, (_, i) => Math.cos(i));
    /** Take a room of `bytes` (a multiple of 1,024, at most a quarter of the ring) for a stable operand. */
    const room = (bytes: number) => {
      const floats = bytes / 4;
      kernels.matmulNN(Float32Array.of(1), Float32Array.from({ length: floats }, (_, j) => (j % 5) - 2), 1, 1, floats, true);
    };
    /** dW read by an SGD step in this instance equals the plain loop's step. */
    const expectStepReads = (dw: Float32Array) => {
      const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i) / 10);
      const want = new Float32Array(k * n);
      sgdStepReference(w, dw, want, 0.1, 0);
      const out = new Float32Array(k * n);
      kernels.sgdStep(w, dw, out, 0.1, 0); // reads dw from the ring only if its copy there is still whole
      expect(out.filter((v, i) => !Object.is(v, want[i])).length).toBe(0); // (a count: a diff of 100,000 floats is slow)
    };
    return { kernels, ring, quarter: ring / 4, x, gm, m, k, n, room, expectStepReads };
  };

  it("are dropped when new room is taken over them, going round the ring", () => {
    const { kernels, ring, quarter, x, gm, m, k, n, room, expectStepReads } = ringLayout();
    const dw = kernels.matmulTN(x, gm, k, m, n, true); // dw's room (401,408 bytes) first, then gm's (32,768) after it
    let left = ring - 401_408 - 32_768;
    for (; left >= quarter; left -= quarter) room(quarter); // fill the ring exactly
    if (left > 0) room(left);
    room(401_408); // round the ring: over dw's room, not gm's
    expectStepReads(dw);
  });

  it("are dropped when the ring comes round a second time, the rooms left at its end from the first time going first", () => {
    const { kernels, ring, quarter, x, gm, m, k, n, room, expectStepReads } = ringLayout();
    expect(quarter / 2).toBeGreaterThan(401_408); // the layout needs a ring of more than 3.2 MB
    for (let i = 0; i < 3; i++) room(quarter); // the first time round: three quarters,
    room(quarter / 2); // then two eighths: P,
    room(quarter / 2); // and T, at the end
    const dw = kernels.matmulTN(x, gm, k, m, n); // round again, at the start: over the first quarter
    for (let i = 0; i < 3; i++) room(quarter); // over the second, the third, and P; T is left
    room(quarter); // round a third time, before reaching T: T goes, and dw's room is taken
    expectStepReads(dw);
    expect(ring).toBe(kernels.residentBytes);
  });

  it("include a weight gradient from matmulTN, which an SGD step then reads without copying, to the same bits", () => {
    const m = 64, k = 784, n = 128;
    const x = Float32Array.from({ length: m * k }, (_, i) => (i % 5 === 0 ? (i % 255) / 255 : 0));
    const gm = Float32Array.from({ length: m * n }, (_, i) => Math.cos(i));
    const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i) / 10);
    simd!.matmulNN(x, w, m, k, n, true); // w resident, as after a forward pass
    const dw = simd!.matmulTN(x, gm, k, m, n);
    const want = new Float32Array(k * n);
    sgdStepReference(w, dw, want, 0.1, 0);
    const taken = new Float32Array(w.buffer); // as donation hands the buffer on
    sgdStep(w, dw, taken, 0.1, 0);
    expect(taken.filter((v, i) => !Object.is(v, want[i])).length).toBe(0);
    expectClose("matmulNN", simd!.matmulNN(x, taken, m, k, n, true), x, want, m, k, n);
  });
});

describe("a batch gathered as tensor data", () => {
  it("is read by the next products where it was gathered, in the ring, with the same values as copied in", () => {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(kernelsWasm)), {}).exports as unknown as KernelExports;
    const pointers: number[] = [];
    const kernels = bindKernels({
      ...instance,
      memory: instance.memory,
      matmulNN: (a, ...rest) => { pointers.push(a); instance.matmulNN(a, ...rest); },
      matmulTN: (a, ...rest) => { pointers.push(a); instance.matmulTN(a, ...rest); },
      columnLists: (a, ...rest) => { pointers.push(a); instance.columnLists!(a, ...rest); }, // lists of its pairs of columns, read by both products
    });
    const m = 64, k = 784, n = 128;
    const bytes = Uint8Array.from({ length: 100 * k }, (_, i) => (i % 3 === 0 ? (i * 7) % 256 : 0));
    const rows = Array.from({ length: m }, (_, r) => (r * 13) % 100);
    const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i) / 10);
    const g = Float32Array.from({ length: m * n }, (_, i) => Math.cos(i));
    const inRing = (p: number) => p >= 16 && p < 16 + kernels.residentBytes;
    const want = gatherUnitFloatsReference(bytes, rows, k, new Float32Array(m * k));
    for (const stable of [true, false]) {
      pointers.length = 0;
      const x = kernels.gatherUnitFloats(bytes, rows, k, new Float32Array(m * k), stable);
      expectClose("matmulNN", kernels.matmulNN(x, w, m, k, n, true), want, w, m, k, n);
      expectClose("matmulTN", kernels.matmulTN(x, g, k, m, n), want, g, k, m, n);
      // Kept: read in place, once, for lists that both products use; else copied in after the ring, for each.
      expect(pointers.map(inRing)).toEqual(stable ? [true] : [false, false]);
    }
  });

  it("is forgotten when the same array is gathered into again, kept or not", () => {
    const m = 8, k = 32, n = 16;
    const bytes = Uint8Array.from({ length: 20 * k }, (_, i) => (i * 29) % 256);
    const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i));
    const x = simd!.gatherUnitFloats(bytes, [0, 1, 2, 3, 4, 5, 6, 7], k, new Float32Array(m * k), true);
    for (const stable of [false, true]) {
      const rows = [19, 18, 17, 16, 15, 14, 13, stable ? 12 : 11];
      simd!.gatherUnitFloats(bytes, rows, k, x, stable); // new values, same array
      expectClose("matmulNN", simd!.matmulNN(x, w, m, k, n, true), gatherUnitFloatsReference(bytes, rows, k, new Float32Array(m * k)), w, m, k, n);
      expect(Array.from(new Tensor(x, [m, k]).data)).toEqual(Array.from(gatherUnitFloatsReference(bytes, rows, k, new Float32Array(m * k))));
    }
  });
});

describe("products of a kept batch by pairs of its columns (lists shared by the forward product and the weight gradient)", () => {
  /** A fresh instance with a spy on which of the module's products run. */
  const spied = () => {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(kernelsWasm)), {}).exports as unknown as Record<string, (...args: number[]) => void>;
    const calls: string[] = [];
    const spy = (name: string) => (...args: number[]) => {
      calls.push(name);
      instance[name]!(...args);
    };
    const names = ["matmulNN", "matmulTN", "columnLists", "matmulNNLists", "matmulTNLists"];
    const kernels = bindKernels({ ...instance, memory: instance.memory, ...Object.fromEntries(names.map((name) => [name, spy(name)])) } as unknown as KernelExports);
    return { kernels, calls };
  };
  const bitsDiffer = (got: Float32Array, want: Float32Array) => got.length !== want.length || got.some((v, i) => !Object.is(v, want[i]));

  it("give matmulNN's and matmulTN's bits (bias and relu too), for any rows, even widths, any columns, zeros or not", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2, 3, 5, 8, 17, 64),
        fc.constantFrom(2, 4, 6, 18, 64, 130),
        fc.constantFrom(1, 2, 3, 4, 5, 15, 16, 17, 33),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(1000),
        (m, k, n, density, seed) => {
          const bytes = Uint8Array.from({ length: 70 * k }, (_, i) => (Math.abs(Math.sin(seed + i * 12.9898)) < density ? 1 + ((i * 37 + seed) % 255) : 0));
          const rows = Array.from({ length: m }, (_, r) => (seed + r * 11) % 70);
          const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(seed + i * 0.7));
          const bias = Float32Array.from({ length: n }, (_, i) => Math.cos(i) / 4);
          const g = Float32Array.from({ length: m * n }, (_, i) => (i % 3 === 0 ? 0 : Math.cos(seed + i)));
          const { kernels, calls } = spied();
          const plain = loadSimdKernels()!; // the same products on a batch that is not kept: by pairs of rows
          const x = kernels.gatherUnitFloats(bytes, rows, k, new Float32Array(m * k), true);
          const xPlain = plain.gatherUnitFloats(bytes, rows, k, new Float32Array(m * k), false);
          if (bitsDiffer(kernels.linearNN(x, w, bias, m, k, n, true), plain.linearNN(xPlain, w, bias, m, k, n, true))) expect.fail(`linearNN ${m}x${k}x${n}`);
          if (bitsDiffer(kernels.matmulTN(x, g, k, m, n), plain.matmulTN(xPlain, g, k, m, n))) expect.fail(`matmulTN ${k}x${m}x${n}`);
          if (bitsDiffer(kernels.matmulNN(x, w, m, k, n, true), plain.matmulNN(xPlain, w, m, k, n, true))) expect.fail(`matmulNN ${m}x${k}x${n}`);
          // The lists made once, for a kept batch (arrays under 256 floats are copied in each time instead).
          expect(calls).toEqual(m * k >= 256 ? ["columnLists", "matmulNNLists", "matmulTNLists", "matmulNNLists"] : ["matmulNN", "matmulTN", "matmulNN"]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("are used only for the batch they describe: not after it is gathered into again, nor for a gradient of another width, nor for odd widths", () => {
    const m = 8, k = 32, n = 16;
    const bytes = Uint8Array.from({ length: 20 * k }, (_, i) => (i % 4 === 0 ? 0 : (i * 29) % 256));
    const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i));
    const g = Float32Array.from({ length: m * n }, (_, i) => Math.cos(i));
    const g2 = Float32Array.from({ length: m * 2 * n }, (_, i) => Math.cos(i));
    const { kernels, calls } = spied();
    const x = kernels.gatherUnitFloats(bytes, [0, 1, 2, 3, 4, 5, 6, 7], k, new Float32Array(m * k), true);
    kernels.matmulNN(x, w, m, k, n, true);
    kernels.gatherUnitFloats(bytes, [19, 18, 17, 16, 15, 14, 13, 12], k, x, true); // new values, same array
    const want = gatherUnitFloatsReference(bytes, [19, 18, 17, 16, 15, 14, 13, 12], k, new Float32Array(m * k));
    expectClose("matmulTN", kernels.matmulTN(x, g, k, m, n), want, g, k, m, n);
    expectClose("matmulTN", kernels.matmulTN(x, g2, k, m, 2 * n), want, g2, k, m, 2 * n);
    expectClose("matmulNN", kernels.matmulNN(x, w, m, k, n, true), want, w, m, k, n); // new lists for the new values
    expectClose("matmulTN", kernels.matmulTN(x, g2, k, m, 2 * n), want, g2, k, m, 2 * n); // lists of rows n wide: not for G 2n wide
    expectClose("matmulTN", kernels.matmulTN(x, g, k, m, n), want, g, k, m, n);
    expect(calls).toEqual(["columnLists", "matmulNNLists", "matmulTN", "matmulTN", "columnLists", "matmulNNLists", "matmulTN", "matmulTNLists"]);
    calls.length = 0;
    const odd = kernels.gatherUnitFloats(bytes, [0, 1, 2, 3, 4, 5, 6, 7], k - 1, new Float32Array(m * (k - 1)), true);
    kernels.matmulNN(odd, w, m, k - 1, n, true);
    expect(calls).toEqual(["matmulNN"]);
  });
});

describe("results left in the module's memory (their copy out deferred until read)", () => {
  // A fresh instance, its ring empty; `comeRound` takes quarter-ring rooms until every earlier room is covered.
  const fresh = () => {
    const kernels = loadSimdKernels()!;
    const quarter = kernels.residentBytes / 4;
    const comeRound = () => {
      for (let i = 0; i < 5; i++) kernels.matmulNN(Float32Array.of(1), new Float32Array(quarter / 4).fill(i), 1, 1, quarter / 4, true);
    };
    return { kernels, comeRound };
  };
  const m = 8, k = 64, n = 32; // every result here is large enough (>= 256 floats) to be kept
  const bytes = Uint8Array.from({ length: 20 * k }, (_, i) => (i % 3 === 0 ? 0 : (i * 29) % 256));
  const gm = Float32Array.from({ length: m * n }, (_, i) => Math.cos(i));
  const read = (array: Float32Array) => Array.from(new Tensor(array, [array.length]).data);

  it("are not in their arrays until read through Tensor.data, and then hold exactly what copying out at once gives", () => {
    const { kernels } = fresh();
    const x = kernels.gatherUnitFloats(bytes, [0, 1, 2, 3, 4, 5, 6, 7], k, new Float32Array(m * k), true);
    const dw = kernels.matmulTN(x, gm, k, m, n, false, true);
    const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i));
    const stepped = new Float32Array(k * n);
    kernels.sgdStep(w, dw, stepped, 0.5, 0, true);
    for (const array of [x, dw, stepped]) {
      expect(isDeferred(array)).toBe(true);
      expect(array.every((v) => v === 0)).toBe(true); // nothing written yet
    }
    const xWant = gatherUnitFloatsReference(bytes, [0, 1, 2, 3, 4, 5, 6, 7], k, new Float32Array(m * k));
    const dwWant = kernels.matmulTN(x, gm, k, m, n); // the same product, copied out at once
    const steppedWant = new Float32Array(k * n);
    sgdStepReference(w, dwWant, steppedWant, 0.5, 0);
    expect(read(x)).toEqual(Array.from(xWant));
    expect(read(dw)).toEqual(Array.from(dwWant));
    expect(read(stepped)).toEqual(Array.from(steppedWant));
    expect([x, dw, stepped].map(isDeferred)).toEqual([false, false, false]);
  });

  it("are copied out before the ring comes round over them", () => {
    const { kernels, comeRound } = fresh();
    const dw = kernels.matmulTN(gm, gm, n, m, n, false, true);
    const want = kernels.matmulTN(gm, gm, n, m, n);
    comeRound();
    expect(isDeferred(dw)).toBe(false);
    expect(Array.from(dw)).toEqual(Array.from(want));
  });

  it("do not land on a later batch gathered over the same memory (batches with reuseBuffers), read or not", () => {
    const { kernels, comeRound } = fresh();
    const memory = new ArrayBuffer(4 * m * k);
    kernels.gatherUnitFloats(bytes, [0, 1, 2, 3, 4, 5, 6, 7], k, new Float32Array(memory), true); // never read
    const rows = [9, 10, 11, 12, 13, 14, 15, 16];
    const later = kernels.gatherUnitFloats(bytes, rows, k, new Float32Array(memory), true);
    const want = Array.from(gatherUnitFloatsReference(bytes, rows, k, new Float32Array(m * k)));
    expect(read(later)).toEqual(want);
    comeRound(); // the first batch's room goes: its copy must not be made over the later batch
    expect(read(later)).toEqual(want);
  });

  it("of a gradient given to the free-list are dropped: they never land in the buffer's next owner", () => {
    const { kernels, comeRound } = fresh();
    const dw = kernels.matmulTN(gm, gm, n, m, n, false, true);
    clearPool();
    recycle(new Tensor(dw, [n, n])); // as the optimizer's donation does with a used gradient
    const next = kernels.matmulTN(gm, gm.map((v) => -v), n, m, n); // made in dw's buffer, copied out at once
    expect(next.buffer).toBe(dw.buffer);
    const want = Array.from(next);
    comeRound();
    expect(Array.from(next)).toEqual(want);
  });

  it("of a weight stepped into its own memory (donation) are dropped, so the new weight keeps its values", () => {
    const { kernels, comeRound } = fresh();
    const w0 = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i));
    const dw = kernels.matmulTN(bytes.subarray(0, m * k).reduce((a, v, i) => ((a[i] = v / 255), a), new Float32Array(m * k)), gm, k, m, n);
    const w1 = new Float32Array(k * n);
    kernels.sgdStep(w0, dw, w1, 0.5, 0, true); // w1 left in the ring
    const w2 = new Float32Array(w1.buffer); // donation: the next step writes into w1's memory
    kernels.sgdStep(w1, dw, w2, 0.5, 0, true);
    const want1 = new Float32Array(k * n), want2 = new Float32Array(k * n);
    sgdStepReference(w0, dw, want1, 0.5, 0);
    sgdStepReference(want1, dw, want2, 0.5, 0);
    expect(read(w2)).toEqual(Array.from(want2));
    comeRound(); // w1's room goes: its copy must not be made over w2
    expect(Array.from(w2)).toEqual(Array.from(want2));
  });
});

describe("the free-list of donated buffers", () => {
  it("hands a donated buffer back for a result of its size, and otherwise allocates", () => {
    clearPool();
    const buffer = new ArrayBuffer(4 * 6);
    give(buffer);
    expect(pooledBytes()).toBe(24);
    expect(float32Uninitialized(5).buffer).not.toBe(buffer);
    expect(float32Uninitialized(6).buffer).toBe(buffer);
    expect(pooledBytes()).toBe(0);
    expect(float32Uninitialized(6).buffer).not.toBe(buffer);
  });

  it("results written into reused buffers are the reference's (no stale values)", () => {
    clearPool();
    const a = Float32Array.of(1, 0, 2, 3), b = Float32Array.of(1, 1, 1, 1);
    give(new Float32Array([9, 9, 9, 9]).buffer);
    expect(Array.from(simd!.matmulNN(a, b, 2, 2, 2))).toEqual(Array.from(reference.matmulNN(a, b, 2, 2, 2)));
  });
});

describe("broadcastTo and sumToShape shortcuts", () => {
  const generic = {
    broadcast: (data: Float64Array, from: number[], to: number[]) => {
      const idx = offsets(to, broadcastStrides(from, to));
      return Array.from(idx, (j) => data[j]!);
    },
    sum: (data: Float64Array, from: number[], to: number[]) => {
      const out = new Float64Array(to.reduce((p, d) => p * d, 1));
      const idx = offsets(from, broadcastStrides(to, from));
      idx.forEach((j, i) => (out[j] = out[j]! + data[i]!));
      return Array.from(out);
    },
  };
  const shapePair = fc
    .array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 })
    .chain((to) => fc.tuple(fc.constant(to), fc.constantFrom([] as number[], to.map(() => 1), to.slice(1).map(() => 1), to.slice(-1))));

  it("give what the index maps give, for scalars, all-ones shapes, rows, and empty dimensions", () => {
    fc.assert(
      fc.property(shapePair, fc.double({ min: -3, max: 3, noNaN: true }), ([to, from], v) => {
        const size = from.reduce((p, d) => p * d, 1);
        const data = Float64Array.from({ length: size }, (_, i) => v + i);
        expect(Array.from(broadcastKernel(data, from, to))).toEqual(generic.broadcast(data, from, to));
        const big = Float64Array.from({ length: to.reduce((p, d) => p * d, 1) }, (_, i) => v * (i + 1));
        expect(Array.from(sumKernel(big, to, from))).toEqual(generic.sum(big, to, from));
      }),
    );
  });
});

describe("argmax over the last axis (a loop per row)", () => {
  it("equals the general reduction's arg-max, ties to the first and NaN winning, for any shape", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
          fc.tuple(fc.constant(shape), fc.array(fc.constantFrom(0, 1, 2, -1, Number.NaN, Number.NEGATIVE_INFINITY), { minLength: shape.reduce((p, d) => p * d, 1), maxLength: shape.reduce((p, d) => p * d, 1) })),
        ),
        ([shape, values]) => {
          const t = tensor(values, shape, "float64");
          const kept = [...shape.slice(0, -1), 1];
          if (shape[shape.length - 1] === 0) return; // the general path's concern (nothing to pick)
          const { argmax: flat } = maxToShape(t.data, shape, kept);
          const last = shape[shape.length - 1]!;
          expect(Array.from(argmax(t, -1))).toEqual(Array.from(flat, (i) => i % last));
        },
      ),
    );
  });
});

describe("linearNN (the product with the bias and relu added in WebAssembly memory)", () => {
  it("gives the bits of addBiasInPlace on the product, relu or not, NaN, -0 and infinities included", () => {
    const special = fc.constantFrom(0, -0, 1, -1, 0.5, -2.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-40, -1e-40);
    fc.assert(
      fc.property(
        fc.record({ m: dim, k: dim, n: dim, relu: fc.boolean() }).chain(({ m, k, n, relu }) =>
          fc.record({
            m: fc.constant(m), k: fc.constant(k), n: fc.constant(n), relu: fc.constant(relu),
            a: floats(m * k, 0.5), w: floats(k * n),
            bias: fc.array(fc.oneof(special, fc.double({ min: -4, max: 4, noNaN: true })), { minLength: n, maxLength: n }).map((xs) => Float32Array.from(xs)),
          }),
        ),
        ({ m, k, n, relu, a, w, bias }) => {
          const want = addBiasInPlace(simd!.matmulNN(a, w, m, k, n), bias, relu);
          const got = simd!.linearNN(a, w, bias, m, k, n, relu);
          expect(Array.from(got).map(Object.is.bind(null, 0))).toEqual(Array.from(want).map(Object.is.bind(null, 0))); // +0, not -0
          expect(Array.from(got)).toEqual(Array.from(want));
          expect(Array.from(mm.linearNN(Float64Array.from(a), Float64Array.from(w), Float64Array.from(bias), m, k, n, relu))).toEqual(
            Array.from(addBiasInPlace(reference.matmulNN(Float64Array.from(a), Float64Array.from(w), m, k, n), Float64Array.from(bias), relu)),
          );
        },
      ),
      { numRuns: 80 },
    );
  });

  it("adds the bias in every block of a product too tall for the memory", () => {
    const m = 3000, k = 784, n = 8; // 9.4 MB of A: blocks of rows
    const a = Float32Array.from({ length: m * k }, (_, i) => ((i * 7) % 11) - 5);
    const w = Float32Array.from({ length: k * n }, (_, i) => ((i * 3) % 7) / 7 - 0.4);
    const bias = Float32Array.from({ length: n }, (_, j) => j - 3.5);
    expect(Array.from(simd!.linearNN(a, w, bias, m, k, n, true))).toEqual(Array.from(addBiasInPlace(simd!.matmulNN(a, w, m, k, n), bias, true)));
  });
});

describe("gatherUnitFloats (rows of bytes scaled to [0, 1] in WebAssembly)", () => {
  it("gives the bits of the plain loop x * (1 / 255) for any rows, lengths (0 and 1 included) and bytes, mostly zeros or not", () => {
    fc.assert(
      fc.property(
        fc.record({ count: fc.integer({ min: 0, max: 9 }), length: fc.constantFrom(0, 1, 3, 15, 16, 17, 33, 784) }).chain(({ count, length }) =>
          fc.record({
            length: fc.constant(length),
            // Mostly black, like MNIST: runs of 16 zero bytes take the kernel's shortcut.
            bytes: fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }), { minLength: count * length, maxLength: count * length })
              .map((xs) => Uint8Array.from(xs)),
            rows: count === 0 ? fc.constant([]) : fc.array(fc.integer({ min: 0, max: count - 1 }), { maxLength: 12 }),
          }),
        ),
        ({ length, bytes, rows }) => {
          const want = gatherUnitFloatsReference(bytes, rows, length, new Float32Array(rows.length * length));
          expect(Array.from(simd!.gatherUnitFloats(bytes, rows, length, new Float32Array(rows.length * length)))).toEqual(Array.from(want));
        },
      ),
    );
  });

  it("covers every byte value, and more rows than fit in the memory at once (blocks)", () => {
    const length = 200_003; // odd, and 1 MB a row in the memory: about a dozen rows fit after the ring, so 40 go in blocks
    const bytes = Uint8Array.from({ length: 3 * length }, (_, i) => (i * 131) % 256);
    const rows = Array.from({ length: 40 }, (_, r) => (r * 2) % 3);
    const want = gatherUnitFloatsReference(bytes, rows, length, new Float32Array(rows.length * length));
    const got = simd!.gatherUnitFloats(bytes, rows, length, new Float32Array(rows.length * length));
    expect(got.every((x, i) => Object.is(x, want[i]))).toBe(true);
  });
});

describe("maskPositiveWithColumnSums (the relu layer's backward in one pass)", () => {
  it("gives the bits of maskPositive then columnSums, float32 and float64, empty and one-column matrices included", () => {
    fc.assert(
      fc.property(
        fc.record({ rows: dim, n: dim, f64: fc.boolean() }).chain(({ rows, n, f64 }) =>
          fc.record({ n: fc.constant(n), f64: fc.constant(f64), g: floats(rows * n, 0.2), mask: floats(rows * n, 0.4) }),
        ),
        ({ n, f64, g, mask }) => {
          const [gg, mm2] = f64 ? [Float64Array.from(g), Float64Array.from(mask)] : [g, mask];
          const masked = maskPositive(gg, mm2);
          const { masked: got, sums } = maskPositiveWithColumnSums(gg, mm2, n);
          expect(got.constructor).toBe(gg.constructor);
          expect(Array.from(got)).toEqual(Array.from(masked));
          expect(Array.from(sums)).toEqual(Array.from(columnSums(masked, n)));
        },
      ),
    );
  });
});

describe("maskPositive on WebAssembly (the relu layer's backward, branch-free)", () => {
  it("is what the relu and linear ops run: the loops' bits for float32, the loops themselves for float64", () => {
    fc.assert(
      fc.property(
        fc.record({ rows: dim, n: fc.integer({ min: 1, max: 37 }), f64: fc.boolean() }).chain(({ rows, n, f64 }) =>
          fc.record({ n: fc.constant(n), f64: fc.constant(f64), g: floats(rows * n, 0.2), y: floats(rows * n, 0.4) }),
        ),
        ({ n, f64, g, y }) => {
          const [gg, yy] = f64 ? [Float64Array.from(g), Float64Array.from(y)] : [g, y];
          const masked = dispatched.maskPositive(gg, yy);
          expect(masked.constructor).toBe(gg.constructor);
          expect(Array.from(masked)).toEqual(Array.from(maskPositive(gg, yy)));
          const both = dispatched.maskPositiveWithColumnSums(gg, yy, n);
          const want = maskPositiveWithColumnSums(gg, yy, n);
          expect(Array.from(both.masked)).toEqual(Array.from(want.masked));
          expect(Array.from(both.sums)).toEqual(Array.from(want.sums));
        },
      ),
    );
  });

  const special = (n: number) =>
    fc.array(fc.oneof(fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e-40), fc.double({ min: -4, max: 4, noNaN: true })), { minLength: n, maxLength: n })
      .map((xs) => Float32Array.from(xs));

  it("gives the bits of maskPositive and of its column sums, with or without the sums, NaN and -0 included", () => {
    fc.assert(
      fc.property(
        fc.record({ rows: dim, n: fc.integer({ min: 1, max: 37 }) }).chain(({ rows, n }) =>
          fc.record({ n: fc.constant(n), g: special(rows * n), y: special(rows * n), wantSums: fc.boolean() }),
        ),
        ({ n, g, y, wantSums }) => {
          const got = simd!.maskPositive(g, y, n, wantSums);
          expect(got).not.toBeNull();
          const want = maskPositive(g, y);
          expect(got!.masked.every((x, i) => Object.is(x, want[i]))).toBe(true);
          if (wantSums) {
            const sums = columnSums(want, n);
            expect(got!.sums!.every((x, i) => Object.is(x, sums[i]))).toBe(true);
          } else {
            expect(got!.sums).toBeNull();
          }
        },
      ),
    );
  });
});

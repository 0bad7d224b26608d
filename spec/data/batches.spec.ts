import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { key, split } from "../../src/autograd/random.ts";
import {
  allExamples,
  batchCount,
  batches,
  batchOf,
  epochOrder,
  featureCount,
  normalize,
  allIndices,
  splitTrainValidation,
  type Batch,
} from "../../src/data/batches.ts";
import { DataError } from "../../src/data/idx.ts";
import type { Examples } from "../../src/data/mnist.ts";
import { thrownBy } from "../thrown.ts";

// Data-specific arbitraries: a small set of examples, and batch settings for it.
const examples = (maxCount = 40): fc.Arbitrary<Examples> =>
  fc
    .record({ count: fc.integer({ min: 0, max: maxCount }), rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: 1, max: 3 }) })
    .chain(({ count, rows, cols }) =>
      fc.record({
        images: fc.uint8Array({ minLength: count * rows * cols, maxLength: count * rows * cols }),
        labels: fc.uint8Array({ minLength: count, maxLength: count, max: 9 }),
        count: fc.constant(count),
        rows: fc.constant(rows),
        cols: fc.constant(cols),
      }),
    );

const settings = fc.record({ batchSize: fc.integer({ min: 1, max: 12 }), seed: fc.nat(), epoch: fc.nat({ max: 1000 }), dropLast: fc.boolean() });

const sorted = (xs: ArrayLike<number>): number[] => Array.from(xs).sort((a, b) => a - b);
const isPermutationOf = (xs: ArrayLike<number>, of: ArrayLike<number>): boolean => {
  const a = sorted(xs);
  const b = sorted(of);
  return a.length === b.length && a.every((x, i) => x === b[i]);
};
const concatIndices = (bs: Batch[]): number[] => bs.flatMap((b) => Array.from(b.indices));

const errorOf = (f: () => unknown): DataError => thrownBy(f, DataError);

describe("normalize", () => {
  it("maps every byte b to float32(b / 255), so 0 -> 0 and 255 -> 1", () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, b) => b);
    const exact = Array.from(bytes, (b) => Math.fround(b / 255));
    const all = normalize(bytes);
    expect(Array.from(all)).toEqual(exact);
    expect([all[0], all[255]]).toEqual([0, 1]);
    // Batches scale the same way, for every byte value.
    const data: Examples = { images: bytes, labels: new Uint8Array(1), count: 1, rows: 16, cols: 16 };
    expect(Array.from(allExamples(data).x.data)).toEqual(exact);
  });
});

describe("batches", () => {
  it("cover every example exactly once per epoch, in batches of batchSize and a last partial one", () => {
    fc.assert(
      fc.property(examples(), settings, (data, { batchSize, seed, epoch }) => {
        const bs = [...batches(data, { batchSize, key: key(seed), epoch })];
        expect(isPermutationOf(concatIndices(bs), allIndices(data.count))).toBe(true);
        expect(bs.length).toBe(batchCount(data.count, batchSize));
        bs.slice(0, -1).forEach((b) => expect(b.size).toBe(batchSize));
        if (bs.length > 0) expect(bs.at(-1)!.size).toBe(data.count - batchSize * (bs.length - 1));
      }),
    );
  });

  it("drop only the last partial batch when asked, and see each example at most once", () => {
    fc.assert(
      fc.property(examples(), settings, (data, { batchSize, seed, epoch }) => {
        const bs = [...batches(data, { batchSize, key: key(seed), epoch, dropLast: true })];
        const seen = concatIndices(bs);
        expect(bs.length).toBe(Math.floor(data.count / batchSize));
        bs.forEach((b) => expect(b.size).toBe(batchSize));
        expect(new Set(seen).size).toBe(seen.length);
      }),
    );
  });

  it("hold each example's pixels flattened and scaled to [0, 1], with its label", () => {
    fc.assert(
      fc.property(examples(), settings, (data, { batchSize, seed, epoch, dropLast }) => {
        const f = featureCount(data);
        for (const b of batches(data, { batchSize, key: key(seed), epoch, dropLast })) {
          expect([...b.x.shape]).toEqual([b.size, f]);
          expect(b.x.dtype).toBe("float32");
          b.indices.forEach((i, r) => {
            expect(b.labels.data[r]).toBe(data.labels[i]);
            const want = Array.from(data.images.subarray(i * f, (i + 1) * f), (p) => Math.fround(p / 255));
            expect(Array.from(b.x.data.subarray(r * f, (r + 1) * f))).toEqual(want);
          });
        }
      }),
      { numRuns: 50 },
    );
  });

  it("come in the same order for the same key and epoch, and in index order without a key", () => {
    fc.assert(
      fc.property(examples(), settings, (data, { batchSize, seed, epoch }) => {
        const once = concatIndices([...batches(data, { batchSize, key: key(seed), epoch })]);
        const again = concatIndices([...batches(data, { batchSize, key: key(seed), epoch })]);
        expect(again).toEqual(once);
        expect(concatIndices([...batches(data, { batchSize })])).toEqual(Array.from(allIndices(data.count)));
      }),
    );
  });

  it("come in a different order each epoch", () => {
    const k = key(7);
    const orders = Array.from({ length: 10 }, (_, e) => Array.from(epochOrder(k, e, 1000)).join());
    expect(new Set(orders).size).toBe(10);
  });

  it("for a run resumed at epoch k, come in the order an uninterrupted run sees at epoch k", () => {
    const data: Examples = { images: new Uint8Array(100), labels: new Uint8Array(100), count: 100, rows: 1, cols: 1 };
    const k = key(42);
    const uninterrupted = Array.from({ length: 5 }, (_, epoch) => concatIndices([...batches(data, { batchSize: 8, key: k, epoch })]));
    const resumed = concatIndices([...batches(data, { batchSize: 8, key: key(42), epoch: 4 })]);
    expect(resumed).toEqual(uninterrupted[4]);
  });

  it("draw only from `among`, each of them once", () => {
    fc.assert(
      fc.property(examples(), settings, fc.infiniteStream(fc.boolean()), (data, { batchSize, seed, epoch }, picks) => {
        const among = Int32Array.from(Array.from(allIndices(data.count)).filter(() => picks.next().value));
        const seen = concatIndices([...batches(data, { batchSize, key: key(seed), epoch, among })]);
        expect(isPermutationOf(seen, among)).toBe(true);
      }),
    );
  });

  it("give the same values when gathered in reused buffers, and every batch keeps its values after the next is built", () => {
    fc.assert(
      fc.property(examples(), settings, (data, { batchSize, seed, epoch, dropLast }) => {
        const options = { batchSize, key: key(seed), epoch, dropLast };
        const fresh = [...batches(data, options)].map((b) => ({ x: Array.from(b.x.data), labels: Array.from(b.labels.data) }));
        const kept = [...batches(data, { ...options, reuseBuffers: true })];
        expect(kept.map((b) => ({ x: Array.from(b.x.data), labels: Array.from(b.labels.data) }))).toEqual(fresh);
      }),
      { numRuns: 50 },
    );
  });

  it("number 844 per epoch for MNIST's 54,000 training examples in batches of 64", () => {
    const data: Examples = { images: new Uint8Array(60000), labels: new Uint8Array(60000), count: 60000, rows: 1, cols: 1 };
    const { train } = splitTrainValidation(60000, key(0));
    let n = 0;
    let last = 0;
    for (const b of batches(data, { batchSize: 64, key: key(1), among: train, reuseBuffers: true })) {
      n++;
      last = b.size;
    }
    expect([n, last]).toEqual([844, 54000 - 843 * 64]);
    expect(batchCount(54000, 64, true)).toBe(843);
  });

  it("refuse a batch size that is not a positive integer, and indices outside the examples, when called", () => {
    const data: Examples = { images: new Uint8Array(4), labels: new Uint8Array(4), count: 4, rows: 1, cols: 1 };
    expect(errorOf(() => batches(data, { batchSize: 0 })).message).toBe("batches: batchSize must be a positive integer, got 0");
    expect(errorOf(() => batches(data, { batchSize: 2, among: Int32Array.of(1, 4) })).message).toBe("batches: index 4 at position 1 is not an example in [0, 3]");
    expect(errorOf(() => batchOf(data, [-1])).message).toBe("batchOf: index -1 at position 0 is not an example in [0, 3]");
    expect(errorOf(() => epochOrder(key(0), -1, 3)).message).toMatch(/epoch must be a non-negative integer/);
  });
});

describe("epochOrder", () => {
  it("is a permutation of the examples it is given", () => {
    fc.assert(
      fc.property(fc.nat({ max: 200 }), fc.nat(), fc.nat({ max: 100 }), (n, seed, epoch) => {
        expect(isPermutationOf(epochOrder(key(seed), epoch, n), allIndices(n))).toBe(true);
        const among = Int32Array.from({ length: n }, (_, i) => 3 * i + 1);
        expect(isPermutationOf(epochOrder(key(seed), epoch, among), among)).toBe(true);
      }),
    );
  });
});

describe("splitTrainValidation", () => {
  it("holds out round(count * fraction) examples, disjoint from the training ones, together covering all", () => {
    fc.assert(
      fc.property(fc.nat({ max: 500 }), fc.nat(), fc.double({ min: 0, max: 0.9, noNaN: true }), (count, seed, validationFraction) => {
        const { train, validation } = splitTrainValidation(count, key(seed), { validationFraction });
        expect(validation.length).toBe(Math.round(count * validationFraction));
        expect(isPermutationOf([...train, ...validation], allIndices(count))).toBe(true);
        const held = new Set(validation);
        expect(Array.from(train).some((i) => held.has(i))).toBe(false);
        expect(Array.from(train)).toEqual(sorted(train));
        expect(Array.from(validation)).toEqual(sorted(validation));
      }),
    );
  });

  it("holds out 10% by default: 6,000 of MNIST's 60,000", () => {
    const { train, validation } = splitTrainValidation(60000, key(0));
    expect([train.length, validation.length]).toEqual([54000, 6000]);
  });

  it("is the same for the same key and differs between keys", () => {
    const [a, b] = split(key(3));
    const first = splitTrainValidation(1000, a!);
    expect(splitTrainValidation(1000, a!)).toEqual(first);
    expect(Array.from(splitTrainValidation(1000, b!).validation)).not.toEqual(Array.from(first.validation));
  });

  it("refuses a fraction outside [0, 1)", () => {
    expect(errorOf(() => splitTrainValidation(10, key(0), { validationFraction: 1 })).message).toMatch(/validationFraction must be in \[0, 1\), got 1/);
  });
});

describe("batchOf and allExamples", () => {
  it("build one batch from chosen examples, or from all of them in order", () => {
    const data: Examples = { images: Uint8Array.of(0, 255, 51, 102), labels: Uint8Array.of(3, 7), count: 2, rows: 1, cols: 2 };
    const all = allExamples(data);
    expect(all.x.toArray()).toEqual([[0, 1], [0.2, 0.4]].map((r) => r.map(Math.fround)));
    expect([...all.labels.data]).toEqual([3, 7]);
    const one = batchOf(data, [1]);
    expect([...one.indices, ...one.labels.data]).toEqual([1, 7]);
    expect([...allExamples(data, Int32Array.of(1)).labels.data]).toEqual([7]);
  });
});


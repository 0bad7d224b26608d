// Fuzzing the IDX reader: whatever the bytes, it either returns an array the bytes really hold, or
// throws its own DataError naming the file. Never another exception (a RangeError from a DataView, a
// zlib error), never a hang, never an allocation the bytes do not justify.

import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DataError, encodeIdx, IDX_TYPES, type IdxArray, type IdxType, parseIdx } from "../../src/data/idx.ts";
import { toExamples } from "../../src/data/mnist.ts";

const FILE = "fuzz-idx";
/** Small, so a header that promises more than a fuzz input could hold is refused, not allocated. */
const MAX_BYTES = 2 ** 16;

type Outcome = { ok: IdxArray } | { error: DataError };

/** Runs the reader; any exception that is not a DataError fails the property. */
const attempt = (bytes: Uint8Array): Outcome => {
  try {
    return { ok: parseIdx(bytes, FILE, { maxBytes: MAX_BYTES }) };
  } catch (e) {
    if (e instanceof DataError) return { error: e };
    throw e;
  }
};

/** What an IDX header says, read independently of the reader. */
const declared = (bytes: Uint8Array): { rank: number; count: number; size: number } | null => {
  const t = IDX_TYPES.find((x) => x.code === bytes[2]);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || !t || bytes[3] === 0) return null;
  const rank = bytes[3]!;
  if (bytes.length < 4 + 4 * rank) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  let count = 1;
  for (let i = 0; i < rank; i++) count *= view.getUint32(4 + 4 * i);
  return { rank, count, size: t.size };
};

/** A successful parse of raw bytes must agree with the header and the length, and re-encode to the same bytes. */
const expectFaithful = (bytes: Uint8Array, outcome: Outcome): void => {
  const d = declared(bytes);
  const valid = d !== null && bytes.length === 4 + 4 * d.rank + d.count * d.size;
  if ("error" in outcome) {
    expect(outcome.error.message.startsWith(`${FILE}: `)).toBe(true);
    expect(valid && bytes.length <= MAX_BYTES).toBe(false);
    return;
  }
  expect(valid).toBe(true);
  const a = outcome.ok;
  expect(a.data.length).toBe(d!.count);
  expect(a.dims.length).toBe(d!.rank);
  // Floats may carry NaN payloads that do not survive decoding; integers must come back byte for byte.
  if (a.type !== "float" && a.type !== "double") expect(encodeIdx(a)).toEqual(new Uint8Array(bytes));
};

const smallIdx = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.constantFrom<IdxType>(...IDX_TYPES.map((t) => t.type)), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }))
    .chain(([type, dims]) => {
      const n = dims.reduce((p, d) => p * d, 1);
      const size = IDX_TYPES.find((t) => t.type === type)!.size;
      // Any bit pattern is a valid element, so random bytes fill the data section.
      return fc.uint8Array({ minLength: n * size, maxLength: n * size }).map((body) => {
        const head = encodeIdx({ type, dims, data: new Array<number>(n).fill(0) });
        head.set(body, head.length - body.length);
        return head;
      });
    });

type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "append"; extra: Uint8Array }
  | { kind: "set"; at: number; value: number }
  | { kind: "dim"; axis: number; value: number };

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  // Huge promised dimensions: anything up to 2^32 - 1 along an axis.
  fc.record({ kind: fc.constant("dim" as const), axis: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constant(0xffffffff)) }),
);

const mutate = (bytes: Uint8Array, m: Mutation): Uint8Array => {
  const out = new Uint8Array(bytes);
  switch (m.kind) {
    case "truncate":
      return out.subarray(0, m.at % (bytes.length + 1));
    case "append": {
      const grown = new Uint8Array(bytes.length + m.extra.length);
      grown.set(bytes);
      grown.set(m.extra, bytes.length);
      return grown;
    }
    case "set":
      if (bytes.length > 0) out[m.at % bytes.length] = m.value;
      return out;
    case "dim": {
      // Only where the header still has that dimension (an earlier mutation may have cut it off).
      const rank = bytes[3] ?? 0;
      const at = 4 + 4 * (m.axis % Math.max(rank, 1));
      if (rank > 0 && at + 4 <= bytes.length) new DataView(out.buffer).setUint32(at, m.value);
      return out;
    }
  }
};

describe("the IDX reader, fuzzed", () => {
  it("reads random bytes faithfully or throws its own error", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => expectFaithful(bytes, attempt(bytes))), { numRuns: 300 });
  });

  it("reads random bytes behind a valid magic number faithfully or throws its own error", () => {
    const withMagic = fc
      .tuple(fc.constantFrom(...IDX_TYPES.map((t) => t.code)), fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 40 }))
      .map(([code, rank, rest]) => Uint8Array.of(0, 0, code, rank, ...rest));
    fc.assert(fc.property(withMagic, (bytes) => expectFaithful(bytes, attempt(bytes))), { numRuns: 300 });
  });

  it("reads valid files exactly, and truncated, extended, corrupted or huge-dimensioned ones faithfully or with its own error", () => {
    fc.assert(
      fc.property(smallIdx(), fc.array(mutations, { maxLength: 3 }), (bytes, ms) => {
        const mutated = ms.reduce(mutate, bytes);
        expectFaithful(mutated, attempt(mutated));
      }),
      { numRuns: 400 },
    );
  });

  it("reads a gzip stream of any bytes just as it reads the bytes themselves", () => {
    fc.assert(
      fc.property(smallIdx(), fc.array(mutations, { maxLength: 2 }), (bytes, ms) => {
        const raw = ms.reduce(mutate, bytes);
        const plain = attempt(raw);
        const gz = attempt(new Uint8Array(gzipSync(raw)));
        if ("ok" in plain) {
          expect("ok" in gz && encodeIdx(gz.ok)).toEqual(encodeIdx(plain.ok));
        } else {
          expect("error" in gz).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("turns damaged gzip streams into its own error, never a zlib exception", () => {
    fc.assert(
      fc.property(smallIdx(), fc.array(mutations, { minLength: 1, maxLength: 3 }), (bytes, ms) => {
        const gz = new Uint8Array(gzipSync(bytes));
        // Keep the gzip magic (so the gzip path is taken) and damage the rest.
        const damaged = ms.reduce(mutate, gz);
        if (damaged.length >= 2) {
          damaged[0] = 0x1f;
          damaged[1] = 0x8b;
        }
        const outcome = attempt(damaged);
        if ("ok" in outcome) expect(outcome.ok.data.length).toBe(outcome.ok.dims.reduce((p, d) => p * d, 1));
        else expect(outcome.error.message.startsWith(`${FILE}: `)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe("images and labels, fuzzed", () => {
  const arrays = fc
    .record({
      count: fc.integer({ min: 0, max: 6 }),
      labelCount: fc.integer({ min: 0, max: 6 }),
      rows: fc.integer({ min: 0, max: 3 }),
      cols: fc.integer({ min: 0, max: 3 }),
      maxLabel: fc.integer({ min: 0, max: 12 }),
    })
    .chain(({ count, labelCount, rows, cols, maxLabel }) =>
      fc.record({
        images: fc.constant<IdxArray>({ type: "ubyte", dims: [count, rows, cols], data: new Uint8Array(count * rows * cols) }),
        labels: fc.array(fc.integer({ min: 0, max: maxLabel }), { minLength: labelCount, maxLength: labelCount }).map((ys): IdxArray => ({ type: "ubyte", dims: [labelCount], data: Uint8Array.from(ys) })),
      }),
    );

  it("are accepted exactly when there are images of at least 1 x 1 pixel, the counts agree and every label is below the class count", () => {
    fc.assert(
      fc.property(arrays, ({ images, labels }) => {
        const [count, rows, cols] = images.dims as [number, number, number];
        const nonEmpty = count > 0 && rows > 0 && cols > 0;
        const agree = nonEmpty && count === labels.dims[0] && Array.from(labels.data).every((y) => y < 10);
        try {
          const ex = toExamples(images, labels, { images: "imgs", labels: "lbls" }, 10);
          expect(agree).toBe(true);
          expect(ex.count).toBe(images.dims[0]);
        } catch (e) {
          if (!(e instanceof DataError)) throw e;
          expect(agree).toBe(false);
          expect(e.file).toBe(nonEmpty ? "lbls" : "imgs");
        }
      }),
    );
  });
});

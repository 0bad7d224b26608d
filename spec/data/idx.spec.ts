import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { DataError, encodeIdx, IDX_TYPES, type IdxArray, type IdxData, type IdxType, isGzip, parseIdx, readIdx, writeIdx } from "../../src/data/idx.ts";
import { thrownBy } from "../thrown.ts";

// Data-specific arbitraries: an IDX array of any element type with small dimensions.
const valuesOf: Record<IdxType, fc.Arbitrary<number>> = {
  ubyte: fc.integer({ min: 0, max: 255 }),
  sbyte: fc.integer({ min: -128, max: 127 }),
  short: fc.integer({ min: -32768, max: 32767 }),
  int: fc.integer(),
  float: fc.float(), // every float32, with NaN, infinities and -0
  double: fc.double(),
};

const typedArrayOf = (type: IdxType, values: number[]): IdxData => {
  switch (type) {
    case "ubyte": return Uint8Array.from(values);
    case "sbyte": return Int8Array.from(values);
    case "short": return Int16Array.from(values);
    case "int": return Int32Array.from(values);
    case "float": return Float32Array.from(values);
    case "double": return Float64Array.from(values);
  }
};

export const idxArrays = (types: readonly IdxType[] = IDX_TYPES.map((t) => t.type)): fc.Arbitrary<IdxArray> =>
  fc
    .tuple(fc.constantFrom(...types), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }))
    .chain(([type, dims]) => {
      const n = dims.reduce((p, d) => p * d, 1);
      return fc.array(valuesOf[type], { minLength: n, maxLength: n }).map((values) => ({ type, dims, data: typedArrayOf(type, values) }));
    });

/** Same type, same dimensions, and every element the same value (NaN equals NaN, -0 is not 0). */
const expectSameArray = (actual: IdxArray, expected: IdxArray): void => {
  expect(actual.type).toBe(expected.type);
  expect([...actual.dims]).toEqual([...expected.dims]);
  expect(actual.data.constructor).toBe(expected.data.constructor);
  expect(actual.data.length).toBe(expected.data.length);
  const differ = Array.from(expected.data).findIndex((v, i) => !Object.is(v, actual.data[i]));
  expect(differ).toBe(-1);
};

const header = (code: number, dims: readonly number[]): Uint8Array => {
  const out = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (code << 8) | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  return out;
};

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const errorOf = (f: () => unknown): DataError => thrownBy(f, DataError);

const dir = mkdtempSync(join(tmpdir(), "idx-spec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("encodeIdx and parseIdx", () => {
  it("give back the same array for every element type, raw", () => {
    fc.assert(fc.property(idxArrays(), (a) => expectSameArray(parseIdx(encodeIdx(a)), a)));
  });

  it("give back the same array for every element type, gzip-compressed", () => {
    fc.assert(fc.property(idxArrays(), (a) => {
      const gz = encodeIdx(a, { gzip: true });
      expect(isGzip(gz)).toBe(true);
      expectSameArray(parseIdx(gz), a);
    }));
  });

  it("write the magic number 0x00000803 for ubyte images of 3 dimensions and 0x00000801 for labels", () => {
    const images = encodeIdx({ dims: [2, 1, 1], data: new Uint8Array(2) });
    const labels = encodeIdx({ dims: [2], data: new Uint8Array(2) });
    expect([...images.subarray(0, 4)]).toEqual([0, 0, 8, 3]);
    expect([...labels.subarray(0, 4)]).toEqual([0, 0, 8, 1]);
  });

  it("store elements big-endian", () => {
    const bytes = encodeIdx({ dims: [2], data: Int16Array.from([0x0102, -2]) });
    expect([...bytes]).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
  });

  it("leave ubyte data as a view on the bytes read, with no copy", () => {
    const bytes = encodeIdx({ dims: [3, 2, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i) });
    const a = parseIdx(bytes);
    expect(a.data.buffer).toBe(bytes.buffer);
    expect(a.data.byteOffset).toBe(16);
  });

  it("refuse values the element type cannot hold, and data that does not fill the dimensions", () => {
    expect(errorOf(() => encodeIdx({ type: "ubyte", dims: [1], data: [256] })).message).toMatch(/value 256 at index 0 is not an integer in \[0, 255\]/);
    expect(errorOf(() => encodeIdx({ type: "short", dims: [1], data: [1.5] })).message).toMatch(/not an integer/);
    expect(errorOf(() => encodeIdx({ type: "int", dims: [2, 2], data: [1, 2, 3] })).message).toMatch(/dimensions 2 x 2 need 4 values, the data has 3/);
    expect(errorOf(() => encodeIdx({ type: "int", dims: [], data: [] })).message).toMatch(/0 dimensions, an IDX file holds 1 to 255/);
    expect(errorOf(() => encodeIdx({ dims: [1], data: [1] })).message).toMatch(/no element type given/);
  });
});

describe("writeIdx and readIdx", () => {
  it("round-trip through files, compressed when the name ends in .gz", () => {
    fc.assert(
      fc.property(idxArrays(), fc.boolean(), (a, gz) => {
        const path = join(dir, gz ? "a.idx.gz" : "a.idx");
        writeIdx(path, a);
        expect(isGzip(readFileSync(path))).toBe(gz);
        expectSameArray(readIdx(path), a);
      }),
      { numRuns: 30 },
    );
  });

  it("recognise gzip by its magic bytes, not by the file's name", () => {
    const a: IdxArray = { type: "ubyte", dims: [2, 2], data: Uint8Array.from([1, 2, 3, 4]) };
    writeIdx(join(dir, "compressed-but-plain-name"), a, { gzip: true });
    writeIdx(join(dir, "plain-but-named.gz"), a, { gzip: false });
    expectSameArray(readIdx(join(dir, "compressed-but-plain-name")), a);
    expectSameArray(readIdx(join(dir, "plain-but-named.gz")), a);
  });

  it("say so when the file does not exist or is a directory", () => {
    expect(errorOf(() => readIdx(join(dir, "nope"))).message).toBe(`${join(dir, "nope")}: no such file`);
    expect(errorOf(() => readIdx(dir)).message).toMatch(/is a directory, expected an IDX file/);
  });

  it("refuse a file larger than maxBytes before reading it", () => {
    writeIdx(join(dir, "big"), { type: "ubyte", dims: [100], data: new Uint8Array(100) });
    expect(errorOf(() => readIdx(join(dir, "big"), { maxBytes: 50 })).message).toMatch(/too large: the file holds 108 bytes, more than the limit of 50/);
  });
});

describe("the IDX reader's errors", () => {
  it("name the file, say it is truncated, what the header promised and what the file holds", () => {
    const bytes = concat(header(0x08, [60000, 28, 28]), new Uint8Array(1234));
    expect(errorOf(() => parseIdx(bytes, "train-images-idx3-ubyte", { contents: "pixels" })).message).toBe(
      "train-images-idx3-ubyte: truncated: header promises 60000 x 28 x 28 = 47,040,000 bytes of pixels, the file holds 1,234 after its 16-byte header",
    );
  });

  it("count bytes for wider element types", () => {
    const bytes = concat(header(0x0d, [3]), new Uint8Array(8));
    expect(errorOf(() => parseIdx(bytes, "f")).message).toBe("f: truncated: header promises 3 floats of 4 bytes = 12 bytes of data, the file holds 8 after its 8-byte header");
  });

  it("report bytes beyond what the header promises", () => {
    const bytes = concat(header(0x08, [2]), new Uint8Array(5));
    expect(errorOf(() => parseIdx(bytes, "labels")).message).toBe("labels: trailing bytes: header promises 2 bytes of data, the file holds 5 after its 8-byte header (3 too many)");
  });

  it("reject a magic number that does not start with two zero bytes", () => {
    expect(errorOf(() => parseIdx(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), "zip")).message).toBe(
      "zip: not an IDX file: the magic number 0x504B0304 should start with two zero bytes (images are 0x00000803, labels 0x00000801)",
    );
  });

  it("reject an unknown element type code and list the valid ones", () => {
    expect(errorOf(() => parseIdx(Uint8Array.from([0, 0, 0x0a, 1, 0, 0, 0, 0]), "x")).message).toBe(
      "x: not an IDX file: unknown element type code 0x0A in magic number 0x00000A01 (expected one of 0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, 0x0E double)",
    );
  });

  it("reject zero dimensions and a header cut short", () => {
    expect(errorOf(() => parseIdx(Uint8Array.from([0, 0, 8, 0]), "x")).message).toMatch(/says 0 dimensions \(expected at least 1\)/);
    expect(errorOf(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0]), "x")).message).toBe("x: truncated: the header of 3 dimensions needs 16 bytes, the file holds 6");
    expect(errorOf(() => parseIdx(Uint8Array.from([0, 0]), "x")).message).toBe("x: truncated: an IDX file starts with a 4-byte magic number, the file holds 2 bytes");
  });

  it("refuse huge promised dimensions without allocating them", () => {
    const bytes = concat(header(0x0e, Array.from({ length: 255 }, () => 0xffffffff)), new Uint8Array(10));
    expect(errorOf(() => parseIdx(bytes, "huge")).message).toMatch(/^huge: truncated: header promises 4294967295 x .* doubles of 8 bytes = \d{1,3}(,\d{3})+ bytes of data, the file holds 10 after/);
  });

  it("check the element type and number of dimensions when asked", () => {
    const labels = encodeIdx({ dims: [2], data: new Uint8Array(2) });
    expect(errorOf(() => parseIdx(labels, "l", { expectRank: 3 })).message).toBe("l: has 1 dimension (magic 0x00000801), expected 3");
    expect(errorOf(() => parseIdx(labels, "l", { expectType: "float" })).message).toBe("l: element type is ubyte (magic 0x00000801), expected float");
  });

  it("turn corrupt gzip data into its own error", () => {
    expect(errorOf(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), "g.gz")).message).toMatch(/^g\.gz: corrupt gzip data \(.*\); the file may be truncated or damaged, download it again$/);
    const gz = encodeIdx({ dims: [1000], data: new Float64Array(1000).map((_, i) => Math.sin(i)) }, { gzip: true });
    expect(errorOf(() => parseIdx(gz.subarray(0, gz.length - 100), "cut.gz")).message).toMatch(/^cut\.gz: corrupt gzip data \(unexpected end of file\)/);
  });

  it("stop inflating a gzip bomb at the size its header promises", () => {
    const bomb = gzipSync(concat(header(0x08, [4]), new Uint8Array(4 * 2 ** 20))); // 4 MiB of zeros in ~4 KB
    expect(bomb.length).toBeLessThan(10_000);
    expect(errorOf(() => parseIdx(bomb, "bomb.gz")).message).toBe("bomb.gz: trailing bytes: the gzip stream inflates to more than the 12 bytes its IDX header promises");
  });

  it("refuse a gzip stream whose header promises more than maxBytes, before inflating it", () => {
    const gz = gzipSync(concat(header(0x08, [2 ** 20]), new Uint8Array(2 ** 20)));
    expect(errorOf(() => parseIdx(gz, "big.gz", { maxBytes: 2 ** 19 })).message).toBe(
      "big.gz: too large: header promises 1,048,576 bytes of data, more than the limit of 524,288 bytes (raise maxBytes if the file is genuine)",
    );
  });

  it("read a gzip stream whose gzip header is too long to peek at, still within maxBytes", () => {
    // A gzip header with an 8 KB comment (FCOMMENT) pushes the IDX header past the first 4 KiB.
    const a: IdxArray = { type: "ubyte", dims: [3], data: Uint8Array.from([7, 8, 9]) };
    const plain = gzipSync(encodeIdx(a));
    const withComment = concat(plain.subarray(0, 3), Uint8Array.of(plain[3]! | 0x10), plain.subarray(4, 10), new Uint8Array(8192).fill(0x41), Uint8Array.of(0), plain.subarray(10));
    expectSameArray(parseIdx(withComment, "commented.gz"), a);
    expect(errorOf(() => parseIdx(withComment, "commented.gz", { maxBytes: 10 })).message).toMatch(/too large: the gzip stream inflates to more than the limit of 10 bytes/);
  });

  it("refuse a maxBytes that is not a positive integer", () => {
    expect(errorOf(() => parseIdx(encodeIdx({ dims: [1], data: new Uint8Array(1) }), "x", { maxBytes: 0.5 })).message).toBe("x: maxBytes must be a positive integer, got 0.5");
  });

  it("name the file from disk in messages", () => {
    writeFileSync(join(dir, "bad"), Uint8Array.from([1, 2, 3, 4]));
    expect(errorOf(() => readIdx(join(dir, "bad"))).file).toBe(join(dir, "bad"));
  });
});

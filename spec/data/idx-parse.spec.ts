// The browser-side IDX parser (no Node imports) reads exactly what the Node reader reads, and says
// so plainly when it is handed a gzip file it cannot decompress.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeIdx, parseIdx } from "../../src/data/idx.ts";
import { DataError, parseIdxBytes } from "../../src/data/idx-parse.ts";
import { toExamples } from "../../src/data/examples.ts";
import { thrownBy } from "../thrown.ts";

const smallUbyte = fc
  .tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
  .chain(([n, r, c]) => fc.uint8Array({ minLength: n * r * c, maxLength: n * r * c }).map((data) => ({ dims: [n, r, c], data })));

describe("parseIdxBytes, the IDX parser the browser uses", () => {
  it("reads any uncompressed IDX file exactly as the Node reader parseIdx does", () => {
    fc.assert(
      fc.property(smallUbyte, ({ dims, data }) => {
        const bytes = encodeIdx({ type: "ubyte", dims, data });
        const a = parseIdxBytes(bytes, "x");
        const b = parseIdx(bytes, "x");
        expect(a.type).toBe(b.type);
        expect(a.dims).toEqual(b.dims);
        expect(Array.from(a.data)).toEqual(Array.from(b.data));
      }),
    );
  });

  it("refuses gzip-compressed bytes with a message that says to decompress them first", () => {
    const gz = encodeIdx({ type: "ubyte", dims: [2], data: Uint8Array.of(1, 2) }, { gzip: true });
    expect(thrownBy(() => parseIdxBytes(gz, "labels.gz"), DataError).message).toMatch(/^labels\.gz: gzip-compressed: .*decompress it first/);
  });
});

describe("toExamples, shared by the Node loader and the playground's worker", () => {
  const images = parseIdxBytes(encodeIdx({ type: "ubyte", dims: [2, 2, 2], data: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7) }), "img");
  it("pairs images with labels and reads the image size from the header", () => {
    const e = toExamples(images, parseIdxBytes(encodeIdx({ type: "ubyte", dims: [2], data: Uint8Array.of(3, 9) }), "lab"), { images: "img", labels: "lab" });
    expect([e.count, e.rows, e.cols, Array.from(e.labels)]).toEqual([2, 2, 2, [3, 9]]);
  });
  it("refuses labels that do not match the images in number, or that are not classes", () => {
    const three = parseIdxBytes(encodeIdx({ type: "ubyte", dims: [3], data: Uint8Array.of(1, 2, 3) }), "lab");
    expect(thrownBy(() => toExamples(images, three, { images: "img", labels: "lab" }), DataError).message).toBe(
      "lab: holds 3 labels but img holds 2 images; they must agree (are the files from the same dataset?)",
    );
    const ten = parseIdxBytes(encodeIdx({ type: "ubyte", dims: [2], data: Uint8Array.of(1, 10) }), "lab");
    expect(thrownBy(() => toExamples(images, ten, { images: "img", labels: "lab" }, 10), DataError).message).toBe("lab: label 10 at index 1 is not a class in [0, 9]");
    expect(Array.from(toExamples(images, ten, { images: "img", labels: "lab" }).labels)).toEqual([1, 10]); // without a class count, any byte
  });
});

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import fc from "fast-check";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import {
  applyOrientation,
  decodeImage,
  detectFormat,
  encodePng,
  exifOrientation,
  ImageError,
  MAX_ASPECT,
  MAX_SIDE,
  readImage,
  readImageHeader,
  writePng,
} from "../../src/data/image-io.ts";

// ---- fixtures: PNGs of every colour type and bit depth, built chunk by chunk -------------------

const bytesOf = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const u32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

const chunk = (type: string, data: ArrayLike<number>): number[] => {
  const body = Uint8Array.from([...bytesOf(type), ...Array.from(data)]);
  return [...u32(data.length), ...body, ...u32(crc32(body))];
};

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** A PNG from rows of samples (grey / RGB / index / grey+alpha / RGBA, per colour type), packed MSB first. */
const pngFile = (
  { width, height, bitDepth, colorType }: { width: number; height: number; bitDepth: number; colorType: number },
  rows: number[][],
  extra: [string, number[]][] = [],
): Uint8Array => {
  const raw: number[] = [];
  for (const row of rows) {
    raw.push(0); // filter type 0: none
    if (bitDepth === 16) for (const s of row) raw.push(s >> 8, s & 255);
    else if (bitDepth === 8) raw.push(...row);
    else {
      const perByte = 8 / bitDepth;
      for (let i = 0; i < row.length; i += perByte) {
        let b = 0;
        for (let k = 0; k < perByte; k++) b |= (row[i + k] ?? 0) << (8 - bitDepth * (k + 1));
        raw.push(b);
      }
    }
  }
  expect(rows.every((r) => r.length === width * SAMPLES[colorType]!)).toBe(true);
  return Uint8Array.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
    ...chunk("IHDR", [...u32(width), ...u32(height), bitDepth, colorType, 0, 0, 0]),
    ...extra.flatMap(([type, data]) => chunk(type, data)),
    ...chunk("IDAT", deflateSync(Uint8Array.from(raw))),
    ...chunk("IEND", []),
  ]);
};

/** The RGBA bytes of pixel (x, y). */
const px = (img: { width: number; rgba: Uint8Array }, x: number, y: number): number[] => [...img.rgba.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4)];

const grey = (v: number): number[] => [v, v, v, 255];

// Tiny JPEGs made with libjpeg-turbo's cjpeg (jpeg-js only writes 3-component baseline):
// a 16x8 grey one (left half 40, right half 200), a progressive colour one, an arithmetic-coded one.
const GREY_JPEG =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAAIABABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/AP5P6/1AK//Z";
const PROGRESSIVE_JPEG =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wgARCAAIABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAf/xAAVAQEBAAAAAAAAAAAAAAAAAAAGB//aAAwDAQACEAMQAAABls5H9Q//xAAUEAEAAAAAAAAAAAAAAAAAAAAQ/9oACAEBAAEFAj//xAAYEQACAwAAAAAAAAAAAAAAAAAAB0SDw//aAAgBAwEBPwFxwbMz/8QAGBEAAgMAAAAAAAAAAAAAAAAAAAdFg8P/2gAIAQIBAT8BRkhVof/EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEABj8CP//EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEAAT8hP//aAAwDAQACAAMAAAAQA//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQMBAT8QV//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQIBAT8QH//EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEAAT8QP//Z";
const ARITHMETIC_JPEG =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/yQARCAAIABADASIAAhEBAxEB/8wACgAQEAUBEBEF/9oADAMBAAIRAxEAPwD/AN2JNpDqhcK3jxMGG0pibDfbE+wphGT/2Q==";
const fromBase64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "base64"));

/** A 16x8 baseline JPEG from jpeg-js: left 8x8 block black, right one white (flat blocks survive JPEG). */
let halves: Uint8Array | null = null; // encoded once: jpeg-js builds its tables on every encode
const halvesJpeg = (): Uint8Array => {
  if (halves !== null) return halves;
  const data = new Uint8Array(16 * 8 * 4);
  for (let i = 0; i < 16 * 8; i++) data.fill((i % 16) < 8 ? 0 : 255, i * 4, i * 4 + 3).fill(255, i * 4 + 3, i * 4 + 4);
  halves = new Uint8Array(jpeg.encode({ width: 16, height: 8, data }, 95).data);
  return halves;
};

/** An APP1 Exif segment whose IFD0 holds only the Orientation tag, in either byte order. */
const exifSegment = (orientation: number, little: boolean): number[] => {
  const u16 = (v: number): number[] => (little ? [v & 255, v >> 8] : [v >> 8, v & 255]);
  const u32le = (v: number): number[] => (little ? [...u32(v)].reverse() : u32(v));
  const tiff = [...(little ? [0x49, 0x49] : [0x4d, 0x4d]), ...u16(42), ...u32le(8), ...u16(1), ...u16(0x0112), ...u16(3), ...u32le(1), ...u16(orientation), 0, 0, ...u32le(0)];
  const payload = [...bytesOf("Exif"), 0, 0, ...tiff];
  return [0xff, 0xe1, ...[(payload.length + 2) >> 8, (payload.length + 2) & 255], ...payload];
};

const withExif = (jpg: Uint8Array, orientation: number, little = false): Uint8Array =>
  Uint8Array.from([0xff, 0xd8, ...exifSegment(orientation, little), ...jpg.subarray(2)]);

/** The message of what `f` throws, checking it is an ImageError about `file`. */
const imageError = (f: () => unknown, file: string): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    expect((e as ImageError).file).toBe(file);
    expect((e as Error).message.startsWith(`${file}: `)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected an ImageError, nothing was thrown");
};

// ---- specs -----------------------------------------------------------------------------------

describe("detectFormat", () => {
  it("recognises PNG and JPEG by their magic bytes, whatever the file is called", () => {
    expect(detectFormat(encodePng(1, 1, new Uint8Array(4)), "photo.jpg")).toBe("png");
    expect(detectFormat(halvesJpeg(), "scan.png")).toBe("jpeg");
  });

  it("names the format of a GIF, WebP or HEIC file and lists the accepted ones", () => {
    const gif = imageError(() => detectFormat(Uint8Array.from(bytesOf("GIF89a\x01\x00\x01\x00")), "a.gif"), "a.gif");
    expect(gif).toContain("looks like GIF");
    expect(gif).toContain("accepted formats are PNG and JPEG");
    const webp = Uint8Array.from([...bytesOf("RIFF"), 0, 0, 0, 0, ...bytesOf("WEBPVP8 ")]);
    expect(imageError(() => detectFormat(webp, "b.webp"), "b.webp")).toContain("looks like WebP");
    const heic = Uint8Array.from([0, 0, 0, 24, ...bytesOf("ftypheic")]);
    expect(imageError(() => detectFormat(heic, "c.heic"), "c.heic")).toContain("looks like HEIC");
  });

  it("shows the first bytes of a file it does not know", () => {
    const message = imageError(() => detectFormat(Uint8Array.from(bytesOf("hello, world")), "notes.png"), "notes.png");
    expect(message).toContain("not a PNG or JPEG image (starts with bytes 68 65 6c 6c 6f 2c 20 77)");
  });

  it("calls an empty file empty and a cut signature truncated", () => {
    expect(imageError(() => detectFormat(new Uint8Array(0), "e.png"), "e.png")).toContain("empty file (0 bytes)");
    expect(imageError(() => detectFormat(Uint8Array.of(0x89, 0x50, 0x4e), "t.png"), "t.png")).toContain("truncated PNG");
  });
});

describe("decodeImage (PNG)", () => {
  it("returns exactly the pixels encodePng was given, for any small RGBA image", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.uint8Array({ minLength: 144, maxLength: 144 }),
        (w, h, bytes) => {
          const rgba = bytes.subarray(0, w * h * 4);
          const img = decodeImage(encodePng(w, h, rgba), "rt.png");
          expect(img).toMatchObject({ format: "png", width: w, height: h });
          expect([...img.rgba]).toEqual([...rgba]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("expands 1-, 2- and 4-bit grey to 0..255 (v * 255 / (2^bits - 1))", () => {
    const one = decodeImage(pngFile({ width: 2, height: 1, bitDepth: 1, colorType: 0 }, [[0, 1]]), "g1.png");
    expect([px(one, 0, 0), px(one, 1, 0)]).toEqual([grey(0), grey(255)]);
    const two = decodeImage(pngFile({ width: 4, height: 1, bitDepth: 2, colorType: 0 }, [[0, 1, 2, 3]]), "g2.png");
    expect([0, 1, 2, 3].map((x) => px(two, x, 0))).toEqual([grey(0), grey(85), grey(170), grey(255)]);
    const four = decodeImage(pngFile({ width: 3, height: 2, bitDepth: 4, colorType: 0 }, [[0, 5, 15], [1, 2, 3]]), "g4.png");
    expect([px(four, 1, 0), px(four, 2, 0), px(four, 2, 1)]).toEqual([grey(85), grey(255), grey(51)]);
  });

  it("rounds 16-bit grey and RGB samples to 8 bits", () => {
    const g16 = decodeImage(pngFile({ width: 3, height: 1, bitDepth: 16, colorType: 0 }, [[0, 0x8000, 0xffff]]), "g16.png");
    expect([0, 1, 2].map((x) => px(g16, x, 0))).toEqual([grey(0), grey(128), grey(255)]);
    const rgb16 = decodeImage(pngFile({ width: 1, height: 1, bitDepth: 16, colorType: 2 }, [[0xffff, 0x0101, 0x7fff]]), "rgb16.png");
    expect(px(rgb16, 0, 0)).toEqual([255, 1, 127, 255]);
  });

  it("keeps the alpha of grey+alpha and RGBA, and gives RGB full opacity", () => {
    const ga = decodeImage(pngFile({ width: 2, height: 1, bitDepth: 8, colorType: 4 }, [[10, 0, 200, 128]]), "ga.png");
    expect([px(ga, 0, 0), px(ga, 1, 0)]).toEqual([[10, 10, 10, 0], [200, 200, 200, 128]]);
    const rgb = decodeImage(pngFile({ width: 1, height: 1, bitDepth: 8, colorType: 2 }, [[1, 2, 3]]), "rgb.png");
    expect(px(rgb, 0, 0)).toEqual([1, 2, 3, 255]);
  });

  it("looks palette indices up in PLTE, with transparency from tRNS", () => {
    const palette = [255, 0, 0, 0, 255, 0, 0, 0, 255];
    const file = pngFile({ width: 3, height: 1, bitDepth: 2, colorType: 3 }, [[2, 0, 1]], [["PLTE", palette], ["tRNS", [0, 128]]]);
    const img = decodeImage(file, "pal.png");
    expect([0, 1, 2].map((x) => px(img, x, 0))).toEqual([[0, 0, 255, 255], [255, 0, 0, 0], [0, 255, 0, 128]]);
  });

  it("makes the tRNS colour of a grey image transparent", () => {
    const img = decodeImage(pngFile({ width: 2, height: 1, bitDepth: 8, colorType: 0 }, [[7, 9]], [["tRNS", [0, 7]]]), "trns.png");
    expect(px(img, 0, 0)[3]).toBe(0);
    expect(px(img, 1, 0)).toEqual(grey(9));
  });

  it("refuses a PNG above maxPixels from its header alone, showing the size and the limit", () => {
    // IHDR only, no pixel data: had it been decoded it would be "corrupt", not "too large".
    const huge = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk("IHDR", [...u32(100000), ...u32(100000), 8, 6, 0, 0, 0])]);
    const message = imageError(() => decodeImage(huge, "huge.png"), "huge.png");
    expect(message).toContain("image too large: 100000x100000 = 10000.0 megapixels, above the limit of 25.0 megapixels");
    expect(readImageHeader(huge, "huge.png")).toEqual({ format: "png", width: 100000, height: 100000 });
  });

  it("accepts an image of exactly maxPixels and refuses one pixel more", () => {
    const file = encodePng(10, 10, new Uint8Array(400));
    expect(decodeImage(file, "ok.png", { maxPixels: 100 }).width).toBe(10);
    expect(imageError(() => decodeImage(file, "big.png", { maxPixels: 99 }), "big.png")).toContain("10x10");
  });

  it("refuses a zero-sized image", () => {
    const zero = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk("IHDR", [...u32(0), ...u32(5), 8, 6, 0, 0, 0])]);
    expect(imageError(() => decodeImage(zero, "zero.png"), "zero.png")).toContain("0x5 pixels; expected a width and height of at least 1");
  });

  it("refuses a side longer than MAX_SIDE and a picture more elongated than MAX_ASPECT, from the header", () => {
    const ihdr = (w: number, h: number) => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk("IHDR", [...u32(w), ...u32(h), 8, 0, 0, 0, 0])]);
    expect(imageError(() => decodeImage(ihdr(MAX_SIDE + 1, 1000), "wide.png"), "wide.png")).toContain(`a side longer than the limit of ${MAX_SIDE.toLocaleString("en-US")} pixels`);
    expect(imageError(() => decodeImage(ihdr(1, 25_000_000), "strip.png"), "strip.png")).toContain("1x25000000 pixels, a side longer than the limit"); // within maxPixels
    expect(imageError(() => decodeImage(ihdr(1, 20_000), "strip.png"), "strip.png")).toContain(`image too elongated: 1x20000 pixels, its long side 20,000 times its short side, above the limit of ${MAX_ASPECT}`);
    expect(imageError(() => decodeImage(ihdr(MAX_ASPECT + 1, 1), "line.png"), "line.png")).toContain("image too elongated");
  });

  it("decodes a picture at the limits: MAX_ASPECT times longer than wide", () => {
    const file = pngFile({ width: MAX_ASPECT, height: 1, bitDepth: 8, colorType: 0 }, [new Array<number>(MAX_ASPECT).fill(9)]);
    expect(decodeImage(file, "line.png").width).toBe(MAX_ASPECT);
  });

  it("refuses a small PNG whose compressed data cannot inflate to the image its header declares (deflate gives at most 1032:1)", () => {
    const file = pngFile({ width: 4, height: 4, bitDepth: 8, colorType: 0 }, Array.from({ length: 4 }, () => [0, 0, 0, 0]));
    const claims = file.slice();
    claims.set([...u32(9000), ...u32(9000)], 16); // 81 megapixels in about 60 bytes
    expect(imageError(() => decodeImage(claims, "bomb.png", { maxPixels: 100e6 }), "bomb.png")).toMatch(
      /cannot hold a 9000x9000 image \(81,009,000 bytes, at most 1032:1 compressed\); the file is truncated or its header is wrong/,
    );
  });

  it("calls a cut or damaged PNG truncated or corrupt", () => {
    const file = encodePng(8, 8, new Uint8Array(256).fill(90));
    expect(imageError(() => decodeImage(file.subarray(0, 20), "short.png"), "short.png")).toContain("truncated PNG");
    expect(imageError(() => decodeImage(file.subarray(0, file.length - 20), "cut.png"), "cut.png")).toMatch(/truncated PNG: the "IDAT" chunk at byte 33 needs \d+ bytes, the file ends after \d+/);
    expect(imageError(() => decodeImage(file.subarray(0, file.length - 6), "noend.png"), "noend.png")).toContain("truncated PNG: the file ends at byte");
    const damaged = file.slice();
    damaged[40] = damaged[40]! ^ 0xff; // inside IDAT: the CRC no longer matches
    expect(imageError(() => decodeImage(damaged, "bad.png"), "bad.png")).toContain("truncated or corrupt PNG");
    const notIhdr = file.slice();
    notIhdr.set(bytesOf("IDAT"), 12);
    expect(imageError(() => decodeImage(notIhdr, "order.png"), "order.png")).toContain('the first chunk is not a 13-byte IHDR header (found "IDAT")');
  });
});

describe("decodeImage (JPEG)", () => {
  it("decodes a baseline colour JPEG to RGBA", () => {
    const img = decodeImage(halvesJpeg(), "halves.jpg");
    expect(img).toMatchObject({ format: "jpeg", width: 16, height: 8 });
    expect(px(img, 2, 2)[0]).toBeLessThan(10);
    expect(px(img, 13, 5)[0]).toBeGreaterThan(245);
    expect(px(img, 13, 5)[3]).toBe(255);
  });

  it("decodes a grey (one-component) JPEG to equal R, G and B", () => {
    const img = decodeImage(fromBase64(GREY_JPEG), "grey.jpg");
    expect(img).toMatchObject({ width: 16, height: 8 });
    expect(px(img, 3, 4)).toEqual(grey(40));
    expect(px(img, 12, 4)).toEqual(grey(200));
  });

  it("decodes a progressive JPEG", () => {
    const img = decodeImage(fromBase64(PROGRESSIVE_JPEG), "prog.jpg");
    expect(img).toMatchObject({ width: 16, height: 8 });
    const [r, , b] = px(img, 2, 2);
    expect(r! - b!).toBeGreaterThan(150); // the left half is red
  });

  it("names an arithmetic-coded JPEG as unsupported", () => {
    const message = imageError(() => decodeImage(fromBase64(ARITHMETIC_JPEG), "arith.jpg"), "arith.jpg");
    expect(message).toContain("unsupported JPEG (arithmetic-coded, SOF marker 0xFFC9");
  });

  it("refuses a JPEG above maxPixels from its frame header, before decoding", () => {
    const file = halvesJpeg();
    const sof = file.findIndex((b, i) => b === 0xff && file[i + 1] === 0xc0);
    const big = file.slice();
    big.set([60000 >> 8, 60000 & 255, 60000 >> 8, 60000 & 255], sof + 5); // height, width
    expect(readImageHeader(big, "big.jpg")).toEqual({ format: "jpeg", width: 60000, height: 60000 });
    expect(imageError(() => decodeImage(big, "big.jpg"), "big.jpg")).toContain("image too large: 60000x60000 = 3600.0 megapixels");
    const zero = file.slice();
    zero.set([0, 0], sof + 5);
    expect(imageError(() => decodeImage(zero, "zero.jpg"), "zero.jpg")).toContain("says the image is 16x0 pixels");
  });

  it("calls a JPEG cut before its frame header or inside its scan truncated", () => {
    const file = halvesJpeg();
    expect(imageError(() => decodeImage(file.subarray(0, 30), "head.jpg"), "head.jpg")).toContain("truncated JPEG");
    expect(imageError(() => decodeImage(file.subarray(0, file.length - 60), "tables.jpg"), "tables.jpg")).toContain("truncated JPEG: the file ends (at byte 557) before the scan data");
    expect(imageError(() => decodeImage(file.subarray(0, file.length - 4), "scan.jpg"), "scan.jpg")).toMatch(/truncated JPEG: no end-of-image marker \(FF D9\) after the scan data that starts at byte \d+/);
    // Bytes after the end-of-image marker (some cameras pad) are not truncation.
    expect(decodeImage(Uint8Array.from([...file, 0, 0, 0, 0]), "padded.jpg").width).toBe(16);
    expect(imageError(() => decodeImage(Uint8Array.of(0xff, 0xd8, 0xff, 0xda, 0, 2, 1, 2), "nosof.jpg"), "nosof.jpg")).toContain("no frame header (SOF) before the scan data");
  });

  it("refuses a complete JPEG whose scan data is too small for the size its frame header declares", () => {
    const file = halvesJpeg();
    const sof = file.findIndex((b, i) => b === 0xff && file[i + 1] === 0xc0);
    const big = file.slice();
    big.set([4000 >> 8, 4000 & 255, 4000 >> 8, 4000 & 255], sof + 5);
    expect(imageError(() => decodeImage(big, "claims.jpg"), "claims.jpg")).toMatch(/corrupt JPEG: its scan data \(\d+ bytes\) is too small for a 4000x4000 image \(at least 15,625 bytes\)/);
  });

  it("turns a sideways phone picture upright by its EXIF orientation", () => {
    // Stored left half dark, right half light; orientation 6 = turn clockwise to view: dark on top.
    const img = decodeImage(withExif(halvesJpeg(), 6), "phone.jpg");
    expect(img).toMatchObject({ width: 8, height: 16 });
    expect(px(img, 4, 2)[0]).toBeLessThan(10);
    expect(px(img, 4, 13)[0]).toBeGreaterThan(245);
    // Orientation 8 (turn anticlockwise): the light half comes to the top. Little-endian Exif too.
    const other = decodeImage(withExif(halvesJpeg(), 8, true), "phone8.jpg");
    expect(px(other, 4, 2)[0]).toBeGreaterThan(245);
  });
});

describe("exifOrientation", () => {
  it("reads the Orientation tag in both byte orders and ignores other APP1 payloads", () => {
    for (const o of [1, 3, 6, 8]) {
      expect(exifOrientation(Uint8Array.from(exifSegment(o, true).slice(4)))).toBe(o);
      expect(exifOrientation(Uint8Array.from(exifSegment(o, false).slice(4)))).toBe(o);
    }
    expect(exifOrientation(Uint8Array.from(bytesOf("http://ns.adobe.com/xap/1.0/\0")))).toBeNull();
    expect(exifOrientation(Uint8Array.from(exifSegment(9, true).slice(4)))).toBeNull();
  });
});

describe("applyOrientation", () => {
  // Stored 3x2:  a b c / d e f, each pixel's red channel naming it.
  const stored = { width: 3, height: 2, rgba: Uint8Array.from([..."abcdef"].flatMap((c) => [c.charCodeAt(0), 0, 0, 255])) };
  const view = (img: { width: number; height: number; rgba: Uint8Array }): string[] =>
    Array.from({ length: img.height }, (_, y) => Array.from({ length: img.width }, (_, x) => String.fromCharCode(px(img, x, y)[0]!)).join(""));

  it("maps each of the eight EXIF orientations as the TIFF specification draws them", () => {
    expect(view(applyOrientation(stored, 1))).toEqual(["abc", "def"]);
    expect(view(applyOrientation(stored, 2))).toEqual(["cba", "fed"]);
    expect(view(applyOrientation(stored, 3))).toEqual(["fed", "cba"]);
    expect(view(applyOrientation(stored, 4))).toEqual(["def", "abc"]);
    expect(view(applyOrientation(stored, 5))).toEqual(["ad", "be", "cf"]);
    expect(view(applyOrientation(stored, 6))).toEqual(["da", "eb", "fc"]);
    expect(view(applyOrientation(stored, 7))).toEqual(["fc", "eb", "da"]);
    expect(view(applyOrientation(stored, 8))).toEqual(["cf", "be", "ad"]);
  });
});

describe("encodePng", () => {
  it("refuses an RGBA buffer of the wrong length, saying what it expected", () => {
    expect(() => encodePng(28, 28, new Uint8Array(100))).toThrow("rgba holds 100 bytes, expected width * height * 4 = 3136 for 28x28 RGBA");
    expect(() => encodePng(0, 3, new Uint8Array(0))).toThrow("the size must be positive integers, got 0x3");
  });

  it("writes colour type 6 (8-bit RGBA)", () => {
    const png = PNG.sync.read(Buffer.from(encodePng(2, 1, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))));
    expect(png.colorType).toBe(6);
    expect(png.depth).toBe(8);
  });
});

describe("readImage and writePng", () => {
  const dir = mkdtempSync(join(tmpdir(), "image-io-spec-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("write a PNG that reads back identical, replacing an old file and leaving no temporary file", () => {
    const path = join(dir, "out", "picture.png");
    writePng(path, { width: 2, height: 2, rgba: new Uint8Array(16).fill(7) });
    const rgba = Uint8Array.from({ length: 16 }, (_, i) => i * 13);
    writePng(path, { width: 2, height: 2, rgba });
    expect([...readImage(path).rgba]).toEqual([...rgba]);
    expect(readdirSync(join(dir, "out"))).toEqual(["picture.png"]);
  });

  it("say plainly when the file is missing, is a directory or is not an image", () => {
    const missing = join(dir, "nope.png");
    expect(imageError(() => readImage(missing), missing)).toContain("no such file; expected the path of a PNG or JPEG image");
    expect(imageError(() => readImage(dir), dir)).toContain("is a directory");
    const text = join(dir, "digit.png");
    writeFileSync(text, "not really a picture");
    expect(imageError(() => readImage(text), text)).toContain("not a PNG or JPEG image");
    expect(existsSync(text)).toBe(true);
  });

  it("read only regular files: a device, a FIFO and a symlink to a device are refused at once, naming what they are", () => {
    expect(imageError(() => readImage("/dev/zero"), "/dev/zero")).toBe("/dev/zero: is a character device (such as /dev/zero), not a regular file; expected a PNG or JPEG image");
    const link = join(dir, "zero.png");
    symlinkSync("/dev/zero", link);
    expect(imageError(() => readImage(link), link)).toContain("is a character device");
    const fifo = join(dir, "fifo.png");
    execFileSync("mkfifo", [fifo]);
    expect(imageError(() => readImage(fifo), fifo)).toContain("is a FIFO (named pipe), not a regular file; expected a PNG or JPEG image"); // no writer: it would block
  });

  it("read at most 8 bytes a pixel of maxPixels (plus 16 MiB)", () => {
    const path = join(dir, "padded.png");
    writeFileSync(path, Buffer.concat([Buffer.from(encodePng(1, 1, new Uint8Array(4))), Buffer.alloc(16 * 2 ** 20 + 8 * 100)]));
    expect(imageError(() => readImage(path, { maxPixels: 100 }), path)).toMatch(/too large: 16\.8 MB, above the limit of 16\.8 MB/);
  });

  it("pass maxPixels on to decodeImage", () => {
    const path = join(dir, "four.png");
    writePng(path, { width: 2, height: 2, rgba: new Uint8Array(16) });
    expect(imageError(() => readImage(path, { maxPixels: 3 }), path)).toContain("image too large: 2x2");
  });
});

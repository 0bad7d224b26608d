import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { base64, palettePng, rasterImage } from "../../src/viz/raster.ts";

describe("palettePng", () => {
  it("writes a PNG that a standard decoder reads back to the palette colour of every index", () => {
    const [w, h] = [5, 3];
    const palette = Uint8Array.from({ length: 256 * 3 }, (_, i) => (i * 7) % 256);
    const indices = Uint8Array.from({ length: w * h }, (_, i) => (i * 37) % 256);
    const decoded = PNG.sync.read(Buffer.from(palettePng(indices, w, h, palette)));
    expect([decoded.width, decoded.height]).toEqual([w, h]);
    for (let i = 0; i < w * h; i++) {
      const k = indices[i]!;
      expect(Array.from(decoded.data.subarray(4 * i, 4 * i + 4))).toEqual([palette[3 * k], palette[3 * k + 1], palette[3 * k + 2], 255]);
    }
  });

  it("stays valid past one stored block (65,535 bytes of rows)", () => {
    const [w, h] = [300, 300];
    const indices = Uint8Array.from({ length: w * h }, (_, i) => i % 2);
    const decoded = PNG.sync.read(Buffer.from(palettePng(indices, w, h, new Uint8Array([0, 0, 0, 255, 255, 255]))));
    expect(decoded.data[4 * (w * h - 1)]).toBe(255); // the last pixel, index 1: white
    expect(decoded.data[4 * (w * h - 2)]).toBe(0);
  });

  it("refuses a size that does not match the indices, or a palette of more than 256 colours", () => {
    expect(() => palettePng(new Uint8Array(5), 2, 2, new Uint8Array(3))).toThrow(/5 indices for 2x2 = 4 pixels/);
    expect(() => palettePng(new Uint8Array(4), 2, 2, new Uint8Array(771))).toThrow(/1 to 256 RGB triples/);
  });
});

describe("base64 and rasterImage", () => {
  it("encode bytes as Node's Buffer does, with padding", () => {
    for (const n of [0, 1, 2, 3, 10, 257]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 91 + 7) % 256);
      expect(base64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    }
  });

  it("draws the raster `scale` pixels per value, without smoothing", () => {
    const tag = rasterImage(new Uint8Array(6), 3, 2, new Uint8Array(3), 10, 20, 4);
    expect(tag).toMatch(/^<image x="10" y="20" width="12" height="8" /);
    expect(tag).toContain('image-rendering="optimizeSpeed"');
    expect(tag).toContain("href=\"data:image/png;base64,");
  });
});

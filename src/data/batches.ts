// From examples to what a model eats: pixel rows [batch, rows * cols] as bytes, labels, a seeded
// train/validation split, and shuffled mini-batches.
//
// Pixels stay bytes until the model scales them: x = pixels / 255 (scalePixels, an op, so a compiled
// training step does it itself, reading 1 byte a pixel instead of 4). bench/data.ts measures this
// against holding a float32 copy of the whole set: copying float rows saves a few ms per epoch of
// 844 batches, but making the copy costs most of a second and 188 MB more memory (four bytes a
// pixel instead of one), so it would pay back only after a hundred epochs or more. Bytes it is.
//
// Epoch e's order is permutation(foldIn(key, e)): a function of the key and the epoch alone, so a run
// resumed at epoch k sees the same batches as one that never stopped.

import { cast, div, random, Tensor, tensor } from "../autograd/index.ts";
import { DataError } from "./idx-parse.ts";
import type { Examples } from "./mnist.ts";

type Key = random.Key;
const { foldIn, permutation } = random;

/**
 * x / 255 computed as x * (1 / 255): for every byte x the float32 result is the same as the
 * correctly rounded x / 255 (checked for all 256 in spec/data/batches.spec.ts), and a multiply is
 * faster than a division or a table lookup (bench/data.ts).
 */
const INV_255 = 1 / 255;

/** The number of inputs per example: rows * cols (28 * 28 = 784 for MNIST). */
export const featureCount = (data: Pick<Examples, "rows" | "cols">): number => data.rows * data.cols;

/** Bytes to float32 in [0, 1] (x / 255), into `out` if given. */
export const normalize = (bytes: Uint8Array, out: Float32Array = new Float32Array(bytes.length)): Float32Array => {
  if (out.length < bytes.length) throw new DataError("normalize", `the output holds ${out.length} values, the input has ${bytes.length}`);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! * INV_255;
  return out;
};

const checkIndices = (data: Examples, indices: ArrayLike<number>, what: string): void => {
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!(Number.isInteger(j) && j >= 0 && j < data.count)) {
      throw new DataError(what, `index ${j} at position ${i} is not an example in [0, ${data.count - 1}]`);
    }
  }
};

/** Rows `indices` of the images (bytes, flattened), into `out`. No checks: the caller has checked the indices. */
export const gatherPixels = (data: Examples, indices: ArrayLike<number>, out: Uint8Array): Uint8Array => {
  const f = featureCount(data);
  for (let r = 0; r < indices.length; r++) {
    const from = indices[r]! * f;
    out.set(data.images.subarray(from, from + f), r * f);
  }
  return out;
};

/** Pixels (uint8, 0..255) to x in [0, 1]: x = pixels / 255 in float32 (correctly rounded). */
export const scalePixels = (pixels: Tensor): Tensor => div(cast(pixels, "float32"), 255);

/** Labels of `indices`, into `out`. */
export const gatherLabels = (data: Examples, indices: ArrayLike<number>, out: Uint8Array): Uint8Array => {
  for (let r = 0; r < indices.length; r++) out[r] = data.labels[indices[r]!]!;
  return out;
};

/**
 * A mini-batch: pixels [size, rows * cols] as stored (uint8), labels [size] (uint8), and which
 * examples. x is the pixels scaled to [0, 1] (float32), computed when first read.
 */
export interface Batch {
  readonly pixels: Tensor;
  readonly x: Tensor;
  readonly labels: Tensor;
  /** The examples' indices in the Examples the batch was drawn from. */
  readonly indices: Int32Array;
  readonly size: number;
}

/** The examples at `indices` as one batch (fresh arrays). */
export const batchOf = (data: Examples, indices: ArrayLike<number>): Batch => {
  checkIndices(data, indices, "batchOf");
  const idx = Int32Array.from(indices);
  const f = featureCount(data);
  return makeBatch(gatherPixels(data, idx, new Uint8Array(idx.length * f)), gatherLabels(data, idx, new Uint8Array(idx.length)), idx, f);
};

/** A batch over copies of these gathered bytes (the arrays may be reused afterwards). */
const makeBatch = (pixels: Uint8Array, labels: Uint8Array, indices: Int32Array, features: number): Batch => {
  const size = indices.length;
  const p = tensor(pixels, [size, features], "uint8");
  let x: Tensor | null = null;
  return {
    pixels: p,
    get x() {
      return (x ??= scalePixels(p));
    },
    labels: tensor(labels, [size], "uint8"),
    indices,
    size,
  };
};

/** 0, 1, ..., n - 1. */
export const allIndices = (n: number): Int32Array => {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
};

/** Every example (or those in `among`), in order, as one batch: for evaluating a whole set at once. */
export const allExamples = (data: Examples, among?: Int32Array): Batch => batchOf(data, among ?? allIndices(data.count));

/** Indices of the examples used for training and those held out for validation (each ascending). */
export interface Holdout {
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

/**
 * A seeded split of `count` examples: round(count * validationFraction) of them, chosen uniformly by a
 * permutation from `key`, are held out for validation; the rest train. Same key, same split.
 */
export const splitTrainValidation = (count: number, key: Key, { validationFraction = 0.1 }: { validationFraction?: number } = {}): Holdout => {
  if (!Number.isInteger(count) || count < 0) throw new DataError("splitTrainValidation", `count must be a non-negative integer, got ${count}`);
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new DataError("splitTrainValidation", `validationFraction must be in [0, 1), got ${validationFraction}`);
  }
  const held = Math.round(count * validationFraction);
  const order = permutation(key, count);
  return { train: order.slice(held).sort(), validation: order.slice(0, held).sort() };
};

/**
 * The order of epoch `epoch`: the examples in `among` (or 0..n-1 for a number) permuted by
 * Fisher-Yates from foldIn(key, epoch).
 */
export const epochOrder = (key: Key, epoch: number, among: Int32Array | number): Int32Array => {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new DataError("epochOrder", `epoch must be a non-negative integer, got ${epoch}`);
  const n = typeof among === "number" ? among : among.length;
  const p = permutation(foldIn(key, epoch), n);
  if (typeof among === "number") return p;
  for (let i = 0; i < n; i++) p[i] = among[p[i]!]!;
  return p;
};

/** How many batches an epoch of n examples has. */
export const batchCount = (n: number, batchSize: number, dropLast = false): number =>
  dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);

export interface BatchOptions {
  readonly batchSize: number;
  /** Shuffle with this key (the order of epoch e is epochOrder(key, e, among)). Without: in order. */
  readonly key?: Key;
  /** Default 0. */
  readonly epoch?: number;
  /** The examples to draw from (e.g. Holdout.train). Default: all of them. */
  readonly among?: Int32Array;
  /** Drop the last batch when it is smaller than batchSize. Default false: every example is seen. */
  readonly dropLast?: boolean;
  /** Gather every batch's bytes into the same two buffers (the batch's tensors are copies: batches stay valid). */
  readonly reuseBuffers?: boolean;
}

/**
 * The mini-batches of one epoch: every example of `among` exactly once (the last batch is partial
 * unless dropLast), in the epoch's seeded order. The options are checked and the order drawn when
 * this is called; each batch is built when the iteration reaches it.
 *
 *   for (const { x, labels } of batches(mnist.train, { batchSize: 64, key: shuffleKey, epoch, among: holdout.train })) ...
 */
export const batches = (data: Examples, options: BatchOptions): Generator<Batch, void, undefined> => {
  const { batchSize, key, epoch = 0, among, dropLast = false, reuseBuffers = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError("batches", `batchSize must be a positive integer, got ${batchSize}`);
  if (among !== undefined) checkIndices(data, among, "batches");
  const order = key === undefined ? (among ?? allIndices(data.count)) : epochOrder(key, epoch, among ?? data.count);
  return batchesInOrder(data, order, batchSize, dropLast, reuseBuffers);
};

function* batchesInOrder(data: Examples, order: Int32Array, batchSize: number, dropLast: boolean, reuseBuffers: boolean): Generator<Batch, void, undefined> {
  const f = featureCount(data);
  const n = batchCount(order.length, batchSize, dropLast);
  const pixelBuffer = reuseBuffers ? new Uint8Array(batchSize * f) : null;
  const labelBuffer = reuseBuffers ? new Uint8Array(batchSize) : null;
  for (let b = 0; b < n; b++) {
    const indices = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, order.length));
    const size = indices.length;
    const pixels = pixelBuffer ? pixelBuffer.subarray(0, size * f) : new Uint8Array(size * f);
    const labels = labelBuffer ? labelBuffer.subarray(0, size) : new Uint8Array(size);
    yield makeBatch(gatherPixels(data, indices, pixels), gatherLabels(data, indices, labels), indices, f);
  }
}

// Seeded randomness with explicit keys, never Math.random. A key is a tensor of four uint32 words
// (the state of the xoshiro128** generator, see src/backend/reference/random.ts); `split` and
// `foldIn` derive new, independent-looking keys from old ones (as in JAX), so every random draw
// names where it comes from. Draws are kernels that take the key as an input: inside jit, a new key
// gives new numbers without tracing again.

import * as k from "../backend/kernels.ts";
import { Rng as WordsRng, seedWords, type Words } from "../backend/reference/random.ts";
import type { DType } from "../backend/index.ts";
import { run, run1 } from "./define-op.ts";
import { checkShape, sameShape, ShapeError, sizeOf, type Shape } from "./shape.ts";
import { detach, tensor, Tensor } from "./tensor.ts";

/** A key: a uint32 tensor of shape [4]. */
export type Key = Tensor;

/** The key for an integer seed. Same seed, same key, same draws. */
export const key = (seed: number): Key => {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`key: the seed must be a safe integer, got ${seed}`);
  return tensor(seedWords(seed), [4], "uint32");
};

/** A key from its four words (as a checkpoint stores it). */
export const keyFromWords = (words: ArrayLike<number>): Key => {
  if (words.length !== 4 || !Array.from(words).every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)) {
    throw new RangeError(`keyFromWords: expected four integers in [0, 2^32), got ${JSON.stringify(Array.from(words))}`);
  }
  return tensor(words, [4], "uint32");
};

export const checkKey = (who: string, k: unknown): Key => {
  if (!(k instanceof Tensor) || k.dtype !== "uint32" || !sameShape(k.shape, [4])) {
    throw new ShapeError(`${who}: expected a random key (a uint32 tensor of shape [4], from random.key(seed)), got ${k instanceof Tensor ? k : typeof k}`);
  }
  return detach(k);
};

/** n new keys from one key, each independent of the others and of the parent's own draws. */
export const split = (key: Key, n = 2): Key[] => {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`split: n must be a positive integer, got ${n}`);
  return run(k.randomSplit, [checkKey("split", key)], { n }, Array.from({ length: n }, () => [4]));
};

/** A key derived from `k` and an integer (an epoch, a step, a layer index). */
export const foldIn = (key: Key, data: number): Key => {
  if (!Number.isSafeInteger(data)) throw new RangeError(`foldIn: data must be a safe integer, got ${data}`);
  return run1(k.randomFoldIn, [checkKey("foldIn", key)], { data }, [4]);
};

const draw = (who: string, shape: Shape) => sizeOf(checkShape(who, shape));

export interface UniformOptions {
  readonly low?: number;
  readonly high?: number;
  readonly dtype?: DType;
}

/** Uniform samples in [low, high). */
export const uniform = (key: Key, shape: Shape, { low = 0, high = 1, dtype = "float32" }: UniformOptions = {}): Tensor =>
  run1(k.randomUniform, [checkKey("uniform", key)], { dtype, size: draw("uniform", shape), low, high }, shape);

export interface NormalOptions {
  readonly mean?: number;
  readonly std?: number;
  readonly dtype?: DType;
}

/** Normal samples with the given mean and standard deviation. */
export const normal = (key: Key, shape: Shape, { mean = 0, std = 1, dtype = "float32" }: NormalOptions = {}): Tensor =>
  run1(k.randomNormal, [checkKey("normal", key)], { dtype, size: draw("normal", shape), mean, std }, shape);

/** `value` (1 by default) with probability p, else 0. */
export const bernoulli = (key: Key, p: number, shape: Shape, dtype: DType = "float32", value = 1): Tensor => {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: p must be in [0, 1], got ${p}`);
  return run1(k.randomBernoulli, [checkKey("bernoulli", key)], { dtype, size: draw("bernoulli", shape), p, value }, shape);
};

/** A stateful stream on the host, for work outside the ops (shuffling a dataset's order). */
export class Rng extends WordsRng {
  constructor(k: Key | ArrayLike<number>) {
    super(k instanceof Tensor ? checkKey("Rng", k).data : k);
  }
}

/** The four words of a key (as a checkpoint stores it). */
export const keyWords = (k: Key): Words => {
  const d = checkKey("keyWords", k).data;
  return [d[0]!, d[1]!, d[2]!, d[3]!];
};

/** A uniformly random permutation of 0..n-1 (Fisher-Yates), computed on the host. */
export const permutation = (k: Key | Rng, n: number): Int32Array => {
  const rng = k instanceof Rng ? k : new Rng(k);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
};


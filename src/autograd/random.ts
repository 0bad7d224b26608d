// Seeded randomness with explicit keys, never Math.random.
//
// The generator is xoshiro128** (Blackman & Vigna, 2018): 128 bits of state, period 2^128 - 1,
// four 32-bit words updated by shifts, xors and a rotation, output scrambled by a multiply-rotate-
// multiply. It is small, fast in JavaScript's 32-bit integer arithmetic, and passes BigCrush.
// A Key is the 4-word state to start from. Keys are values: `split` and `foldIn` derive new,
// independent-looking keys from old ones (as in JAX), so every random draw names where it comes from.

import { checkShape, sizeOf, type Shape } from "./shape.ts";
import { Tensor, type DType } from "./tensor.ts";

export type Key = readonly [number, number, number, number];

/** SplitMix32 step: spreads a 32-bit seed's bits so nearby seeds give unrelated states. */
const splitMix32 = (x: number): number => {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
};

const fromWords = (a: number, b: number, c: number, d: number): Key => {
  const words: [number, number, number, number] = [a >>> 0, b >>> 0, c >>> 0, d >>> 0];
  if (words.every((w) => w === 0)) words[0] = 1; // the all-zero state is xoshiro's one fixed point
  return Object.freeze(words);
};

/** The key for an integer seed. Same seed, same key, same draws. */
export const key = (seed: number): Key => {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`key: the seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const a = splitMix32(lo ^ 0x243f6a88);
  const b = splitMix32(a ^ hi);
  const c = splitMix32(b);
  return fromWords(a, b, c, splitMix32(c));
};

/** A stateful stream from a key. Its state can be read (for checkpoints) and a stream restored. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(k: Key) {
    [this.s0, this.s1, this.s2, this.s3] = k;
  }

  /** The current state as a key: new Rng(rng.state()) continues exactly where this one is. */
  state(): Key {
    return fromWords(this.s0, this.s1, this.s2, this.s3);
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`nextInt: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /**
   * Standard normal by the Box-Muller transform. NOTE: it keeps one of the pair and drops the other:
   * a cached spare would be state that state() cannot return, so a restored stream would diverge.
   */
  nextNormal(): number {
    return normalPair(this)[0];
  }
}

/** Two independent standard normals from two uniforms (Box-Muller). */
const normalPair = (rng: Rng): [number, number] => {
  const u = 1 - rng.nextFloat(); // in (0, 1], so log(u) is finite
  const v = rng.nextFloat();
  const r = Math.sqrt(-2 * Math.log(u));
  return [r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v)];
};

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** n new keys from one key, each independent of the others and of the parent's own draws. */
export const split = (k: Key, n = 2): Key[] => {
  const rng = new Rng(fromWords(splitMix32(k[0] ^ 0x5851f42d), splitMix32(k[1] ^ 0x4c957f2d), splitMix32(k[2]), splitMix32(k[3] ^ 0x1b873593)));
  return Array.from({ length: n }, () => fromWords(rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()));
};

/** A key derived from `k` and an integer (an epoch, a step, a layer index). */
export const foldIn = (k: Key, data: number): Key => {
  const d = splitMix32(data >>> 0) ^ Math.floor(data / 2 ** 32);
  return split(fromWords(k[0] ^ d, k[1], k[2] ^ splitMix32(d), k[3]), 1)[0]!;
};

export interface UniformOptions {
  readonly low?: number;
  readonly high?: number;
  readonly dtype?: DType;
}

/** Uniform samples in [low, high). */
export const uniform = (k: Key, shape: Shape, { low = 0, high = 1, dtype = "float32" }: UniformOptions = {}): Tensor => {
  const n = sizeOf(checkShape("uniform", shape));
  const data = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  const rng = new Rng(k);
  for (let i = 0; i < n; i++) data[i] = low + (high - low) * rng.nextFloat();
  return new Tensor(data, shape);
};

export interface NormalOptions {
  readonly mean?: number;
  readonly std?: number;
  readonly dtype?: DType;
}

/** Normal samples with the given mean and standard deviation. */
export const normal = (k: Key, shape: Shape, { mean = 0, std = 1, dtype = "float32" }: NormalOptions = {}): Tensor => {
  const n = sizeOf(checkShape("normal", shape));
  const data = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  const rng = new Rng(k);
  for (let i = 0; i < n; i += 2) {
    const [a, b] = normalPair(rng); // both of each pair: a sampler owns its whole stream
    data[i] = mean + std * a;
    if (i + 1 < n) data[i + 1] = mean + std * b;
  }
  return new Tensor(data, shape);
};

/** 1 with probability p, else 0. */
export const bernoulli = (k: Key, p: number, shape: Shape, dtype: DType = "float32"): Tensor => {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: p must be in [0, 1], got ${p}`);
  const n = sizeOf(checkShape("bernoulli", shape));
  const data = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  const rng = new Rng(k);
  for (let i = 0; i < n; i++) data[i] = rng.nextFloat() < p ? 1 : 0;
  return new Tensor(data, shape);
};

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
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

// Seeded randomness: the generator and the kernels that draw from it. A key is four 32-bit words,
// the state of xoshiro128** (Blackman & Vigna, 2018: 128 bits of state, period 2^128 - 1, passes
// BigCrush, fast in 32-bit integer arithmetic). Kernels take the key as an input value, so a
// compiled program draws new numbers when it is given a new key, exactly as eager execution does.

import type { DType } from "../dtype.ts";
import { defineKernel } from "../kernel.ts";

export type Words = readonly [number, number, number, number];

/** SplitMix32 step: spreads a 32-bit seed's bits so nearby seeds give unrelated states. */
export const splitMix32 = (x: number): number => {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
};

export const fromWords = (a: number, b: number, c: number, d: number): Words => {
  const words: [number, number, number, number] = [a >>> 0, b >>> 0, c >>> 0, d >>> 0];
  if (words.every((w) => w === 0)) words[0] = 1; // the all-zero state is xoshiro's one fixed point
  return words;
};

/** The key words of an integer seed. */
export const seedWords = (seed: number): Words => {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const a = splitMix32(lo ^ 0x243f6a88);
  const b = splitMix32(a ^ hi);
  const c = splitMix32(b);
  return fromWords(a, b, c, splitMix32(c));
};

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** A stateful stream from key words. Its state can be read (for checkpoints) and a stream restored. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(words: ArrayLike<number>) {
    this.s0 = words[0]! | 0;
    this.s1 = words[1]! | 0;
    this.s2 = words[2]! | 0;
    this.s3 = words[3]! | 0;
  }

  /** The current state: new Rng(rng.state()) continues exactly where this one is. */
  state(): Words {
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
export const normalPair = (rng: Rng): [number, number] => {
  const u = 1 - rng.nextFloat(); // in (0, 1], so log(u) is finite
  const v = rng.nextFloat();
  const r = Math.sqrt(-2 * Math.log(u));
  return [r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v)];
};

/** n new keys from one key, each independent of the others and of the parent's own draws. */
export const splitWords = (k: ArrayLike<number>, n: number): Words[] => {
  const rng = new Rng(fromWords(splitMix32(k[0]! ^ 0x5851f42d), splitMix32(k[1]! ^ 0x4c957f2d), splitMix32(k[2]!), splitMix32(k[3]! ^ 0x1b873593)));
  return Array.from({ length: n }, () => fromWords(rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()));
};

/** A key derived from `k` and an integer (an epoch, a step, a layer's name). */
export const foldInWords = (k: ArrayLike<number>, data: number): Words => {
  const d = splitMix32(data >>> 0) ^ Math.floor(data / 2 ** 32);
  return splitWords(fromWords(k[0]! ^ d, k[1]!, k[2]! ^ splitMix32(d), k[3]!), 1)[0]!;
};

const KEY = { dtype: "uint32", size: 4 } as const;

/** n keys from one (one output each). */
export const randomSplit = defineKernel<{ readonly n: number }>({
  name: "randomSplit",
  outputs: (_inputs, { n }) => Array.from({ length: n }, () => KEY),
  run: ([key], outputs) => splitWords(key!, outputs.length).forEach((words, i) => outputs[i]!.set(words)),
  show: ({ n }) => `n=${n}`,
});

/** The key folded with an integer. */
export const randomFoldIn = defineKernel<{ readonly data: number }>({
  name: "randomFoldIn",
  outputs: () => [KEY],
  run: ([key], [out], { data }) => out!.set(foldInWords(key!, data)),
  show: ({ data }) => `data=${data}`,
});

interface Draw {
  readonly dtype: DType;
  readonly size: number;
}

/** Uniform in [low, high). */
export const randomUniform = defineKernel<Draw & { readonly low: number; readonly high: number }>({
  name: "randomUniform",
  outputs: (_inputs, { dtype, size }) => [{ dtype, size }],
  run: ([key], [out], { low, high }) => {
    const rng = new Rng(key!);
    for (let i = 0; i < out!.length; i++) out![i] = low + (high - low) * rng.nextFloat();
  },
  show: ({ low, high }) => `[${low}, ${high})`,
});

/** Normal with the given mean and standard deviation (both of each Box-Muller pair used). */
export const randomNormal = defineKernel<Draw & { readonly mean: number; readonly std: number }>({
  name: "randomNormal",
  outputs: (_inputs, { dtype, size }) => [{ dtype, size }],
  run: ([key], [out], { mean, std }) => {
    const rng = new Rng(key!);
    const n = out!.length;
    for (let i = 0; i < n; i += 2) {
      const [a, b] = normalPair(rng);
      out![i] = mean + std * a;
      if (i + 1 < n) out![i + 1] = mean + std * b;
    }
  },
  show: ({ mean, std }) => `mean=${mean} std=${std}`,
});

/** `value` with probability p, else 0 (value 1: Bernoulli draws; 1/keep: an inverted-dropout mask). */
export const randomBernoulli = defineKernel<Draw & { readonly p: number; readonly value: number }>({
  name: "randomBernoulli",
  outputs: (_inputs, { dtype, size }) => [{ dtype, size }],
  run: ([key], [out], { p, value }) => {
    const rng = new Rng(key!);
    for (let i = 0; i < out!.length; i++) out![i] = rng.nextFloat() < p ? value : 0;
  },
  show: ({ p, value }) => `p=${p} value=${value}`,
});

// Seeded randomness with explicit keys: reproducible, independent streams, the right distributions.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { random } from "../../src/autograd/index.ts";

const { bernoulli, foldIn, key, normal, permutation, Rng, split, uniform } = random;

const seeds = fc.integer({ min: 0, max: 2 ** 40 });

const meanAndStd = (xs: ArrayLike<number>): { mean: number; std: number } => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / xs.length) };
};

describe("keys", () => {
  it("the same key gives the same draws, for every sampler", () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const [a, b] = [key(seed), key(seed)];
        expect(Array.from(uniform(a, [5]).data)).toEqual(Array.from(uniform(b, [5]).data));
        expect(Array.from(normal(a, [5]).data)).toEqual(Array.from(normal(b, [5]).data));
        expect(Array.from(bernoulli(a, 0.5, [5]).data)).toEqual(Array.from(bernoulli(b, 0.5, [5]).data));
        expect(Array.from(permutation(a, 8))).toEqual(Array.from(permutation(b, 8)));
      }),
      { numRuns: 30 },
    );
  });

  it("different seeds give different keys and different draws", () => {
    expect(key(1)).not.toEqual(key(2));
    expect(Array.from(uniform(key(1), [4]).data)).not.toEqual(Array.from(uniform(key(2), [4]).data));
    expect(key(2 ** 32)).not.toEqual(key(0)); // the high bits of the seed count too
  });

  it("split gives keys that differ from each other and from the parent, the same ones every time", () => {
    fc.assert(
      fc.property(seeds, fc.integer({ min: 2, max: 6 }), (seed, n) => {
        const parent = key(seed);
        const children = split(parent, n);
        expect(children).toHaveLength(n);
        expect(split(parent, n)).toEqual(children);
        const all = new Set([parent, ...children].map((k) => Array.from(k.data).join(",")));
        expect(all.size).toBe(n + 1);
      }),
      { numRuns: 50 },
    );
    expect(split(key(0))).toHaveLength(2);
  });

  it("foldIn derives a different key for each integer, and the same key for the same integer", () => {
    const k = key(7);
    const folded = [0, 1, 2, 3, 2 ** 33].map((d) => Array.from(foldIn(k, d).data).join(","));
    expect(new Set(folded).size).toBe(5);
    expect(foldIn(k, 3)).toEqual(foldIn(k, 3));
    expect(foldIn(k, 0)).not.toEqual(k);
  });

  it("keys are read-only values: uint32 tensors of shape [4]", () => {
    const k = key(3);
    expect(Object.isFrozen(k)).toBe(true);
    expect([k.dtype, ...k.shape]).toEqual(["uint32", 4]);
  });
});

describe("samplers", () => {
  it("normal's sample mean and standard deviation are near 0 and 1 over 100,000 draws", () => {
    const { mean, std } = meanAndStd(normal(key(42), [100_000], { dtype: "float64" }).data);
    expect(Math.abs(mean)).toBeLessThan(0.015); // the standard error is 1 / sqrt(1e5) ~ 0.003
    expect(Math.abs(std - 1)).toBeLessThan(0.015);
  });

  it("normal honours a mean and a standard deviation: N(3, 0.5^2)", () => {
    const { mean, std } = meanAndStd(normal(key(9), [20_000], { mean: 3, std: 0.5 }).data);
    expect(mean).toBeCloseTo(3, 1);
    expect(std).toBeCloseTo(0.5, 1);
  });

  it("uniform stays in [low, high) and fills it evenly (mean near the middle)", () => {
    fc.assert(
      fc.property(seeds, fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true }), (seed, low, width) => {
        const xs = uniform(key(seed), [200], { low, high: low + width, dtype: "float64" }).data;
        expect(Array.from(xs).every((x) => x >= low && x < low + width)).toBe(true);
      }),
      { numRuns: 50 },
    );
    const { mean } = meanAndStd(uniform(key(5), [20_000]).data);
    expect(mean).toBeCloseTo(0.5, 1);
  });

  it("samplers make the shape and dtype asked for", () => {
    const t = uniform(key(1), [2, 3], { dtype: "float64" });
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe("float64");
    expect(normal(key(1), [4]).dtype).toBe("float32");
    expect(bernoulli(key(1), 0.5, [3], "float64").dtype).toBe("float64");
  });

  it("bernoulli gives only 0s and 1s, with 1s at rate p", () => {
    const xs = Array.from(bernoulli(key(11), 0.3, [20_000]).data);
    expect(xs.every((x) => x === 0 || x === 1)).toBe(true);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.3, 1);
    expect(Array.from(bernoulli(key(1), 0, [10]).data).every((x) => x === 0)).toBe(true);
    expect(Array.from(bernoulli(key(1), 1, [10]).data).every((x) => x === 1)).toBe(true);
  });

  it("permutation contains each of 0..n-1 exactly once", () => {
    fc.assert(
      fc.property(seeds, fc.integer({ min: 0, max: 50 }), (seed, n) => {
        const p = Array.from(permutation(key(seed), n));
        expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });

  it("permutation shuffles: different keys give different orders of 20 items", () => {
    expect(Array.from(permutation(key(1), 20))).not.toEqual(Array.from(permutation(key(2), 20)));
  });
});

describe("Rng streams", () => {
  /** One of the Rng's draws, chosen by a number. */
  const draw = (rng: InstanceType<typeof Rng>, kind: number): number =>
    kind === 0 ? rng.nextUint32() : kind === 1 ? rng.nextFloat() : kind === 2 ? rng.nextInt(10) : rng.nextNormal();
  const kinds = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 12 });

  it("new Rng(rng.state()) continues the stream exactly where rng is, after any mix of draws", () => {
    fc.assert(
      fc.property(seeds, kinds, kinds, (seed, before, after) => {
        const rng = new Rng(key(seed));
        for (const kind of before) draw(rng, kind);
        const copy = new Rng(rng.state());
        expect(after.map((kind) => draw(copy, kind))).toEqual(after.map((kind) => draw(rng, kind)));
      }),
    );
  });

  it("nextUint32 gives 32-bit unsigned integers and nextFloat gives [0, 1)", () => {
    const rng = new Rng(key(3));
    for (let i = 0; i < 1000; i++) {
      const u = rng.nextUint32();
      expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).toBe(true);
      const f = rng.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  it("nextInt(n) hits every value of 0..n-1 and nothing else", () => {
    const rng = new Rng(key(4));
    const seen = new Set(Array.from({ length: 500 }, () => rng.nextInt(7)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("permutation can draw from a running Rng, advancing it", () => {
    const rng = new Rng(key(8));
    const first = Array.from(permutation(rng, 10));
    const second = Array.from(permutation(rng, 10));
    expect(first).not.toEqual(second);
    expect(first).toEqual(Array.from(permutation(key(8), 10)));
  });
});

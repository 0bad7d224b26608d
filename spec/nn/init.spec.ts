import { describe, expect, it } from "vitest";
import { random, type Tensor } from "../../src/autograd/index.ts";
import { convFanAxes, fans, glorotNormal, glorotUniform, heNormal, zeros } from "../../src/nn/index.ts";
import { maxAbs } from "./helpers.ts";

const stats = (t: Tensor) => {
  let s = 0, s2 = 0;
  for (const v of t.data) s += v;
  const mean = s / t.size;
  for (const v of t.data) s2 += (v - mean) ** 2;
  return { mean, std: Math.sqrt(s2 / (t.size - 1)) };
};

describe("fans", () => {
  it("reads fanIn from every axis but the last and fanOut from the last: [784, 128] gives (784, 128)", () => {
    expect(fans([784, 128])).toEqual({ fanIn: 784, fanOut: 128 });
    expect(fans([3, 4, 5])).toEqual({ fanIn: 12, fanOut: 5 });
    expect(fans([7])).toEqual({ fanIn: 7, fanOut: 7 });
    expect(fans([])).toEqual({ fanIn: 1, fanOut: 1 });
  });
});

describe("fans of a convolution's filters [K, C, kh, kw]", () => {
  it("multiply the axes the layer names: fanIn = C kh kw (axes 1, 2, 3), fanOut = K kh kw (axes 0, 2, 3)", () => {
    expect(fans([32, 16, 5, 5], convFanAxes)).toEqual({ fanIn: 16 * 25, fanOut: 32 * 25 });
    expect(() => fans([3, 4], convFanAxes)).toThrow(/axis 2 is not an axis of shape \[3, 4\]/);
  });

  it("give He normal the variance 2 / (C kh kw) and Glorot the variances 2 / (fanIn + fanOut), within 2%", () => {
    const shape = [64, 8, 5, 5];
    const [fanIn, fanOut] = [8 * 25, 64 * 25];
    const check = (t: { data: ArrayLike<number> } & Tensor, variance: number) => expect(Math.abs(stats(t).std ** 2 / variance - 1)).toBeLessThan(0.04);
    check(heNormal(random.key(1), shape, "float32", convFanAxes), 2 / fanIn);
    check(glorotNormal(random.key(2), shape, "float32", convFanAxes), 2 / (fanIn + fanOut));
    check(glorotUniform(random.key(3), shape, "float32", convFanAxes), 2 / (fanIn + fanOut));
    // Without the axes, every axis but the last would count as fanIn: 64 * 8 * 5 inputs, a tenth of the right variance.
    expect(stats(heNormal(random.key(1), shape)).std ** 2).toBeLessThan(0.2 * (2 / fanIn));
  });
});

describe("heNormal", () => {
  it("has mean 0 and sample std within 2% of sqrt(2/fanIn) on a 784 x 128 matrix", () => {
    const w = heNormal(random.key(1), [784, 128]);
    const { mean, std } = stats(w);
    const expected = Math.sqrt(2 / 784);
    expect(Math.abs(std / expected - 1)).toBeLessThan(0.02);
    expect(Math.abs(mean)).toBeLessThan(0.02 * expected);
  });

  it("is float32 by default, float64 on request, and the same for the same key", () => {
    expect(heNormal(random.key(2), [3, 4]).dtype).toBe("float32");
    expect(heNormal(random.key(2), [3, 4], "float64").dtype).toBe("float64");
    expect(Array.from(heNormal(random.key(2), [3, 4]).data)).toEqual(Array.from(heNormal(random.key(2), [3, 4]).data));
    expect(Array.from(heNormal(random.key(3), [3, 4]).data)).not.toEqual(Array.from(heNormal(random.key(2), [3, 4]).data));
  });

  it("refuses a shape with an empty axis", () => {
    expect(() => heNormal(random.key(0), [0, 4])).toThrow(/heNormal: cannot initialize shape \[0, 4\]/);
  });
});

describe("glorotNormal", () => {
  it("has mean 0 and sample std within 2% of sqrt(2/(fanIn + fanOut)) on a 784 x 128 matrix", () => {
    const { mean, std } = stats(glorotNormal(random.key(4), [784, 128]));
    const expected = Math.sqrt(2 / (784 + 128));
    expect(Math.abs(std / expected - 1)).toBeLessThan(0.02);
    expect(Math.abs(mean)).toBeLessThan(0.02 * expected);
  });
});

describe("glorotUniform", () => {
  it("stays inside ±sqrt(6/(fanIn + fanOut)) with sample std within 2% of that limit / sqrt(3)", () => {
    const w = glorotUniform(random.key(5), [784, 128]);
    const limit = Math.sqrt(6 / (784 + 128));
    expect(maxAbs(w.data)).toBeLessThanOrEqual(limit);
    const { mean, std } = stats(w);
    expect(Math.abs(std / (limit / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
    expect(Math.abs(mean)).toBeLessThan(0.02 * limit);
  });
});

describe("zeros (the initializer)", () => {
  it("fills the shape with zeros whatever the key", () => {
    const z = zeros(random.key(6), [2, 3], "float64");
    expect(z.dtype).toBe("float64");
    expect(z.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });
});

// The log-sum-exp trick, step by step: why log(sum(exp(z))) is never computed as written, and why
// log(softmax(z)) is never computed at all.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exp, log, logSumExp, sum, takeAlongAxis, tensor } from "../../src/autograd/index.ts";
import { logSoftmax, softmax } from "../../src/nn/index.ts";
import { tensorOfShape } from "../../src/testing/index.ts";

const f64 = (values: number[]) => tensor(values, [values.length], "float64");
const f32 = (values: number[]) => tensor(values, [values.length], "float32");
const naive = (z: number[]) => Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
const rowsOf = (n: number) => fc.integer({ min: 1, max: 8 }).chain((k) => tensorOfShape([n, k], { min: -1e4, max: 1e4 }));

describe("the log-sum-exp trick", () => {
  it("is needed because e^z overflows: to Infinity beyond z = 709.78 in float64 and z = 88.72 in float32", () => {
    expect(exp(f64([709.78, 709.79])).toArray()).toEqual([expect.any(Number), Infinity]);
    expect(Number.isFinite(exp(f64([709.78])).item())).toBe(true);
    expect(exp(f32([88.72, 88.73])).toArray()).toEqual([expect.any(Number), Infinity]);
    expect(Number.isFinite(exp(f32([88.72])).item())).toBe(true);
    expect(naive([1000, 1000])).toBe(Infinity);
    expect(log(sum(exp(f64([1000, 1000])))).item()).toBe(Infinity);
  });

  it("and because e^z underflows: to 0 below z = -745.2 in float64, so log(sum(exp(z))) of [-1000, -1000] is -Infinity", () => {
    expect(exp(f64([-745.1, -745.2])).toArray()).toEqual([expect.any(Number), 0]);
    expect(naive([-1000, -1000])).toBe(-Infinity);
  });

  it("rests on one identity: log sum_k e^z_k = m + log sum_k e^(z_k - m) for any m, since e^(z_k - m) = e^z_k e^-m", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 8 }), fc.double({ min: -20, max: 20, noNaN: true }), (z, m) => {
        expect(m + naive(z.map((v) => v - m))).toBeCloseTo(naive(z), 10);
      }),
    );
  });

  it("with m = max(z) every exponent is <= 0 and one of them is e^0 = 1, so the sum is in [1, n]: it neither overflows nor rounds to 0", () => {
    fc.assert(
      fc.property(rowsOf(1), (z) => {
        const values = Array.from(z.data);
        const m = Math.max(...values);
        const shifted = values.reduce((s, v) => s + Math.exp(v - m), 0);
        expect(shifted).toBeGreaterThanOrEqual(1);
        expect(shifted).toBeLessThanOrEqual(values.length);
        expect(logSumExp(z, -1).item()).toBeCloseTo(m + Math.log(shifted), 9);
      }),
    );
  });

  it("so logSumExp([1000, 1000]) = 1000 + log 2 and logSumExp([-1000, -1000]) = -1000 + log 2, where the formula as written gives Infinity and -Infinity", () => {
    expect(logSumExp(f64([1000, 1000])).item()).toBe(1000 + Math.LN2);
    expect(logSumExp(f64([-1000, -1000])).item()).toBe(-1000 + Math.LN2);
  });

  it("and it is why log-probabilities come from logSoftmax(z) = z - logSumExp(z), never from log(softmax(z)): for z = [0, 200] in float32, p_0 = e^-200 rounds to 0 and log(p_0) = -Infinity, but logSoftmax gives -200", () => {
    const z = tensor([[0, 200]], undefined, "float32");
    expect(softmax(z).toArray()).toEqual([[0, 1]]);
    expect(log(softmax(z)).toArray()).toEqual([[-Infinity, 0]]);
    expect(logSoftmax(z).toArray()).toEqual([[-200, 0]]);
    expect(takeAlongAxis(logSoftmax(z), [0], -1).item()).toBe(-200); // the cross-entropy of label 0: 200, finite
  });
});

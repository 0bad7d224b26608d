// gradcheck itself: it must pass correct gradients and catch wrong ones, pointing at the worst entry.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defineOp, gradcheck, matmul, mul, sum, tanh, Tensor, tensor } from "../../src/autograd/index.ts";
import { tensorOfShape } from "../../src/testing/index.ts";

const f64 = (values: number[]): Tensor => tensor(values, [values.length], "float64");
const map = (x: Tensor, f: (v: number, i: number) => number): Tensor => new Tensor(x.data.map(f), x.shape);

/** x^2 with a vjp that forgets the factor 2: d/dx x^2 = 2x, but it returns x. */
const wrongSquareOp = defineOp({
  name: "wrongSquare",
  forward: ([x]) => map(x!, (v) => v * v),
  vjp: (g, { inputs: [x] }) => [map(g, (gi, i) => gi * x!.data[i]!)],
});
const wrongSquare = (x: Tensor): Tensor => wrongSquareOp([x], undefined);

describe("gradcheck", () => {
  it("passes correct gradients, with a tiny worst error", () => {
    fc.assert(
      fc.property(tensorOfShape([2, 3]), tensorOfShape([3, 2]), (a, b) => {
        const result = gradcheck((x, y) => tanh(matmul(x!, y!)), [a, b]);
        expect(result.ok).toBe(true);
        expect(result.maxAbsError).toBeLessThan(1e-7);
        expect(result.message).toMatch(/^gradcheck passed: max abs error /);
      }),
      { numRuns: 20 },
    );
  });

  it("fails a wrong vjp and reports the worst entry: for x^2 with vjp x at [1, -3, 2], element 1 (analytic -3, numeric -6)", () => {
    const result = gradcheck(wrongSquare, [f64([1, -3, 2])]);
    expect(result.ok).toBe(false);
    expect(result.worst).toMatchObject({ input: 0, index: 1, output: 1, analytic: -3 });
    expect(result.worst!.numeric).toBeCloseTo(-6, 6);
    expect(result.maxAbsError).toBeCloseTo(3, 6);
    expect(result.maxRelError).toBeCloseTo(0.5, 6);
    expect(result.message).toMatch(/^gradcheck failed: input 0, element 1, output 1: analytic -3 vs numeric -6\.\d+ \(atol 0\.00001, rtol 0\.001\)$/);
  });

  it("fails a wrong vjp on random inputs, every time", () => {
    fc.assert(
      fc.property(tensorOfShape([3], { min: 0.5, max: 2 }), (x) => {
        expect(gradcheck((t) => sum(wrongSquare(t!)), [x]).ok).toBe(false);
      }),
      { numRuns: 20 },
    );
  });

  it("names the input whose gradient is wrong when there are several", () => {
    const wrongForB = defineOp({
      name: "wrongMulForB",
      forward: ([a, b]) => mul(a!, b!),
      vjp: (g, { inputs: [a, b] }) => [mul(g, b!), mul(g, mul(a!, 2))], // d(ab)/db is a, not 2a
    });
    const result = gradcheck((a, b) => wrongForB([a!, b!], undefined), [f64([1, 2]), f64([3, 4])]);
    expect(result.ok).toBe(false);
    expect(result.worst?.input).toBe(1);
  });

  it("checks the whole Jacobian, not just its diagonal: a reversal whose vjp does not reverse fails", () => {
    const reverseWithWrongVjp = defineOp({
      name: "reverse",
      forward: ([x]) => map(x!, (_, i) => x!.data[x!.size - 1 - i]!),
      vjp: (g) => [g], // should reverse g too
    });
    const result = gradcheck((x) => reverseWithWrongVjp([x!], undefined), [f64([1, 2])]);
    expect(result.ok).toBe(false);
    expect(result.worst).toMatchObject({ input: 0, index: 0, output: 0, analytic: 1 }); // the true entry is 0
  });

  it("fails a vjp that returns NaN", () => {
    const nanVjp = defineOp({ name: "nanVjp", forward: ([x]) => x!, vjp: (g) => [map(g, () => NaN)] });
    const result = gradcheck((x) => nanVjp([x!], undefined), [f64([1])]);
    expect(result.ok).toBe(false);
    expect(result.worst?.analytic).toBeNaN();
  });

  it("uses PyTorch's tolerances by default: a 0.01% error passes, and fails once rtol is 1e-6", () => {
    const slightlyOff = defineOp({
      name: "slightlyOff",
      forward: ([x]) => map(x!, (v) => v * v),
      vjp: (g, { inputs: [x] }) => [map(g, (gi, i) => gi * 2 * x!.data[i]! * (1 + 1e-4))],
    });
    const f = (x: Tensor | undefined) => slightlyOff([x!], undefined);
    expect(gradcheck(f, [f64([1, 2])]).ok).toBe(true);
    expect(gradcheck(f, [f64([1, 2])], { rtol: 1e-6, atol: 1e-9 }).ok).toBe(false);
  });
});

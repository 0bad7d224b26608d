// Every row of the op table (op-table.ts) is checked the same way: its gradient against central
// differences, its purity, its graph recording, and its float32 forward pass.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cast, gradcheck, ones, vjp, watch, type Tensor } from "../../src/autograd/index.ts";
import { opTable } from "./op-table.ts";

// Each gradcheck evaluates the op about 2 * (input size) + (output size) times; 50 random cases per
// op for gradcheck and 25 for the cheaper facts keep the whole table to a few seconds.
const gradcheckRuns = { numRuns: 50 };
const runs = { numRuns: 25 };

/** Same shape, and |got - want| <= tol (1 + |want|) everywhere. */
const expectClose = (got: Tensor, want: Tensor, tol: number): void => {
  expect(got.shape).toEqual(want.shape);
  got.data.forEach((v, i) => {
    const w = want.data[i]!;
    expect(Math.abs(v - w), `index ${i}: ${v} vs ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
};

describe("every op in the op table", () => {
  for (const row of opTable) {
    describe(row.name, () => {
      it("passes gradcheck in float64 at every index (eps 1e-6, atol 1e-5, rtol 1e-3, as PyTorch)", () => {
        fc.assert(
          fc.property(row.cases, ({ f, inputs }) => {
            const result = gradcheck(f, inputs, { eps: 1e-6, atol: 1e-5, rtol: 1e-3 });
            expect(result.ok, result.message).toBe(true);
          }),
          gradcheckRuns,
        );
      });

      it("never changes its inputs, forward or backward", () => {
        fc.assert(
          fc.property(row.cases, ({ f, inputs }) => {
            const before = inputs.map((x) => Array.from(x.data));
            const { out, backward } = vjp(f, ...inputs);
            backward(ones(out.shape, out.dtype));
            expect(inputs.map((x) => Array.from(x.data))).toEqual(before);
          }),
          runs,
        );
      });

      it("records a graph node only when an input is tracked", () => {
        fc.assert(
          fc.property(row.cases, ({ f, inputs }) => {
            expect(f(...inputs).node).toBeNull();
            expect(f(...inputs.map(watch)).node).not.toBeNull();
          }),
          runs,
        );
      });

      it("keeps float32 inputs in float32, and its value and gradients agree with float64 to float32 precision", () => {
        fc.assert(
          fc.property(row.cases, ({ f, inputs }) => {
            const single = inputs.map((x) => cast(x, "float32"));
            const double = single.map((x) => cast(x, "float64")); // the same values, exactly
            const [got, want] = [vjp(f, ...single), vjp(f, ...double)];
            expect(got.out.dtype).toBe("float32");
            expectClose(got.out, want.out, 1e-5);
            const [gotGrads, wantGrads] = [got.backward(ones(got.out.shape)), want.backward(ones(want.out.shape, "float64"))];
            gotGrads.forEach((g, i) => {
              expect(g.dtype).toBe("float32");
              expectClose(g, wantGrads[i]!, 1e-4);
            });
          }),
          runs,
        );
      });
    });
  }
});

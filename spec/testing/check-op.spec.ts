// checkOp itself: each of its checks passes a correct op and catches the mistake it is there for,
// naming the op, the check and the counterexample.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  add, cast, defineKernel, defineOp, exp, mul, run1, sigmoid, stopGradient, sum, tensor, type Tensor,
} from "../../src/autograd/index.ts";
import { checkOp, domains, opCase, OpCheckError, opChecks, tensors } from "../../src/testing/index.ts";

/** e^x as a new kernel and op, with a vjp chosen by the caller (right or wrong). */
const expWith = (name: string, vjp: (g: Tensor, x: Tensor, out: Tensor) => Tensor, write?: (x: Float64Array | Float32Array) => void) => {
  const kernel = defineKernel({
    name,
    outputs: ([x]) => [x!],
    run: ([x], [out]) => {
      for (let i = 0; i < x!.length; i++) out![i] = Math.exp(x![i]!);
      write?.(x as Float64Array);
    },
  });
  const op = defineOp({ name, forward: ([x]) => run1(kernel, [x!], undefined, x!.shape), vjp: (g, { inputs: [x], out }) => [vjp(g, x!, out)] });
  return (x: Tensor): Tensor => op([x], undefined);
};

const failure = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(OpCheckError);
    return (error as Error).message;
  }
  throw new Error("expected checkOp to fail");
};

describe("checkOp", () => {
  it("passes a correct new op and reports every check it ran with its number of cases", () => {
    const good = expWith("goodExp", (g, _x, out) => mul(g, out));
    const report = checkOp({ name: "goodExp", op: good, arity: 1 }, { numRuns: 5 });
    expect(report).toEqual({ name: "goodExp", passed: ["gradcheck", "gradOfGrad", "purity", "graph", "float32", "jit"].map((check) => ({ check, runs: 5 })) });
  });

  it("catches a wrong gradient, naming the op, the check and the shrunk input", () => {
    const wrong = expWith("wrongExp", (g, x) => mul(g, x)); // d/dx e^x is not x
    const message = failure(() => checkOp({ name: "wrongExp", op: wrong, arity: 1 }, { checks: ["gradcheck"] }));
    expect(message).toMatch(/^wrongExp: gradcheck failed \(its gradient equals central differences/);
    expect(message).toMatch(/Counterexample: \[on float64/);
  });

  it("catches a vjp that reads values, which cannot be differentiated a second time", () => {
    const byValues = expWith("expByValues", (g, _x, out) => mul(g, tensor(Array.from(out.data), out.shape, out.dtype)));
    expect(checkOp({ name: "expByValues", op: byValues, arity: 1 }, { checks: ["gradcheck"], numRuns: 5 }).passed).toHaveLength(1);
    expect(failure(() => checkOp({ name: "expByValues", op: byValues, arity: 1 }, { checks: ["gradOfGrad"], numRuns: 5 }))).toMatch(/expByValues: gradOfGrad failed[^]*its vjp reads the values of a tracked tensor/);
  });

  it("catches a kernel that writes into its input", () => {
    const careless = expWith("carelessExp", (g, _x, out) => mul(g, out), (x) => x.fill(0));
    expect(failure(() => checkOp({ name: "carelessExp", op: careless, arity: 1 }, { checks: ["purity"] }))).toMatch(/carelessExp: purity failed[^]*input 0 changed/);
  });

  it("catches a function that stops the graph", () => {
    expect(failure(() => checkOp({ name: "stopped", op: (x) => exp(stopGradient(x)), arity: 1 }, { checks: ["graph"] }))).toMatch(/stopped: graph failed[^]*has no graph node/);
  });

  it("catches a function that turns float32 into float64", () => {
    const widening = (x: Tensor) => mul(cast(x, "float64"), 2);
    expect(failure(() => checkOp({ name: "widening", op: widening, arity: 1 }, { checks: ["float32"] }))).toMatch(/widening: float32 failed[^]*float32 inputs gave a float64 result/);
  });

  it("catches an op declared as broadcasting whose result depends on how far an input was broadcast", () => {
    const scaledBySum = (a: Tensor, b: Tensor) => mul(a, sum(b)); // sum(b) grows when b is broadcast
    checkOp({ name: "add", op: add, arity: 2, broadcasts: true }, { checks: ["broadcasting"] });
    expect(failure(() => checkOp({ name: "scaledBySum", op: scaledBySum, arity: 2, broadcasts: true }, { checks: ["broadcasting"] }))).toMatch(
      /scaledBySum: broadcasting failed[^]*broadcast to \[.*\] first, the values differ/,
    );
  });

  it("catches a forward that reads values, which jit cannot compile", () => {
    const peeking = (x: Tensor) => (x.data[0]! > 0 ? exp(x) : sigmoid(x));
    expect(failure(() => checkOp({ name: "peeking", op: peeking, arity: 1 }, { checks: ["jit"], numRuns: 5 }))).toMatch(/peeking: jit failed/);
  });

  it("draws inputs inside each input's domain, and takes cases of its own for ops with attributes", () => {
    const seen: number[] = [];
    const logOfSecond = (a: Tensor, b: Tensor) => {
      seen.push(...Array.from(b.data));
      return add(a, b);
    };
    checkOp({ name: "domains", op: logOfSecond, arity: 2, domain: [domains.real, domains.positive] }, { checks: ["graph"] });
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(0.5);
    const scaled = tensors().chain((x) => fc.double({ min: -3, max: 3, noNaN: true }).map((k) => opCase((a) => mul(a, k), [x], `k ${k}`)));
    expect(checkOp({ name: "scale by k", cases: scaled }, { checks: ["gradcheck", "jit"], numRuns: 10 }).passed.map((p) => p.check)).toEqual(["gradcheck", "jit"]);
  });

  it("refuses a description it cannot use, saying what it needs", () => {
    expect(() => checkOp({ name: "nothing" })).toThrow(/checkOp: nothing: give op with its arity \(a positive integer\), or cases/);
    expect(() => checkOp({ name: "both", op: exp, arity: 1, cases: tensors().map((x) => opCase(exp, [x])) })).toThrow(/give op or cases, not both/);
    expect(() => checkOp({ name: "exp", op: exp, arity: 1 }, { checks: ["broadcasting"] })).toThrow(/broadcasting check needs an op declared with broadcasts: true/);
    expect(() => checkOp({ name: "exp", op: exp, arity: 1 }, { checks: ["speed" as never] })).toThrow(/unknown check "speed"; the checks are gradcheck, gradOfGrad/);
    expect(Object.keys(opChecks)).toEqual(["gradcheck", "gradOfGrad", "purity", "graph", "float32", "broadcasting", "jit"]);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gradcheck, matmul, random, sum, tensor, Tensor, valueAndGrad } from "../../src/autograd/index.ts";
import { activationObjective, maximizeActivation, totalVariation } from "../../src/nn/activation-max.ts";
import { mlp, type Params } from "../../src/nn/index.ts";
import { expectClose } from "./helpers.ts";

/** A small network with its parameters: logits of a batch [k, inputs]. */
const network = (sizes: number[], activation: "relu" | "tanh", seed: number, dtype: "float32" | "float64" = "float64") => {
  const net = mlp(sizes, { activation });
  const { params } = net.init(random.key(seed), [sizes[0]!], dtype);
  return { params, logitsOf: (x: Tensor) => net.apply(params as Params, x) };
};

const uniformStart = (seed: number, rows: number, n: number, dtype: "float32" | "float64" = "float64"): Tensor =>
  random.uniform(random.key(seed), [rows, n], { dtype });

const nonDecreasing = (h: Float64Array): boolean => h.every((v, t) => t === 0 || v >= h[t - 1]!);

describe("activationObjective", () => {
  it("is logit_c(x) - lambda ||x||^2 per row", () => {
    // A linear 'network' z = x W, so every value can be written out by hand.
    const w = tensor([[1, -2], [3, 0.5]], [2, 2], "float64");
    const x = tensor([[0.5, 1], [0.25, 0]], [2, 2], "float64");
    const j = activationObjective((v) => matmul(v, w), [0, 1], 0.1)(x);
    // Row 0: z = [0.5 + 3, -1 + 0.5] = [3.5, -0.5], class 0: 3.5 - 0.1 * 1.25. Row 1: z_1 = -0.5, minus 0.1 * 0.0625.
    expectClose(j.data, [3.5 - 0.125, -0.5 - 0.00625], 1e-12);
  });

  it("has an input gradient equal to central differences (gradcheck in float64, every index) on a tiny tanh network", () => {
    const { logitsOf } = network([5, 4, 3], "tanh", 3);
    const x = uniformStart(4, 3, 5);
    const result = gradcheck(activationObjective(logitsOf, [2, 0, 1], 0.1), [x]);
    expect(result.ok, result.message).toBe(true);
  });

  it("has, through valueAndGrad with the input as the differentiated parameter, the gradient central differences give", () => {
    const { logitsOf } = network([4, 3, 2], "tanh", 5);
    const x = uniformStart(6, 1, 4);
    const f = activationObjective(logitsOf, [1], 0.05);
    const { grads } = valueAndGrad((v: Tensor) => sum(f(v)))(x);
    const eps = 1e-6;
    const numeric = Array.from(x.data, (_, i) => {
      const plus = Float64Array.from(x.data), minus = Float64Array.from(x.data);
      plus[i] = plus[i]! + eps;
      minus[i] = minus[i]! - eps;
      return (f(new Tensor(plus, x.shape)).data[0]! - f(new Tensor(minus, x.shape)).data[0]!) / (2 * eps);
    });
    expectClose(grads.data, numeric, 1e-7);
  });
});

describe("totalVariation", () => {
  it("sums the squared differences of vertical and horizontal neighbours, per image of the batch", () => {
    // [[0, 1], [3, 1]]: vertical (3-0)^2 + (1-1)^2 = 9, horizontal (1-0)^2 + (1-3)^2 = 5.
    const x = tensor([[0, 1, 3, 1], [2, 2, 2, 2]], [2, 4], "float64");
    expectClose(totalVariation(x, [2, 2]).data, [14, 0], 1e-12);
  });

  it("is larger for speckle than for a smooth image of the same mean, and has the gradient central differences give", () => {
    const checker = tensor([Array.from({ length: 16 }, (_, i) => ((i + Math.floor(i / 4)) % 2))], [1, 16], "float64");
    const ramp = tensor([Array.from({ length: 16 }, (_, i) => (i % 4) / 6)], [1, 16], "float64");
    expect(totalVariation(checker, [4, 4]).data[0]).toBe(24);
    expect(totalVariation(ramp, [4, 4]).data[0]!).toBeLessThan(1);
    const result = gradcheck((v: Tensor) => totalVariation(v, [3, 2]), [uniformStart(3, 2, 6)]);
    expect(result.ok, result.message).toBe(true);
  });
});

describe("maximizeActivation", () => {
  // A linear classifier z = x W + b (no hidden layer): J_c(x) = sum_i (w_ic x_i - lambda x_i^2) + b_c
  // is separable, so its maximizer over [0, 1]^n is known pixel by pixel: clip(w_ic / (2 lambda), 0, 1).
  const linear = network([6, 3], "relu", 11);
  const weights = (linear.params as { dense1: { weight: Tensor } }).dense1.weight;
  const column = (c: number) => Array.from({ length: 6 }, (_, i) => weights.data[i * 3 + c]!);

  it("finds the known maximizer clip(w_c / (2 lambda), 0, 1) of a linear classifier", () => {
    const lambda = 0.2;
    const { inputs } = maximizeActivation(linear.logitsOf, { classes: [0, 1, 2], inputSize: 6, dtype: "float64", l2: lambda, steps: 300 });
    const expected = [0, 1, 2].flatMap((c) => column(c).map((w) => Math.min(1, Math.max(0, w / (2 * lambda)))));
    expect(expected.some((v) => v > 0 && v < 1)).toBe(true); // the case has pixels strictly inside the box
    expectClose(inputs.data, expected, 1e-6);
  });

  it("without a penalty, turns on exactly the pixels with a positive weight for the class", () => {
    const { inputs } = maximizeActivation(linear.logitsOf, { classes: [2], inputSize: 6, dtype: "float64", l2: 0, steps: 50 });
    expect(Array.from(inputs.data)).toEqual(column(2).map((w) => (w > 0 ? 1 : 0)));
  });

  it("never lets the objective decrease from one step to the next, and keeps every input in [0, 1], on random relu networks", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 3 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (seed, c, l2) => {
        const { logitsOf } = network([8, 6, 4], "relu", seed, "float32");
        const r = maximizeActivation(logitsOf, { classes: [c], inputSize: 8, l2, steps: 25, start: uniformStart(seed + 1, 1, 8, "float32") });
        expect(nonDecreasing(r.objective[0]!)).toBe(true);
        expect(r.objective[0]).toHaveLength(26);
        expect(r.inputs.data.every((v) => v >= 0 && v <= 1)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("raises the class's logit above the start's (lambda = 0: the objective is the logit), on random tanh networks", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 2 }), (seed, c) => {
        const { logitsOf } = network([6, 5, 3], "tanh", seed);
        const start = uniformStart(seed + 1, 1, 6);
        const r = maximizeActivation(logitsOf, { classes: [c], inputSize: 6, l2: 0, steps: 20, start });
        const before = logitsOf(start).data[c]!;
        expect(r.logits.data[c]!).toBeGreaterThan(before);
        expect(r.objective[0]![0]).toBeCloseTo(before, 12);
        expect(r.objective[0]![20]).toBeCloseTo(r.logits.data[c]!, 12);
      }),
      { numRuns: 30 },
    );
  });

  it("maximizes several classes as independent rows: together gives what each gives alone", () => {
    const { logitsOf } = network([7, 5, 3], "tanh", 21);
    const start = uniformStart(22, 3, 7);
    const together = maximizeActivation(logitsOf, { classes: [2, 0, 2], inputSize: 7, steps: 40, start });
    [2, 0, 2].forEach((c, r) => {
      const alone = maximizeActivation(logitsOf, { classes: [c], inputSize: 7, steps: 40, start: new Tensor(start.data.slice(r * 7, (r + 1) * 7), [1, 7]) });
      expectClose(together.inputs.data.subarray(r * 7, (r + 1) * 7), alone.inputs.data, 1e-12);
    });
  });

  it("with the smoothness prior (tv > 0), finds smoother inputs than without, the objective still never decreasing", () => {
    const { logitsOf } = network([16, 12, 3], "tanh", 31);
    const rough = maximizeActivation(logitsOf, { classes: [0, 1, 2], inputSize: 16, steps: 60, l2: 0.01, dtype: "float64" });
    const smooth = maximizeActivation(logitsOf, { classes: [0, 1, 2], inputSize: 16, steps: 60, l2: 0.01, tv: 0.5, imageShape: [4, 4], dtype: "float64" });
    const tv = (x: Tensor) => Array.from(totalVariation(x, [4, 4]).data);
    tv(smooth.inputs).forEach((t, r) => expect(t).toBeLessThan(tv(rough.inputs)[r]!));
    for (const h of smooth.objective) expect(nonDecreasing(h)).toBe(true);
    const objective = activationObjective(logitsOf, [0, 1, 2], 0.01, { tv: 0.5, imageShape: [4, 4] })(smooth.inputs);
    expectClose(smooth.objective.map((h) => h[60]!), objective.data, 1e-9);
  });

  it("starts from the blank image by default, is deterministic, and leaves its start unchanged", () => {
    const { logitsOf } = network([5, 4, 3], "tanh", 8);
    const zeroStep = maximizeActivation(logitsOf, { classes: [1], inputSize: 5, steps: 0, dtype: "float64" });
    expect(Array.from(zeroStep.inputs.data)).toEqual([0, 0, 0, 0, 0]);
    const start = uniformStart(9, 2, 5);
    const copy = Array.from(start.data);
    const a = maximizeActivation(logitsOf, { classes: [0, 2], inputSize: 5, steps: 15, start });
    const b = maximizeActivation(logitsOf, { classes: [0, 2], inputSize: 5, steps: 15, start });
    expect(Array.from(a.inputs.data)).toEqual(Array.from(b.inputs.data));
    expect(Array.from(start.data)).toEqual(copy);
    expect(a.logits.shape).toEqual([2, 3]);
  });

  it("refuses bad options with a message naming the option and what was expected", () => {
    const { logitsOf } = network([4, 2], "relu", 1, "float32");
    const run = (o: object) => () => maximizeActivation(logitsOf, { classes: [0], inputSize: 4, ...o });
    expect(run({ classes: [] })).toThrow(/no classes given/);
    expect(run({ steps: -1 })).toThrow(/steps must be a non-negative integer, got -1/);
    expect(run({ l2: -0.1 })).toThrow(/l2 must be a non-negative number, got -0.1/);
    expect(run({ learningRate: 0 })).toThrow(/learningRate must be a positive number, got 0/);
    expect(run({ start: tensor([[0, 0, 0]]) })).toThrow(/start has shape \[1, 3\], expected \[1, 4\]/);
    expect(run({ start: tensor([[0, 0, 2, 0]]) })).toThrow(/start value 2 at index 2 is outside \[0, 1\]/);
    expect(run({ classes: [1.5] })).toThrow(/class 1.5 at position 0 is not a class index/);
    expect(run({ classes: [5] })).toThrow(/5.*out of range|out of range.*5/);
    expect(run({ tv: -1 })).toThrow(/tv must be a non-negative number, got -1/);
    expect(run({ tv: 0.1, imageShape: [3, 2] })).toThrow(/imageShape \[3, 2\] does not hold inputSize 4 values/);
  });
});

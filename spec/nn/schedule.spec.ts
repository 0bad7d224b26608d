import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { constant, cosineDecay, exponentialDecay, linearWarmup, rateAt, stepDecay, type Schedule } from "../../src/nn/index.ts";

/** A schedule read as a function of a step number (schedules take and give scalar tensors). */
const at = (schedule: Schedule) => (step: number): number => rateAt(schedule, step);

describe("constant", () => {
  it("gives the same rate at every step", () => {
    fc.assert(
      fc.property(fc.nat(), (step) => {
        expect(at(constant(0.01))(step)).toBe(0.01);
      }),
    );
  });
});

describe("stepDecay", () => {
  it("multiplies by factor every stepSize steps: 0.1, then 0.05 from step 100, 0.025 from step 200", () => {
    const lr = at(stepDecay({ initial: 0.1, factor: 0.5, stepSize: 100 }));
    expect([0, 99, 100, 199, 200, 250].map(lr)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  });
});

describe("exponentialDecay", () => {
  it("decays smoothly: initial * decayRate^(step / decaySteps), 1/sqrt(2) halfway to a halving", () => {
    const lr = at(exponentialDecay({ initial: 1, decayRate: 0.5, decaySteps: 10 }));
    expect(lr(0)).toBe(1);
    expect(lr(5)).toBeCloseTo(Math.SQRT1_2, 15);
    expect(lr(10)).toBe(0.5);
    expect(lr(20)).toBe(0.25);
  });
});

describe("cosineDecay", () => {
  it("falls from initial to final along half a cosine, passing the midpoint halfway, then stays at final", () => {
    const lr = at(cosineDecay({ initial: 0.1, decaySteps: 100, final: 0.01 }));
    expect(lr(0)).toBeCloseTo(0.1, 15);
    expect(lr(50)).toBeCloseTo(0.055, 15);
    expect(lr(25)).toBeCloseTo(0.01 + 0.09 * (1 + Math.SQRT1_2) / 2, 15);
    expect(lr(100)).toBeCloseTo(0.01, 15);
    expect(lr(1000)).toBeCloseTo(0.01, 15);
    expect(at(cosineDecay({ initial: 1, decaySteps: 10 }))(10)).toBe(0);
  });

  it("never increases", () => {
    const lr = at(cosineDecay({ initial: 0.1, decaySteps: 100 }));
    fc.assert(
      fc.property(fc.nat({ max: 200 }), (step) => {
        expect(lr(step + 1)).toBeLessThanOrEqual(lr(step));
      }),
    );
  });
});

describe("linearWarmup", () => {
  it("ramps up linearly to the schedule's first rate, then runs the schedule: 0.01, 0.02, ..., 0.1, then the decay", () => {
    const lr = at(linearWarmup(stepDecay({ initial: 0.1, factor: 0.5, stepSize: 5 }), 10));
    expect(lr(0)).toBeCloseTo(0.01, 15);
    expect(lr(4)).toBeCloseTo(0.05, 15);
    expect(lr(9)).toBeCloseTo(0.1, 15);
    expect([10, 14, 15].map(lr)).toEqual([0.1, 0.1, 0.05]);
  });
});

describe("schedule options", () => {
  it("are validated with messages that name the option", () => {
    expect(() => constant(-1)).toThrow(/constant: learningRate must be a finite number >= 0, got -1/);
    expect(() => stepDecay({ initial: 0.1, factor: 0.5, stepSize: 0 })).toThrow(/stepSize must be a positive integer/);
    expect(() => exponentialDecay({ initial: 0.1, decayRate: 0, decaySteps: 10 })).toThrow(/decayRate must be a finite number > 0/);
    expect(() => cosineDecay({ initial: 0.1, decaySteps: 0 })).toThrow(/decaySteps/);
    expect(() => linearWarmup(constant(0.1), 1.5)).toThrow(/warmupSteps must be a positive integer/);
  });
});

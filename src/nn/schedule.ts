// Learning-rate schedules: functions from the step number (0 for the first update) to a rate, both
// scalar float64 tensors, written with ops so that a compiled training step computes each step's
// rate itself (and is not traced again for every new rate). rateAt(schedule, step) reads one.

import { add, cos, div, floor, less, minimum, mul, pow, scalar, sub, where, type Tensor } from "../autograd/index.ts";

export type Schedule = (step: Tensor) => Tensor;

const check = (who: string, name: string, value: number, ok: boolean, what: string): void => {
  if (!ok) throw new RangeError(`${who}: ${name} must be ${what}, got ${value}`);
};
const positive = (who: string, name: string, v: number) => check(who, name, v, Number.isFinite(v) && v > 0, "a finite number > 0");
const nonNegative = (who: string, name: string, v: number) => check(who, name, v, Number.isFinite(v) && v >= 0, "a finite number >= 0");
const positiveInteger = (who: string, name: string, v: number) => check(who, name, v, Number.isInteger(v) && v > 0, "a positive integer");

/** The rate a schedule gives at a step, as a number. */
export const rateAt = (schedule: Schedule, step: number): number => schedule(scalar(step, "float64")).item();

/** The same rate at every step. */
export const constant = (learningRate: number): Schedule => {
  nonNegative("constant", "learningRate", learningRate);
  return () => scalar(learningRate, "float64");
};

export interface StepDecayOptions {
  readonly initial: number;
  /** Multiplier applied every `stepSize` steps (e.g. 0.1). */
  readonly factor: number;
  readonly stepSize: number;
}

/** initial * factor^floor(step / stepSize): stepDecay({ initial: 0.1, factor: 0.5, stepSize: 100 }) at 250 is 0.025. */
export const stepDecay = ({ initial, factor, stepSize }: StepDecayOptions): Schedule => {
  nonNegative("stepDecay", "initial", initial);
  nonNegative("stepDecay", "factor", factor);
  positiveInteger("stepDecay", "stepSize", stepSize);
  return (step) => mul(initial, pow(factor, floor(div(step, stepSize))));
};

export interface ExponentialDecayOptions {
  readonly initial: number;
  /** The multiplier after `decaySteps` steps. */
  readonly decayRate: number;
  readonly decaySteps: number;
}

/** initial * decayRate^(step / decaySteps), a smooth decay: exponentialDecay({ initial: 1, decayRate: 0.5, decaySteps: 10 }) at 5 is 1/sqrt(2). */
export const exponentialDecay = ({ initial, decayRate, decaySteps }: ExponentialDecayOptions): Schedule => {
  nonNegative("exponentialDecay", "initial", initial);
  positive("exponentialDecay", "decayRate", decayRate);
  positive("exponentialDecay", "decaySteps", decaySteps);
  return (step) => mul(initial, pow(decayRate, div(step, decaySteps)));
};

export interface CosineDecayOptions {
  readonly initial: number;
  readonly decaySteps: number;
  /** The rate reached at `decaySteps` and kept after it (0 by default). */
  readonly final?: number;
}

/**
 * Half a cosine from initial down to final over decaySteps, then flat:
 * final + (initial - final) * (1 + cos(pi * min(step, decaySteps) / decaySteps)) / 2.
 * Halfway it is (initial + final) / 2.
 */
export const cosineDecay = ({ initial, decaySteps, final = 0 }: CosineDecayOptions): Schedule => {
  nonNegative("cosineDecay", "initial", initial);
  nonNegative("cosineDecay", "final", final);
  positive("cosineDecay", "decaySteps", decaySteps);
  return (step) => add(final, div(mul(initial - final, add(1, cos(div(mul(Math.PI, minimum(step, decaySteps)), decaySteps)))), 2));
};

/**
 * Linear warm-up in front of a schedule: schedule(0) * (step + 1) / warmupSteps for the first
 * warmupSteps steps, then schedule(step - warmupSteps) (the wrapped schedule starts when warm-up
 * ends). linearWarmup(constant(0.1), 10) gives 0.01, 0.02, ..., 0.1, 0.1, ...
 */
export const linearWarmup = (schedule: Schedule, warmupSteps: number): Schedule => {
  positiveInteger("linearWarmup", "warmupSteps", warmupSteps);
  return (step) =>
    where(less(step, warmupSteps), div(mul(schedule(scalar(0, "float64")), add(step, 1)), warmupSteps), schedule(sub(step, warmupSteps)));
};

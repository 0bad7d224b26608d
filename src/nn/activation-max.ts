// Activation maximization: the input a trained network scores highest for a class, found by
// gradient ascent on the INPUT. The input is the differentiated parameter of valueAndGrad; the
// network's parameters are constants captured by `logitsOf`.
//
// For class c the objective is
//     J_c(x) = logit_c(x) - l2 * ||x||^2,      x in [0, 1]^n,
// the small L2 penalty keeping pixels that do not help the class dark. x stays in the box [0, 1]
// by projection: each step is x <- clip(x + step * grad J_c(x), 0, 1) (projected gradient ascent),
// from the blank image x = 0 unless another start is given, so the result is deterministic.
// The step size is chosen per class by backtracking: a step that would lower J_c is refused and the
// step halved; an accepted step grows it by a quarter. So J_c never decreases from one step to the next.
//
// Several classes are maximized at once as the rows of one batch: J = sum_r J_{c_r}(x_r), and since
// row r of the batch only reaches logit r, the gradient of J with respect to row r is grad J_{c_r}.

import { type DType, mul, ShapeError, shapeStr, sub, sum, takeAlongAxis, Tensor, valueAndGradAux, zeros } from "../autograd/index.ts";

export interface ActivationMaxOptions {
  /** The classes to maximize, one input per class (row r of the result maximizes classes[r]). */
  readonly classes: readonly number[];
  /** Values per input (784 for MNIST). */
  readonly inputSize: number;
  /** Gradient-ascent steps (each evaluates the objective and its gradient once). Default 200. */
  readonly steps?: number;
  /** The first step size; backtracking adapts it per class. Default 1. */
  readonly learningRate?: number;
  /** The L2 penalty lambda in logit_c(x) - lambda ||x||^2. Default 0.01. */
  readonly l2?: number;
  /** Where to start, shape [classes.length, inputSize], values in [0, 1]. Default: zeros (a blank image). */
  readonly start?: Tensor;
  /** The dtype of the default start (the network's). Default float32; a given start keeps its own. */
  readonly dtype?: DType;
}

export interface ActivationMaxResult {
  /** [classes.length, inputSize]: row r maximizes classes[r], every value in [0, 1]. */
  readonly inputs: Tensor;
  /** objective[r][t] = J_{c_r} after t accepted-or-refused steps (t = 0 is the start): never decreasing. */
  readonly objective: readonly Float64Array[];
  /** The network's logits for each result row, [classes.length, classes of the network]. */
  readonly logits: Tensor;
}

/**
 * The per-row objective J_{c_r}(x_r) = logit_{c_r}(x_r) - l2 ||x_r||^2 of a batch x [k, n], shape [k].
 * Differentiable in x: gradcheck it, or sum it and hand it to valueAndGrad.
 */
export const activationObjective =
  (logitsOf: (x: Tensor) => Tensor, classes: readonly number[], l2: number) =>
  (x: Tensor): Tensor =>
    sub(takeAlongAxis(logitsOf(x), classes, -1), mul(sum(mul(x, x), -1), l2));

const checkOptions = (o: ActivationMaxOptions, steps: number, learningRate: number, l2: number): void => {
  if (o.classes.length === 0) throw new RangeError("maximizeActivation: no classes given; expected at least one class index");
  o.classes.forEach((c, r) => {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`maximizeActivation: class ${c} at position ${r} is not a class index (a non-negative integer)`);
  });
  if (!Number.isInteger(o.inputSize) || o.inputSize < 1) throw new RangeError(`maximizeActivation: inputSize must be a positive integer, got ${o.inputSize}`);
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`maximizeActivation: steps must be a non-negative integer, got ${steps}`);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new RangeError(`maximizeActivation: learningRate must be a positive number, got ${learningRate}`);
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new RangeError(`maximizeActivation: l2 must be a non-negative number, got ${l2}`);
  const s = o.start;
  if (s !== undefined) {
    if (s.rank !== 2 || s.shape[0] !== o.classes.length || s.shape[1] !== o.inputSize) {
      throw new ShapeError(`maximizeActivation: start has shape ${shapeStr(s.shape)}, expected [${o.classes.length}, ${o.inputSize}] (one input per class)`);
    }
    const start = s.data;
    for (let i = 0; i < s.size; i++) {
      if (!(start[i]! >= 0 && start[i]! <= 1)) throw new RangeError(`maximizeActivation: start value ${start[i]} at index ${i} is outside [0, 1]`);
    }
  }
};

/** Maximizes each class's logit (less the L2 penalty) over inputs in [0, 1]; see the file comment for how. */
export const maximizeActivation = (logitsOf: (x: Tensor) => Tensor, options: ActivationMaxOptions): ActivationMaxResult => {
  const { classes, inputSize: n, steps = 200, learningRate = 1, l2 = 0.01 } = options;
  checkOptions(options, steps, learningRate, l2);
  const k = classes.length;
  const objective = activationObjective(logitsOf, classes, l2);
  // J summed over rows (what valueAndGrad differentiates), with the per-row values as aux.
  const evaluate = valueAndGradAux((x: Tensor) => {
    const perRow = objective(x);
    return [sum(perRow), perRow] as const;
  });
  const start = options.start ?? zeros([k, n], options.dtype);
  const dtype = start.dtype;

  // The current point, its per-row objective and gradient; rows move independently.
  const x = Float64Array.from(start.data);
  let current = evaluate(new Tensor(start.data.slice(), [k, n]));
  const value = Float64Array.from(current.aux.data);
  const gradient = Float64Array.from(current.grads.data);
  const step = new Float64Array(k).fill(learningRate);
  const history = Array.from({ length: k }, (_, r) => {
    const h = new Float64Array(steps + 1);
    h[0] = value[r]!;
    return h;
  });

  for (let t = 1; t <= steps; t++) {
    const c = dtype === "float64" ? new Float64Array(k * n) : new Float32Array(k * n);
    for (let r = 0; r < k; r++) {
      for (let i = r * n; i < (r + 1) * n; i++) c[i] = Math.min(1, Math.max(0, x[i]! + step[r]! * gradient[i]!));
    }
    current = evaluate(new Tensor(c, [k, n]));
    const values = current.aux.data;
    const grads = current.grads.data;
    for (let r = 0; r < k; r++) {
      const v = values[r]!;
      if (v >= value[r]!) {
        // Accept: move to the candidate and keep its gradient for the next step.
        for (let i = r * n; i < (r + 1) * n; i++) {
          x[i] = c[i]!;
          gradient[i] = grads[i]!;
        }
        value[r] = v;
        step[r] = step[r]! * 1.25;
      } else {
        step[r] = step[r]! * 0.5; // refuse: stay, and try a shorter step from the same point
      }
      history[r]![t] = value[r]!;
    }
  }
  const inputs = new Tensor(dtype === "float64" ? Float64Array.from(x) : Float32Array.from(x), [k, n]);
  return { inputs, objective: history, logits: logitsOf(inputs) };
};

// Activation maximization: the input a trained network scores highest for a class, found by
// gradient ascent on the INPUT. The input is the differentiated parameter of valueAndGrad; the
// network's parameters are constants captured by `logitsOf`.
//
// For class c the objective is
//     J_c(x) = logit_c(x) - l2 * ||x||^2 - tv * TV(x),      x in [0, 1]^n,
// the small L2 penalty keeping pixels that do not help the class dark, and TV(x), the sum of squared
// differences between neighbouring pixels of the image, a smoothness prior: without it the ascent
// finds high-frequency speckle that a network rates highly and a person does not read as a digit
// (Mahendran and Vedaldi 2015 use the same kind of regulariser). x stays in the box [0, 1]
// by projection: each step is x <- clip(x + step * grad J_c(x), 0, 1) (projected gradient ascent),
// from the blank image x = 0 unless another start is given, so the result is deterministic.
// The step size is chosen per class by backtracking: a step that would lower J_c is refused and the
// step halved; an accepted step grows it by a quarter. So J_c never decreases from one step to the next.
//
// Several classes are maximized at once as the rows of one batch: J = sum_r J_{c_r}(x_r), and since
// row r of the batch only reaches logit r, the gradient of J with respect to row r is grad J_{c_r}.

import { add, type DType, mul, reshape, ShapeError, shapeStr, slice, sub, sum, takeAlongAxis, Tensor, valueAndGradAux, zeros } from "../autograd/index.ts";

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
  /** The weight of the smoothness prior TV(x) (squared neighbour differences). Default 0: none. */
  readonly tv?: number;
  /** The inputs as images [height, width] (height * width = inputSize), for TV. Default square. */
  readonly imageShape?: readonly [number, number];
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
 * TV(x) per row of a batch x [k, height * width]: the sum over the image of (x[i+1][j] - x[i][j])^2 +
 * (x[i][j+1] - x[i][j])^2, shape [k]. Zero for a constant image; large for speckle.
 */
export const totalVariation = (x: Tensor, [height, width]: readonly [number, number]): Tensor => {
  const k = x.shape[0]!;
  const image = reshape(x, [k, height, width]);
  const down = sub(slice(image, [0, 1, 0]), slice(image, [0, 0, 0], [k, height - 1, width]));
  const right = sub(slice(image, [0, 0, 1]), slice(image, [0, 0, 0], [k, height, width - 1]));
  return add(sum(mul(down, down), [1, 2]), sum(mul(right, right), [1, 2]));
};

/**
 * The per-row objective J_{c_r}(x_r) = logit_{c_r}(x_r) - l2 ||x_r||^2 - tv TV(x_r) of a batch x [k, n],
 * shape [k]. Differentiable in x: gradcheck it, or sum it and hand it to valueAndGrad.
 */
export const activationObjective =
  (logitsOf: (x: Tensor) => Tensor, classes: readonly number[], l2: number, smoothness?: { readonly tv: number; readonly imageShape: readonly [number, number] }) =>
  (x: Tensor): Tensor => {
    const penalized = sub(takeAlongAxis(logitsOf(x), classes, -1), mul(sum(mul(x, x), -1), l2));
    return smoothness === undefined || smoothness.tv === 0 ? penalized : sub(penalized, mul(totalVariation(x, smoothness.imageShape), smoothness.tv));
  };

const checkOptions = (o: ActivationMaxOptions, steps: number, learningRate: number, l2: number, tv: number, imageShape: readonly [number, number]): void => {
  if (o.classes.length === 0) throw new RangeError("maximizeActivation: no classes given; expected at least one class index");
  o.classes.forEach((c, r) => {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`maximizeActivation: class ${c} at position ${r} is not a class index (a non-negative integer)`);
  });
  if (!Number.isInteger(o.inputSize) || o.inputSize < 1) throw new RangeError(`maximizeActivation: inputSize must be a positive integer, got ${o.inputSize}`);
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`maximizeActivation: steps must be a non-negative integer, got ${steps}`);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new RangeError(`maximizeActivation: learningRate must be a positive number, got ${learningRate}`);
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new RangeError(`maximizeActivation: l2 must be a non-negative number, got ${l2}`);
  if (!(tv >= 0) || !Number.isFinite(tv)) throw new RangeError(`maximizeActivation: tv must be a non-negative number, got ${tv}`);
  const [h, w] = imageShape;
  if (tv > 0 && (!Number.isInteger(h) || !Number.isInteger(w) || h < 2 || w < 2 || h * w !== o.inputSize)) {
    throw new ShapeError(`maximizeActivation: imageShape [${h}, ${w}] does not hold inputSize ${o.inputSize} values as an image of at least 2 x 2 (needed for tv)`);
  }
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
  const { classes, inputSize: n, steps = 200, learningRate = 1, l2 = 0.01, tv = 0 } = options;
  const side = Math.round(Math.sqrt(n));
  const imageShape = options.imageShape ?? [side, side];
  checkOptions(options, steps, learningRate, l2, tv, imageShape);
  const k = classes.length;
  const objective = activationObjective(logitsOf, classes, l2, { tv, imageShape });
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

// Layers as pairs of pure functions (as in JAX's stax):
//   init(key, inputShape, dtype?) -> { params, outputShape }   shapes are per example (no batch axis)
//   apply(params, x, context?)    -> y                          x has a leading batch axis
// No classes, no hidden state: the parameters are a plain read-only tree, and randomness (dropout)
// comes only from a key in the context.

import {
  avgPool2d as avgPool2dOp,
  conv2d as conv2dOp,
  conv2dShape,
  linear,
  maxPool2d as maxPool2dOp,
  mul,
  pool2dShape,
  random,
  relu as reluOp,
  reshape as reshapeOp,
  ShapeError,
  shapeStr,
  sigmoid as sigmoidOp,
  sizeOf,
  tanh as tanhOp,
  Tensor,
  type DType,
  type Pair,
  type Pool2dOptions,
  type Shape,
} from "../autograd/index.ts";
import { convFanAxes, heNormal, zeros, type Initializer, type Key } from "./init.ts";
import { freezeTree, type Params } from "./tree.ts";

/**
 * How a layer is being run. At evaluation (training: false) dropout is the identity. In training,
 * dropout needs a key; serial splits it so every dropout layer draws its own mask.
 */
export interface Context {
  readonly training: boolean;
  readonly key?: Key;
}

/** The default context: evaluation, no randomness. */
export const evaluation: Context = Object.freeze({ training: false });

export interface Layer<P extends Params = Params> {
  /** The kind of layer ("dense", "relu", ...): serial names parameters by it (dense1, dense2, ...). */
  readonly name: string;
  // Method syntax on purpose: a Layer<DenseParams> can stand wherever a Layer (of any Params) is expected.
  init(key: Key, inputShape: Shape, dtype?: DType): { readonly params: P; readonly outputShape: Shape };
  apply(params: P, x: Tensor, context?: Context): Tensor;
}

export interface DenseParams extends Params {
  /** [in, out], so that y = x.W + b maps a row of inputs to a row of outputs. */
  readonly weight: Tensor;
  /** [out], starting at zero. */
  readonly bias: Tensor;
}

export interface DenseOptions {
  /** The weight initializer (heNormal by default); the bias always starts at zero. */
  readonly init?: Initializer;
  /**
   * A nonlinearity applied to x.W + b as part of the layer (none by default): dense(n, { activation:
   * "relu" }) computes what dense(n) then the relu layer compute, with relu fused into the same op.
   */
  readonly activation?: DenseActivation;
}

export type DenseActivation = "relu" | "tanh" | "sigmoid";

const NO_PARAMS: Params = Object.freeze({});

const after = { tanh: tanhOp, sigmoid: sigmoidOp } as const;

/**
 * A fully connected layer: y = x.W + b, x of shape [batch, in], W [in, out], b [out]; with an
 * activation, y = act(x.W + b).
 */
export const dense = (units: number, { init = heNormal, activation }: DenseOptions = {}): Layer<DenseParams> => {
  if (!Number.isInteger(units) || units < 1) throw new RangeError(`dense: units must be a positive integer, got ${units}`);
  if (activation !== undefined && activation !== "relu" && !Object.hasOwn(after, activation)) {
    throw new RangeError(`dense: unknown activation "${activation}" (expected relu, tanh or sigmoid)`);
  }
  // One linear op: x.W + b (and relu) fused, whose gradient sums the batch back to [out] for b.
  const apply =
    activation === undefined || activation === "relu"
      ? ({ weight, bias }: DenseParams, x: Tensor) => linear(x, weight, bias, { activation: activation ?? null })
      : ({ weight, bias }: DenseParams, x: Tensor) => after[activation](linear(x, weight, bias));
  return {
    name: "dense",
    init: (key, inputShape, dtype = "float32") => {
      if (inputShape.length !== 1) {
        throw new ShapeError(`dense: expects inputs of shape [features] per example, got ${shapeStr(inputShape)} (put flatten first)`);
      }
      const params = freezeTree({ weight: init(key, [inputShape[0]!, units], dtype), bias: zeros(key, [units], dtype) });
      return { params, outputShape: [units] };
    },
    apply,
  };
};

/** A layer without parameters that applies f elementwise. */
const elementwise = (name: string, f: (x: Tensor) => Tensor): Layer => ({
  name,
  init: (_key, inputShape) => ({ params: NO_PARAMS, outputShape: inputShape }),
  apply: (_params, x) => f(x),
});

/** max(x, 0) elementwise. */
export const relu: Layer = elementwise("relu", reluOp);
/** 1 / (1 + e^-x) elementwise. */
export const sigmoid: Layer = elementwise("sigmoid", sigmoidOp);
/** tanh x elementwise. */
export const tanh: Layer = elementwise("tanh", tanhOp);

/** [batch, ...shape] -> [batch, product of shape]: images [28, 28] become rows of 784 pixels. */
export const flatten: Layer = {
  name: "flatten",
  init: (_key, inputShape) => ({ params: NO_PARAMS, outputShape: [sizeOf(inputShape)] }),
  apply: (_params, x) => reshapeOp(x, [x.shape[0]!, sizeOf(x.shape.slice(1))]),
};

/**
 * Inverted dropout: in training each entry is kept with probability q = 1 - dropProbability and
 * scaled by 1/q, else set to 0, so E[y] = q * x/q = x and evaluation needs no rescaling: there the
 * layer is the identity. The mask comes from context.key: the same key gives the same mask.
 */
export const dropout = (dropProbability: number): Layer => {
  if (!(dropProbability >= 0 && dropProbability < 1)) {
    throw new RangeError(`dropout: dropProbability must be in [0, 1), got ${dropProbability}`);
  }
  const keep = 1 - dropProbability;
  const scale = 1 / keep;
  return {
    name: "dropout",
    init: (_key, inputShape) => ({ params: NO_PARAMS, outputShape: inputShape }),
    apply: (_params, x, context = evaluation) => {
      if (!context.training || dropProbability === 0) return x;
      if (context.key === undefined) {
        throw new Error("dropout: training needs a random key in the context: apply(params, x, { training: true, key })");
      }
      // 1/keep with probability keep, else 0: a constant, so the gradient is g * mask.
      return mul(x, random.bernoulli(context.key, keep, x.shape, x.dtype, scale));
    },
  };
};

/** [batch, ...] -> [batch, ...shape] (the same values): rows of 784 pixels become images [1, 28, 28] for a convolution. */
export const reshape = (shape: Shape): Layer => {
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) throw new RangeError(`reshape: the shape per example must be positive integers, got ${shapeStr(shape)}`);
  const target = Object.freeze([...shape]);
  return {
    name: "reshape",
    init: (_key, inputShape) => {
      if (sizeOf(inputShape) !== sizeOf(target)) throw new ShapeError(`reshape: cannot reshape ${shapeStr(inputShape)} (${sizeOf(inputShape)} values per example) to ${shapeStr(target)}`);
      return { params: NO_PARAMS, outputShape: target };
    },
    apply: (_params, x) => reshapeOp(x, [x.shape[0]!, ...target]),
  };
};

export interface ConvParams extends Params {
  /** [filters, channels, kh, kw]. */
  readonly weight: Tensor;
  /** [filters], starting at zero. */
  readonly bias: Tensor;
}

export interface ConvOptions {
  readonly stride?: Pair;
  readonly padding?: Pair | "valid" | "same";
  readonly dilation?: Pair;
  /** The filters' initializer (heNormal by default, over the fan axes of [K, C, kh, kw]); the bias starts at zero. */
  readonly init?: Initializer;
  /** "relu" fused into the op (none by default). */
  readonly activation?: "relu";
}

/**
 * A 2-D convolution layer over images [C, H, W] per example: `filters` filters of size `kernel`,
 * y = conv2d(x, W) + b per output channel (and relu with activation "relu"), as PyTorch's nn.Conv2d.
 */
export const conv2d = (filters: number, kernel: Pair, { stride, padding, dilation, init = heNormal, activation }: ConvOptions = {}): Layer<ConvParams> => {
  if (!Number.isInteger(filters) || filters < 1) throw new RangeError(`conv2d: filters must be a positive integer, got ${filters}`);
  if (activation !== undefined && activation !== "relu") throw new RangeError(`conv2d: unknown activation "${activation}" (expected relu)`);
  const [kh, kw] = typeof kernel === "number" ? [kernel, kernel] : kernel;
  const options = { ...(stride !== undefined && { stride }), ...(padding !== undefined && { padding }), ...(dilation !== undefined && { dilation }) };
  return {
    name: "conv",
    init: (key, inputShape, dtype = "float32") => {
      if (inputShape.length !== 3) throw new ShapeError(`conv2d: expects images [channels, rows, columns] per example, got ${shapeStr(inputShape)} (put reshape([1, 28, 28]) first)`);
      const shape = [filters, inputShape[0]!, kh, kw];
      const out = conv2dShape([1, ...inputShape], shape, options); // checks the kernel and options
      const params = freezeTree({ weight: init(key, shape, dtype, convFanAxes), bias: zeros(key, [filters], dtype) });
      return { params, outputShape: out.slice(1) };
    },
    apply: ({ weight, bias }, x) => conv2dOp(x, weight, { ...options, bias, activation: activation ?? null }),
  };
};

const pooling = (name: "maxPool" | "avgPool", op: typeof maxPool2dOp, kernel: Pair, options: Pool2dOptions): Layer => ({
  name,
  init: (_key, inputShape) => {
    if (inputShape.length !== 3) throw new ShapeError(`${name}2d: expects images [channels, rows, columns] per example, got ${shapeStr(inputShape)}`);
    return { params: NO_PARAMS, outputShape: pool2dShape([1, ...inputShape], kernel, options).slice(1) };
  },
  apply: (_params, x) => op(x, kernel, options),
});

/** The maximum of each window (2 x 2 windows side by side halve the image), as PyTorch's nn.MaxPool2d. */
export const maxPool2d = (kernel: Pair, options: Pool2dOptions = {}): Layer => pooling("maxPool", maxPool2dOp, kernel, options);

/** The mean of each window, as PyTorch's nn.AvgPool2d. */
export const avgPool2d = (kernel: Pair, options: Pool2dOptions = {}): Layer => pooling("avgPool", avgPool2dOp, kernel, options);

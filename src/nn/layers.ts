// Layers as pairs of pure functions (as in JAX's stax):
//   init(key, inputShape, dtype?) -> { params, outputShape }   shapes are per example (no batch axis)
//   apply(params, x, context?)    -> y                          x has a leading batch axis
// No classes, no hidden state: the parameters are a plain read-only tree, and randomness (dropout)
// comes only from a key in the context.

import {
  linear,
  mul,
  random,
  relu as reluOp,
  reshape,
  ShapeError,
  shapeStr,
  sigmoid as sigmoidOp,
  sizeOf,
  tanh as tanhOp,
  Tensor,
  type DType,
  type Shape,
} from "../autograd/index.ts";
import { heNormal, zeros, type Initializer, type Key } from "./init.ts";
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
  apply: (_params, x) => reshape(x, [x.shape[0]!, sizeOf(x.shape.slice(1))]),
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

// What the page asks of a model: the ten probabilities for a 28x28 digit (as predict.ts computes them)
// and the first hidden layer's activations (which units the digit lights up).

import { add, matmul, relu, sigmoid, tanh, Tensor, tensor } from "../../autograd/index.ts";
import type { Activation, MlpParams } from "../../data/model.ts";
import { mlp, softmax, type Mlp } from "../../nn/index.ts";
import type { PlainParams } from "./protocol.ts";

/** A model ready to run: its layer sizes, activation and parameters. */
export interface Model {
  /** Where it came from, for the page: "mnist-mlp.safetensors", "trained in this page". */
  readonly label: string;
  readonly architecture: readonly number[];
  readonly activation: Activation;
  readonly params: MlpParams;
  readonly net: Mlp;
  /** Extra facts to show (test accuracy from the file, step reached in the page). */
  readonly note: string;
}

export const makeModel = (label: string, architecture: readonly number[], activation: Activation, params: MlpParams, note = ""): Model => ({
  label,
  architecture,
  activation,
  params,
  net: mlp(architecture, { activation }),
  note,
});

/** Parameters that crossed from the worker, as tensors again. */
export const paramsFromPlain = (plain: PlainParams): MlpParams => {
  const out: Record<string, { weight: Tensor; bias: Tensor }> = {};
  for (const [name, { weight, bias }] of Object.entries(plain)) {
    out[name] = { weight: new Tensor(weight.data, weight.shape), bias: new Tensor(bias.data, bias.shape) };
  }
  return out;
};

const activations = { relu, tanh, sigmoid } as const;

export interface Reading {
  /** softmax of the logits: ten probabilities summing to one. */
  readonly probabilities: Float32Array;
  /** The first hidden layer's outputs, act(x . W1 + b1), one per unit. */
  readonly hidden: Float32Array;
}

/** The model's reading of one digit (784 values in [0, 1], white ink on black). */
export const read = (model: Model, pixels: Float32Array): Reading => {
  const x = tensor(pixels, [1, pixels.length]);
  const probabilities = Float32Array.from(softmax(model.net.apply(model.params, x)).data);
  const first = model.params.dense1!;
  const hidden = Float32Array.from(activations[model.activation](add(matmul(x, first.weight), first.bias)).data);
  return { probabilities, hidden };
};

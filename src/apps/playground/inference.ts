// What the page asks of a model: the probabilities of its classes for a 28x28 picture (as predict.ts
// computes them) and what is inside: an MLP's first hidden layer's activations (which units the picture
// lights up), or a CNN's feature maps (what each convolution and pooling makes of the picture).

import { add, matmul, relu, sigmoid, tanh, Tensor, tensor } from "../../autograd/index.ts";
import { classNamesOf, isConvolutional, networkOf, type MlpParams, type ModelConfig } from "../../data/model.ts";
import { describeLayer, softmax, type Layer, type LayerSpec } from "../../nn/index.ts";
import type { PlainParams } from "./protocol.ts";

/** A model ready to run: its configuration (layer list), parameters and network. */
export interface Model {
  /** Where it came from, for the page: "mnist-mlp.safetensors", "trained in this page". */
  readonly label: string;
  readonly config: ModelConfig;
  readonly params: MlpParams;
  readonly net: Layer;
  /** Every layer's outputs for a batch (a CNN's feature maps among them). */
  readonly outputs: (params: MlpParams, x: Tensor) => Tensor[];
  readonly layers: readonly LayerSpec[];
  /** Whether it has convolutions (the page then shows feature maps instead of first-layer weights). */
  readonly convolutional: boolean;
  /** Extra facts to show (test accuracy from the file, step reached in the page). */
  readonly note: string;
  /** One name per output, and the dataset it learned from ("MNIST", "Fashion-MNIST"; undefined when not recorded). */
  readonly classNames: readonly string[];
  readonly dataset: string | undefined;
}

export const makeModel = (label: string, config: ModelConfig, params: MlpParams, note = ""): Model => {
  const { net, layers, outputs } = networkOf(config);
  return {
    label, config, params, net, outputs: outputs as Model["outputs"], layers, convolutional: isConvolutional(config), note,
    classNames: classNamesOf(config), dataset: config.dataset,
  };
};

/** Parameters that crossed from the worker, as tensors again. */
export const paramsFromPlain = (plain: PlainParams): MlpParams => {
  const out: Record<string, { weight: Tensor; bias: Tensor }> = {};
  for (const [name, { weight, bias }] of Object.entries(plain)) {
    out[name] = { weight: new Tensor(weight.data, weight.shape), bias: new Tensor(bias.data, bias.shape) };
  }
  return out;
};

const activations = { relu, tanh, sigmoid } as const;

/** One layer's output for the drawing, as channels of rows x columns (a convolution's or pooling's). */
export interface FeatureMaps {
  readonly title: string;
  readonly channels: number;
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
}

export interface Reading {
  /** softmax of the logits: one probability per class, summing to one. */
  readonly probabilities: Float32Array;
  /** An MLP's first hidden layer's outputs, act(x . W1 + b1), one per unit (empty for a CNN). */
  readonly hidden: Float32Array;
  /** A CNN's feature maps, layer by layer (empty for an MLP). */
  readonly maps: readonly FeatureMaps[];
}

/** The model's reading of one digit (784 values in [0, 1], white ink on black). */
export const read = (model: Model, pixels: Float32Array): Reading => {
  const x = tensor(pixels, [1, pixels.length]);
  if (model.convolutional) {
    const all = model.outputs(model.params, x);
    const maps = all.flatMap((y, i): FeatureMaps[] => {
      if (y.rank !== 4 || model.layers[i]!.type === "reshape") return [];
      const [, channels, rows, cols] = y.shape as [number, number, number, number];
      return [{ title: `layer ${i + 1}, ${describeLayer(model.layers[i]!)}`, channels, rows, cols, values: Float32Array.from(y.data) }];
    });
    return { probabilities: Float32Array.from(softmax(all[all.length - 1]!).data), hidden: new Float32Array(0), maps };
  }
  const probabilities = Float32Array.from(softmax(model.net.apply(model.params, x)).data);
  const first = model.params.dense1!;
  const hidden = Float32Array.from(activations[model.config.activation](add(matmul(x, first.weight), first.bias)).data);
  return { probabilities, hidden, maps: [] };
};

// serial composes layers into one layer; mlp builds the multilayer perceptron from its sizes.

import { random, ShapeError, shapeStr, sizeOf, type DType, type Shape } from "../autograd/index.ts";
import { glorotUniform, heNormal, type Initializer } from "./init.ts";
import { dense, dropout, evaluation, flatten, type Layer } from "./layers.ts";
import { freezeTree, type Params } from "./tree.ts";

/** A 32-bit FNV-1a hash of a layer's name: the number its key is folded in with. */
const nameId = (name: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/**
 * Layers applied one after another: serial(f, g, h).apply(p, x) = h(g(f(x))).
 * The parameter tree names each layer by its kind and position among layers of that kind
 * (dense1, relu1, dense2, ...); layers without parameters are left out, so an mlp's tree is
 * { dense1: { weight, bias }, dense2: {...}, ... }. Each layer's key is derived from the given key
 * and the layer's name (foldIn), for init and, in training, from context.key for apply: every layer
 * gets its own key, every dropout layer its own mask, and adding a layer without parameters (such
 * as dropout) does not change the initial weights of the others.
 */
/** Each layer's name in serial's parameter tree: its kind and its position among layers of that kind (dense1, conv2, ...). */
export const layerNames = (layers: readonly Layer[]): string[] => {
  const seen = new Map<string, number>();
  return layers.map(({ name }) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return `${name}${n}`;
  });
};

export const serial = (...layers: readonly Layer[]): Layer => {
  const names = layerNames(layers);
  const ids = names.map(nameId);
  const keysFor = (key: random.Key) => ids.map((id) => random.foldIn(key, id));
  const empty: Params = Object.freeze({});
  return {
    name: "serial",
    init: (key, inputShape, dtype = "float32") => {
      const keys = keysFor(key);
      const params: Record<string, Params> = {};
      let shape = inputShape;
      layers.forEach((layer, i) => {
        const out = layer.init(keys[i]!, shape, dtype);
        if (Object.keys(out.params).length > 0) params[names[i]!] = out.params;
        shape = out.outputShape;
      });
      return { params: freezeTree(params), outputShape: shape };
    },
    apply: (params, x, context = evaluation) => {
      const keys = context.training && context.key !== undefined ? keysFor(context.key) : null;
      return layers.reduce(
        (h, layer, i) => layer.apply((params[names[i]!] as Params | undefined) ?? empty, h, keys ? { training: true, key: keys[i]! } : context),
        x,
      );
    },
  };
};

export type Activation = "relu" | "tanh" | "sigmoid";

export interface MlpOptions {
  /** The hidden layers' nonlinearity; "relu" by default. */
  readonly activation?: Activation;
  /** Dropout after every hidden activation (none by default). */
  readonly dropout?: number;
  /** Weight initializer: heNormal for relu, glorotUniform for tanh and sigmoid by default. */
  readonly init?: Initializer;
}

export interface Mlp extends Layer {
  readonly sizes: readonly number[];
  readonly activation: Activation;
  /** The dropout probability after each hidden activation (0 for none). */
  readonly dropout: number;
  /** inputShape defaults to [sizes[0]]; any shape with sizes[0] values per example is flattened. */
  init(key: random.Key, inputShape?: Shape, dtype?: DType): { readonly params: Params; readonly outputShape: Shape };
}

const activations = { relu: true, tanh: true, sigmoid: true } as const;
// He init suits relu (it zeroes half its input); Glorot suits the symmetric, saturating tanh and sigmoid.
const defaultInit = { relu: heNormal, tanh: glorotUniform, sigmoid: glorotUniform } as const;

/**
 * A multilayer perceptron: mlp([784, 128, 64, 10]) is flatten, then dense(128) and act, [dropout],
 * dense(64) and act, [dropout], dense(10). The last layer gives logits (no activation). Each hidden
 * dense layer carries its activation (dense(n, { activation })), which fuses relu into the layer's
 * one op; the parameter tree is the same as with separate activation layers: { dense1, dense2, ... }.
 */
export const mlp = (sizes: readonly number[], { activation = "relu", dropout: dropProbability, init }: MlpOptions = {}): Mlp => {
  if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new RangeError(`mlp: sizes must be at least [inputs, outputs], all positive integers, got [${sizes.join(", ")}]`);
  }
  if (!Object.hasOwn(activations, activation)) throw new RangeError(`mlp: unknown activation "${activation}" (expected relu, tanh or sigmoid)`);
  if (dropProbability !== undefined && !(dropProbability >= 0 && dropProbability < 1)) {
    throw new RangeError(`mlp: dropout must be a probability in [0, 1), got ${dropProbability}`);
  }
  const weightInit = init ?? defaultInit[activation];
  const layers: Layer[] = [flatten];
  sizes.slice(1).forEach((units, i) => {
    const hidden = i < sizes.length - 2;
    layers.push(dense(units, hidden ? { init: weightInit, activation } : { init: weightInit }));
    if (hidden && dropProbability) layers.push(dropout(dropProbability)); // none for 0 or undefined
  });
  const net = serial(...layers);
  return {
    ...net,
    name: "mlp",
    sizes: Object.freeze([...sizes]),
    activation,
    dropout: dropProbability ?? 0,
    init: (key, inputShape = [sizes[0]!], dtype = "float32") => {
      if (sizeOf(inputShape) !== sizes[0]) {
        throw new ShapeError(`mlp: input shape ${shapeStr(inputShape)} has ${sizeOf(inputShape)} values per example, but the network takes ${sizes[0]}`);
      }
      return net.init(key, inputShape, dtype);
    },
  };
};

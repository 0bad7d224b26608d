// A network as data: a list of layer descriptions (plain JSON), and the network it builds. Model
// files keep their layer list in their metadata, so any saved MLP or CNN can be rebuilt by the apps
// that load it; a list this code cannot build is refused with the layer and the field named.

import { conv2dShape, pool2dShape, random, sizeOf, type Shape } from "../autograd/index.ts";
import { layerNames, serial } from "./combinators.ts";
import { glorotUniform, heNormal } from "./init.ts";
import { avgPool2d, conv2d, dense, dropout, evaluation, flatten, maxPool2d, relu, reshape, sigmoid, tanh, type Layer } from "./layers.ts";
import type { Params } from "./tree.ts";
import type { Tensor } from "../autograd/index.ts";

type PairSpec = [number, number];

export type LayerSpec =
  | { readonly type: "reshape"; readonly shape: readonly number[] }
  | { readonly type: "flatten" }
  | { readonly type: "dense"; readonly units: number; readonly activation?: "relu" | "tanh" | "sigmoid" }
  | {
      readonly type: "conv2d"; readonly filters: number; readonly kernel: PairSpec; readonly stride?: PairSpec;
      readonly padding?: PairSpec | "same" | "valid"; readonly dilation?: PairSpec; readonly activation?: "relu";
    }
  | { readonly type: "maxPool2d" | "avgPool2d"; readonly kernel: PairSpec; readonly stride?: PairSpec; readonly padding?: PairSpec }
  | { readonly type: "relu" | "tanh" | "sigmoid" }
  | { readonly type: "dropout"; readonly rate: number };

/** A layer list that cannot be built: the message names the layer (by index) and the field. */
export class LayerListError extends Error {
  override name = "LayerListError";
}

const FIELDS: Record<LayerSpec["type"], readonly string[]> = {
  reshape: ["shape"],
  flatten: [],
  dense: ["units", "activation"],
  conv2d: ["filters", "kernel", "stride", "padding", "dilation", "activation"],
  maxPool2d: ["kernel", "stride", "padding"],
  avgPool2d: ["kernel", "stride", "padding"],
  relu: [],
  tanh: [],
  sigmoid: [],
  dropout: ["rate"],
};

/** The layer a description builds (He init for relu layers, Glorot for tanh and sigmoid, as mlp does). */
const build = (spec: LayerSpec, at: string, init: "relu" | "tanh" | "sigmoid"): Layer => {
  const s = spec as unknown as Record<string, unknown>;
  const fail = (field: string, what: string): never => {
    throw new LayerListError(`${at}.${field} is ${JSON.stringify(s[field]) ?? "missing"}: expected ${what}`);
  };
  for (const key of Object.keys(s)) if (key !== "type" && !FIELDS[spec.type].includes(key)) fail(key, `no such field for a ${spec.type} layer (it has ${FIELDS[spec.type].join(", ") || "none"})`);
  const positive = (field: string, optional = false): number | undefined => {
    const v = s[field];
    if (v === undefined && optional) return undefined;
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 1_000_000) fail(field, "a positive integer");
    return v as number;
  };
  const pair = (field: string, min: number, optional = true): PairSpec | undefined => {
    const v = s[field];
    if (v === undefined && optional) return undefined;
    if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= min && d <= 10_000)) fail(field, `a pair [rows, columns] of integers >= ${min}`);
    return v as PairSpec;
  };
  const choice = <T extends string>(field: string, options: readonly T[]): T | undefined => {
    const v = s[field];
    if (v !== undefined && !options.includes(v as T)) fail(field, `one of ${options.join(", ")}`);
    return v as T | undefined;
  };
  const weights = init === "relu" ? heNormal : glorotUniform;
  switch (spec.type) {
    case "reshape": {
      const shape = s.shape;
      if (!Array.isArray(shape) || shape.length === 0 || shape.length > 3 || !shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 100_000)) fail("shape", "a list of 1 to 3 positive integers");
      return reshape(shape as number[]);
    }
    case "flatten": return flatten;
    case "dense": {
      const activation = choice("activation", ["relu", "tanh", "sigmoid"] as const);
      return dense(positive("units")!, { init: weights, ...(activation !== undefined && { activation }) });
    }
    case "conv2d": {
      const padding = s.padding === "same" || s.padding === "valid" ? s.padding : pair("padding", 0);
      const activation = choice("activation", ["relu"] as const);
      const stride = pair("stride", 1), dilation = pair("dilation", 1);
      return conv2d(positive("filters")!, pair("kernel", 1, false)!, {
        init: heNormal, ...(stride && { stride }), ...(padding !== undefined && { padding }), ...(dilation && { dilation }), ...(activation && { activation }),
      });
    }
    case "maxPool2d":
    case "avgPool2d": {
      const stride = pair("stride", 1), padding = pair("padding", 0);
      return (spec.type === "maxPool2d" ? maxPool2d : avgPool2d)(pair("kernel", 1, false)!, { ...(stride && { stride }), ...(padding && { padding }) });
    }
    case "relu": return relu;
    case "tanh": return tanh;
    case "sigmoid": return sigmoid;
    case "dropout": {
      const rate = s.rate;
      if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) fail("rate", "a probability in [0, 1)");
      return dropout(rate as number);
    }
  }
};

/**
 * The network a layer list describes (serial of its layers), checked against `inputShape` (the
 * shape of one example): each layer's description and its fit with the layer before it.
 * `where` names the list in messages ("models/cnn.safetensors: metadata layers").
 */
export const networkFromList = (list: unknown, inputShape: Shape, where = "layers"): {
  net: Layer; layers: LayerSpec[]; outputShape: Shape; outputs: (params: Params, x: Tensor) => Tensor[];
} => {
  if (!Array.isArray(list) || list.length === 0 || list.length > 64) throw new LayerListError(`${where} is ${JSON.stringify(list)?.slice(0, 80) ?? "missing"}: expected a list of 1 to 64 layer descriptions`);
  const activations = list.map((s) => (s !== null && typeof s === "object" ? (s as { activation?: unknown; type?: unknown }) : {}));
  // The weight initializer follows the hidden activation, as mlp's does.
  const hidden = activations.find((s) => s.activation === "tanh" || s.activation === "sigmoid" || s.type === "tanh" || s.type === "sigmoid");
  const init = hidden === undefined ? "relu" : ((hidden.activation ?? hidden.type) as "tanh" | "sigmoid");
  const layers = list.map((spec: unknown, i) => {
    const at = `${where}[${i}]`;
    if (spec === null || typeof spec !== "object" || Array.isArray(spec) || !Object.hasOwn(FIELDS, (spec as { type?: string }).type ?? "")) {
      throw new LayerListError(`${at} is ${JSON.stringify(spec)?.slice(0, 80)}: expected a layer description {"type": ${Object.keys(FIELDS).join(" | ")}, ...}`);
    }
    return build(spec as LayerSpec, at, init);
  });
  // Each layer's init checks its input shape (and makes parameters, whose shapes are then known).
  let shape = inputShape;
  const key = random.key(0);
  layers.forEach((layer, i) => {
    try {
      shape = layer.init(key, shape).outputShape;
    } catch (e) {
      throw new LayerListError(`${where}[${i}] (${(list[i] as { type: string }).type}) does not fit the shape before it, [${shape.join(", ")}]: ${(e as Error).message}`);
    }
  });
  const names = layerNames(layers);
  /** Every layer's output for x, at evaluation (the network's own apply gives only the last). */
  const outputs = (params: Params, x: Tensor): Tensor[] => {
    const all: Tensor[] = [];
    layers.reduce((h, layer, i) => {
      const y = layer.apply((params[names[i]!] as Params | undefined) ?? {}, h, evaluation);
      all.push(y);
      return y;
    }, x);
    return all;
  };
  return { net: serial(...layers), layers: list as LayerSpec[], outputShape: shape, outputs };
};

/** The layer list of mlp(sizes, { activation, dropout }): flatten, then dense layers. */
export const mlpLayerList = (sizes: readonly number[], activation: "relu" | "tanh" | "sigmoid", dropoutRate = 0): LayerSpec[] => [
  { type: "flatten" },
  ...sizes.slice(1).flatMap((units, i): LayerSpec[] =>
    i < sizes.length - 2 ? [{ type: "dense", units, activation }, ...(dropoutRate > 0 ? [{ type: "dropout", rate: dropoutRate } as const] : [])] : [{ type: "dense", units }],
  ),
];

/** One layer of a list as it runs: its output shape per example and its parameter count. */
export interface LayerRow {
  readonly spec: LayerSpec;
  readonly outputShape: Shape;
  readonly parameters: number;
}

/**
 * Each layer's output shape and parameter count, from the descriptions alone (nothing is allocated:
 * a list too large to train is refused before it is built). Throws LayerListError where a layer does
 * not fit the shape before it.
 */
export const layerRows = (list: readonly LayerSpec[], inputShape: Shape): LayerRow[] => {
  let shape: Shape = inputShape;
  return list.map((spec, i) => {
    let parameters = 0;
    try {
      switch (spec.type) {
        case "reshape": shape = spec.shape; break;
        case "flatten": shape = [sizeOf(shape)]; break;
        case "dense":
          if (shape.length !== 1) throw new Error(`dense expects [features], got [${shape.join(", ")}]`);
          parameters = (shape[0]! + 1) * spec.units;
          shape = [spec.units];
          break;
        case "conv2d": {
          const { type: _t, filters, kernel, activation: _a, ...options } = spec;
          parameters = filters * (shape[0]! * kernel[0] * kernel[1] + 1);
          shape = conv2dShape([1, ...shape], [filters, shape[0]!, ...kernel], options).slice(1);
          break;
        }
        case "maxPool2d":
        case "avgPool2d": {
          const { type: _t, kernel, ...options } = spec;
          shape = pool2dShape([1, ...shape], kernel, options).slice(1);
          break;
        }
        default: break;
      }
    } catch (e) {
      throw new LayerListError(`layers[${i}] (${spec.type}) does not fit the shape before it, [${shape.join(", ")}]: ${(e as Error).message}`);
    }
    return { spec, outputShape: shape, parameters };
  });
};

/** Parameters of a layer list, and the values one example passes through its layers (its input included). */
export const listSize = (list: readonly LayerSpec[], inputShape: Shape): { parameters: number; values: number; outputShape: Shape } => {
  const rows = layerRows(list, inputShape);
  return {
    parameters: rows.reduce((s, r) => s + r.parameters, 0),
    values: rows.reduce((s, r) => s + sizeOf(r.outputShape), sizeOf(inputShape)),
    outputShape: rows[rows.length - 1]?.outputShape ?? inputShape,
  };
};

/** A layer as a reader would write it: "conv2d 16 5x5 relu", "maxPool2d 2x2", "dense 128 relu". */
export const describeLayer = (spec: LayerSpec): string => {
  const pair = (p: readonly [number, number]) => (p[0] === p[1] ? `${p[0]}` : `${p[0]}x${p[1]}`);
  switch (spec.type) {
    case "reshape": return `reshape to [${spec.shape.join(", ")}]`;
    case "dense": return `dense ${spec.units}${spec.activation ? ` ${spec.activation}` : ""}`;
    case "conv2d": {
      const extra = [spec.stride && `stride ${pair(spec.stride)}`, spec.padding && `padding ${typeof spec.padding === "string" ? spec.padding : pair(spec.padding)}`, spec.dilation && `dilation ${pair(spec.dilation)}`].filter(Boolean);
      return `conv2d ${spec.filters} ${spec.kernel[0]}x${spec.kernel[1]}${extra.length ? `, ${extra.join(", ")}` : ""}${spec.activation ? ` ${spec.activation}` : ""}`;
    }
    case "maxPool2d":
    case "avgPool2d": return `${spec.type} ${spec.kernel[0]}x${spec.kernel[1]}${spec.stride ? `, stride ${pair(spec.stride)}` : ""}${spec.padding ? `, padding ${pair(spec.padding)}` : ""}`;
    case "dropout": return `dropout ${spec.rate}`;
    default: return spec.type;
  }
};

/**
 * The recipe's convolutional network for images [rows, cols]: per entry of `filters`, a 5 x 5
 * convolution with relu and a 2 x 2 max pooling; then the dense layers `hidden` with relu (and
 * dropout), and a dense layer of `classes` logits.
 */
export const cnnLayerList = (rows: number, cols: number, filters: readonly number[], hidden: readonly number[], classes: number, dropoutRate = 0): LayerSpec[] => [
  { type: "reshape", shape: [1, rows, cols] },
  ...filters.flatMap((n): LayerSpec[] => [{ type: "conv2d", filters: n, kernel: [5, 5], activation: "relu" }, { type: "maxPool2d", kernel: [2, 2] }]),
  { type: "flatten" },
  ...hidden.flatMap((units): LayerSpec[] => [{ type: "dense", units, activation: "relu" }, ...(dropoutRate > 0 ? [{ type: "dropout", rate: dropoutRate } as const] : [])]),
  { type: "dense", units: classes },
];

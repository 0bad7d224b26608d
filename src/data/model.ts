// Model and checkpoint files, as safetensors. Pure (bytes in, bytes out) so the browser playground
// validates a model with exactly the same code and errors as the command-line apps.
//
// A model file holds one tensor per parameter, named by its path in the parameter tree
// ("dense1.weight" [784, 128], "dense1.bias" [128], ...; y = x . W + b), float32 little-endian, and in
// __metadata__: format, architecture (JSON list of layer sizes), activation, normalization, seed,
// epochs, testAccuracy, dataset (its name) and classes (JSON list of class names, one per output).
// A network other than an MLP (a CNN: "conv1.weight" [16, 1, 5, 5], ...) is
// written as format "mnist-model/2", whose metadata holds its layer list (JSON, src/nn/layer-list.ts)
// and the shape of one example (inputShape) instead of architecture and activation; the loader
// rebuilds the network from the list and checks every tensor against it. A checkpoint is the same
// format holding the whole training state.

import { random, Tensor, treeLeaves, type Tree } from "../autograd/index.ts";
import { LayerListError, mlpLayerList, networkFromList, type LayerSpec } from "../nn/index.ts";
import { classNamesProblem, numberedClasses } from "./dataset.ts";
import { decodeSafetensors, encodeSafetensors, ModelFileError } from "./safetensors.ts";

export { ModelFileError };

export const MODEL_FORMAT = "mnist-mlp/1";
/** A model described by its layer list (any network the layers of src/nn make: a CNN). */
export const NETWORK_FORMAT = "mnist-model/2";
export const CHECKPOINT_FORMAT = "mnist-checkpoint/1";
export type Activation = "relu" | "tanh" | "sigmoid";
export const ACTIVATIONS: readonly Activation[] = ["relu", "tanh", "sigmoid"];

export interface ModelConfig {
  /** Layer sizes from input to output, e.g. [784, 128, 64, 10]; for a network that is not an MLP, [inputs, outputs]. */
  readonly architecture: readonly number[];
  /** The layer list (the loader gives an MLP's too); written, with inputShape, for a network that is not an MLP. */
  readonly layers?: readonly LayerSpec[];
  /** The shape of one example the first layer takes, e.g. [784]. */
  readonly inputShape?: readonly number[];
  readonly activation: Activation;
  /** How pixels were scaled before the first layer (the predictor must do the same). */
  readonly normalization: string;
  readonly seed?: number;
  readonly epochs?: number;
  readonly testAccuracy?: number;
  readonly dropout?: number;
  /** The dataset trained on ("MNIST", "Fashion-MNIST"); absent in files written before it was recorded. */
  readonly dataset?: string;
  /** One name per output, in label order; the loader gives "0", "1", ... for files without them. */
  readonly classNames?: readonly string[];
}

/** A model's class names: its own, or its outputs numbered. */
export const classNamesOf = (config: ModelConfig): readonly string[] => config.classNames ?? numberedClasses(config.architecture[config.architecture.length - 1]!);

/** A parameter tree for an MLP: { dense1: { weight, bias }, dense2: ..., ... }. */
export type MlpParams = Readonly<Record<string, { readonly weight: Tensor; readonly bias: Tensor }>>;

/**
 * Skeleton of a tree: the same structure with each Tensor replaced by {"$tensor": path}, so any tree
 * of tensors and plain values (numbers, strings) is stored exactly and rebuilt exactly.
 */
const skeletonOf = (tree: Tree): unknown =>
  JSON.parse(JSON.stringify(tree, function (this: unknown, key, value) {
    return value instanceof Tensor ? { $tensor: null } : value;
  }));

/** The tree a skeleton describes, its tensors taken from `tensors` (and their names added to `used`). */
const rebuild = (skeleton: unknown, tensors: ReadonlyMap<string, Tensor>, prefix: string, path: string, file: string, used: Set<string>): Tree => {
  if (path.split(".").length > 32) throw new ModelFileError(`${file}: the tree of "${prefix}" is nested more than 32 levels deep at "${path.slice(0, 80)}..."`);
  if (Array.isArray(skeleton)) return skeleton.map((s, i) => rebuild(s, tensors, prefix, path ? `${path}.${i}` : String(i), file, used));
  if (skeleton !== null && typeof skeleton === "object") {
    if ("$tensor" in skeleton) {
      const t = tensors.get(prefix + path);
      if (!t) throw new ModelFileError(`${file}: the tensor "${prefix + path}" is missing`);
      used.add(prefix + path);
      return t;
    }
    const out: Record<string, Tree> = {};
    for (const [k, v] of Object.entries(skeleton)) out[k] = rebuild(v, tensors, prefix, path ? `${path}.${k}` : k, file, used);
    return out;
  }
  return skeleton as Tree;
};

const tensorsOf = (tree: Tree, prefix: string): [string, Tensor][] => treeLeaves(tree).map(({ path, leaf }) => [prefix + path, leaf]);

const checkFinite = (file: string, name: string, t: Tensor): void => {
  const data = t.data;
  for (let i = 0; i < t.size; i++) {
    if (!Number.isFinite(data[i]!)) throw new ModelFileError(`${file}: tensor "${name}" holds a non-finite value (${data[i]}) at index ${i}: the model is corrupt or training diverged`);
  }
};

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;

/** The expected parameter shapes of an MLP with these layer sizes. */
export const mlpShapes = (architecture: readonly number[]): Map<string, number[]> => {
  const shapes = new Map<string, number[]>();
  for (let i = 0; i + 1 < architecture.length; i++) {
    shapes.set(`dense${i + 1}.weight`, [architecture[i]!, architecture[i + 1]!]);
    shapes.set(`dense${i + 1}.bias`, [architecture[i + 1]!]);
  }
  return shapes;
};

/** Writers refuse what the loaders would refuse: a file of non-finite weights is never written. */
const checkFiniteToWrite = (tensors: ReadonlyMap<string, Tensor>, what: string): void => {
  for (const [name, t] of tensors) {
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new ModelFileError(`refusing to write a ${what} whose tensor "${name}" holds ${data[i]} at index ${i}: training diverged`);
    }
  }
};

/** Whether a layer list is the one mlp(architecture, { activation, dropout }) builds (written as format 1). */
const isMlpList = (config: ModelConfig): boolean =>
  config.layers === undefined || JSON.stringify(config.layers) === JSON.stringify(mlpLayerList(config.architecture, config.activation, config.dropout ?? 0));

export const modelToBytes = (params: MlpParams, config: ModelConfig): Uint8Array => {
  const metadata: Record<string, string> = isMlpList(config)
    ? { format: MODEL_FORMAT, architecture: JSON.stringify(config.architecture), activation: config.activation, normalization: config.normalization }
    : { format: NETWORK_FORMAT, layers: JSON.stringify(config.layers), inputShape: JSON.stringify(config.inputShape ?? [config.architecture[0]]), normalization: config.normalization };
  for (const k of ["seed", "epochs", "testAccuracy", "dropout"] as const) if (config[k] !== undefined) metadata[k] = String(config[k]);
  if (config.dataset !== undefined) metadata.dataset = config.dataset;
  if (config.classNames !== undefined) {
    const outputs = config.architecture[config.architecture.length - 1];
    if (config.classNames.length !== outputs) throw new ModelFileError(`refusing to write a model of ${outputs} outputs with ${config.classNames.length} class names`);
    metadata.classes = JSON.stringify(config.classNames);
  }
  const tensors = new Map(tensorsOf(params as unknown as Tree, ""));
  checkFiniteToWrite(tensors, "model");
  return encodeSafetensors(tensors, metadata);
};

/** Read and fully validate a model file: format, metadata, every shape against the architecture, finite weights. */
/** Every tensor of `expected` (path -> shape) present with its shape, float32 and finite, and no other tensor. */
const checkTensors = (file: string, tensors: ReadonlyMap<string, Tensor>, expected: ReadonlyMap<string, readonly number[]>, layout: string): void => {
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new ModelFileError(`${file}: ${layout} needs a tensor "${name}" of shape ${shapeText(shape)}, which the file lacks`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(`${file}: ${layout} says "${name}" is ${shapeText(shape)}, the file holds ${shapeText(t.shape)}`);
    }
    if (t.dtype !== "float32") throw new ModelFileError(`${file}: "${name}" is ${t.dtype}, expected float32 (F32)`);
    checkFinite(file, name, t);
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) throw new ModelFileError(`${file}: unexpected tensor "${name}" for ${layout}`);
  }
};

/** The parameter tree { layer: { weight, bias } } of tensors named "layer.weight", "layer.bias". */
const layerTree = (tensors: ReadonlyMap<string, Tensor>): MlpParams => {
  const params: Record<string, Record<string, Tensor>> = {};
  for (const [name, t] of tensors) {
    const [layer, leaf] = name.split(".") as [string, string];
    (params[layer] ??= {})[leaf] = t;
  }
  return params as unknown as MlpParams;
};

/** A format-2 model: its layer list built into a network, every tensor checked against that network's parameters. */
const networkModel = (file: string, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string>): { params: MlpParams; config: ModelConfig } => {
  const parse = (key: string): unknown => {
    try {
      return JSON.parse(metadata[key] ?? "");
    } catch {
      throw new ModelFileError(`${file}: metadata ${key} is ${JSON.stringify(metadata[key]?.slice(0, 80)) ?? "missing"}: expected JSON (${key === "layers" ? "the list of layers" : "the shape of one example, such as [784]"})`);
    }
  };
  const inputShape = parse("inputShape");
  if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.length > 3 || !inputShape.every((d) => Number.isInteger(d) && d > 0 && d <= 1e6)) {
    throw new ModelFileError(`${file}: metadata inputShape ${JSON.stringify(metadata.inputShape)} is not the shape of one example (1 to 3 positive sizes, such as [784])`);
  }
  let built;
  try {
    built = networkFromList(parse("layers"), inputShape, "metadata layers");
  } catch (e) {
    if (e instanceof LayerListError) throw new ModelFileError(`${file}: this model's layout cannot be built: ${e.message}`);
    throw e;
  }
  const { net, layers, outputShape } = built;
  if (outputShape.length !== 1) throw new ModelFileError(`${file}: metadata layers end in shape ${shapeText(outputShape)}: expected one score per class (end with a dense layer)`);
  const expected = new Map(treeLeaves(net.init(random.key(0), inputShape).params as unknown as Tree).map(({ path, leaf }) => [path, leaf.shape] as const));
  checkTensors(file, tensors, expected, "its layer list");
  const inputs = inputShape.reduce((p: number, d: number) => p * d, 1);
  return { params: layerTree(tensors), config: { architecture: [inputs, outputShape[0]!], activation: "relu", layers, inputShape, normalization: metadata.normalization ?? "x / 255" } };
};

/** The network a loaded model's config describes (its layer list), and each layer's outputs for a batch. */
export const networkOf = (config: ModelConfig) =>
  networkFromList(config.layers ?? mlpLayerList(config.architecture, config.activation, config.dropout ?? 0), config.inputShape ?? [config.architecture[0]!]);

/** Whether a model has convolutions (its first layers see images, not rows of pixels). */
export const isConvolutional = (config: ModelConfig): boolean => config.layers?.some((l) => l.type === "conv2d") ?? false;

/** The dataset and class names a model file records, checked against its number of outputs ("0", "1", ... when it has none). */
const datasetFacts = (file: string, metadata: Record<string, string>, outputs: number): Pick<ModelConfig, "dataset" | "classNames"> => {
  let classNames: unknown = numberedClasses(outputs);
  if (metadata.classes !== undefined) {
    try {
      classNames = JSON.parse(metadata.classes);
    } catch {
      classNames = metadata.classes;
    }
    const problem = classNamesProblem(classNames);
    if (problem !== null) throw new ModelFileError(`${file}: metadata classes ${problem}`);
    if ((classNames as string[]).length !== outputs) throw new ModelFileError(`${file}: metadata classes names ${(classNames as string[]).length} classes, but the network has ${outputs} outputs`);
  }
  if (metadata.dataset !== undefined && (metadata.dataset.trim() === "" || metadata.dataset.length > 60)) throw new ModelFileError(`${file}: metadata dataset ${JSON.stringify(metadata.dataset)} is not a dataset's name (1 to 60 characters)`);
  return { ...(metadata.dataset !== undefined && { dataset: metadata.dataset }), classNames: classNames as string[] };
};

export const modelFromBytes = (bytes: Uint8Array, file: string): { params: MlpParams; config: ModelConfig } => {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== MODEL_FORMAT && metadata.format !== NETWORK_FORMAT) {
    throw new ModelFileError(`${file}: not a model written by train.ts: metadata format is ${JSON.stringify(metadata.format)}, expected "${MODEL_FORMAT}" (an MLP) or "${NETWORK_FORMAT}" (a network described by its layer list)${metadata.format === CHECKPOINT_FORMAT ? " (this is a checkpoint: pass it to train.ts --resume)" : ""}`);
  }
  const num = (k: string) => (metadata[k] === undefined ? undefined : Number(metadata[k]));
  const facts = {
    ...(num("seed") !== undefined && { seed: num("seed") }),
    ...(num("epochs") !== undefined && { epochs: num("epochs") }),
    ...(num("testAccuracy") !== undefined && { testAccuracy: num("testAccuracy") }),
    ...(num("dropout") !== undefined && { dropout: num("dropout") }),
  };
  if (metadata.format === NETWORK_FORMAT) {
    const model = networkModel(file, tensors, metadata);
    return { params: model.params, config: { ...model.config, ...facts, ...datasetFacts(file, metadata, model.config.architecture[1]!) } };
  }
  let architecture: unknown;
  try {
    architecture = JSON.parse(metadata.architecture ?? "");
  } catch {
    architecture = undefined;
  }
  if (!Array.isArray(architecture) || architecture.length < 2 || !architecture.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ModelFileError(`${file}: metadata architecture ${JSON.stringify(metadata.architecture)} is not a list of at least two positive layer sizes`);
  }
  const activation = metadata.activation as Activation;
  if (!ACTIVATIONS.includes(activation)) throw new ModelFileError(`${file}: metadata activation ${JSON.stringify(metadata.activation)} is not one of ${ACTIVATIONS.join(", ")}`);
  checkTensors(file, tensors, mlpShapes(architecture), `architecture ${shapeText(architecture)}`);
  const config: ModelConfig = {
    architecture,
    activation,
    layers: mlpLayerList(architecture, activation, num("dropout") ?? 0),
    inputShape: [architecture[0]],
    normalization: metadata.normalization ?? "x / 255",
    ...facts,
    ...datasetFacts(file, metadata, architecture[architecture.length - 1]),
  };
  return { params: layerTree(tensors), config };
};

/** Everything needed to continue a run exactly: trees of tensors and plain values, plus JSON info. */
export interface Checkpoint<S extends Tree = Tree> {
  readonly params: MlpParams;
  readonly optimizerState: S;
  /** Free-form JSON: epoch reached, flags the run was started with, random state, history. */
  readonly info: Record<string, unknown>;
}

export const checkpointToBytes = (c: Checkpoint): Uint8Array => {
  const tensors = new Map([...tensorsOf(c.params as unknown as Tree, "params."), ...tensorsOf(c.optimizerState, "state.")]);
  checkFiniteToWrite(tensors, "checkpoint");
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    stateTree: JSON.stringify(skeletonOf(c.optimizerState)),
    paramsTree: JSON.stringify(skeletonOf(c.params as unknown as Tree)),
    info: JSON.stringify(c.info),
  });
};

export const checkpointFromBytes = (bytes: Uint8Array, file: string): Checkpoint => {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new ModelFileError(`${file}: not a checkpoint: metadata format is ${JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}" (checkpoints are written next to the model as *.ckpt.safetensors)`);
  }
  const parse = (k: string): unknown => {
    try {
      return JSON.parse(metadata[k] ?? "");
    } catch {
      throw new ModelFileError(`${file}: metadata ${k} is not valid JSON`);
    }
  };
  for (const [name, t] of tensors) checkFinite(file, name, t);
  const used = new Set<string>();
  const checkpoint = {
    params: rebuild(parse("paramsTree"), tensors, "params.", "", file, used) as unknown as MlpParams,
    optimizerState: rebuild(parse("stateTree"), tensors, "state.", "", file, used),
    info: parse("info") as Record<string, unknown>,
  };
  for (const name of tensors.keys()) if (!used.has(name)) throw new ModelFileError(`${file}: the tensor "${name}" belongs to no part of the checkpoint (paramsTree, stateTree)`);
  return checkpoint;
};

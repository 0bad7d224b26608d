// Model and checkpoint files, as safetensors. Pure (bytes in, bytes out) so the browser playground
// validates a model with exactly the same code and errors as the command-line apps.
//
// A model file holds one tensor per parameter, named by its path in the parameter tree
// ("dense1.weight" [784, 128], "dense1.bias" [128], ...; y = x . W + b), float32 little-endian, and in
// __metadata__: format, architecture (JSON list of layer sizes), activation, normalization, seed,
// epochs, testAccuracy. A checkpoint is the same format holding the whole training state.

import { Tensor, treeLeaves, type Tree } from "../autograd/index.ts";
import { decodeSafetensors, encodeSafetensors, ModelFileError } from "./safetensors.ts";

export { ModelFileError };

export const MODEL_FORMAT = "mnist-mlp/1";
export const CHECKPOINT_FORMAT = "mnist-checkpoint/1";
export type Activation = "relu" | "tanh" | "sigmoid";
export const ACTIVATIONS: readonly Activation[] = ["relu", "tanh", "sigmoid"];

export interface ModelConfig {
  /** Layer sizes from input to output, e.g. [784, 128, 64, 10]. */
  readonly architecture: readonly number[];
  readonly activation: Activation;
  /** How pixels were scaled before the first layer (the predictor must do the same). */
  readonly normalization: string;
  readonly seed?: number;
  readonly epochs?: number;
  readonly testAccuracy?: number;
  readonly dropout?: number;
}

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

export const modelToBytes = (params: MlpParams, config: ModelConfig): Uint8Array => {
  const metadata: Record<string, string> = {
    format: MODEL_FORMAT,
    architecture: JSON.stringify(config.architecture),
    activation: config.activation,
    normalization: config.normalization,
  };
  for (const k of ["seed", "epochs", "testAccuracy", "dropout"] as const) if (config[k] !== undefined) metadata[k] = String(config[k]);
  const tensors = new Map(tensorsOf(params as unknown as Tree, ""));
  checkFiniteToWrite(tensors, "model");
  return encodeSafetensors(tensors, metadata);
};

/** Read and fully validate a model file: format, metadata, every shape against the architecture, finite weights. */
export const modelFromBytes = (bytes: Uint8Array, file: string): { params: MlpParams; config: ModelConfig } => {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== MODEL_FORMAT) {
    throw new ModelFileError(`${file}: not a model written by train.ts: metadata format is ${JSON.stringify(metadata.format)}, expected "${MODEL_FORMAT}"${metadata.format === CHECKPOINT_FORMAT ? " (this is a checkpoint: pass it to train.ts --resume)" : ""}`);
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
  const expected = mlpShapes(architecture);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new ModelFileError(`${file}: architecture ${shapeText(architecture)} needs a tensor "${name}" of shape ${shapeText(shape)}, which the file lacks`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(`${file}: architecture ${shapeText(architecture)} says "${name}" is ${shapeText(shape)}, the file holds ${shapeText(t.shape)}`);
    }
    if (t.dtype !== "float32") throw new ModelFileError(`${file}: "${name}" is ${t.dtype}, expected float32 (F32)`);
    checkFinite(file, name, t);
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) throw new ModelFileError(`${file}: unexpected tensor "${name}" for architecture ${shapeText(architecture)}`);
  }
  const params: Record<string, { weight: Tensor; bias: Tensor }> = {};
  for (let i = 1; i < architecture.length; i++) params[`dense${i}`] = { weight: tensors.get(`dense${i}.weight`)!, bias: tensors.get(`dense${i}.bias`)! };
  const num = (k: string) => (metadata[k] === undefined ? undefined : Number(metadata[k]));
  const config: ModelConfig = {
    architecture,
    activation,
    normalization: metadata.normalization ?? "x / 255",
    ...(num("seed") !== undefined && { seed: num("seed") }),
    ...(num("epochs") !== undefined && { epochs: num("epochs") }),
    ...(num("testAccuracy") !== undefined && { testAccuracy: num("testAccuracy") }),
    ...(num("dropout") !== undefined && { dropout: num("dropout") }),
  };
  return { params, config };
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

// A small, valid training checkpoint (a [16, 3, 10] network on 20 images of 4 x 4 pixels, one epoch
// and one batch into a run) and what train.ts would build to continue it, for the checkpoint specs.

import { random, tensor, valueAndGrad, type Tensor } from "../../src/autograd/index.ts";
import { batchCount, decodeSafetensors, encodeSafetensors } from "../../src/data/index.ts";
import { softmaxCrossEntropy, type Params } from "../../src/nn/index.ts";
import { checkpointBytes, keyNumbers, type CheckpointInfo, type DataFacts, type RunShape } from "../../src/apps/checkpoint.ts";
import { makeNetwork, makeOptimizer, makeSchedule, type RunConfig } from "../../src/apps/run-config.ts";

export const FILE = "small.ckpt.safetensors";
export const DATA: DataFacts = {
  dir: null, dataset: null, source: "20 test images of 4 x 4", count: 20, rows: 4, cols: 4, name: "tiny", classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
};

export const smallConfig = (optimizer: RunConfig["optimizer"]): RunConfig => ({
  model: "mlp", filters: [], epochs: 3, batchSize: 8, lr: 0.05, optimizer, schedule: "cosine", hidden: [3], activation: "relu", dropout: 0, weightDecay: 0.01, seed: 5, valSplit: 0.1, limit: null, shift: 0, rotate: 0,
});

/** What train.ts builds for `config` on the 20 examples: the split, the batches, a fresh network, the optimizer. */
export const runShapeFor = (config: RunConfig): RunShape => {
  const count = Math.min(config.limit ?? DATA.count, DATA.count);
  const trainExamples = count - Math.round(count * config.valSplit);
  const stepsPerEpoch = batchCount(trainExamples, config.batchSize);
  const [initKey] = random.split(random.key(config.seed), 4) as [random.Key];
  return {
    data: { ...DATA, count },
    trainExamples,
    stepsPerEpoch,
    params: makeNetwork(config, { ...DATA, classes: 10 }).net.init(initKey, [DATA.rows * DATA.cols]).params,
    optimizer: makeOptimizer(config, makeSchedule(config, stepsPerEpoch)),
  };
};

/** A batch of 8 random images and labels. */
export const smallBatch = (seed = 0): { x: Tensor; labels: Uint8Array } => ({
  x: random.uniform(random.key(seed), [8, 16]),
  labels: Uint8Array.from({ length: 8 }, (_, i) => (i * 7 + seed) % 10),
});

/** The checkpoint's parts: after 4 updates, 1 epoch of 3 batches and 1 batch of the next done. */
export const validParts = (optimizer: RunConfig["optimizer"]): { params: Params; state: unknown; info: CheckpointInfo } => {
  const config = smallConfig(optimizer);
  const shape = runShapeFor(config);
  const { net } = makeNetwork(config, { ...DATA, classes: 10 });
  let params = shape.params;
  let state = shape.optimizer.init(params);
  for (let k = 0; k < 4; k++) {
    const { x, labels } = smallBatch(k);
    const { grads } = valueAndGrad((p: Params) => softmaxCrossEntropy(net.apply(p, x), labels))(params);
    ({ params, state } = shape.optimizer.update(grads, state, params));
  }
  const info: CheckpointInfo = {
    config,
    position: { epoch: 1, batch: 1, lossSum: 8 * 2.1, correct: 3, seen: 8, seconds: 0.25 },
    history: [{ epoch: 1, trainLoss: 2.25, trainAccuracy: 0.125, validationLoss: 2.2, validationAccuracy: 0.5, testAccuracy: 0.25, seconds: 0.5, learningRate: 0.04 }],
    rngKey: keyNumbers(random.key(config.seed)),
    out: "small.safetensors",
    data: DATA,
    note: "a spec's checkpoint",
  };
  return { params, state, info };
};

export const validCheckpoint = (optimizer: RunConfig["optimizer"]): Uint8Array => {
  const { params, state, info } = validParts(optimizer);
  return checkpointBytes({ params, optimizerState: state as never, info });
};

/** The same checkpoint with its metadata edited: `edit` gets info, paramsTree and stateTree as parsed JSON. */
export const editCheckpoint = (bytes: Uint8Array, edit: (meta: { info: Record<string, unknown>; paramsTree: unknown; stateTree: unknown }) => void): Uint8Array => {
  const { tensors, metadata } = decodeSafetensors(bytes, FILE);
  const meta = { info: JSON.parse(metadata.info!), paramsTree: JSON.parse(metadata.paramsTree!), stateTree: JSON.parse(metadata.stateTree!) };
  edit(meta);
  return encodeSafetensors(tensors, {
    ...metadata,
    info: JSON.stringify(meta.info),
    paramsTree: JSON.stringify(meta.paramsTree),
    stateTree: JSON.stringify(meta.stateTree),
  });
};

/** The same checkpoint with one tensor replaced (or removed, with `replacement` null). */
export const withTensor = (bytes: Uint8Array, name: string, replacement: Tensor | null): Uint8Array => {
  const { tensors, metadata } = decodeSafetensors(bytes, FILE);
  const edited = new Map(tensors);
  if (replacement === null) edited.delete(name);
  else edited.set(name, replacement);
  return encodeSafetensors(edited, metadata);
};

export const scalarTensor = (v: number): Tensor => tensor([v]);

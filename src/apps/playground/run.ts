// A training run of the playground, apart from the worker that schedules it: its settings (checked),
// the network, the optimizer, and one step. No browser API here, so a spec runs it in Node.

import { random, valueAndGradAux, type Tensor } from "../../autograd/index.ts";
import type { Batch } from "../../data/batches.ts";
import {
  accuracy, adam, heNormal, mlp, sgd, softmaxCrossEntropy, type Initializer, type Mlp, type Optimizer, type OptimizerState, type Params,
} from "../../nn/index.ts";
import { type StepRecord, type TrainConfig, trainConfigProblem } from "./protocol.ts";

export interface Run {
  readonly config: TrainConfig;
  readonly sizes: readonly number[];
  readonly net: Mlp;
  readonly optimizer: Optimizer;
  readonly shuffleKey: random.Key;
  readonly dropoutKey: random.Key;
  /** The loss, its gradients and the logits for a batch. */
  readonly lossAndGrads: (params: Params, x: Tensor, labels: Uint8Array) => { value: Tensor; grads: Params; aux: Tensor };
  params: Params;
  state: OptimizerState;
  step: number;
  epoch: number;
  epochBatches: Iterator<Batch> | null;
  /** Why the run stopped for good (a non-finite loss): it does not continue; a reset starts a new one. */
  diverged: string | null;
}

/** N(0, 0.01^2): see InitName in protocol.ts. */
const small: Initializer = (key, shape, dtype = "float32") => random.normal(key, shape, { std: 0.01, dtype });

/** A new run from its settings; settings it cannot use are refused with the page's words (never replaced). */
export const newRun = (config: TrainConfig): Run => {
  const problem = trainConfigProblem(config);
  if (problem !== null) throw new Error(problem);
  const sizes = [784, config.hidden, 10];
  const net = mlp(sizes, { activation: "relu", init: config.init === "he" ? heNormal : small });
  const [initKey, shuffleKey, dropoutKey] = random.split(random.key(config.seed), 3) as [random.Key, random.Key, random.Key];
  const optimizer = (config.optimizer === "adam" ? adam({ learningRate: config.learningRate }) : sgd({ learningRate: config.learningRate })) as Optimizer;
  const lossAndLogits = (p: Params, x: Tensor, labels: Uint8Array) => {
    const logits = net.apply(p, x);
    return [softmaxCrossEntropy(logits, labels), logits] as const;
  };
  const params = net.init(initKey).params;
  return {
    config, sizes, net, optimizer, shuffleKey, dropoutKey, lossAndGrads: valueAndGradAux(lossAndLogits) as Run["lossAndGrads"],
    params, state: optimizer.init(params), step: 0, epoch: 0, epochBatches: null, diverged: null,
  };
};

/**
 * One optimizer step on `batch`: its loss and accuracy (scored before the update), or null when the loss
 * is not finite. Then, as train.ts does, the run stops: nothing is updated and run.diverged says why.
 */
export const trainStep = (run: Run, batch: Pick<Batch, "x" | "labels">): StepRecord | null => {
  const { value, grads, aux: logits } = run.lossAndGrads(run.params, batch.x, batch.labels);
  const loss = value.item();
  if (!Number.isFinite(loss)) {
    run.diverged = `The loss became ${loss} at step ${run.step + 1}: training diverged and stopped. Try a lower learning rate (now ${run.config.learningRate}) and press Reset.`;
    return null;
  }
  ({ params: run.params, state: run.state } = run.optimizer.update(grads, run.state, run.params));
  run.step++;
  return { step: run.step, epoch: run.epoch, loss, accuracy: accuracy(logits, batch.labels) };
};

/** Whether every parameter is finite (the page is only ever sent finite ones). */
export const finiteParams = (run: Run): boolean =>
  Object.values(run.params as Readonly<Record<string, Readonly<Record<string, Tensor>>>>).every((layer) => Object.values(layer).every((t) => t.data.every(Number.isFinite)));

// A training run of the playground, apart from the worker that schedules it: its settings (checked),
// the network, the optimizer, and one step. No browser API here, so a spec runs it in Node.

import { argmax, jit, random, valueAndGradAux, type Tensor } from "../../autograd/index.ts";
import { scalePixels, type Batch } from "../../data/batches.ts";
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
  /**
   * One step, compiled (jit): the loss and the logits for a batch, and the parameters and optimizer
   * state after the update. Nothing is donated, so the run keeps its parameters until it takes these.
   */
  readonly compiledStep: (input: StepInput) => { params: Params; state: OptimizerState; loss: Tensor; logits: Tensor };
  /** The predicted class of each image of a batch of pixels, compiled. */
  readonly classify: (params: Params, pixels: Tensor) => Tensor;
  params: Params;
  state: OptimizerState;
  step: number;
  epoch: number;
  epochBatches: Iterator<Batch> | null;
  /** Why the run stopped for good (a non-finite loss): it does not continue; a reset starts a new one. */
  diverged: string | null;
}

interface StepInput {
  readonly params: Params;
  readonly state: OptimizerState;
  readonly pixels: Tensor;
  readonly labels: Tensor;
}

/** N(0, 0.01^2): see InitName in protocol.ts. */
const small: Initializer = (key, shape, dtype = "float32") => random.normal(key, shape, { std: 0.01, dtype });

/** A new run from its settings; settings it cannot use are refused with the page's words (never replaced). */
export const newRun = (config: TrainConfig): Run => {
  const problem = trainConfigProblem(config);
  if (problem !== null) throw new Error(problem);
  const sizes = [784, config.hidden, config.classes];
  const net = mlp(sizes, { activation: "relu", init: config.init === "he" ? heNormal : small });
  const [initKey, shuffleKey, dropoutKey] = random.split(random.key(config.seed), 3) as [random.Key, random.Key, random.Key];
  const optimizer = (config.optimizer === "adam" ? adam({ learningRate: config.learningRate }) : sgd({ learningRate: config.learningRate })) as Optimizer;
  const gradients = valueAndGradAux((p: Params, x: Tensor, labels: Tensor) => {
    const logits = net.apply(p, x);
    return [softmaxCrossEntropy(logits, labels), logits] as const;
  });
  const compiledStep = jit(({ params: p, state, pixels, labels }: StepInput) => {
    const { value, grads, aux } = gradients(p, scalePixels(pixels), labels);
    return { ...optimizer.update(grads, state, p), loss: value, logits: aux };
  }, { name: "playgroundStep" });
  const classify = jit((p: Params, pixels: Tensor) => argmax(net.apply(p, scalePixels(pixels)), -1), { name: "classify" });
  const params = net.init(initKey).params;
  return {
    config, sizes, net, optimizer, shuffleKey, dropoutKey, compiledStep, classify,
    params, state: optimizer.init(params), step: 0, epoch: 0, epochBatches: null, diverged: null,
  };
};

/**
 * One optimizer step on `batch`: its loss and accuracy (scored before the update), or null when the loss
 * is not finite. Then, as train.ts does, the run stops: nothing is updated and run.diverged says why.
 */
export const trainStep = (run: Run, batch: Pick<Batch, "pixels" | "labels">): StepRecord | null => {
  const out = run.compiledStep({ params: run.params, state: run.state, pixels: batch.pixels, labels: batch.labels });
  const loss = out.loss.item();
  if (!Number.isFinite(loss)) {
    run.diverged = `The loss became ${loss} at step ${run.step + 1}: training diverged and stopped. Try a lower learning rate (now ${run.config.learningRate}) and press Reset.`;
    return null;
  }
  ({ params: run.params, state: run.state } = out);
  run.step++;
  return { step: run.step, epoch: run.epoch, loss, accuracy: accuracy(out.logits, batch.labels) };
};

/** Whether every parameter is finite (the page is only ever sent finite ones). */
export const finiteParams = (run: Run): boolean =>
  Object.values(run.params as Readonly<Record<string, Readonly<Record<string, Tensor>>>>).every((layer) => Object.values(layer).every((t) => t.data.every(Number.isFinite)));

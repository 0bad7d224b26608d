// One training step of the seed's network at batch 64, eager and compiled: the fastest of 60 rounds
// of 20 steps (other jobs on the machine inflate the fastest round least). bench/step-vs-before.sh
// runs it beside the engine from before the two layers.
//   npx tsx bench/step.ts
import { jit, random, valueAndGradAux, type Tensor } from "../src/autograd/index.ts";
import { batches, loadMnist, scalePixels } from "../src/data/index.ts";
import { mlp, sgd, softmaxCrossEntropy, type OptimizerState, type Params } from "../src/nn/index.ts";
const mnist = loadMnist();
const net = mlp([784, 128, 64, 10]);
const optimizer = sgd({ learningRate: 0.1 });
const batch = batches(mnist.train, { batchSize: 64, key: random.key(1) }).next().value!;
const gradients = valueAndGradAux((p: Params, x: Tensor, labels: Tensor) => { const logits = net.apply(p, x); return [softmaxCrossEntropy(logits, labels), logits] as const; });
const trainStep = ({ params, state, pixels, labels }: { params: Params; state: OptimizerState; pixels: Tensor; labels: Tensor }) => {
  const { grads } = gradients(params, scalePixels(pixels), labels);
  return optimizer.update(grads, state, params);
};
const measure = (step: typeof trainStep) => {
  let params = net.init(random.key(42)).params;
  let state = optimizer.init(params);
  const one = () => { ({ params, state } = step({ params, state, pixels: batch.pixels, labels: batch.labels })); };
  for (let i = 0; i < 200; i++) one();
  let best = Infinity;
  for (let r = 0; r < 60; r++) { const t0 = performance.now(); for (let i = 0; i < 20; i++) one(); best = Math.min(best, (performance.now() - t0) / 20); }
  return best;
};
console.log(JSON.stringify({ engine: "now", eagerMs: measure(trainStep), jitMs: measure(jit(trainStep, { donate: ["params", "state"] })) }));

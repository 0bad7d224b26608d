// Small, seeded training runs on real MNIST for the question specs: the same pieces train.ts puts
// together (a network, a loss, an optimizer, a compiled step over shuffled mini-batches of bytes),
// on a subset small enough to run in a second or two.

import { argmax, cast, equal, jit, mul, random, sum, valueAndGrad, type Tensor } from "../../src/autograd/index.ts";
import { batches, loadMnist, scalePixels, type Examples } from "../../src/data/index.ts";
import { mlp, sgd, softmaxCrossEntropy, type MlpOptions, type Mlp, type Optimizer, type OptimizerState, type Params } from "../../src/nn/index.ts";

/** f's value, computed the first time it is asked for: training runs happen inside the specs that use them. */
export const once = <T>(f: () => T): (() => T) => {
  let value: { readonly v: T } | null = null;
  return () => (value ??= { v: f() }).v;
};

/** The installed MNIST, read once per spec file. */
export const mnist = once(() => loadMnist());

/** The first n indices: the first n images of a set (MNIST's order mixes the digits). */
export const firstN = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

export interface FitOptions extends MlpOptions {
  readonly sizes: readonly number[];
  /** The training examples: indices into mnist().train. */
  readonly among: Int32Array;
  readonly epochs: number;
  readonly batchSize?: number;
  /** Plain SGD with learning rate 0.1 by default (the seed's recipe). */
  readonly optimizer?: Optimizer;
  /** From the pixel bytes [batch, 784] to the network's input; pixels / 255 by default. */
  readonly inputs?: (pixels: Tensor) => Tensor;
  /** softmaxCrossEntropy by default. */
  readonly loss?: (logits: Tensor, labels: Tensor) => Tensor;
  /** Shuffle each epoch (by default); false keeps the order of `among`. */
  readonly shuffle?: boolean;
  /** Parameters to start from instead of net.init(key). */
  readonly params?: Params;
  readonly seed?: number;
  /** Called after each epoch with the epoch's number (from 1) and a scorer of the parameters so far. */
  readonly afterEpoch?: (epoch: number, score: Fitted["score"]) => void;
}

export interface Fitted {
  readonly net: Mlp;
  readonly params: Params;
  /** The loss of every step, in order. */
  readonly losses: readonly number[];
  /** Accuracy and mean loss on a set (every example, or `among`), with the same input transform as training. */
  readonly score: (examples: Examples, among?: Int32Array) => { readonly accuracy: number; readonly loss: number };
}

export const fit = (options: FitOptions): Fitted => {
  const { sizes, among, epochs, batchSize = 64, optimizer = sgd({ learningRate: 0.1 }), inputs = scalePixels, loss = softmaxCrossEntropy, shuffle = true, seed = 1 } = options;
  const net = mlp(sizes, options);
  const [initKey, shuffleKey, dropoutKey] = random.split(random.key(seed), 3) as [random.Key, random.Key, random.Key];
  let params = options.params ?? net.init(initKey).params;
  let state = optimizer.init(params);
  const step = jit(
    ({ params: p, state: s, pixels, labels, key }: { params: Params; state: OptimizerState; pixels: Tensor; labels: Tensor; key: random.Key }) => {
      const { value, grads } = valueAndGrad((q: Params) => loss(net.apply(q, inputs(pixels), { training: true, key }), labels))(p);
      return { ...optimizer.update(grads, s, p), loss: value };
    },
    { donate: ["params", "state"] },
  );
  const chunkScore = jit((p: Params, pixels: Tensor, labels: Tensor) => {
    const logits = net.apply(p, inputs(pixels));
    return { correct: sum(equal(argmax(logits, -1), cast(labels, "int32"))), loss: mul(loss(logits, labels), labels.size) };
  });
  const score = (examples: Examples, subset?: Int32Array) => {
    let [correct, total, seen] = [0, 0, 0];
    for (const chunk of batches(examples, { batchSize: 2500, ...(subset && { among: subset }) })) {
      const scored = chunkScore(params, chunk.pixels, chunk.labels);
      correct += scored.correct.item();
      total += scored.loss.item();
      seen += chunk.size;
    }
    return { accuracy: correct / seen, loss: total / seen };
  };
  const losses: number[] = [];
  const train = mnist().train;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = batches(train, { batchSize, among, epoch, ...(shuffle && { key: shuffleKey }) });
    for (const batch of order) {
      const out = step({ params, state, pixels: batch.pixels, labels: batch.labels, key: random.foldIn(dropoutKey, losses.length) });
      ({ params, state } = out);
      losses.push(out.loss.item());
    }
    options.afterEpoch?.(epoch + 1, score);
  }
  return { net, params, losses, score };
};

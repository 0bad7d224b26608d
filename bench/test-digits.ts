// What the predict benchmarks share: their flags (--model, --count, --seed, and any of their own),
// the model, and MNIST test digits chosen by a seeded permutation, with a seeded uniform generator.

import { parseArgs } from "node:util";
import { random } from "../src/autograd/index.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { DEFAULT_MODEL_PATH, loadModelFile } from "../src/data/model-file.ts";
import { networkOf } from "../src/data/model.ts";

export const chosenTestDigits = (extra: Record<string, { type: "string" }> = {}) => {
  const { values: flags } = parseArgs({
    options: { model: { type: "string", default: DEFAULT_MODEL_PATH }, count: { type: "string", default: "300" }, seed: { type: "string", default: "1" }, ...extra },
  });
  const count = Number(flags.count);
  const seed = Number(flags.seed);
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed)) {
    console.error(`error: --count must be a positive integer and --seed an integer, got --count ${flags.count} --seed ${flags.seed}`);
    process.exit(2);
  }
  const model = loadModelFile(flags.model as string);
  const { net } = networkOf(model.config);
  const test = loadMnist().test;
  const n = Math.min(count, test.count);
  const rng = new random.Rng(random.key(seed));
  const chosen = random.permutation(rng, test.count).subarray(0, n);
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rng.nextFloat();
  // The chosen digits as MNIST stores them (values in [0, 1]), row k for the k-th chosen, and their labels.
  const raw = new Float32Array(n * 784);
  const labels = new Uint8Array(n);
  chosen.forEach((i, k) => {
    raw.set(Array.from(test.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255), k * 784);
    labels[k] = test.labels[i]!;
  });
  const digit = (k: number): Float32Array => raw.subarray(k * 784, (k + 1) * 784);
  return { flags: flags as Record<string, string | undefined>, seed, model, net, n, rng, chosen, uniform, raw, labels, digit };
};

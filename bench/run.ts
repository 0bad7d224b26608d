// npm run bench: every speed and memory figure of the project, measured on this machine, beside
// the seed's textbook NumPy implementation of the same recipe (bench/reference/mlp_numpy.py).
//
//   npm run bench                 # everything (about five minutes)
//   npm run bench -- --skip-train # kernels, one step, inference only
//   npm run bench -- --skip-cnn   # without the CNN recipe's part (bench/cnn.ts, alone: npx tsx bench/cnn.ts)
//   npm run bench -- --rounds 1   # one training run each instead of three (the machine's speed
//                                 # drifts, so ours and NumPy's 1-thread run alternate, in rounds)
//
// Numbers in the README come from this output.

import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { argmax, cast, div, jit, random, valueAndGradAux, type Tensor } from "../src/autograd/index.ts";
import { allExamples, batches, loadMnist } from "../src/data/index.ts";
import { mlp, sgd, softmaxCrossEntropy, type OptimizerState, type Params } from "../src/nn/index.ts";
import { formatKernelRows, kernelBenchmarks, median, timePerCall } from "./kernels.ts";

const { values: flags } = parseArgs({
  options: { "skip-train": { type: "boolean" }, "skip-numpy": { type: "boolean" }, "skip-cnn": { type: "boolean" }, epochs: { type: "string", default: "10" }, rounds: { type: "string", default: "3" } },
});
const epochs = Number(flags.epochs);
const rounds = Number(flags.rounds);
for (const [flag, value] of [["--epochs", epochs], ["--rounds", rounds]] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`error: ${flag} must be a whole number of at least 1, got ${JSON.stringify(flag === "--epochs" ? flags.epochs : flags.rounds)}`);
    process.exit(2);
  }
}
const root = new URL("..", import.meta.url).pathname;
const ms = (x: number) => `${x.toFixed(3)} ms`;

console.log(`Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
console.log();

// ---- kernels ------------------------------------------------------------------------------------
console.log("Kernels of one training step of [784, 128, 64, 10] at batch 64, median per call:");
console.log(formatKernelRows(kernelBenchmarks()));
console.log();

// ---- data ---------------------------------------------------------------------------------------
console.log("Data (bench/data.ts): loading MNIST, and Uint8 pixels scaled per batch vs a float32 copy");
await import("./data.ts");
console.log();

// ---- one training step, compiled and eager, and inference -------------------------------------------
const mnist = loadMnist();
const net = mlp([784, 128, 64, 10]);
const optimizer = sgd({ learningRate: 0.1 });
const batch = batches(mnist.train, { batchSize: 64, key: random.key(1) }).next().value!;
// The step of train.ts: scale the pixels, forward, gradient, SGD update.
const gradients = valueAndGradAux((p: Params, x: Tensor, labels: Tensor) => {
  const logits = net.apply(p, x);
  return [softmaxCrossEntropy(logits, labels), logits] as const;
});
const trainStep = ({ params, state, pixels, labels }: { params: Params; state: OptimizerState; pixels: Tensor; labels: Tensor }) => {
  const { value, grads, aux } = gradients(params, div(cast(pixels, "float32"), 255), labels);
  return { ...optimizer.update(grads, state, params), loss: value, logits: aux };
};
const stepTime = (step: typeof trainStep, rounds: number, roundMs: number) => {
  let params = net.init(random.key(42)).params;
  let state = optimizer.init(params);
  return timePerCall(() => {
    ({ params, state } = step({ params, state, pixels: batch.pixels, labels: batch.labels }));
  }, rounds, roundMs);
};
const compiledMs = stepTime(jit(trainStep, { donate: ["params", "state"] }), 9, 200);
const eagerMs = stepTime(trainStep, 7, 200);
console.log("Training step of [784, 128, 64, 10] at batch 64 (scale pixels, forward, backward, SGD update, as train.ts), median:");
console.log(`  compiled (jit, as train.ts)     ${ms(compiledMs)}   (${(844 * compiledMs / 1000).toFixed(2)} s for the 844 steps of an epoch)`);
console.log(`  eager (train.ts --eager)        ${ms(eagerMs)}   (${(844 * eagerMs / 1000).toFixed(2)} s per epoch; ${(eagerMs / compiledMs).toFixed(1)}x the compiled step)`);

const params = net.init(random.key(42)).params;
const classify = jit((p: Params, pixels: Tensor) => argmax(net.apply(p, div(cast(pixels, "float32"), 255)), -1));
const test = allExamples(mnist.test);
const evalMs = timePerCall(() => classify(params, test.pixels).data, 7, 300);
const one = allExamples(mnist.test, Int32Array.of(0)).pixels;
const latencyMs = timePerCall(() => classify(params, one).data, 9, 200);
const eagerEvalMs = timePerCall(() => argmax(net.apply(params, test.x), -1).data, 5, 300);
console.log("Inference with constant parameters (compiled: pixels in, predicted classes out):");
console.log(`  10,000 test images at once      ${ms(evalMs)}   (${Math.round(10000 / (evalMs / 1000)).toLocaleString("en-US")} images/s; eager: ${Math.round(10000 / (eagerEvalMs / 1000)).toLocaleString("en-US")} images/s)`);
console.log(`  batch-1 prediction latency      ${(latencyMs * 1000).toFixed(2)} µs`);
console.log();

// ---- the full default training run, and the NumPy reference ---------------------------------------
interface Run { epochSeconds: number[]; testAccuracy: number; peakRssMB?: number; imagesPerSecond?: number }

const ours = (): Run | string => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "model.safetensors");
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/apps/train.ts", "--json", "--epochs", String(epochs), "--out", out], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) return `train.ts failed (${r.status}): ${r.stderr.slice(-500)}`;
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const final = lines.find((l) => l.type === "final");
  return { epochSeconds: lines.filter((l) => l.type === "epoch").map((l) => l.seconds), testAccuracy: final.testAccuracy, peakRssMB: final.peakRssMB };
};

const numpy = (threads: string | null): Run | string => {
  const env = { ...process.env };
  if (threads !== null) env.OPENBLAS_NUM_THREADS = threads;
  else delete env.OPENBLAS_NUM_THREADS;
  const r = spawnSync("python3", ["bench/reference/mlp_numpy.py", "--epochs", String(epochs)], { cwd: root, encoding: "utf8", env });
  if (r.error) return `python3 could not start (${r.error.message})`;
  if (r.status !== 0) return `the NumPy reference failed: ${r.stderr.trim().split("\n").slice(-1)[0]}`;
  const j = JSON.parse(r.stdout.trim().split("\n").slice(-1)[0]!);
  return { epochSeconds: j.epochSeconds, testAccuracy: j.testAccuracy, imagesPerSecond: j.testImagesPerSecond };
};

if (!flags["skip-train"]) {
  // The machine's speed drifts between (and within) runs, so our run and NumPy's 1-thread run go
  // back to back in each round, and the ratio is taken within a round; the median of the rounds'
  // ratios is the figure to quote.
  console.log(`Full training runs, the seed's recipe (${epochs} epochs, 54,000 training images, SGD 0.1, batch 64): ${rounds} round${rounds === 1 ? "" : "s"}, each this project then NumPy with 1 thread, back to back; then NumPy with its default threads:`);
  const ourRuns: (Run | string)[] = [];
  const numpyRuns: (Run | string)[] = [];
  for (let r = 0; r < rounds; r++) {
    ourRuns.push(ours());
    if (!flags["skip-numpy"]) numpyRuns.push(numpy("1"));
  }
  const defaultThreads = flags["skip-numpy"] ? null : numpy(null);
  const seconds = (run: Run | string) => (typeof run === "object" ? median(run.epochSeconds) : null);
  const list = (runs: (Run | string)[], f: (run: Run) => string) => runs.map((run) => (typeof run === "object" ? f(run) : "failed")).join("; ");
  const failures = [...ourRuns, ...numpyRuns, ...(defaultThreads === null ? [] : [defaultThreads])].filter((run): run is string => typeof run === "string");
  const ratios = ourRuns.map((run, i) => {
    const a = seconds(run), b = numpyRuns[i] === undefined ? null : seconds(numpyRuns[i]!);
    return a !== null && b !== null ? a / b : null;
  }).filter((x): x is number => x !== null);
  console.log("| implementation | s/epoch (training only, median), per round | test accuracy | ratio to NumPy 1 thread, per round (median) |");
  console.log("|---|---|---|---|");
  const accuracy = (run: Run) => `${(100 * run.testAccuracy).toFixed(2)}%`;
  const accuracies = (runs: (Run | string)[]) => [...new Set(runs.map((run) => (typeof run === "object" ? accuracy(run) : "failed")))].join("; ");
  console.log(`| this project (tsx src/apps/train.ts) | ${list(ourRuns, (run) => median(run.epochSeconds).toFixed(3))} | ${accuracies(ourRuns)} | ${ratios.length === 0 ? "n/a" : `${ratios.map((x) => x.toFixed(2)).join("; ")} (${median(ratios).toFixed(2)})`} |`);
  if (!flags["skip-numpy"]) {
    console.log(`| NumPy reference, OPENBLAS_NUM_THREADS=1 | ${list(numpyRuns, (run) => median(run.epochSeconds).toFixed(3))} | ${accuracies(numpyRuns)} | 1 |`);
    if (defaultThreads !== null) console.log(`| NumPy reference, default threads | ${list([defaultThreads], (run) => median(run.epochSeconds).toFixed(3))} | ${accuracies([defaultThreads])} | |`);
  }
  for (const failure of new Set(failures)) console.log(`could not run: ${failure}`);
  const rss = ourRuns.flatMap((run) => (typeof run === "object" && run.peakRssMB !== undefined ? [run.peakRssMB] : []));
  if (rss.length > 0) console.log(`Peak RSS of the training runs: ${rss.map((x) => x.toFixed(0)).join("; ")} MB`);
  const inference = numpyRuns.flatMap((run) => (typeof run === "object" && run.imagesPerSecond ? [run.imagesPerSecond] : []));
  if (inference.length > 0) console.log(`NumPy (1 thread) inference on the 10,000 test images: ${inference.map((x) => Math.round(x).toLocaleString("en-US")).join("; ")} images/s`);
}

// ---- the CNN recipe (bench/cnn.ts): its step, its latency, and full runs against NumPy's --------
if (!flags["skip-cnn"]) {
  console.log();
  (await import("./cnn.ts")).cnnBenchmark({ epochs, rounds, train: !flags["skip-train"] && !flags["skip-numpy"] });
}

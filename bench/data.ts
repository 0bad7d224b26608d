// The data layer's costs: loading MNIST, and preparing an epoch of mini-batches two ways.
//
//   npx tsx bench/data.ts
//
// Strategy "bytes" (the one src/data uses): keep pixels as the Uint8Array read from the file, gather
// each batch's rows as bytes, and scale them to float32 x / 255 in the training step.
// Strategy "float32 copy": normalize the whole training set once into a Float32Array (4x the memory)
// and copy each batch's rows out of it.
// Both are timed for one epoch of MNIST's 54,000 training examples (after the 10% validation split)
// in batches of 64, with a fresh buffer per batch and with reused buffers.

import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { key, split } from "../src/autograd/random.ts";
import { batches, epochOrder, featureCount, gatherLabels, gatherPixels, normalize, splitTrainValidation } from "../src/data/batches.ts";
import { parseIdx } from "../src/data/idx.ts";
import { findMnist, loadMnist, readExamples } from "../src/data/mnist.ts";
import { median } from "./kernels.ts";

const BATCH_SIZE = 64;
const REPEATS = 7;


/** Runs f `repeats` times; the first time and the median, in milliseconds. */
const time = (f: () => unknown, repeats = REPEATS): { first: number; median: number } => {
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return { first: ms[0]!, median: median(ms) };
};

const fmt = (ms: number): string => `${ms.toFixed(1).padStart(7)} ms`;
const row = (label: string, t: { first: number; median: number }): void =>
  console.log(`${label.padEnd(62)} first ${fmt(t.first)}   median ${fmt(t.median)}`);

const paths = findMnist();
console.log(`MNIST from ${paths.source}\n`);

// -- loading ----------------------------------------------------------------------------------------
console.log("Loading");
row("training set (60,000 images + labels, raw IDX)", time(() => readExamples(paths.trainImages, paths.trainLabels)));
row("training + test sets (loadMnist)", time(() => loadMnist()));
const gz = gzipSync(readFileSync(paths.trainImages));
row(`training images from gzip (${(gz.length / 1e6).toFixed(1)} MB -> 47.0 MB, in memory)`, time(() => parseIdx(gz, "train-images.gz"), 3));

// -- one epoch of batches ---------------------------------------------------------------------------
const { train } = loadMnist();
const [splitKey, shuffleKey] = split(key(0));
const holdout = splitTrainValidation(train.count, splitKey!);
const f = featureCount(train);
console.log(`\nOne epoch: ${holdout.train.length} examples, batch size ${BATCH_SIZE}, ${Math.ceil(holdout.train.length / BATCH_SIZE)} batches`);

let sink = 0; // read from every batch so no work is optimised away
const epochBytes = (reuseBuffers: boolean) => (): void => {
  for (const b of batches(train, { batchSize: BATCH_SIZE, key: shuffleKey!, epoch: 1, among: holdout.train, reuseBuffers })) sink += b.x.data[b.size * f - 1]!; // x: scaled eagerly
};

let f32: Float32Array = new Float32Array(0);
const normalizeOnce = time(() => {
  f32 = normalize(train.images);
}, 3);

/** Strategy "float32 copy": rows copied out of the pre-normalized set. */
const epochFloat32 = (reuse: boolean) => (): void => {
  const order = epochOrder(shuffleKey!, 1, holdout.train);
  const xBuf = new Float32Array(BATCH_SIZE * f);
  const yBuf = new Uint8Array(BATCH_SIZE);
  for (let start = 0; start < order.length; start += BATCH_SIZE) {
    const idx = order.subarray(start, Math.min(start + BATCH_SIZE, order.length));
    const x = reuse ? xBuf.subarray(0, idx.length * f) : new Float32Array(idx.length * f);
    for (let r = 0; r < idx.length; r++) x.set(f32.subarray(idx[r]! * f, (idx[r]! + 1) * f), r * f);
    gatherLabels(train, idx, reuse ? yBuf : new Uint8Array(idx.length));
    sink += x[idx.length * f - 1]!;
  }
};

/** The bytes strategy without the iterator or tensors, to show what they cost. */
const epochBytesBare = (): void => {
  const order = epochOrder(shuffleKey!, 1, holdout.train);
  const pixels = new Uint8Array(BATCH_SIZE * f);
  const xBuf = new Float32Array(BATCH_SIZE * f);
  for (let start = 0; start < order.length; start += BATCH_SIZE) {
    const idx = order.subarray(start, Math.min(start + BATCH_SIZE, order.length));
    normalize(gatherPixels(train, idx, pixels), xBuf);
    sink += xBuf[0]!;
  }
};

row("bytes, scaled per batch, fresh buffers (batches())", time(epochBytes(false)));
const bytesReused = time(epochBytes(true));
row("bytes, scaled per batch, reused buffers (reuseBuffers: true)", bytesReused);
row("bytes, scaled per batch, bare loop (no generator, no Tensor)", time(epochBytesBare));
row("float32 copy: normalize the whole set once", normalizeOnce);
row("float32 copy: rows copied per batch, fresh buffers", time(epochFloat32(false)));
const floatReused = time(epochFloat32(true));
row("float32 copy: rows copied per batch, reused buffers", floatReused);
row("shuffle alone (epochOrder of 54,000)", time(() => epochOrder(shuffleKey!, 1, holdout.train)));

const saving = bytesReused.median - floatReused.median;
console.log(
  saving > 0
    ? `\nThe float32 copy saves ${saving.toFixed(0)} ms per epoch (reused buffers) and costs ${normalizeOnce.median.toFixed(0)} ms once: it pays back after ${Math.ceil(normalizeOnce.median / saving)} epochs.`
    : "\nThe float32 copy saves nothing per epoch here.",
);

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
console.log(`\nMemory held for the training pixels: bytes ${mb(train.images.byteLength)}, float32 copy ${mb(f32.byteLength)} (in addition)`);
console.log(`(checksum ${sink.toFixed(3)})`);


// Training in a Web Worker, so the page stays responsive: the same engine, layers, loss, optimizers
// and batches as train.ts, on a subset of MNIST fetched from the server (mnist/*-ubyte).
//
// The loop runs in slices of about 40 ms and then yields to the event loop, so "pause" and "reset"
// are handled between slices. After each slice it reports the steps taken; about four times a second
// it sends the parameters (for the weights grid and the predictions) and about once a second the
// accuracy on the held-out test subset.

import type { Tensor } from "../../autograd/index.ts";
import { allExamples, batches, type Batch } from "../../data/batches.ts";
import { DataError, parseIdxBytes, type IdxArray } from "../../data/idx-parse.ts";
import { toExamples, type Examples } from "../../data/examples.ts";
import { accuracy, type Params } from "../../nn/index.ts";
import type { FromWorker, PlainParams, StepRecord, ToWorker } from "./protocol.ts";
import { finiteParams, newRun, type Run, trainStep } from "./run.ts";

const scope = self as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
};
const post = (message: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

const SLICE_MS = 40;
const PARAMS_EVERY_MS = 250;
const EVAL_EVERY_MS = 1000;

// ---- data -----------------------------------------------------------------------------------

const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

const fetchIdx = async (dataUrl: string, name: string, contents: string, rank: number): Promise<IdxArray> => {
  const url = new URL(name, dataUrl).href;
  const response = await fetch(url);
  if (!response.ok) throw new DataError(url, `could not be fetched (HTTP ${response.status} ${response.statusText})`);
  return parseIdxBytes(new Uint8Array(await response.arrayBuffer()), url, { contents, expectType: "ubyte", expectRank: rank });
};

/** Images and labels that belong together (toExamples' checks), and MNIST's 28 x 28. */
const examplesOf = (images: IdxArray, labels: IdxArray, imagesName: string, labelsName: string): Examples => {
  const examples = toExamples(images, labels, { images: imagesName, labels: labelsName });
  if (examples.rows !== 28 || examples.cols !== 28) throw new DataError(imagesName, `images are ${examples.rows} x ${examples.cols}, the playground expects MNIST's 28 x 28`);
  return examples;
};

interface Data {
  readonly train: Examples;
  readonly test: Batch;
}

let data: Promise<Data> | null = null;

const loadData = (dataUrl: string): Promise<Data> => {
  data ??= (async () => {
    post({ type: "status", text: "fetching the MNIST subset…" });
    const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
      fetchIdx(dataUrl, FILES.trainImages, "pixels", 3),
      fetchIdx(dataUrl, FILES.trainLabels, "labels", 1),
      fetchIdx(dataUrl, FILES.testImages, "pixels", 3),
      fetchIdx(dataUrl, FILES.testLabels, "labels", 1),
    ]);
    const train = examplesOf(trainImages, trainLabels, FILES.trainImages, FILES.trainLabels);
    const test = examplesOf(testImages, testLabels, FILES.testImages, FILES.testLabels);
    post({ type: "data", trainCount: train.count, testCount: test.count });
    return { train, test: allExamples(test) };
  })();
  data.catch(() => {
    data = null; // let a later start try again
  });
  return data;
};

const plainParams = (params: Params): { params: PlainParams; transfer: ArrayBuffer[] } => {
  const out: Record<string, { weight: { data: Float32Array; shape: number[] }; bias: { data: Float32Array; shape: number[] } }> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, layer] of Object.entries(params as Readonly<Record<string, { weight: Tensor; bias: Tensor }>>)) {
    const copy = (t: Tensor) => {
      const data = Float32Array.from(t.data);
      transfer.push(data.buffer);
      return { data, shape: [...t.shape] };
    };
    out[name] = { weight: copy(layer.weight), bias: copy(layer.bias) };
  }
  return { params: out, transfer };
};

/** Sends the parameters to the page, unless they hold a non-finite value (the page keeps the last finite ones). */
const sendParams = (run: Run): void => {
  if (!finiteParams(run)) return;
  const { params, transfer } = plainParams(run.params);
  post({ type: "params", step: run.step, sizes: run.sizes, params }, transfer);
};

const evaluate = (run: Run, test: Batch): void => {
  post({ type: "eval", step: run.step, testAccuracy: accuracy(run.classify(run.params, test.pixels), test.labels) });
};

let run: Run | null = null;
let running = false;
let generation = 0; // bumped by pause and reset: a slice scheduled before belongs to an older loop


const train = async (dataUrl: string): Promise<void> => {
  const mine = ++generation;
  running = true;
  post({ type: "running", running: true });
  let loaded: Data;
  try {
    loaded = await loadData(dataUrl);
  } catch (e) {
    running = false;
    post({ type: "running", running: false });
    post({ type: "error", message: (e as Error).message });
    return;
  }
  if (mine !== generation || run === null) return;
  const current = run;
  let lastParams = performance.now();
  let lastEval = current.step === 0 ? -Infinity : performance.now();
  let lastEvalStep = current.step === 0 ? -Infinity : current.step;
  let recent = { images: 0, ms: 0 };
  post({ type: "status", text: `training on ${loaded.train.count.toLocaleString("en-US")} images` });

  const slice = (): void => {
    if (mine !== generation) return;
    const t0 = performance.now();
    // Every second, and early on at steps 10, 20, 40, 80, ... too, where the curve is steepest.
    if (t0 - lastEval >= EVAL_EVERY_MS || (current.step >= 10 && current.step >= 2 * lastEvalStep)) {
      evaluate(current, loaded.test);
      lastEval = performance.now();
      lastEvalStep = current.step;
    }
    const records: StepRecord[] = [];
    let images = 0;
    while (performance.now() - t0 < SLICE_MS) {
      current.epochBatches ??= batches(loaded.train, { batchSize: current.config.batchSize, key: current.shuffleKey, epoch: current.epoch, reuseBuffers: true });
      const next = current.epochBatches.next();
      if (next.done) {
        current.epoch++;
        current.epochBatches = null;
        continue;
      }
      const batch = next.value;
      const record = trainStep(current, batch);
      if (record === null) {
        stop();
        post({ type: "error", message: current.diverged! });
        return;
      }
      images += batch.size;
      records.push(record);
      if (current.step >= 10 && current.step >= 2 * lastEvalStep) break;
    }
    const now = performance.now();
    // Images per second over about the last two seconds of training.
    recent = recent.ms > 2000 ? { images, ms: now - t0 } : { images: recent.images + images, ms: recent.ms + now - t0 };
    post({ type: "steps", records, imagesPerSecond: (1000 * recent.images) / Math.max(1, recent.ms) });
    if (now - lastParams >= PARAMS_EVERY_MS) {
      sendParams(current);
      lastParams = now;
    }
    setTimeout(slice, 0);
  };
  setTimeout(slice, 0);
};

/** Stops the loop (a slice scheduled before belongs to an older generation and returns at once). */
const stop = (): void => {
  generation++;
  running = false;
  post({ type: "running", running: false });
};

const pause = (): void => {
  if (running && run !== null) {
    sendParams(run);
    // The accuracy where training stopped, so the curve ends there (when the data is in).
    data?.then((d) => run !== null && evaluate(run, d.test)).catch(() => undefined);
  }
  stop();
};

scope.addEventListener("message", ({ data: message }) => {
  try {
    switch (message.type) {
      case "start":
        if (running) return;
        run ??= newRun(message.config); // a run's config is fixed: the page resets to change it
        if (run.diverged !== null) {
          post({ type: "error", message: run.diverged });
          return;
        }
        void train(message.dataUrl);
        return;
      case "pause":
        pause();
        return;
      case "reset":
        pause();
        run = newRun(message.config);
        sendParams(run);
        post({ type: "status", text: "reset: new random weights" });
        return;
    }
  } catch (e) {
    post({ type: "error", message: (e as Error).message });
  }
});

// Training in a Web Worker, so the page stays responsive: the same engine, layers, loss, optimizers
// and batches as train.ts, on a subset of MNIST or Fashion-MNIST fetched from the server (mnist/*-ubyte,
// fashion/*-ubyte).
//
// The loop runs in slices of about 40 ms and then yields to the event loop, so "pause" and "reset"
// are handled between slices. After each slice it reports the steps taken; about four times a second
// it sends the parameters (for the weights grid and the predictions). At steps 10, 20, 40, 80 and
// then every 100 steps it measures the accuracy on the validation images (the last 1,000 of the
// training subset, never trained on) and the test subset. A run stops by itself after its budget of
// epochs, or early when the validation accuracy stops improving (StopRule in protocol.ts).

import type { Tensor } from "../../autograd/index.ts";
import { allExamples, batches, type Batch } from "../../data/batches.ts";
import { DataError, parseIdxBytes, type IdxArray } from "../../data/idx-parse.ts";
import { toExamples, type Examples } from "../../data/examples.ts";
import { accuracy, type Params } from "../../nn/index.ts";
import type { FromWorker, PlainParams, StepRecord, StopRule, ToWorker } from "./protocol.ts";
import { finiteParams, newRun, type Run, trainStep } from "./run.ts";

const scope = self as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
};
const post = (message: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

const SLICE_MS = 40;
const PARAMS_EVERY_MS = 250;
const EVAL_EVERY_STEPS = 100;
/** Training images held out for validation (early stopping watches their accuracy). */
const VALIDATION_COUNT = 1000;

/** Whether to measure accuracy after `step` steps: early where the curve is steep, then every 100 steps. */
const evaluateAt = (step: number): boolean => step > 0 && (step % EVAL_EVERY_STEPS === 0 || (step < EVAL_EVERY_STEPS && (step & (step - 1)) === 0 && step >= 8));

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

/** Images and labels that belong together (toExamples' checks, labels below `classes`), and MNIST's 28 x 28. */
const examplesOf = (images: IdxArray, labels: IdxArray, imagesName: string, labelsName: string, classes: number): Examples => {
  const examples = toExamples(images, labels, { images: imagesName, labels: labelsName }, classes);
  if (examples.rows !== 28 || examples.cols !== 28) throw new DataError(imagesName, `images are ${examples.rows} x ${examples.cols}, the playground expects MNIST's 28 x 28`);
  return examples;
};

interface Data {
  readonly train: Examples;
  readonly validation: Batch;
  readonly test: Batch;
}

/** Each dataset's subset, by URL, fetched once. */
const cached = new Map<string, Promise<Data>>();

const loadData = (dataUrl: string, classes: number): Promise<Data> => {
  let data = cached.get(dataUrl);
  if (data !== undefined) return data;
  data = (async () => {
    post({ type: "status", text: "fetching the training subset…" });
    const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
      fetchIdx(dataUrl, FILES.trainImages, "pixels", 3),
      fetchIdx(dataUrl, FILES.trainLabels, "labels", 1),
      fetchIdx(dataUrl, FILES.testImages, "pixels", 3),
      fetchIdx(dataUrl, FILES.testLabels, "labels", 1),
    ]);
    const all = examplesOf(trainImages, trainLabels, FILES.trainImages, FILES.trainLabels, classes);
    const test = examplesOf(testImages, testLabels, FILES.testImages, FILES.testLabels, classes);
    const held = Math.min(VALIDATION_COUNT, Math.floor(all.count / 5));
    const cut = all.count - held;
    const pixels = all.rows * all.cols;
    const part = (from: number, to: number): Examples => ({ ...all, count: to - from, images: all.images.subarray(from * pixels, to * pixels), labels: all.labels.subarray(from, to) });
    const train = part(0, cut);
    post({ type: "data", trainCount: train.count, validationCount: held, testCount: test.count });
    return { train, validation: allExamples(part(cut, all.count)), test: allExamples(test) };
  })();
  cached.set(dataUrl, data);
  data.catch(() => cached.delete(dataUrl)); // let a later start try again
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
  post({ type: "params", run: runNumber, step: run.step, sizes: run.sizes, params }, transfer);
};

/** Accuracy on the validation and test images; returns the validation accuracy. */
const evaluate = (run: Run, data: Data): number => {
  const validationAccuracy = accuracy(run.classify(run.params, data.validation.pixels), data.validation.labels);
  post({ type: "eval", run: runNumber, step: run.step, validationAccuracy, testAccuracy: accuracy(run.classify(run.params, data.test.pixels), data.test.labels) });
  return validationAccuracy;
};

let run: Run | null = null;
/** The page's number for the current run (see the reset message): every report of a run carries it. */
let runNumber = 0;
/** The data URL of the last start: what a pause evaluates on. */
let lastUrl: string | null = null;
let running = false;
let generation = 0; // bumped by pause and reset: a slice scheduled before belongs to an older loop

const train = async (dataUrl: string, rule: StopRule): Promise<void> => {
  const mine = ++generation;
  running = true;
  post({ type: "running", running: true });
  let loaded: Data;
  try {
    loaded = await loadData(dataUrl, run?.config.classes ?? 10);
  } catch (e) {
    running = false;
    post({ type: "running", running: false });
    post({ type: "error", message: (e as Error).message });
    return;
  }
  if (mine !== generation || run === null) return;
  const current = run;
  const stepsPerEpoch = Math.ceil(loaded.train.count / current.config.batchSize);
  // The budget and the patience count from this start: Continue gives another budget.
  const lastStep = rule.epochs === null ? Infinity : current.step + rule.epochs * stepsPerEpoch;
  let best = { accuracy: -1, step: current.step };
  let lastParams = performance.now();
  let recent = { images: 0, ms: 0 };
  post({ type: "status", text: `training on ${loaded.train.count.toLocaleString("en-US")} images` });

  const stopWith = (reason: string): void => {
    pause();
    post({ type: "stopped", run: runNumber, step: current.step, reason });
  };

  const slice = (): void => {
    if (mine !== generation) return;
    const t0 = performance.now();
    const records: StepRecord[] = [];
    let images = 0;
    let evaluated = false;
    while (performance.now() - t0 < SLICE_MS && current.step < lastStep && !evaluated) {
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
      evaluated = evaluateAt(current.step);
    }
    const now = performance.now();
    // Images per second over about the last two seconds of training.
    recent = recent.ms > 2000 ? { images, ms: now - t0 } : { images: recent.images + images, ms: recent.ms + now - t0 };
    post({ type: "steps", run: runNumber, records, imagesPerSecond: (1000 * recent.images) / Math.max(1, recent.ms) });
    if (evaluated) {
      const validationAccuracy = evaluate(current, loaded);
      if (validationAccuracy > best.accuracy) best = { accuracy: validationAccuracy, step: current.step };
      else if (rule.patience !== null && current.step - best.step >= rule.patience) {
        stopWith(`stopped early: no better validation accuracy in ${rule.patience} steps (best ${(100 * best.accuracy).toFixed(1)}% at step ${best.step.toLocaleString("en-US")})`);
        return;
      }
    }
    if (current.step >= lastStep) {
      stopWith(`stopped after ${rule.epochs} epoch${rule.epochs === 1 ? "" : "s"} (${(rule.epochs! * stepsPerEpoch).toLocaleString("en-US")} steps), as set`);
      return;
    }
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
    if (lastUrl !== null) cached.get(lastUrl)?.then((d) => run !== null && evaluate(run, d)).catch(() => undefined);
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
        lastUrl = message.dataUrl;
        void train(message.dataUrl, message.stop);
        return;
      case "pause":
        pause();
        return;
      case "reset":
        pause();
        runNumber = message.run;
        run = newRun(message.config);
        sendParams(run);
        post({ type: "status", text: "reset: new random weights" });
        return;
    }
  } catch (e) {
    post({ type: "error", message: (e as Error).message });
  }
});

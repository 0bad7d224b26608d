// The playground page: wiring only. Drawing -> preprocess (src/data/preprocess.ts, as predict.ts) ->
// the model (src/nn) -> probabilities and the units lit; models checked by src/data/model.ts;
// training in worker.ts. The page keeps one plain state object and redraws from it.

import { currentBackend } from "../../autograd/index.ts";
import { ModelFileError, modelFromBytes } from "../../data/model.ts";
import { preprocess, PreprocessError, type Preprocessed } from "../../data/preprocess.ts";
import { drawPad } from "./draw-pad.ts";
import { makeModel, paramsFromPlain, read, type Model, type Reading } from "./inference.ts";
import { type FromWorker, type OptimizerName, type StepRecord, type ToWorker, type TrainConfig, trainConfigProblem } from "./protocol.ts";
import { drawChart, drawDigit, drawWeights, oncePerFrame } from "./views.ts";

const DEFAULT_MODEL_URL = "models/mnist-mlp.safetensors";
/** Weight of the newest value in the smoothed curves (an exponential moving average, debiased). */
const SMOOTHING = 0.1;

const element = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page lacks #${id}`);
  return found as T;
};

const ui = {
  pad: element<HTMLCanvasElement>("pad"),
  clear: element<HTMLButtonElement>("clear"),
  digit: element<HTMLCanvasElement>("digit"),
  steps: element<HTMLOListElement>("steps"),
  prediction: element("prediction"),
  verdictDigit: element("verdict-digit"),
  verdictText: element("verdict-text"),
  bars: element<HTMLOListElement>("bars"),
  modelFile: element<HTMLInputElement>("model-file"),
  modelStatus: element("model-status"),
  modelError: element("model-error"),
  useLoaded: element("use-loaded"),
  useTrained: element("use-trained"),
  weights: element<HTMLCanvasElement>("weights"),
  weightsCaption: element("weights-caption"),
  hidden: element<HTMLSelectElement>("hidden"),
  init: element<HTMLSelectElement>("init"),
  optimizer: element<HTMLSelectElement>("optimizer"),
  lr: element<HTMLInputElement>("lr"),
  batch: element<HTMLSelectElement>("batch"),
  seed: element<HTMLInputElement>("seed"),
  start: element<HTMLButtonElement>("start"),
  reset: element<HTMLButtonElement>("reset"),
  trainStatus: element("train-status"),
  trainError: element("train-error"),
  lossChart: element<HTMLCanvasElement>("loss-chart"),
  accuracyChart: element<HTMLCanvasElement>("accuracy-chart"),
  dataNote: element("data-note"),
};
const useRadios = [...document.querySelectorAll<HTMLInputElement>('input[name="use"]')];

// ---- state --------------------------------------------------------------------------------------

type Point = readonly [number, number];

interface Curves {
  readonly loss: Point[];
  readonly lossSmooth: Point[];
  readonly accuracySmooth: Point[];
  readonly test: Point[];
  lossAverage: number;
  accuracyAverage: number;
  imagesPerSecond: number;
  epoch: number;
}

const emptyCurves = (): Curves => ({ loss: [], lossSmooth: [], accuracySmooth: [], test: [], lossAverage: 0, accuracyAverage: 0, imagesPerSecond: 0, epoch: 0 });

const state = {
  /** The model from a file (or the repository's default path). */
  loaded: null as Model | null,
  /** The model being trained in the worker, as of its last report. */
  trained: null as Model | null,
  /** The step the trained model's parameters are from. */
  trainedStep: 0,
  use: "loaded" as "loaded" | "trained",
  /** The drawing, as the network sees it (null when the pad is blank). */
  digit: null as Preprocessed | null,
  reading: null as Reading | null,
  pickedByUser: false,
  running: false,
  step: 0,
  /** What the worker last said it was doing ("fetching the MNIST subset…"). */
  workerStatus: "",
  curves: emptyCurves(),
};

const activeModel = (): Model | null => (state.use === "loaded" ? state.loaded : state.trained);

// ---- the drawing and what the network makes of it -----------------------------------------------

const pad = drawPad(ui.pad, 280, () => {
  if (pad.isBlank()) {
    state.digit = null;
  } else {
    const { rgba, width, height } = pad.pixels();
    try {
      state.digit = preprocess(rgba, width, height, { name: "drawing" });
    } catch (e) {
      if (!(e instanceof PreprocessError)) throw e;
      state.digit = null;
    }
  }
  renderSees();
  renderReading();
});
ui.clear.addEventListener("click", () => pad.clear());

const renderSees = (): void => {
  drawDigit(ui.digit, state.digit?.pixels ?? null, 196);
  ui.steps.replaceChildren(...(state.digit?.steps ?? ["(nothing drawn yet)"]).map((s) => Object.assign(document.createElement("li"), { textContent: s })));
};

const barRows = Array.from({ length: 10 }, (_, d) => {
  const li = document.createElement("li");
  const label = Object.assign(document.createElement("span"), { className: "label", textContent: String(d) });
  const track = Object.assign(document.createElement("span"), { className: "track" });
  const fill = Object.assign(document.createElement("span"), { className: "fill" });
  const pct = Object.assign(document.createElement("span"), { className: "pct", textContent: "" });
  track.append(fill);
  li.append(label, track, pct);
  ui.bars.append(li);
  return { li, fill, pct };
});

const percent = (p: number, digits = 1): string => `${(100 * p).toFixed(digits)}%`;

/** Probabilities, the verdict and the weights grid, for the active model and the current drawing. */
const renderReading = (): void => {
  const model = activeModel();
  state.reading = model && state.digit ? read(model, state.digit.pixels) : null;
  const p = state.reading?.probabilities ?? null;
  let best = -1;
  if (p) for (let d = 0; d < 10; d++) if (best < 0 || p[d]! > p[best]!) best = d;
  barRows.forEach(({ li, fill, pct }, d) => {
    const v = p ? p[d]! : 0;
    fill.style.width = `${(100 * v).toFixed(2)}%`;
    pct.textContent = p ? percent(v) : "";
    li.classList.toggle("top", d === best);
  });
  ui.verdictDigit.textContent = best >= 0 ? String(best) : "?";
  ui.verdictDigit.classList.toggle("none", best < 0);
  ui.verdictText.textContent =
    model === null ? (state.use === "loaded" ? "load a model, or train one" : "press Start to train one")
    : p === null ? "draw a digit"
    : `${percent(p[best]!)} sure · ${model === state.trained && state.trainedStep === 0 ? "an untrained network: press Start below" : model.label}`;
  ui.prediction.dataset.digit = best >= 0 ? String(best) : "";
  ui.prediction.dataset.probabilities = p ? JSON.stringify(Array.from(p, (v) => Number(v.toFixed(6)))) : "";
  ui.prediction.dataset.model = model?.label ?? "";
  renderWeights();
};

const renderWeights = (): void => {
  const model = activeModel();
  const weight = model?.params.dense1?.weight ?? null;
  const width = Math.max(240, ui.weights.parentElement!.clientWidth - 2 * 18);
  const hidden = state.reading?.hidden ?? null;
  drawWeights(ui.weights, weight, hidden, width);
  if (model === null || weight === null) {
    ui.weightsCaption.textContent = "No model yet.";
    return;
  }
  const units = weight.shape[1]!;
  let text = `dense1.weight [${weight.shape.join(", ")}] of ${model.label}: ${units} units.`;
  if (hidden) {
    const order = Array.from(hidden, (v, j) => [v, j] as const).filter(([v]) => v > 0).sort((a, b) => b[0] - a[0]);
    text += ` This drawing lights up ${order.length} of them; strongest: ${order.slice(0, 5).map(([, j]) => `#${j}`).join(", ") || "none"}.`;
  }
  ui.weightsCaption.textContent = text;
};

// ---- models -------------------------------------------------------------------------------------

const describe = (architecture: readonly number[], activation: string): string => `[${architecture.join(", ")}] ${activation === "relu" ? "ReLU" : activation}`;

const showModelError = (message: string | null): void => {
  ui.modelError.hidden = message === null;
  ui.modelError.textContent = message ?? "";
};

/** Checks the bytes with the same loader as predict.ts; on success the model is used, on failure its message is shown. */
const acceptModel = (bytes: Uint8Array, name: string, where: string): boolean => {
  try {
    const { params, config } = modelFromBytes(bytes, name);
    const arch = config.architecture;
    if (arch[0] !== 784 || arch.at(-1) !== 10) {
      throw new ModelFileError(`${name}: architecture [${arch.join(", ")}] does not read 28 × 28 digits (784 inputs) into 10 classes`);
    }
    const accuracy = config.testAccuracy === undefined ? "" : ` · test accuracy ${percent(config.testAccuracy)}`;
    state.loaded = makeModel(name, arch, config.activation, params, `${describe(arch, config.activation)}${accuracy}`);
    state.use = "loaded";
    ui.modelStatus.textContent = `${where}: ${state.loaded.note}`;
    showModelError(null);
    renderModelChoice();
    renderReading();
    return true;
  } catch (e) {
    showModelError(e instanceof Error ? e.message : String(e));
    return false;
  }
};

ui.modelFile.addEventListener("change", async () => {
  const file = ui.modelFile.files?.[0];
  if (!file) return;
  state.pickedByUser = true;
  acceptModel(new Uint8Array(await file.arrayBuffer()), file.name, `Loaded ${file.name}`);
  ui.modelFile.value = ""; // picking the same file again reloads it
});

/** The repository's default model, when the server has it (the dev server serves models/; a static host may). */
const loadDefaultModel = async (): Promise<void> => {
  let response: Response;
  try {
    response = await fetch(DEFAULT_MODEL_URL, { cache: "no-store" });
  } catch {
    response = new Response(null, { status: 404 });
  }
  if (state.pickedByUser) return;
  // Some static hosts answer every path with index.html: that is "no model here", not a corrupt model.
  if (!response.ok || (response.headers.get("content-type") ?? "").includes("text/html")) {
    ui.modelStatus.textContent = `No model at ${DEFAULT_MODEL_URL}. Load one (npm run train writes it), or train one below.`;
    if (state.loaded === null) state.use = "trained";
    renderModelChoice();
    renderReading();
    return;
  }
  acceptModel(new Uint8Array(await response.arrayBuffer()), "mnist-mlp.safetensors", `Loaded ${DEFAULT_MODEL_URL}`);
};

const renderModelChoice = (): void => {
  for (const r of useRadios) {
    r.checked = r.value === state.use;
    r.disabled = (r.value === "loaded" ? state.loaded : state.trained) === null;
  }
  ui.useLoaded.textContent = state.loaded ? `${state.loaded.label}` : "the loaded model (none yet)";
  const test = state.curves.test.at(-1);
  const progress = state.trainedStep === 0 ? "untrained" : `step ${state.trainedStep.toLocaleString("en-US")}${test ? `, test ${test[1].toFixed(1)}%` : ""}`;
  ui.useTrained.textContent = state.trained ? `trained in this page (${progress})` : "the model trained in this page";
};

for (const r of useRadios) {
  r.addEventListener("change", () => {
    if (!r.checked) return;
    state.use = r.value === "trained" ? "trained" : "loaded";
    renderReading();
  });
}

// ---- training in the worker ---------------------------------------------------------------------

// Which backend the page's predictions run on: the engine's WebAssembly SIMD kernels, or the plain
// TypeScript loops where there is no WebAssembly SIMD.
element("kernels").textContent =
  currentBackend().name === "wasm" ? "Matrix products: WebAssembly SIMD kernels." : "Matrix products: plain TypeScript loops (this browser has no WebAssembly SIMD).";

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const send = (message: ToWorker): void => worker.postMessage(message);

/** A number typed in an input: NaN when it is empty or not a number (a browser gives "" for "abc"). */
const numberIn = (input: HTMLInputElement): number => (input.value.trim() === "" ? NaN : Number(input.value));

/** The settings as entered, and what is wrong with them (null when the run can start). */
const readConfig = (): { config: TrainConfig; problem: string | null } => {
  const config: TrainConfig = {
    hidden: Number(ui.hidden.value),
    init: ui.init.value === "he" ? "he" : "small",
    optimizer: ui.optimizer.value as OptimizerName,
    learningRate: numberIn(ui.lr),
    batchSize: Number(ui.batch.value),
    seed: numberIn(ui.seed),
  };
  return { config, problem: trainConfigProblem(config) };
};

const showTrainError = (message: string | null): void => {
  ui.trainError.hidden = message === null;
  ui.trainError.textContent = message ?? "";
};

const reset = (): void => {
  const { config, problem } = readConfig();
  if (problem !== null) {
    // Nothing is replaced silently: the current run stays as it was until the settings are usable.
    showTrainError(problem);
    return;
  }
  state.curves = emptyCurves();
  state.step = 0;
  showTrainError(null);
  send({ type: "reset", config });
  renderTraining();
};

ui.start.addEventListener("click", () => {
  if (state.running) {
    send({ type: "pause" });
    return;
  }
  const { config, problem } = readConfig();
  showTrainError(problem);
  if (problem !== null) return;
  state.use = "trained";
  renderModelChoice();
  renderReading();
  send({ type: "start", config, dataUrl: new URL("mnist/", document.baseURI).href });
});
ui.reset.addEventListener("click", reset);
// A run's settings are fixed: changing one starts a new run (with a learning rate to suit the optimizer).
ui.optimizer.addEventListener("change", () => {
  ui.lr.value = ui.optimizer.value === "sgd" ? "0.1" : "0.002";
  reset();
});
for (const control of [ui.hidden, ui.init, ui.lr, ui.batch, ui.seed]) control.addEventListener("change", reset);

const addSteps = (records: readonly StepRecord[], imagesPerSecond: number): void => {
  const c = state.curves;
  for (const r of records) {
    const n = c.loss.length + 1;
    c.lossAverage = (1 - SMOOTHING) * c.lossAverage + SMOOTHING * r.loss;
    c.accuracyAverage = (1 - SMOOTHING) * c.accuracyAverage + SMOOTHING * r.accuracy;
    const debias = 1 - (1 - SMOOTHING) ** n;
    c.loss.push([r.step, r.loss]);
    c.lossSmooth.push([r.step, c.lossAverage / debias]);
    c.accuracySmooth.push([r.step, (100 * c.accuracyAverage) / debias]);
    c.epoch = r.epoch;
    state.step = r.step;
  }
  c.imagesPerSecond = imagesPerSecond;
};

const mean = (points: readonly Point[]): number => points.reduce((s, [, y]) => s + y, 0) / Math.max(1, points.length);

const renderTraining = oncePerFrame(() => {
  const c = state.curves;
  const width = Math.max(240, ui.lossChart.parentElement!.clientWidth - 2 * 18);
  // The loss axis fits the start of the run (about ln 10 = 2.3), in halves, between 0.5 and 4.
  const lossTop = c.loss.length === 0 ? 2.5 : Math.min(4, Math.max(0.5, Math.ceil(2 * Math.max(...c.loss.slice(0, 50).map(([, y]) => y))) / 2));
  const tick = lossTop > 2 ? 1 : 0.5;
  drawChart(ui.lossChart, {
    title: "Loss (cross-entropy per batch)",
    series: [
      { label: "each step", points: c.loss, color: "#cbd5e1", width: 1 },
      { label: "smoothed", points: c.lossSmooth, color: "#1d4ed8", width: 2 },
    ],
    yMin: 0,
    yMax: lossTop,
    yTicks: Array.from({ length: Math.floor(lossTop / tick) + 1 }, (_, i) => i * tick),
    yFormat: (y) => y.toFixed(1),
    xLabel: "step",
    xMin: 100,
  }, width, 200);
  drawChart(ui.accuracyChart, {
    title: "Accuracy",
    series: [
      { label: "training batches (smoothed)", points: c.accuracySmooth, color: "#1d4ed8", width: 2 },
      { label: "test subset", points: c.test, color: "#ea580c", width: 2, dots: true },
    ],
    yMin: 0,
    yMax: 100,
    yTicks: [0, 25, 50, 75, 100],
    yFormat: (y) => `${y}%`,
    xLabel: "step",
    xMin: 100,
  }, width, 200);
  // For the end-to-end test (and anyone curious): the loss at the start and now, unsmoothed.
  ui.lossChart.dataset.steps = String(c.loss.length);
  ui.lossChart.dataset.firstLoss = c.loss.length > 0 ? mean(c.loss.slice(0, 10)).toFixed(4) : "";
  ui.lossChart.dataset.recentLoss = c.loss.length > 0 ? mean(c.loss.slice(-10)).toFixed(4) : "";

  const { config } = readConfig();
  const arch = `784 → ${config.hidden} → 10, ReLU, ${config.optimizer === "adam" ? "Adam" : "SGD"} ${ui.lr.value}`;
  const parts = [arch];
  if (state.step === 0) parts.push(state.running ? `starting: ${state.workerStatus}` : "not started");
  else {
    parts.push(`step ${state.step.toLocaleString("en-US")}`, `epoch ${c.epoch + 1}`);
    if (c.lossSmooth.length > 0) parts.push(`loss ${c.lossSmooth.at(-1)![1].toFixed(3)}`);
    if (c.test.length > 0) parts.push(`test ${c.test.at(-1)![1].toFixed(1)}%`);
    if (state.running) parts.push(`${Math.round(c.imagesPerSecond).toLocaleString("en-US")} images/s`);
  }
  ui.trainStatus.textContent = parts.join(" · ");
  ui.trainStatus.dataset.step = String(state.step);
  ui.trainStatus.dataset.running = String(state.running);
  ui.start.textContent = state.running ? "Pause" : state.step > 0 ? "Continue" : "Start";
});

worker.addEventListener("message", ({ data: message }: MessageEvent<FromWorker>) => {
  switch (message.type) {
    case "status":
      state.workerStatus = message.text;
      renderTraining();
      return;
    case "data":
      ui.dataNote.textContent =
        `Data: the first ${message.trainCount.toLocaleString("en-US")} MNIST training images (test accuracy on the first ` +
        `${message.testCount.toLocaleString("en-US")} test images), served with the page: no internet needed. Runs in a Web Worker.`;
      return;
    case "steps":
      addSteps(message.records, message.imagesPerSecond);
      renderTraining();
      return;
    case "eval":
      state.curves.test.push([message.step, 100 * message.testAccuracy]);
      renderTraining();
      renderModelChoice();
      return;
    case "params":
      state.trained = makeModel("the model trained in this page", message.sizes, "relu", paramsFromPlain(message.params), "");
      state.trainedStep = message.step;
      renderModelChoice();
      if (state.use === "trained") renderReading();
      return;
    case "running":
      state.running = message.running;
      renderTraining();
      return;
    case "error":
      showTrainError(message.message);
      return;
  }
});
worker.addEventListener("error", (e) => showTrainError(`the training worker failed: ${e.message}`));

// ---- start --------------------------------------------------------------------------------------

new ResizeObserver(() => {
  renderWeights();
  renderTraining();
}).observe(document.querySelector("main")!);

renderSees();
renderModelChoice();
renderReading();
reset();
void loadDefaultModel();

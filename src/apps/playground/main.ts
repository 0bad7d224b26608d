// The playground page: wiring only. Drawing -> preprocess (src/data/preprocess.ts, as predict.ts) ->
// the model (src/nn) -> probabilities and the units lit; models checked by src/data/model.ts;
// training in worker.ts. The page keeps one plain state object and redraws from it.

import { currentBackend } from "../../autograd/index.ts";
import { isConvolutional, ModelFileError, modelFromBytes } from "../../data/model.ts";
import { classLabel, className, hasNames, MNIST_INFO } from "../../data/dataset.ts";
import { describeLayer } from "../../nn/index.ts";
import { digitDoubts, FASHION_FRAMING, preprocess, PreprocessError, type Preprocessed, type PreprocessOptions } from "../../data/preprocess.ts";
import { lineChart } from "../../viz/charts.ts";
import { toInlineSvg } from "../../viz/svg.ts";
import { drawPad } from "./draw-pad.ts";
import { makeModel, paramsFromPlain, read, type Model, type Reading } from "./inference.ts";
import { type FromWorker, type OptimizerName, type StepRecord, type StopRule, type ToWorker, type ServedDataset, type TrainConfig, trainConfigProblem } from "./protocol.ts";
import { drawDigit, drawFeatureMaps, drawWeights, oncePerFrame, unitAt } from "./views.ts";

const DEFAULT_MODEL = "mnist-mlp.safetensors";
/** The list of models the server has: the dev server lists models/, a static build ships an empty list. */
const MODELS_INDEX_URL = "models/index.json";
/** Early stopping: stop when the validation accuracy has not improved for this many steps. */
const PATIENCE_STEPS = 400;
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
  doubts: element("doubts"),
  bars: element<HTMLOListElement>("bars"),
  modelFile: element<HTMLInputElement>("model-file"),
  modelStatus: element("model-status"),
  modelError: element("model-error"),
  useLoaded: element("use-loaded"),
  useTrained: element("use-trained"),
  weights: element<HTMLCanvasElement>("weights"),
  weightsCaption: element("weights-caption"),
  weightsTitle: element("weights-title"),
  weightsHint: element("weights-hint"),
  hidden: element<HTMLSelectElement>("hidden"),
  init: element<HTMLSelectElement>("init"),
  optimizer: element<HTMLSelectElement>("optimizer"),
  dataset: element<HTMLSelectElement>("dataset"),
  drawTitle: element("draw-title"),
  seesHint: element("sees-hint"),
  lr: element<HTMLInputElement>("lr"),
  batch: element<HTMLSelectElement>("batch"),
  seed: element<HTMLInputElement>("seed"),
  budget: element<HTMLSelectElement>("budget"),
  early: element<HTMLInputElement>("early"),
  start: element<HTMLButtonElement>("start"),
  reset: element<HTMLButtonElement>("reset"),
  trainStatus: element("train-status"),
  trainError: element("train-error"),
  lossChart: element("loss-chart"),
  accuracyChart: element("accuracy-chart"),
  dataNote: element("data-note"),
};
const useRadios = [...document.querySelectorAll<HTMLInputElement>('input[name="use"]')];

// ---- state --------------------------------------------------------------------------------------

type Point = readonly [number, number];

interface Curves {
  readonly loss: Point[];
  readonly lossSmooth: Point[];
  readonly accuracySmooth: Point[];
  readonly validation: Point[];
  readonly test: Point[];
  lossAverage: number;
  accuracyAverage: number;
  imagesPerSecond: number;
  epoch: number;
}

const emptyCurves = (): Curves => ({ loss: [], lossSmooth: [], accuracySmooth: [], validation: [], test: [], lossAverage: 0, accuracyAverage: 0, imagesPerSecond: 0, epoch: 0 });

const state = {
  /** The model from a file (or the repository's default path). */
  loaded: null as Model | null,
  /** The model being trained in the worker, as of its last report. */
  trained: null as Model | null,
  /** The step the trained model's parameters are from. */
  trainedStep: 0,
  use: "loaded" as "loaded" | "trained",
  /** The drawing as drawn (null when the pad is blank), and as the network sees it (null also when no ink is found). */
  drawing: null as { rgba: Uint8Array; width: number; height: number } | null,
  digit: null as Preprocessed | null,
  /** How the drawing was framed for the network: Fashion-MNIST's way for its models, MNIST's otherwise. */
  framing: "mnist" as "mnist" | "fashion",
  /** The datasets the server offers to train on (datasets.json), and the one the run in the worker uses. */
  datasets: [{ id: "mnist", name: MNIST_INFO.name, classNames: MNIST_INFO.classNames }] as ServedDataset[],
  runDataset: { id: "mnist", name: MNIST_INFO.name, classNames: MNIST_INFO.classNames } as ServedDataset,
  reading: null as Reading | null,
  pickedByUser: false,
  running: false,
  step: 0,
  /** What the worker last said it was doing ("fetching the MNIST subset…"). */
  workerStatus: "",
  /** Why the run last stopped by itself (a budget reached, early stopping), until it starts again. */
  stopped: "",
  /** The first-layer unit under the pointer in the weights grid. */
  hoverUnit: null as number | null,
  curves: emptyCurves(),
};

const activeModel = (): Model | null => (state.use === "loaded" ? state.loaded : state.trained);

// ---- the drawing and what the network makes of it -----------------------------------------------

/** The drawing made to look like the active model's images: a Fashion-MNIST product, or an MNIST digit. */
const frame = (): void => {
  const fashion = activeModel()?.dataset === "Fashion-MNIST";
  state.framing = fashion ? "fashion" : "mnist";
  ui.drawTitle.textContent = fashion ? "Draw a piece of clothing" : "Draw a digit";
  ui.seesHint.textContent = fashion
    ? "28 × 28, white ink on black: cropped to the ink, the longer side scaled to 28 and centred, as Fashion-MNIST's products were."
    : "28 × 28, white ink on black: cropped, scaled to fit 20 × 20 and centred by mass, as MNIST was made.";
  const options: PreprocessOptions = fashion ? FASHION_FRAMING : {};
  state.digit = null;
  if (state.drawing === null) return;
  try {
    state.digit = preprocess(state.drawing.rgba, state.drawing.width, state.drawing.height, { ...options, name: "drawing" });
  } catch (e) {
    if (!(e instanceof PreprocessError)) throw e;
  }
};

const pad = drawPad(ui.pad, 280, () => {
  state.drawing = pad.isBlank() ? null : pad.pixels();
  frame();
  renderSees();
  renderReading();
});
ui.clear.addEventListener("click", () => pad.clear());

const renderSees = (): void => {
  drawDigit(ui.digit, state.digit?.pixels ?? null, 196);
  ui.steps.replaceChildren(...(state.digit?.steps ?? ["(nothing drawn yet)"]).map((s) => Object.assign(document.createElement("li"), { textContent: s })));
};

/** One bar per class of the active model, rebuilt when its classes change. */
let barRows: { li: HTMLLIElement; fill: HTMLSpanElement; pct: HTMLSpanElement }[] = [];
let barNames = "";
const ensureBars = (names: readonly string[]): void => {
  if (JSON.stringify(names) === barNames) return;
  barNames = JSON.stringify(names);
  barRows = names.map((_, d) => {
    const li = document.createElement("li");
    const label = Object.assign(document.createElement("span"), { className: "label", textContent: classLabel(names, d) });
    const track = Object.assign(document.createElement("span"), { className: "track" });
    const fill = Object.assign(document.createElement("span"), { className: "fill" });
    const pct = Object.assign(document.createElement("span"), { className: "pct", textContent: "" });
    track.append(fill);
    li.append(label, track, pct);
    return { li, fill, pct };
  });
  ui.bars.replaceChildren(...barRows.map((r) => r.li));
  ui.bars.classList.toggle("named", hasNames(names));
};

const percent = (p: number, digits = 1): string => `${(100 * p).toFixed(digits)}%`;
/** A probability with one decimal, without rounding a near-certainty up to a flat 100.0% (as predict.ts). */
const probability = (p: number): string => (p >= 0.9995 ? ">99.9%" : percent(p));

/** Probabilities, the verdict and the weights grid, for the active model and the current drawing. */
const renderReading = (): void => {
  const model = activeModel();
  if ((model?.dataset === "Fashion-MNIST" ? "fashion" : "mnist") !== state.framing) {
    frame();
    renderSees();
  }
  const names = model?.classNames ?? state.runDataset.classNames;
  ensureBars(names);
  state.reading = model && state.digit ? read(model, state.digit.pixels) : null;
  const p = state.reading?.probabilities ?? null;
  let best = -1;
  if (p) for (let d = 0; d < p.length; d++) if (best < 0 || p[d]! > p[best]!) best = d;
  barRows.forEach(({ li, fill, pct }, d) => {
    const v = p ? p[d]! : 0;
    fill.style.width = `${(100 * v).toFixed(2)}%`;
    pct.textContent = p ? probability(v) : "";
    li.classList.toggle("top", d === best);
  });
  ui.verdictDigit.textContent = best >= 0 ? className(names, best) : "?";
  ui.verdictDigit.classList.toggle("none", best < 0);
  ui.verdictDigit.classList.toggle("named", hasNames(names));
  // MNIST's amounts of ink say whether a drawing looks like a digit; other datasets get only the "no clear answer" doubt.
  const digits = !hasNames(names) && names.length === 10;
  const doubts = p && state.digit ? digitDoubts(state.digit.pixels, p).filter((d) => digits || d.startsWith("no clear answer")) : [];
  ui.verdictText.textContent =
    model === null ? (state.use === "loaded" ? "load a model, or train one" : "press Start to train one")
    : p === null ? (digits ? "draw a digit" : `draw one of: ${names.join(", ")}`)
    : `probability ${probability(p[best]!)} · ${model === state.trained && state.trainedStep === 0 ? "an untrained network: press Start below" : model.label}`;
  ui.doubts.hidden = doubts.length === 0;
  ui.doubts.textContent = doubts.length === 0 ? "" : `This does not look much like ${digits ? "a digit" : "what the model learned from"}: ${doubts.join("; ")}.`;
  ui.prediction.dataset.digit = best >= 0 ? String(best) : "";
  ui.prediction.dataset.probabilities = p ? JSON.stringify(Array.from(p, (v) => Number(v.toFixed(6)))) : "";
  ui.prediction.dataset.model = model?.label ?? "";
  renderWeights();
};

const renderWeights = (): void => {
  const model = activeModel();
  ui.weightsTitle.textContent = model?.convolutional ? "Inside: what each layer makes of the drawing" : "Inside: the first layer's weights";
  ui.weightsHint.hidden = model?.convolutional ?? false;
  if (model?.convolutional) {
    const maps = state.reading?.maps ?? [];
    drawFeatureMaps(ui.weights, maps, Math.max(240, ui.weights.parentElement!.clientWidth - 2 * 18));
    ui.weightsCaption.textContent = maps.length === 0
      ? `${model.label}: draw a digit to see its feature maps.`
      : `${model.label}: the drawing's feature maps, ${maps.map((m) => `${m.title} (${m.channels} of ${m.rows} × ${m.cols})`).join("; ")}. Each layer is scaled to its own largest value (white).`;
    return;
  }
  const weight = model?.params.dense1?.weight ?? null;
  const width = Math.max(240, ui.weights.parentElement!.clientWidth - 2 * 18);
  const hidden = state.reading?.hidden ?? null;
  // The units the drawing lights up most: named in the caption, numbered on their tiles.
  const order = hidden ? Array.from(hidden, (v, j) => [v, j] as const).filter(([v]) => v > 0).sort((a, b) => b[0] - a[0]) : [];
  const strongest = order.slice(0, 5).map(([, j]) => j);
  drawWeights(ui.weights, weight, hidden, width, { named: strongest, hover: state.hoverUnit });
  if (model === null || weight === null) {
    ui.weightsCaption.textContent = "No model yet.";
    return;
  }
  const units = weight.shape[1]!;
  let text = `dense1.weight [${weight.shape.join(", ")}] of ${model.label}: ${units} units.`;
  if (hidden) text += ` This drawing lights up ${order.length} of them; strongest: ${strongest.map((j) => `#${j}`).join(", ") || "none"}.`;
  if (state.hoverUnit !== null && state.hoverUnit < units) {
    const j = state.hoverUnit;
    text += ` Unit #${j}${hidden ? `: activation ${hidden[j]!.toFixed(2)}` : ""}.`;
  }
  ui.weightsCaption.textContent = text;
};

// Pointing at a tile names its unit (the numbers the caption lists are drawn on the tiles too).
ui.weights.addEventListener("pointermove", (e) => {
  const units = activeModel()?.convolutional ? 0 : (activeModel()?.params.dense1?.weight.shape[1] ?? 0);
  const box = ui.weights.getBoundingClientRect();
  const unit = unitAt(units, box.width, e.clientX - box.left, e.clientY - box.top);
  if (unit === state.hoverUnit) return;
  state.hoverUnit = unit;
  renderWeights();
});
ui.weights.addEventListener("pointerleave", () => {
  state.hoverUnit = null;
  renderWeights();
});

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
    if (arch[0] !== 784) throw new ModelFileError(`${name}: architecture [${arch.join(", ")}] does not read 28 × 28 pictures (784 inputs)`);
    const accuracy = config.testAccuracy === undefined ? "" : ` · test accuracy ${percent(config.testAccuracy)}`;
    const layout = isConvolutional(config) ? `CNN: ${config.layers!.filter((l) => l.type !== "reshape" && l.type !== "flatten" && l.type !== "dropout").map(describeLayer).join(", ")}` : describe(arch, config.activation);
    const trainedOn = config.dataset === undefined ? "" : ` · ${config.dataset}`;
    state.loaded = makeModel(name, config, params, `${layout}${trainedOn}${accuracy}`);
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

/**
 * The repository's default model, when the server has it: the page first reads the server's list of
 * models (models/index.json: the dev server lists models/, a static build has an empty list), so a
 * host without the model answers no request with a 404.
 */
const loadDefaultModel = async (): Promise<void> => {
  const none = (): void => {
    if (state.pickedByUser) return;
    ui.modelStatus.textContent = `No model at models/${DEFAULT_MODEL}. Load one (npm run train writes it), or train one below.`;
    if (state.loaded === null) state.use = "trained";
    renderModelChoice();
    renderReading();
  };
  let listed: unknown = null;
  try {
    const index = await fetch(MODELS_INDEX_URL, { cache: "no-store" });
    if (index.ok) listed = await index.json();
  } catch {
    listed = null;
  }
  const models = (listed as { models?: unknown } | null)?.models;
  if (!Array.isArray(models) || !models.includes(DEFAULT_MODEL)) return none();
  const response = await fetch(`models/${DEFAULT_MODEL}`, { cache: "no-store" }).catch(() => null);
  if (state.pickedByUser) return;
  if (response === null || !response.ok) return none();
  acceptModel(new Uint8Array(await response.arrayBuffer()), DEFAULT_MODEL, `Loaded models/${DEFAULT_MODEL}`);
};

const renderModelChoice = (): void => {
  for (const r of useRadios) {
    r.checked = r.value === state.use;
    r.disabled = (r.value === "loaded" ? state.loaded : state.trained) === null;
  }
  ui.useLoaded.textContent = state.loaded ? `${state.loaded.label}` : "the loaded model (none yet)";
  const validation = state.curves.validation.at(-1);
  const progress = state.trainedStep === 0 ? "untrained" : `step ${state.trainedStep.toLocaleString("en-US")}${validation ? `, validation ${validation[1].toFixed(1)}%` : ""}`;
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
  const dataset = state.datasets.find((d) => d.id === ui.dataset.value) ?? state.datasets[0]!;
  const config: TrainConfig = {
    dataset: dataset.id,
    classes: dataset.classNames.length,
    hidden: Number(ui.hidden.value),
    init: ui.init.value === "he" ? "he" : "small",
    optimizer: ui.optimizer.value as OptimizerName,
    learningRate: numberIn(ui.lr),
    batchSize: Number(ui.batch.value),
    seed: numberIn(ui.seed),
  };
  return { config, problem: trainConfigProblem(config) };
};

const readStopRule = (): StopRule => ({
  epochs: ui.budget.value === "" ? null : Number(ui.budget.value),
  patience: ui.early.checked ? PATIENCE_STEPS : null,
});

const showTrainError = (message: string | null): void => {
  ui.trainError.hidden = message === null;
  ui.trainError.textContent = message ?? "";
};

/** The number of the run this page shows; reports of older runs still on their way are dropped. */
let runNumber = 0;

const reset = (): void => {
  const { config, problem } = readConfig();
  if (problem !== null) {
    // Nothing is replaced silently: the current run stays as it was until the settings are usable.
    showTrainError(problem);
    return;
  }
  state.curves = emptyCurves();
  state.step = 0;
  state.stopped = "";
  state.runDataset = state.datasets.find((d) => d.id === config.dataset) ?? state.runDataset;
  showTrainError(null);
  runNumber++;
  send({ type: "reset", config, run: runNumber });
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
  state.stopped = "";
  renderModelChoice();
  renderReading();
  send({ type: "start", config, dataUrl: new URL(`${config.dataset}/`, document.baseURI).href, stop: readStopRule() });
});
ui.reset.addEventListener("click", reset);
// A run's settings are fixed: changing one starts a new run (with a learning rate to suit the optimizer).
ui.optimizer.addEventListener("change", () => {
  ui.lr.value = ui.optimizer.value === "sgd" ? "0.1" : "0.002";
  reset();
});
for (const control of [ui.dataset, ui.hidden, ui.init, ui.lr, ui.batch, ui.seed]) control.addEventListener("change", reset);
// The stop rule is not part of a run's numbers: a new one applies from the next Start or Continue.

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

/** The x axis of the live charts shows at least this many steps, and grows with the run. */
const MIN_STEPS_SHOWN = 100;

const renderTraining = oncePerFrame(() => {
  const c = state.curves;
  const width = Math.max(240, ui.lossChart.parentElement!.clientWidth - 2 * 18);
  // The loss axis fits the start of the run (about ln 10 = 2.3), between 0.5 and 4.
  const lossTop = c.loss.length === 0 ? 2.5 : Math.min(4, Math.max(0.5, Math.ceil(2 * Math.max(...c.loss.slice(0, 50).map(([, y]) => y))) / 2));
  const xs = (points: readonly Point[]) => points.map(([x]) => x);
  const ys = (points: readonly Point[]) => points.map(([, y]) => y);
  const percentTick = (v: number) => `${v}%`;
  ui.lossChart.innerHTML = toInlineSvg(lineChart([
    { name: "each step", color: "#cbd5e1", values: ys(c.loss), xs: xs(c.loss), strokeWidth: 1 },
    { name: "smoothed", color: "#1d4ed8", values: ys(c.lossSmooth), xs: xs(c.lossSmooth) },
  ], { width, height: 220, title: "Loss (cross-entropy per batch)", xLabel: "step", yMin: 0, yMax: lossTop, xMax: MIN_STEPS_SHOWN }), "Training loss per step");
  ui.accuracyChart.innerHTML = toInlineSvg(lineChart([
    { name: "training batches (smoothed)", color: "#1d4ed8", values: ys(c.accuracySmooth), xs: xs(c.accuracySmooth) },
    { name: "validation", color: "#16a34a", values: ys(c.validation), xs: xs(c.validation), dots: true, dashed: true },
    { name: "test subset", color: "#ea580c", values: ys(c.test), xs: xs(c.test), dots: true },
  ], { width, height: 220, title: "Accuracy", xLabel: "step", yMin: 0, yMax: 100, yFormat: percentTick, xMax: MIN_STEPS_SHOWN }), "Training, validation and test accuracy per step");
  // For the end-to-end test (and anyone curious): the loss at the start and now, unsmoothed.
  ui.lossChart.dataset.steps = String(c.loss.length);
  ui.lossChart.dataset.firstLoss = c.loss.length > 0 ? mean(c.loss.slice(0, 10)).toFixed(4) : "";
  ui.lossChart.dataset.recentLoss = c.loss.length > 0 ? mean(c.loss.slice(-10)).toFixed(4) : "";

  const { config } = readConfig();
  const arch = `${state.runDataset.name}: 784 → ${config.hidden} → ${config.classes}, ReLU, ${config.optimizer === "adam" ? "Adam" : "SGD"} ${ui.lr.value}`;
  const parts = [arch];
  if (state.step === 0) parts.push(state.running ? `starting: ${state.workerStatus}` : "not started");
  else {
    parts.push(`step ${state.step.toLocaleString("en-US")}`, `epoch ${c.epoch + 1}`);
    if (c.lossSmooth.length > 0) parts.push(`loss ${c.lossSmooth.at(-1)![1].toFixed(3)}`);
    if (c.validation.length > 0) parts.push(`validation ${c.validation.at(-1)![1].toFixed(1)}%`);
    if (state.running) parts.push(`${Math.round(c.imagesPerSecond).toLocaleString("en-US")} images/s`);
    else if (state.stopped) parts.push(state.stopped);
  }
  ui.trainStatus.textContent = parts.join(" · ");
  ui.trainStatus.dataset.stopped = state.stopped;
  ui.trainStatus.dataset.step = String(state.step);
  ui.trainStatus.dataset.running = String(state.running);
  ui.start.textContent = state.running ? "Pause" : state.step > 0 ? "Continue" : "Start";
});

worker.addEventListener("message", ({ data: message }: MessageEvent<FromWorker>) => {
  if ("run" in message && message.run !== runNumber) return; // sent by a run the page has since reset
  switch (message.type) {
    case "status":
      state.workerStatus = message.text;
      renderTraining();
      return;
    case "data":
      ui.dataNote.textContent =
        `Data: the first ${(message.trainCount + message.validationCount).toLocaleString("en-US")} ${state.runDataset.name} training images, of which the last ` +
        `${message.validationCount.toLocaleString("en-US")} are held out for validation (early stopping watches them), and the first ` +
        `${message.testCount.toLocaleString("en-US")} test images, served with the page: no internet needed. Runs in a Web Worker.`;
      return;
    case "steps":
      addSteps(message.records, message.imagesPerSecond);
      renderTraining();
      return;
    case "eval": {
      // A pause right after a scheduled measurement measures the same step again: keep one point.
      const push = (points: Point[], y: number) => (points.at(-1)?.[0] === message.step ? (points[points.length - 1] = [message.step, y]) : points.push([message.step, y]));
      push(state.curves.validation, 100 * message.validationAccuracy);
      push(state.curves.test, 100 * message.testAccuracy);
      renderTraining();
      renderModelChoice();
      return;
    }
    case "stopped":
      state.stopped = message.reason;
      renderTraining();
      return;
    case "params":
      state.trained = makeModel("the model trained in this page", {
        architecture: message.sizes, activation: "relu", normalization: "x / 255", dataset: state.runDataset.name, classNames: state.runDataset.classNames,
      }, paramsFromPlain(message.params), "");
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

/** The datasets the server offers (datasets.json): MNIST, and Fashion-MNIST once `npm run data:fashion` made it. */
const loadDatasets = async (): Promise<void> => {
  try {
    const response = await fetch("datasets.json", { cache: "no-store" });
    const listed = response.ok ? ((await response.json()) as { datasets?: ServedDataset[] }).datasets : undefined;
    if (Array.isArray(listed) && listed.length > 0) state.datasets = listed;
  } catch {
    // an older static copy without datasets.json: MNIST only
  }
  ui.dataset.replaceChildren(...state.datasets.map((d) => Object.assign(document.createElement("option"), { value: d.id, textContent: d.name })));
  ui.dataset.title = state.datasets.length > 1 ? "" : "Fashion-MNIST appears here after npm run data:fashion";
};

renderSees();
renderModelChoice();
renderReading();
void loadDatasets().then(() => {
  reset();
  void loadDefaultModel();
});

// visualize: pictures of what a trained network learned, and a few numbers about it. Wiring only:
// the maths lives in src/nn (inspect.ts, activation-max.ts, metrics.ts), the charts in src/viz, and
// every file is written atomically.
//
//   tsx src/apps/visualize.ts [--model FILE] [--out DIR] [--format png|svg]     # default: models/visualize/

import { join } from "node:path";
import { argmax, type Tensor } from "../autograd/index.ts";
import { allExamples, datasetTitled, loadMnist } from "../data/index.ts";
import { className, hasNames } from "../data/dataset.ts";
import { checkWritable, FileError } from "../data/files.ts";
import { checkFiniteLogits, DEFAULT_MODEL_PATH, loadModelFile, modelDataMismatch } from "../data/model-file.ts";
import { classNamesOf, isConvolutional, networkOf } from "../data/model.ts";
import { confusionLabels } from "./report.ts";
import { maximizeActivation } from "../nn/activation-max.ts";
import { absQuantile, confidentMistakes, fractionNearZero, lowestRecall, meanAndStd, mostConfused, topIndices, unitNorms, unitWeights } from "../nn/inspect.ts";
import { accuracy, confusionMatrix, describeLayer, softmax } from "../nn/index.ts";
import { heatmap, histogram, tileGrid } from "../viz/charts.ts";
import { writeChart } from "../viz/render.ts";
import { type Chart, stack, titled } from "../viz/svg.ts";
import { choiceFlag, DATA_FLAGS, dataChoice, grouped, intFlag, numberFlag, parseFlags, percent, runMain, usage, UsageError, type FlagSpec } from "./cli.ts";

const DEFAULT_OUT = "models/visualize";
const FORMATS = ["png", "svg"] as const;
const FLAGS: Record<string, FlagSpec> = {
  model: { type: "string", default: DEFAULT_MODEL_PATH, value: "FILE", help: "the model train.ts wrote" },
  out: { type: "string", default: DEFAULT_OUT, value: "DIR", help: "where to write the pictures (created if missing)" },
  format: { type: "string", default: "png", value: FORMATS.join("|"), help: "PNG pictures (rendered from the SVG), or the SVG itself" },
  dataset: { ...DATA_FLAGS.dataset, help: `${DATA_FLAGS.dataset.help}; default: the one the model was trained on, when it is one of these` },
  data: DATA_FLAGS.data,
  steps: { type: "string", default: "500", value: "N", help: "gradient-ascent steps for activation_max" },
  l2: { type: "string", default: "0.01", value: "LAMBDA", help: "L2 penalty in activation maximization: logit_c(x) - LAMBDA ||x||^2 - TV ..." },
  tv: { type: "string", default: "0.3", value: "LAMBDA", help: "smoothness prior in activation maximization: ... - LAMBDA TV(x), TV the squared neighbour differences" },
  help: { type: "boolean", short: "h", help: "show this help" },
};
const USAGE = usage("visualize.ts", "Draw what a model trained by train.ts learned, and print a few observations.", FLAGS);

/** Weights with |w| below this count as "near zero" (He init for 784 inputs has std 0.05). */
const NEAR_ZERO = 0.01;
const MISTAKES_SHOWN = 60;
/** The colour scale of the weight tiles ends at this quantile of |w|: a few outliers do not wash the rest out. */
const WEIGHT_QUANTILE = 0.99;

/** The Euclidean norm of each filter of a convolution's weight [K, C, kh, kw]. */
const filterNorms = (weight: Tensor): Float64Array => {
  const k = weight.shape[0]!;
  const size = weight.size / k;
  return Float64Array.from({ length: k }, (_, j) => Math.hypot(...weight.data.subarray(j * size, (j + 1) * size)));
};

/** Columns and rows for n tiles about twice as wide as tall: 128 -> 16 x 8, 32 -> 8 x 4, 10 -> 5 x 2. */
const gridShape = (n: number): { cols: number; rows: number } => {
  const cols = Math.min(n, Math.ceil(Math.sqrt(2 * n)));
  return { cols, rows: Math.ceil(n / cols) };
};

const main = async (): Promise<number> => {
  const { values: v } = parseFlags(process.argv.slice(2), FLAGS);
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const flag = (name: string) => (v[name] as string | undefined) ?? (FLAGS[name]!.default as string);
  const modelPath = flag("model");
  const outDir = flag("out");
  if (outDir.trim() === "") throw new UsageError("--out: expected a directory, got an empty string");
  const format = choiceFlag("format", flag("format"), FORMATS);
  const steps = intFlag("steps", flag("steps"), 0, 100_000);
  const l2 = numberFlag("l2", flag("l2"), 0, Infinity);
  const tv = numberFlag("tv", flag("tv"), 0, Infinity);

  const chosen = dataChoice(v);
  const model = loadModelFile(modelPath);
  // Every file error names the flag and the path; the folder is checked before any work.
  const underOut = (e: unknown): unknown => (e instanceof FileError ? new Error(`--out: ${e.message}`) : e);
  try {
    checkWritable(join(outDir, `weights_layer1.${format}`));
  } catch (e) {
    throw underOut(e);
  }
  const { architecture, activation } = model.config;
  const cnn = isConvolutional(model.config);
  const { net, layers: specs, outputs } = networkOf(model.config);
  // The data: as the flags say, else the dataset the model was trained on (when --dataset names it).
  const dataset = chosen.dataset ?? (chosen.data === undefined ? datasetTitled(model.config.dataset) : undefined);
  const mnist = loadMnist({ ...(chosen.data !== undefined && { dataDir: chosen.data }), ...(dataset !== undefined && { dataset }) });
  const mismatch = modelDataMismatch(model.config, mnist.info);
  if (mismatch !== null) throw new UsageError(`--model ${modelPath}: ${mismatch}; pass the model's data with --dataset NAME or --data DIR`);
  const names = classNamesOf(model.config);
  const nameOf = (label: number): string => className(names, label);
  const classCount = names.length;
  const test = allExamples(mnist.test);
  const logitsOf = (x: Tensor): Tensor => net.apply(model.params, x);

  // The test set through the network.
  const logits = logitsOf(test.x);
  checkFiniteLogits(modelPath, logits, (n) => `${grouped(n)} of the ${grouped(test.size)} test images`);
  const probabilities = softmax(logits);
  const predicted = argmax(probabilities, -1);
  const counts = confusionMatrix(predicted, test.labels, classCount);
  const layers = Object.entries(model.params); // conv1, ..., dense1, dense2, ... in order
  const first = layers[0]![1].weight;
  const units = first.shape[cnn ? 0 : 1]!;
  const saved: [string, string][] = [];
  const save = async (name: string, chart: Chart, what: string): Promise<void> => {
    const file = `${name}.${format}`;
    try {
      await writeChart(join(outDir, file), chart);
    } catch (e) {
      throw underOut(e);
    }
    saved.push([file, what]);
  };

  // 1. First-layer weights: unit j's 784 incoming weights as a 28x28 tile, numbered (a CNN: each
  // filter as its kh x kw tile). One colour scale for all tiles (so they compare), ending at the 99th
  // percentile of |w|, with its colour bar.
  const grid = gridShape(units);
  const norms = cnn ? filterNorms(first) : unitNorms(first);
  const limit = absQuantile(first.data, WEIGHT_QUANTILE);
  if (cnn) {
    const [k, c, kh, kw] = first.shape as [number, number, number, number];
    const tiles = Array.from({ length: k * c }, (_, t) => first.data.subarray(t * kh * kw, (t + 1) * kh * kw));
    const labels = tiles.map((_, t) => (c === 1 ? `#${t}` : `#${Math.floor(t / c)}.${t % c}`));
    await save(
      "filters_layer1",
      titled(tileGrid(tiles, { cols: Math.min(tiles.length, 8 * c), tileW: kw, tileH: kh, scale: 12, gap: 8, colors: { kind: "diverging", limit }, labels, barLabel: "weight" }),
        `First-layer filters: ${k} of ${kh} × ${kw}${c > 1 ? ` × ${c} channels` : ""}`),
      `the ${k} first-layer filters as ${kh}x${kw} tiles (blue negative, red positive; the colour bar ends at the 99th percentile of |w|, ${limit.toFixed(3)})`,
    );
    // 1b. One test digit through the network: the input and every convolution's and pooling's channels.
    const digit = test.x.data.subarray(0, 784);
    const maps = outputs(model.params, allExamples(mnist.test, Int32Array.of(0)).x);
    const panels = [titled(tileGrid([digit], { cols: 1, scale: 4, colors: { kind: "greys" } }), `Input: test digit 0 (a ${test.labels.data[0]})`)];
    maps.forEach((y, i) => {
      if (y.rank !== 4 || specs[i]!.type === "reshape") return; // the input again
      const [, channels, h, w] = y.shape as [number, number, number, number];
      const peak = Math.max(1e-12, ...y.data);
      const scaled = Float32Array.from(y.data, (v) => v / peak);
      const tiles = Array.from({ length: channels }, (_, ch) => scaled.subarray(ch * h * w, (ch + 1) * h * w));
      panels.push(titled(tileGrid(tiles, { cols: Math.min(channels, 16), tileW: w, tileH: h, scale: Math.max(2, Math.round(72 / Math.max(h, w))), gap: 4, colors: { kind: "greys" } }),
        `Layer ${i + 1}, ${describeLayer(specs[i]!)}: ${channels} maps of ${h} × ${w} (white: the layer's largest value, ${peak.toFixed(2)})`));
    });
    await save("feature_maps", titled(stack(panels, { gap: 14 }), "Feature maps of one test digit, layer by layer"), "one test digit and the channels every convolution and pooling makes of it (each layer scaled to its largest value)");
  } else await save(
    "weights_layer1",
    titled(tileGrid(unitWeights(first), { cols: grid.cols, scale: 3, gap: 6, colors: { kind: "diverging", limit }, labels: Array.from(norms, (_, j) => `#${j}`), barLabel: "weight" }),
      `First-layer weights: ${units} units, each its 784 input weights as 28 × 28`),
    `the ${units} first-layer units' weights as 28x28 tiles, ${grid.cols} x ${grid.rows} (blue negative, red positive; the colour bar ends at the 99th percentile of |w|, ${limit.toFixed(3)})`,
  );

  // 2. One histogram per layer's weights.
  const histograms = layers.map(([name, { weight }]) => {
    const { mean, std } = meanAndStd(weight.data);
    return histogram(weight.data, { bins: 80, width: 720, height: 240, title: `${name}: ${weight.shape.join(" × ")} = ${grouped(weight.size)} weights, mean ${mean.toFixed(4)}, std ${std.toFixed(4)}`, xLabel: "weight" });
  });
  await save("weight_histogram", titled(stack(histograms, { gap: 12 }), "Weight distribution per layer"), `the distribution of the weights of each of the ${layers.length} layers`);

  // 3. The confusion matrix of the test set.
  await save(
    "confusion_matrix",
    titled(heatmap(counts, confusionLabels(names)), `Confusion matrix, ${grouped(test.size)} test images of ${mnist.info.name}`),
    "test-set counts: rows true class, columns predicted (colour on a log scale)",
  );

  // 4. The misclassified test images the network was surest about.
  const mistakes = confidentMistakes(probabilities, test.labels.data);
  if (mistakes.length > 0) {
    const shown = mistakes.slice(0, MISTAKES_SHOWN);
    const digits = shown.map(({ index }) => test.x.data.subarray(index * 784, (index + 1) * 784));
    const labels = shown.map(({ index, predicted: p, confidence }) => `true ${nameOf(test.labels.data[index]!)}\npred ${nameOf(p)} ${confidence >= 0.995 ? ">99" : Math.round(100 * confidence)}%`);
    await save(
      "misclassified",
      titled(tileGrid(digits, { cols: 10, scale: 3, gap: 8, colors: { kind: "greys" }, labels }), `The ${shown.length} most confident of ${grouped(mistakes.length)} mistakes`),
      `the ${shown.length} most confident of the ${grouped(mistakes.length)} misclassified test images, with true and predicted classes`,
    );
  }

  // 5. For each class, the input in [0, 1] that maximizes its logit less the L2 and smoothness penalties, from a blank image.
  const classes = Array.from({ length: classCount }, (_, c) => c);
  const best = maximizeActivation(logitsOf, { classes, inputSize: 784, steps, l2, tv, imageShape: [28, 28] });
  const bestProbabilities = softmax(best.logits);
  const reached = classes.map((c) => ({ logit: best.logits.data[c * classCount + c]!, probability: bestProbabilities.data[c * classCount + c]! }));
  await save(
    "activation_max",
    titled(tileGrid(classes.map((c) => best.inputs.data.subarray(c * 784, (c + 1) * 784)), {
      cols: gridShape(classCount).cols, scale: 4, gap: 10, colors: { kind: "greys" }, labels: classes.map((c) => `${names[c] === String(c) ? `class ${c}` : names[c]}: logit ${reached[c]!.logit.toFixed(1)}`),
    }), "Inputs that maximize each class"),
    `for each class, the input in [0, 1] maximizing logit_c(x) - ${l2} ||x||^2 - ${tv} TV(x) (${steps} steps of projected gradient ascent from a blank image; TV: squared neighbour differences)`,
  );

  process.stdout.write(`Model ${modelPath}: ${cnn ? specs.map(describeLayer).join(", ") : `[${architecture.join(", ")}], ${activation}`}, trained on ${model.config.dataset ?? "(not recorded)"}\nData: ${mnist.source}\nSaved to ${outDir}/:\n`);
  const width = Math.max(...saved.map(([name]) => name.length));
  for (const [name, what] of saved) process.stdout.write(`  ${name.padEnd(width)}  ${what}\n`);

  const correct = counts.reduce((s, row, c) => s + row[c]!, 0);
  const confused = mostConfused(counts);
  const low = lowestRecall(counts);
  const strongest = topIndices(norms, 5);
  const probabilityRange = [Math.min(...reached.map((r) => r.probability)), Math.max(...reached.map((r) => r.probability))];
  process.stdout.write("Observations:\n");
  process.stdout.write(`  test accuracy: ${percent(accuracy(predicted, test.labels), 2)} (${grouped(correct)}/${grouped(test.size)} correct)\n`);
  process.stdout.write(`  most confused pair: ${nameOf(confused.trueClass)} -> ${nameOf(confused.predicted)}: ${confused.count} times (true ${nameOf(confused.trueClass)} predicted as ${nameOf(confused.predicted)})\n`);
  process.stdout.write(`  lowest recall: ${hasNames(names) ? nameOf(low.classIndex) : `${names.length === 10 ? "digit" : "class"} ${low.classIndex}`}, ${percent(low.recall, 1)} (${low.correct}/${low.support} recognised)\n`);
  process.stdout.write(`  first-layer weights near zero (|w| < ${NEAR_ZERO}): ${percent(fractionNearZero(first.data, NEAR_ZERO), 1)} of ${grouped(first.size)}\n`);
  process.stdout.write(`  first-layer ${cnn ? "filters" : "neurons"} with the largest weight norm: ${strongest.map((j) => `#${j} (${norms[j]!.toFixed(2)})`).join(", ")}\n`);
  process.stdout.write(`  activation maximization: target-class softmax probability ${probabilityRange[0]!.toFixed(3)} to ${probabilityRange[1]!.toFixed(3)}, logits ${Math.min(...reached.map((r) => r.logit)).toFixed(1)} to ${Math.max(...reached.map((r) => r.logit)).toFixed(1)}\n`);
  return 0;
};

runMain(main, "visualize.ts");

// predict: read pictures, make them look like MNIST (the way MNIST itself was made), and show what the
// trained network thinks, with the model's class names. Wiring only: preprocessing lives in src/data/preprocess.ts.
//
//   tsx src/apps/predict.ts --image my_drawing.png [--model FILE] [--show] [--json]
//   tsx src/apps/predict.ts --image a.png b.jpg pictures/

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { argmax, tensor } from "../autograd/index.ts";
import { MAX_PIXELS_LIMIT, readImage } from "../data/image-io.ts";
import { classLabel, hasNames } from "../data/dataset.ts";
import { checkFiniteLogits, DEFAULT_MODEL_PATH, loadModelFile } from "../data/model-file.ts";
import { classNamesOf, networkOf } from "../data/model.ts";
import { datasetTitled } from "../data/mnist.ts";
import { asciiArt, digitDoubts, FASHION_FRAMING, preprocess } from "../data/preprocess.ts";
import { softmax } from "../nn/index.ts";
import { intFlag, parseFlags, runMain, usage, UsageError, type FlagSpec } from "./cli.ts";

const FLAGS: Record<string, FlagSpec> = {
  image: { type: "string", multiple: true, value: "FILE|DIR ...", help: "pictures (PNG or JPEG) or folders of them; more may follow as plain arguments" },
  model: { type: "string", default: DEFAULT_MODEL_PATH, value: "FILE", help: "the model train.ts wrote" },
  show: { type: "boolean", help: "also print the 28x28 the network saw, as text art" },
  json: { type: "boolean", help: "print machine-readable results (one JSON document) instead" },
  "max-pixels": { type: "string", default: "25000000", value: "N", help: `refuse pictures with more pixels than this (checked before decoding; at most ${MAX_PIXELS_LIMIT})` },
  help: { type: "boolean", short: "h", help: "show this help" },
};
const USAGE = usage("predict.ts", "Predict the class (the digit, for MNIST) of pictures with a model trained by train.ts.", FLAGS);
const PICTURE = /\.(png|jpe?g)$/i;

/** Files named on the command line, with folders expanded to the pictures inside them (sorted). */
const expand = (paths: readonly string[]): string[] =>
  paths.flatMap((p) => {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      return [p]; // reported as missing when read
    }
    if (!dir) return [p];
    const inside = readdirSync(p).filter((f) => PICTURE.test(f)).sort().map((f) => join(p, f));
    if (inside.length === 0) throw new UsageError(`--image: the folder ${p} holds no .png, .jpg or .jpeg files`);
    return inside;
  });

/** One decimal, without rounding a near-certainty up to a flat 100.0%. */
const percentOf = (p: number): string => (p >= 0.9995 ? ">99.9%" : `${(100 * p).toFixed(1)}%`);

interface Result {
  readonly file: string;
  readonly prediction?: number;
  /** The predicted class's name ("7", "Sneaker"). */
  readonly className?: string;
  readonly confidence?: number;
  readonly probabilities?: number[];
  /** Why the picture may not be a readable digit (digitDoubts); empty when none. */
  readonly doubts?: string[];
  readonly steps?: string[];
  readonly pixels?: Float32Array;
  readonly error?: string;
}

const main = (): number => {
  const { values: v, positionals } = parseFlags(process.argv.slice(2), FLAGS, true);
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const files = expand([...((v.image as string[] | undefined) ?? []), ...positionals]);
  if (files.length === 0) throw new UsageError("--image: no picture given; expected --image FILE (PNG or JPEG), several files, or a folder");
  const maxPixels = intFlag("max-pixels", (v["max-pixels"] as string | undefined) ?? "25000000", 1, MAX_PIXELS_LIMIT);
  const modelPath = (v.model as string | undefined) ?? DEFAULT_MODEL_PATH;
  const model = loadModelFile(modelPath);
  const { net } = networkOf(model.config);
  const names = classNamesOf(model.config);
  // Digits are MNIST's ten numbered classes: only then do MNIST's amounts of ink say whether a picture looks like one.
  const digits = !hasNames(names) && names.length === 10;
  const label = (c: number): string => classLabel(names, c);
  // Pictures are made to look like the images the model learned from: digits as MNIST made them, products as Fashion-MNIST did.
  const framing = datasetTitled(model.config.dataset) === "fashion" ? FASHION_FRAMING : {};

  const results: Result[] = files.map((file) => {
    try {
      const image = readImage(file, { maxPixels });
      const { pixels, steps } = preprocess(image.rgba, image.width, image.height, { ...framing, name: file });
      const logits = net.apply(model.params, tensor(pixels, [1, 784]));
      checkFiniteLogits(modelPath, logits, () => `the picture ${file}`);
      const probabilities = Array.from(softmax(logits).data);
      const prediction = argmax(tensor(probabilities, [1, names.length])).data[0]!;
      const doubts = digits ? digitDoubts(pixels, probabilities) : digitDoubts(pixels, probabilities).filter((d) => d.startsWith("no clear answer"));
      return { file, prediction, className: names[prediction]!, confidence: probabilities[prediction]!, probabilities, doubts, steps: [`decoded ${image.format.toUpperCase()} ${image.width}x${image.height}`, ...steps], pixels };
    } catch (e) {
      return { file, error: (e as Error).message };
    }
  });

  if (v.json) {
    const out = results.map(({ pixels: _pixels, ...r }) => r);
    process.stdout.write(`${JSON.stringify({ model: v.model ?? DEFAULT_MODEL_PATH, dataset: model.config.dataset ?? null, classNames: names, results: out }, null, 2)}\n`);
  } else {
    for (const r of results) {
      if (r.error !== undefined) {
        process.stderr.write(`error: ${r.error}\n`);
        continue;
      }
      process.stdout.write(`== ${r.file}\n`);
      process.stdout.write("Preprocessing:\n");
      r.steps!.forEach((s, i) => process.stdout.write(`  ${i + 1}. ${s}\n`));
      if (v.show) process.stdout.write(`What the network saw (28x28):\n${asciiArt(r.pixels!)}\n`);
      process.stdout.write(`Prediction: ${label(r.prediction!)} (probability ${percentOf(r.confidence!)})\n`);
      for (const doubt of r.doubts!) process.stdout.write(`  Does not look like ${digits ? "a digit" : `a ${model.config.dataset ?? "training"} image`}: ${doubt}\n`);
      const width = Math.max(...names.map((_, c) => label(c).length));
      r.probabilities!.forEach((p, c) => {
        const bar = "#".repeat(Math.round(p * 40));
        process.stdout.write(`  ${label(c).padEnd(width)}  ${percentOf(p).padStart(6)}  ${bar.padEnd(40)}${c === r.prediction ? "  <- prediction" : ""}\n`);
      });
      process.stdout.write("\n");
    }
    if (results.length > 1) {
      const ok = results.filter((r) => r.error === undefined);
      process.stdout.write(`Summary: ${results.length} pictures, ${ok.length} predicted, ${results.length - ok.length} failed\n`);
      for (const r of results) process.stdout.write(`  ${r.file}: ${r.error === undefined ? `${label(r.prediction!)} (${percentOf(r.confidence!)})` : "failed (the error is on standard error)"}\n`);
    }
  }
  const failed = results.filter((r) => r.error !== undefined);
  if (v.json) for (const r of failed) process.stderr.write(`error: ${r.error}\n`);
  return failed.length > 0 ? 1 : 0;
};

runMain(main, "predict.ts");

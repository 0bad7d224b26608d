// The main job: train an MLP on MNIST and report like the seed. Wiring only: the maths lives in
// src/autograd and src/nn, the files in src/data.
//
//   tsx src/apps/train.ts                 # the seed's recipe: [784,128,64,10], ReLU, SGD 0.1, batch 64, 10 epochs
//   tsx src/apps/train.ts --help

import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { argmax, jit, random, valueAndGradAux, type Tensor } from "../autograd/index.ts";
import { batchCount, batches, loadMnist, scalePixels, splitTrainValidation, type Examples } from "../data/index.ts";
import { writeFileAtomic } from "../data/files.ts";
import { checkpointFromBytes, checkpointToBytes, modelToBytes, type MlpParams } from "../data/model.ts";
import {
  accuracy, adam, confusionMatrix, constant, cosineDecay, countParams, exponentialDecay, mlp, momentum, sgd,
  softmaxCrossEntropy, stepDecay, type Optimizer, type OptimizerState, type Params, type Schedule,
} from "../nn/index.ts";
import { choiceFlag, grouped, intFlag, intListFlag, numberFlag, parseFlags, percent, Progress, runMain, usage, UsageError, type FlagSpec } from "./cli.ts";
import { writeReport } from "./report.ts";

const OPTIMIZERS = ["sgd", "momentum", "adam"] as const;
const SCHEDULES = ["constant", "step", "exp", "cosine"] as const;
const ACTIVATIONS = ["relu", "tanh", "sigmoid"] as const;

const FLAGS: Record<string, FlagSpec> = {
  epochs: { type: "string", default: "10", value: "N", help: "passes over the training set" },
  "batch-size": { type: "string", default: "64", value: "N", help: "examples per gradient step" },
  lr: { type: "string", default: "0.1", value: "RATE", help: "learning rate (the initial one with a schedule)" },
  optimizer: { type: "string", default: "sgd", value: OPTIMIZERS.join("|"), help: "update rule (momentum 0.9; adam with beta1 0.9, beta2 0.999)" },
  schedule: {
    type: "string", default: "constant", value: SCHEDULES.join("|"),
    help: "learning-rate schedule: step halves it every 3 epochs, exp decays it to a tenth over the run, cosine to 0",
  },
  hidden: { type: "string", default: "128,64", value: "N,N,...", help: "hidden layer sizes, comma-separated" },
  activation: { type: "string", default: "relu", value: ACTIVATIONS.join("|"), help: "hidden-layer nonlinearity (He init for relu, Glorot for the others)" },
  dropout: { type: "string", default: "0", value: "P", help: "dropout probability after each hidden layer, in [0, 1)" },
  "weight-decay": { type: "string", default: "0", value: "L", help: "weight decay on weights (not biases)" },
  seed: { type: "string", default: "1", value: "N", help: "seed for initialization, the validation split, shuffling and dropout" },
  "val-split": { type: "string", default: "0.1", value: "F", help: "fraction of the training set held out for validation, in [0, 1)" },
  data: { type: "string", value: "DIR", help: "directory with MNIST-layout IDX files (else data/, else the installed MNIST)" },
  out: { type: "string", default: "models/mnist-mlp.safetensors", value: "FILE", help: "where to save the model (checkpoint and report go beside it)" },
  limit: { type: "string", value: "N", help: "train on the first N training examples only (quick runs)" },
  resume: { type: "string", value: "FILE", help: "continue from a checkpoint (*.ckpt.safetensors)" },
  json: { type: "boolean", help: "print one JSON object per epoch on stdout (and a final one)" },
  eager: { type: "boolean", help: "run each op as it comes instead of the compiled step (jit): slower, the same numbers" },
  quiet: { type: "boolean", help: "print only the final result" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

const USAGE = usage("train.ts", "Train a multilayer perceptron on MNIST. With no flags: the seed's recipe.", FLAGS);

/** Everything that determines a run's numbers; stored in checkpoints so a resume continues the same run. */
interface RunConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly optimizer: (typeof OPTIMIZERS)[number];
  readonly schedule: (typeof SCHEDULES)[number];
  readonly hidden: readonly number[];
  readonly activation: (typeof ACTIVATIONS)[number];
  readonly dropout: number;
  readonly weightDecay: number;
  readonly seed: number;
  readonly valSplit: number;
  readonly limit: number | null;
}

interface Options {
  readonly config: RunConfig;
  readonly data: string | undefined;
  readonly out: string;
  readonly resume: string | undefined;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly eager: boolean;
  /** Flags given explicitly on the command line (a resume keeps the checkpoint's value for the others). */
  readonly explicit: ReadonlySet<string>;
}

const parseOptions = (argv: string[]): Options | "help" => {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) return "help";
  const s = (name: string) => (v[name] as string | undefined) ?? (FLAGS[name]!.default as string);
  const config: RunConfig = {
    epochs: intFlag("epochs", s("epochs"), 1, 100_000),
    batchSize: intFlag("batch-size", s("batch-size"), 1, 1_000_000),
    lr: numberFlag("lr", s("lr"), 0, 1e6, { minOpen: true }),
    optimizer: choiceFlag("optimizer", s("optimizer"), OPTIMIZERS),
    schedule: choiceFlag("schedule", s("schedule"), SCHEDULES),
    hidden: intListFlag("hidden", s("hidden")),
    activation: choiceFlag("activation", s("activation"), ACTIVATIONS),
    dropout: numberFlag("dropout", s("dropout"), 0, 1, { maxOpen: true }),
    weightDecay: numberFlag("weight-decay", s("weight-decay"), 0, 1e6),
    seed: intFlag("seed", s("seed"), 0, 2 ** 53 - 1),
    valSplit: numberFlag("val-split", s("val-split"), 0, 1, { maxOpen: true }),
    limit: v.limit === undefined ? null : intFlag("limit", v.limit as string, 1),
  };
  const out = s("out");
  if (!out.endsWith(".safetensors")) throw new UsageError(`--out: ${JSON.stringify(out)} is not accepted: expected a file name ending in .safetensors`);
  return {
    config,
    data: v.data as string | undefined,
    out,
    resume: v.resume as string | undefined,
    json: v.json === true,
    quiet: v.quiet === true,
    eager: v.eager === true,
    explicit: new Set(Object.keys(v)),
  };
};

export const checkpointPath = (out: string): string => out.replace(/\.safetensors$/, ".ckpt.safetensors");

const makeSchedule = (c: RunConfig, stepsPerEpoch: number): Schedule => {
  const total = Math.max(1, c.epochs * stepsPerEpoch);
  switch (c.schedule) {
    case "constant": return constant(c.lr);
    case "step": return stepDecay({ initial: c.lr, factor: 0.5, stepSize: Math.max(1, 3 * stepsPerEpoch) });
    case "exp": return exponentialDecay({ initial: c.lr, decayRate: 0.1, decaySteps: total });
    case "cosine": return cosineDecay({ initial: c.lr, decaySteps: total });
  }
};

const makeOptimizer = (c: RunConfig, learningRate: Schedule): Optimizer =>
  c.optimizer === "sgd"
    ? sgd({ learningRate, weightDecay: c.weightDecay })
    : c.optimizer === "momentum"
      ? (momentum({ learningRate, momentum: 0.9, weightDecay: c.weightDecay }) as Optimizer)
      : (adam({ learningRate, weightDecay: c.weightDecay }) as Optimizer);

/** The first `limit` examples (a view, no copy). */
const firstN = (e: Examples, limit: number | null): Examples =>
  limit === null || limit >= e.count
    ? e
    : { ...e, count: limit, images: e.images.subarray(0, limit * e.rows * e.cols), labels: e.labels.subarray(0, limit) };

interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  /** Mean cross-entropy over the validation set after the epoch (null with --val-split 0). */
  validationLoss: number | null;
  validationAccuracy: number | null;
  testAccuracy: number;
  seconds: number;
  learningRate: number;
}

const OPTIMIZER_DETAIL: Record<RunConfig["optimizer"], string> = { sgd: "", momentum: " (momentum 0.9)", adam: " (beta1 0.9, beta2 0.999, epsilon 1e-8)" };
const SCHEDULE_DETAIL: Record<RunConfig["schedule"], string> = { constant: "", step: " (halved every 3 epochs)", exp: " (decayed to a tenth over the run)", cosine: " (cosine to 0 over the run)" };

/** Every setting that decides a run's numbers, for the report's table. */
const hyperparameters = (c: RunConfig, sizes: readonly number[], data: { train: number; validation: number; source: string }): [string, string][] => [
  ["architecture", `[${sizes.join(", ")}]`],
  ["activation", c.activation],
  ["initialization", c.activation === "relu" ? "He normal (weights), zeros (biases)" : "Glorot uniform (weights), zeros (biases)"],
  ["loss", "softmax cross-entropy"],
  ["optimizer", `${c.optimizer}${OPTIMIZER_DETAIL[c.optimizer]}`],
  ["learning rate", String(c.lr)],
  ["schedule", `${c.schedule}${SCHEDULE_DETAIL[c.schedule]}`],
  ["batch size", String(c.batchSize)],
  ["epochs", String(c.epochs)],
  ["dropout", String(c.dropout)],
  ["weight decay", `${c.weightDecay} (weights only)`],
  ["validation split", `${c.valSplit} (${grouped(data.validation)} held out, ${grouped(data.train)} trained on)`],
  ["training examples", c.limit === null ? "all" : `the first ${grouped(c.limit)}`],
  ["seed", String(c.seed)],
  ["data", data.source],
];

/** The per-epoch table: one line per epoch, within 80 columns. */
const EPOCH_HEADER = "Epoch        train loss  val loss  train acc  val acc  test acc    time";
const epochLine = (r: EpochRecord, epochs: number): string => {
  const counter = `${String(r.epoch).padStart(String(epochs).length)}/${epochs}`;
  const cell = (text: string, width: number) => text.padStart(width);
  return `Epoch ${counter.padStart(5)}${cell(r.trainLoss.toFixed(4), 12)}${cell(r.validationLoss === null ? "n/a" : r.validationLoss.toFixed(4), 10)}` +
    `${cell(percent(r.trainAccuracy), 11)}${cell(r.validationAccuracy === null ? "n/a" : percent(r.validationAccuracy), 9)}${cell(percent(r.testAccuracy), 10)}${cell(`${r.seconds.toFixed(1)}s`, 8)}`;
};

/** Where a run stands: enough to write a checkpoint and continue bit for bit. */
interface Position {
  epoch: number; // 0-based epoch in progress
  batch: number; // batches of that epoch already done
  lossSum: number; // running sums over the epoch so far
  correct: number;
  seen: number;
  seconds: number;
}

/**
 * Peak resident memory of this process, in MB, for the benchmark. On Linux this is VmHWM, the peak of
 * this program's own address space. NOTE: getrusage's maxRSS (process.resourceUsage) is not that: the
 * kernel folds the high-water mark of the address space replaced by exec into it, so a child spawned
 * by a large process (bench/run.ts, with MNIST loaded) reports at least its parent's RSS at the fork.
 */
const peakResidentMB = (): number => {
  try {
    const kB = /^VmHWM:\s*(\d+)\s*kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kB !== undefined) return Number(kB) / 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS / 1024; // kilobytes
};

const main = async (): Promise<number> => {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let { config } = parsed;
  const { out, json, quiet } = parsed;
  const say = (line = "") => {
    if (!quiet && !json) process.stdout.write(`${line}\n`);
  };

  // ---- resume: the checkpoint's run configuration wins, except for a longer --epochs ------------
  let resumed: ReturnType<typeof checkpointFromBytes> | null = null;
  if (parsed.resume !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(parsed.resume);
    } catch (e) {
      throw new UsageError(`--resume: cannot read ${parsed.resume}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    resumed = checkpointFromBytes(bytes, basename(parsed.resume));
    const saved = resumed.info.config as RunConfig;
    config = { ...saved, epochs: parsed.explicit.has("epochs") ? config.epochs : saved.epochs };
  }

  // ---- data ---------------------------------------------------------------------------------
  const loadStart = performance.now();
  const mnist = loadMnist({ dataDir: parsed.data });
  const trainAll = firstN(mnist.train, config.limit);
  const root = random.key(config.seed);
  const [initKey, splitKey, shuffleKey, dropoutKey] = random.split(root, 4) as [random.Key, random.Key, random.Key, random.Key];
  const holdout = splitTrainValidation(trainAll.count, splitKey, { validationFraction: config.valSplit });
  const validation = holdout.validation.length > 0 ? holdout.validation : null;
  const test = { examples: mnist.test, size: mnist.test.count };
  const stepsPerEpoch = batchCount(holdout.train.length, config.batchSize);
  if (holdout.train.length === 0) throw new UsageError(`--limit/--val-split: no training examples are left (limit ${config.limit}, validation ${config.valSplit})`);

  // ---- model and optimizer ------------------------------------------------------------------
  const sizes = [trainAll.rows * trainAll.cols, ...config.hidden, 10];
  const net = mlp(sizes, { activation: config.activation, ...(config.dropout > 0 && { dropout: config.dropout }) });
  const schedule = makeSchedule(config, stepsPerEpoch);
  const optimizer = makeOptimizer(config, schedule);
  let params = (resumed?.params ?? net.init(initKey).params) as Params;
  let state = (resumed?.optimizerState ?? optimizer.init(params)) as OptimizerState;
  const history: EpochRecord[] = (resumed?.info.history as EpochRecord[] | undefined) ?? [];
  let position: Position = (resumed?.info.position as Position | undefined) ?? { epoch: 0, batch: 0, lossSum: 0, correct: 0, seen: 0, seconds: 0 };

  // ---- the report header --------------------------------------------------------------------
  const counts = countParams(params);
  say("MNIST from first principles: a multilayer perceptron, trained by reverse-mode autograd");
  say();
  say(`Data: ${mnist.source} (loaded in ${((performance.now() - loadStart) / 1000).toFixed(2)}s)`);
  say(`  training ${grouped(holdout.train.length)} | validation ${grouped(holdout.validation.length)} (${percent(config.valSplit, 0)} held out, seeded) | test ${grouped(mnist.test.count)} | images ${trainAll.rows}x${trainAll.cols}`);
  say(`Preprocessing: flatten ${trainAll.rows}x${trainAll.cols} -> ${sizes[0]}, scale pixels to [0, 1] (x / 255), integer labels (one-hot inside the loss)`);
  say("Architecture:");
  for (let i = 1; i < sizes.length; i++) {
    const [fanIn, units] = [sizes[i - 1]!, sizes[i]!];
    const act = i < sizes.length - 1 ? `${config.activation}${config.dropout > 0 ? `, dropout ${config.dropout}` : ""}` : "softmax (in the loss)";
    say(`  dense${i}  ${String(fanIn).padStart(4)} -> ${String(units).padEnd(4)} weights ${grouped(fanIn * units).padStart(7)}  biases ${String(units).padStart(4)}  then ${act}`);
  }
  say(`  trainable parameters: ${grouped(counts.total)} (weights only: ${grouped(counts.weights)}; biases: ${grouped(counts.biases)})`);
  say(`Hyperparameters: optimizer ${config.optimizer}, learning rate ${config.lr} (${config.schedule}), batch size ${config.batchSize}, epochs ${config.epochs}, weight decay ${config.weightDecay}, seed ${config.seed}, init ${config.activation === "relu" ? "He normal" : "Glorot uniform"}`);
  if (resumed) say(`Resuming from ${parsed.resume}: epoch ${position.epoch + 1}, batch ${position.batch}/${stepsPerEpoch}`);
  say();
  say("Train loss and accuracy are running averages over the epoch's batches (each scored before its update);");
  say("validation and test are scored after the epoch.");
  say(EPOCH_HEADER);

  // ---- training -----------------------------------------------------------------------------
  // One training step as a pure function of the parameters, the optimizer state and a batch: the
  // forward pass, the gradient, the update. jit compiles it once per batch shape and runs it as a
  // fixed program; params and state are donated, so they are updated where they are.
  const lossAndLogits = (p: Params, x: Tensor, labels: Tensor, key: random.Key) => {
    const logits = net.apply(p, x, { training: true, key });
    return [softmaxCrossEntropy(logits, labels), logits] as const;
  };
  const gradients = valueAndGradAux(lossAndLogits);
  interface StepInput { params: Params; state: OptimizerState; pixels: Tensor; labels: Tensor; key: random.Key }
  const trainStep = ({ params: p, state: s, pixels, labels, key }: StepInput) => {
    const { value, grads, aux: logits } = gradients(p, scalePixels(pixels), labels, key);
    const next = optimizer.update(grads, s, p);
    return { params: next.params, state: next.state, loss: value, logits };
  };
  const step = parsed.eager ? trainStep : jit(trainStep, { donate: ["params", "state"], name: "trainStep" });
  // A chunk's predicted classes and mean cross-entropy, compiled like the step.
  const scoreChunk = (p: Params, pixels: Tensor, labels: Tensor) => {
    const logits = net.apply(p, scalePixels(pixels));
    return { predicted: argmax(logits, -1), loss: softmaxCrossEntropy(logits, labels) };
  };
  const score = parsed.eager ? scoreChunk : jit(scoreChunk, { name: "score" });
  // Predictions over a whole set, in chunks built from the bytes (no float32 copy of the set is held),
  // with the mean cross-entropy of the set (the validation loss).
  const predict = (p: Params, examples: Examples, among?: Int32Array): { predicted: Int32Array; labels: Uint8Array; loss: number } => {
    const n = among?.length ?? examples.count;
    const predicted = new Int32Array(n);
    const labels = new Uint8Array(n);
    let at = 0;
    let lossSum = 0;
    for (const chunk of batches(examples, { batchSize: 2000, ...(among && { among }), reuseBuffers: true })) {
      const scored = score(p, chunk.pixels, chunk.labels);
      lossSum += scored.loss.item() * chunk.size;
      predicted.set(scored.predicted.data, at);
      labels.set(chunk.labels.data, at);
      at += chunk.size;
    }
    return { predicted, labels, loss: lossSum / Math.max(1, n) };
  };
  const evaluate = (p: Params, examples: Examples, among?: Int32Array): { accuracy: number; loss: number } => {
    const { predicted, labels, loss } = predict(p, examples, among);
    return { accuracy: accuracy(predicted, labels), loss };
  };

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop now
    interrupted = true;
    process.stderr.write("\nCtrl-C: stopping at the end of this batch and writing a checkpoint (Ctrl-C again to abort at once)\n");
  };
  process.on("SIGINT", onSigint);
  const ckptPath = checkpointPath(out);
  const saveCheckpoint = () =>
    writeFileAtomic(ckptPath, checkpointToBytes({
      params: params as unknown as MlpParams,
      optimizerState: state as never,
      info: { config, position, history, rngKey: random.keyWords(root), note: "shuffle, dropout and init keys are derived from the seed, the epoch and the batch" },
    }));

  let lastFinite = NaN;
  let lastYield = performance.now();
  while (position.epoch < config.epochs) {
    const epoch = position.epoch;
    const progress = new Progress(`Epoch ${String(epoch + 1).padStart(String(config.epochs).length)}/${config.epochs}`, holdout.train.length, !quiet && !json);
    const epochKey = random.foldIn(dropoutKey, epoch);
    let b = 0;
    let t0 = performance.now();
    for (const batch of batches(trainAll, { batchSize: config.batchSize, key: shuffleKey, epoch, among: holdout.train, reuseBuffers: true })) {
      if (b++ < position.batch) continue; // resuming inside an epoch: these batches were done
      const out = step({ params, state, pixels: batch.pixels, labels: batch.labels, key: random.foldIn(epochKey, position.batch) });
      const loss = out.loss.item();
      if (!Number.isFinite(loss)) {
        process.off("SIGINT", onSigint);
        const kept = history.length > 0 ? `the last good checkpoint (end of epoch ${history.length}) is kept at ${ckptPath}` : "no checkpoint was written (it diverged in the first epoch)";
        process.stderr.write(
          `error: the loss became ${loss} at epoch ${epoch + 1}, batch ${position.batch + 1}/${stepsPerEpoch} (the last finite loss was ${Number.isNaN(lastFinite) ? "none" : lastFinite.toFixed(4)}).\n` +
          `Training diverged: try a lower --lr (now ${config.lr}). ${kept}.\n`,
        );
        return 3;
      }
      lastFinite = loss;
      ({ params, state } = out);
      position.batch++;
      position.lossSum += loss * batch.size;
      position.correct += accuracy(out.logits, batch.labels) * batch.size;
      position.seen += batch.size;
      const now = performance.now();
      progress.update(position.seen, (position.seen * 1000) / (position.seconds * 1000 + now - t0), position.lossSum / position.seen);
      if (now - lastYield > 25) {
        // Let the event loop deliver Ctrl-C; the training loop itself is synchronous.
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
      if (interrupted) {
        position.seconds += (performance.now() - t0) / 1000;
        saveCheckpoint();
        progress.done();
        process.stderr.write(`Stopped at epoch ${epoch + 1}, batch ${position.batch}/${stepsPerEpoch}. Checkpoint: ${ckptPath}\nResume with: tsx src/apps/train.ts --resume ${ckptPath}\n`);
        return 130;
      }
    }
    progress.done();
    position.seconds += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const validated = validation ? evaluate(params, trainAll, validation) : null;
    const record: EpochRecord = {
      epoch: epoch + 1,
      trainLoss: position.lossSum / position.seen,
      trainAccuracy: position.correct / position.seen,
      validationLoss: validated?.loss ?? null,
      validationAccuracy: validated?.accuracy ?? null,
      testAccuracy: evaluate(params, test.examples).accuracy,
      seconds: position.seconds,
      learningRate: optimizer.rateAt(Math.max(0, state.step.item() - 1)),
    };
    history.push(record);
    if (json) process.stdout.write(`${JSON.stringify({ type: "epoch", ...record })}\n`);
    say(epochLine(record, config.epochs));
    position = { epoch: epoch + 1, batch: 0, lossSum: 0, correct: 0, seen: 0, seconds: 0 };
    saveCheckpoint(); // after every epoch: the run can continue from here
  }
  process.off("SIGINT", onSigint);

  // ---- final evaluation, model file, report ------------------------------------------------
  const { predicted, labels: testLabels } = predict(params, test.examples);
  const correct = predicted.reduce((n, p, i) => n + (p === testLabels[i] ? 1 : 0), 0);
  const testAccuracy = correct / test.size;
  const matrix = confusionMatrix(predicted, testLabels, 10);
  writeFileAtomic(out, modelToBytes(params as unknown as MlpParams, {
    architecture: sizes,
    activation: config.activation,
    normalization: "x / 255 (pixels scaled to [0, 1]), images flattened row-major to 784",
    seed: config.seed,
    epochs: config.epochs,
    testAccuracy,
    ...(config.dropout > 0 && { dropout: config.dropout }),
  }));
  const reportPath = join(dirname(out), `${basename(out, ".safetensors")}-report.html`);
  writeReport(reportPath, {
    history, matrix, testAccuracy, correct, total: test.size,
    title: `MNIST MLP [${sizes.join(", ")}], ${config.optimizer} lr ${config.lr}, batch ${config.batchSize}, seed ${config.seed}`,
    hyperparameters: hyperparameters(config, sizes, { train: holdout.train.length, validation: holdout.validation.length, source: mnist.source }),
  });

  if (json) {
    const peakRssMB = peakResidentMB();
    process.stdout.write(`${JSON.stringify({ type: "final", testAccuracy, correct, total: test.size, confusionMatrix: matrix, model: out, checkpoint: ckptPath, report: reportPath, peakRssMB })}\n`);
  } else {
    const show = (line = "") => process.stdout.write(`${line}\n`);
    if (!quiet) show();
    show(`Final test accuracy: ${percent(testAccuracy, 2)} (${grouped(correct)}/${grouped(test.size)} correct)`);
    if (!quiet) {
      show();
      show("Confusion matrix (rows: true digit, columns: predicted digit)");
      show(`       ${matrix.map((_, j) => String(j).padStart(5)).join("")}`);
      matrix.forEach((row, i) => show(`  ${String(i).padStart(3)}  ${row.map((c) => String(c).padStart(5)).join("")}`));
      show();
      show(`Model saved to ${out}`);
      show(`Checkpoint: ${ckptPath}`);
      show(`Report: ${reportPath}`);
    }
  }
  return 0;
};

runMain(main, "train.ts");

// The main job: train an MLP (or a CNN, --model cnn) on MNIST and report like the seed. Wiring only: the maths lives in
// src/autograd and src/nn, the files in src/data.
//
//   tsx src/apps/train.ts                 # the seed's recipe: [784,128,64,10], ReLU, SGD 0.1, batch 64, 10 epochs
//   tsx src/apps/train.ts --help

import { readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { argmax, cast, equal, jit, random, sum, valueAndGradAux, type Tensor } from "../autograd/index.ts";
import { augmentBatch } from "../data/augment.ts";
import { batchCount, batches, loadMnist, scalePixels, splitTrainValidation, type DatasetName, type Examples } from "../data/index.ts";
import { classLabel, classList, hasNames } from "../data/dataset.ts";
import { checkWritable, FileError, formatBytes, freeBytes, lockForWriting, writeFileAtomic } from "../data/files.ts";
import { readModelBytes } from "../data/model-file.ts";
import { ModelFileError, modelToBytes, type MlpParams } from "../data/model.ts";
import { accuracy, confusionMatrix, countParams, describeLayer, layerRows, softmaxCrossEntropy, type OptimizerState, type Params } from "../nn/index.ts";
import {
  checkCheckpointFits, checkpointBytes, CheckpointError, keyNumbers, readCheckpoint, type Checkpoint, type CheckpointInfo, type DataFacts, type EpochRecord, type Position,
} from "./checkpoint.ts";
import { choiceFlag, DATA_FLAGS, dataChoice, grouped, parseFlags, percent, Progress, runMain, shellWord, usage, UsageError, type FlagSpec } from "./cli.ts";
import { writeReport } from "./report.ts";
import {
  ACTIVATIONS, checkModelFlags, checkRunSize, configFromFlags, differingFlags, layerSizes, makeNetwork, makeOptimizer, makeSchedule, MODELS, OPTIMIZERS, RECIPES, SCHEDULES,
  type RunConfig,
} from "./run-config.ts";

const DEFAULT_OUT = "models/mnist-mlp.safetensors";
/** Where a run's model goes by default: models/mnist-mlp.safetensors, models/fashion-cnn.safetensors, ... */
const defaultOut = (model: RunConfig["model"], dataset: DatasetName | undefined): string => `models/${dataset ?? "mnist"}-${model}.safetensors`;
/** The number the root key is folded with for the augmentation's draws (the other keys are split from it as before). */
const AUGMENT_STREAM = 0x61756721;
const BASE_FLAGS: Record<string, FlagSpec> = {
  model: { type: "string", default: "mlp", value: MODELS.join("|"), help: "the network: the seed's multilayer perceptron, or a convolutional network (5x5 convolutions with relu and 2x2 max pooling, then dense layers)" },
  filters: { type: "string", value: "N,N,...", help: "the CNN's convolutions' filter counts, comma-separated" },
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
  shift: { type: "string", default: "0", value: "PIXELS", help: "augmentation: move each training image by a random shift of up to this many pixels (seeded)" },
  rotate: { type: "string", default: "0", value: "DEGREES", help: "augmentation: turn each training image by a random angle of up to this many degrees (seeded)" },
  seed: { type: "string", default: "1", value: "N", help: "seed for initialization, the validation split, shuffling and dropout" },
  "val-split": { type: "string", default: "0.1", value: "F", help: "fraction of the training set held out for validation, in [0, 1)" },
  ...DATA_FLAGS,
  out: { type: "string", default: DEFAULT_OUT, value: "FILE", help: "where to save the model (checkpoint and report go beside it); models/fashion-mlp.safetensors with --dataset fashion, ...-cnn with --model cnn" },
  limit: { type: "string", value: "N", help: "train on the first N training examples only (quick runs)" },
  resume: { type: "string", value: "FILE", help: "continue from a checkpoint (*.ckpt.safetensors); only --epochs, --data, --dataset, --out, --json, --quiet, --eager may be given with it" },
  json: { type: "boolean", help: "print one JSON object per epoch on stdout (and a final one)" },
  eager: { type: "boolean", help: "run each op as it comes instead of the compiled step (jit): slower, the same numbers" },
  quiet: { type: "boolean", help: "print only the final result" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

/** The flags, each default the MLP's, the CNN recipe's beside it where it differs. */
const FLAGS: Record<string, FlagSpec> = Object.fromEntries(Object.entries(BASE_FLAGS).map(([name, f]) => {
  const cnn = RECIPES.cnn[name];
  return [name, cnn === undefined ? f : { ...f, help: `${f.help} (with --model cnn: ${cnn})` }];
}));

const USAGE = usage("train.ts", "Train a multilayer perceptron (or, with --model cnn, a convolutional network) on MNIST or any IDX dataset. With no flags: the seed's recipe.", FLAGS);

interface Options {
  readonly config: RunConfig;
  readonly data: string | undefined;
  readonly dataset: DatasetName | undefined;
  /** --out as given (undefined: the default, or the checkpoint's when resuming). */
  readonly out: string | undefined;
  readonly resume: string | undefined;
  readonly json: boolean;
  readonly quiet: boolean;
  /** Run each op as it comes instead of the compiled step. */
  readonly eager: boolean;
  /** Flags given explicitly on the command line (a resume keeps the checkpoint's value for the others). */
  readonly explicit: ReadonlySet<string>;
}

const CHECKPOINT_SUFFIX = /\.ckpt\.safetensors$/;

const checkOutName = (out: string): void => {
  if (!out.endsWith(".safetensors")) throw new UsageError(`--out: ${JSON.stringify(out)} is not accepted: expected a file name ending in .safetensors`);
  if (CHECKPOINT_SUFFIX.test(out)) {
    throw new UsageError(`--out: ${JSON.stringify(out)} is not accepted: names ending in .ckpt.safetensors are the checkpoints train.ts writes beside a model; expected a model file name such as ${DEFAULT_OUT}`);
  }
};

const parseOptions = (argv: string[]): Options | "help" => {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) return "help";
  const model = choiceFlag("model", (v.model as string | undefined) ?? "mlp", MODELS);
  const config = configFromFlags((flag) => (v[flag] as string | undefined) ?? RECIPES[model][flag] ?? (FLAGS[flag]!.default as string | undefined));
  const out = v.out as string | undefined;
  if (out !== undefined) checkOutName(out);
  return {
    config,
    ...dataChoice(v),
    out,
    resume: v.resume as string | undefined,
    json: v.json === true,
    quiet: v.quiet === true,
    eager: v.eager === true,
    explicit: new Set(Object.keys(v)),
  };
};

export const checkpointPath = (out: string): string => out.replace(/\.safetensors$/, ".ckpt.safetensors");

/** The first `limit` examples (a view, no copy). */
const firstN = (e: Examples, limit: number | null): Examples =>
  limit === null || limit >= e.count
    ? e
    : { ...e, count: limit, images: e.images.subarray(0, limit * e.rows * e.cols), labels: e.labels.subarray(0, limit) };

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

const OPTIMIZER_DETAIL: Record<RunConfig["optimizer"], string> = { sgd: "", momentum: " (momentum 0.9)", adam: " (beta1 0.9, beta2 0.999, epsilon 1e-8)" };
const SCHEDULE_DETAIL: Record<RunConfig["schedule"], string> = { constant: "", step: " (halved every 3 epochs)", exp: " (decayed to a tenth over the run)", cosine: " (cosine to 0 over the run)" };

/** Every setting that decides a run's numbers, for the report's table. */
const hyperparameters = (c: RunConfig, architecture: string, data: { train: number; validation: number; source: string; classNames: readonly string[] }): [string, string][] => [
  ["model", c.model],
  ["architecture", architecture],
  ["classes", classList(data.classNames, 400)],
  ["activation", c.activation],
  ["initialization", `${c.activation === "relu" ? "He normal" : "Glorot uniform"} (weights${c.model === "cnn" ? "; a filter's fan-in is channels x 5 x 5" : ""}), zeros (biases)`],
  ["loss", "softmax cross-entropy"],
  ["optimizer", `${c.optimizer}${OPTIMIZER_DETAIL[c.optimizer]}`],
  ["learning rate", String(c.lr)],
  ["schedule", `${c.schedule}${SCHEDULE_DETAIL[c.schedule]}`],
  ["batch size", String(c.batchSize)],
  ["epochs", String(c.epochs)],
  ["dropout", String(c.dropout)],
  ["augmentation", c.shift > 0 || c.rotate > 0 ? `random shifts up to ${c.shift} px and rotations up to ${c.rotate} degrees (seeded, training images only)` : "none"],
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

/** The network's outputs, or a tensor about to be saved, hold a non-finite value: training diverged. */
class NonFinite extends Error {
  override name = "NonFinite";
}

/** The first parameter holding a non-finite value, as "dense1.weight[12] = NaN", or null. */
const nonFiniteParameter = (params: Params): string | null => {
  for (const [layer, leaves] of Object.entries(params)) {
    for (const [name, t] of Object.entries(leaves as Record<string, Tensor>)) {
      const i = t.data.findIndex((x) => !Number.isFinite(x));
      if (i >= 0) return `${layer}.${name}[${i}] = ${t.data[i]}`;
    }
  }
  return null;
};

/** Exit codes of a stop by signal: 128 + the signal's number, as shells report them. */
const signalExit = (signal: NodeJS.Signals): number => (signal === "SIGTERM" ? 143 : 130);

/** Whether two paths name the same existing file. */
const sameFile = (a: string, b: string): boolean => {
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  return sa !== undefined && sb !== undefined ? sa.dev === sb.dev && sa.ino === sb.ino : resolve(a) === resolve(b);
};

/** A file error while writing the run's files, naming the flag that chose them. */
const underOut = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    throw e instanceof FileError ? new Error(`--out: ${e.message}`) : e;
  }
};

/** A checkpoint that cannot be used, named as the flag that gave it. */
const underResume = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    throw e instanceof ModelFileError ? new CheckpointError(`--resume: ${e.message}`) : e;
  }
};

interface Resume {
  readonly path: string;
  readonly checkpoint: Checkpoint;
}

/**
 * The run a --resume continues: the checkpoint's configuration (only --epochs may change it, and not
 * below the epochs done), its output and its data, unless --out or --data say otherwise.
 */
const resumeRun = (parsed: Options, path: string): { resume: Resume; config: RunConfig; out: string; data: string | undefined; dataset: DatasetName | undefined } => {
  const checkpoint = underResume(() => readCheckpoint(readModelBytes(path, "checkpoint"), path));
  const { config: saved, position } = checkpoint.info;
  const differing = differingFlags(parsed.config, saved, parsed.explicit);
  if (differing.length > 0) {
    throw new UsageError(
      `--resume: a resumed run keeps its checkpoint's settings, but these flags differ from them: ${differing.join(", ")}. ` +
        "Remove them (only --epochs, --data, --dataset, --out, --json, --quiet and --eager may change on resume), or start a new run without --resume",
    );
  }
  const epochs = parsed.explicit.has("epochs") ? parsed.config.epochs : saved.epochs;
  const least = position.batch > 0 ? position.epoch + 1 : Math.max(1, position.epoch);
  if (epochs < least) {
    const inside = position.batch > 0 ? ` and is inside epoch ${position.epoch + 1}` : "";
    throw new UsageError(`--epochs: ${epochs} is not accepted: the checkpoint ${path} has finished ${position.epoch} epochs${inside}; expected --epochs ${least} or more`);
  }
  let out = parsed.out;
  if (out === undefined) {
    const name = checkpoint.info.out ?? (CHECKPOINT_SUFFIX.test(basename(path)) ? basename(path).replace(CHECKPOINT_SUFFIX, ".safetensors") : null);
    if (name === null) throw new UsageError(`--resume: the checkpoint ${path} does not say where its model goes; pass --out FILE`);
    out = join(dirname(path), name);
  }
  if (sameFile(out, path)) throw new UsageError(`--out: ${out} is the checkpoint being resumed from; writing the model there would destroy it. Expected another file name`);
  // The checkpoint's data, unless --data or --dataset names other data.
  const given = parsed.data !== undefined || parsed.dataset !== undefined;
  const data = given ? parsed.data : (checkpoint.info.data?.dir ?? undefined);
  const dataset = given ? parsed.dataset : (checkpoint.info.data?.dataset ?? undefined);
  return { resume: { path, checkpoint }, config: { ...saved, epochs }, out, data, dataset };
};

const main = async (): Promise<number> => {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { json, quiet, eager } = parsed;
  const say = (line = "") => {
    if (!quiet && !json) process.stdout.write(`${line}\n`);
  };

  // ---- resume: the checkpoint's run configuration wins, except for a longer --epochs ------------
  const { resume, config, out, data: dataDir, dataset } =
    parsed.resume === undefined ? { resume: null, config: parsed.config, out: parsed.out ?? defaultOut(parsed.config.model, parsed.dataset), data: parsed.data, dataset: parsed.dataset } : resumeRun(parsed, parsed.resume);
  const resumed = resume?.checkpoint ?? null;
  if (resumed && config.epochs !== resumed.info.config.epochs && (config.schedule === "exp" || config.schedule === "cosine")) {
    process.stderr.write(`note: the ${config.schedule} schedule spans the run's epochs: with --epochs ${config.epochs} instead of ${resumed.info.config.epochs}, the learning rates from here on differ from the original run's\n`);
  }

  // ---- the output: writable, and this run's alone, before any work ----------------------------
  const ckptFile = checkpointPath(out);
  const reportPath = join(dirname(out), `${basename(out, ".safetensors")}-report.html`);
  underOut(() => {
    for (const path of [out, ckptFile, reportPath]) checkWritable(path);
    lockForWriting(out, "this model");
  });
  // Until the training loop takes Ctrl-C over: stop at once (exiting releases the lock).
  const early = (signal: NodeJS.Signals) => process.exit(signalExit(signal));
  process.on("SIGINT", early).on("SIGTERM", early);

  // ---- data ---------------------------------------------------------------------------------
  const loadStart = performance.now();
  const mnist = loadMnist({ ...(dataDir !== undefined && { dataDir }), ...(dataset !== undefined && { dataset }) });
  const classNames = mnist.info.classNames;
  const trainAll = firstN(mnist.train, config.limit);
  const root = random.key(config.seed);
  const [initKey, splitKey, shuffleKey, dropoutKey] = random.split(root, 4) as [random.Key, random.Key, random.Key, random.Key];
  const augmentKey = random.foldIn(root, AUGMENT_STREAM);
  const holdout = splitTrainValidation(trainAll.count, splitKey, { validationFraction: config.valSplit });
  const validation = holdout.validation.length > 0 ? holdout.validation : null;
  const test = { examples: mnist.test, size: mnist.test.count };
  const stepsPerEpoch = batchCount(holdout.train.length, config.batchSize);
  if (holdout.train.length === 0) throw new UsageError(`--limit/--val-split: no training examples are left (limit ${config.limit}, validation ${config.valSplit})`);
  const dataFacts: DataFacts = {
    dir: dataDir === undefined ? null : resolve(dataDir), dataset: dataset ?? null, source: mnist.source, count: trainAll.count, rows: trainAll.rows, cols: trainAll.cols,
    name: mnist.info.name, classNames,
  };

  // ---- model and optimizer: their size checked, a checkpoint checked against them -------------
  const images = { rows: trainAll.rows, cols: trainAll.cols, classes: classNames.length };
  checkModelFlags(config, images);
  const sizes = layerSizes(config, trainAll.rows * trainAll.cols, classNames.length);
  const size = checkRunSize(config, images, holdout.train.length);
  const existing = [out, ckptFile].reduce((n, f) => n + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
  const need = size.modelBytes + 2 * size.checkpointBytes + 2 ** 20 - existing; // a checkpoint is written beside the last one
  const free = freeBytes(dirname(out));
  if (free !== null && free < need) {
    throw new Error(`--out: ${dirname(out)} has ${formatBytes(free)} free; this run's model and checkpoints need about ${formatBytes(need)}. Free some space or choose another --out`);
  }
  const { net, layers } = makeNetwork(config, images);
  const schedule = makeSchedule(config, stepsPerEpoch);
  const optimizer = makeOptimizer(config, schedule);
  const fresh = net.init(initKey, [sizes[0]!]).params;
  if (resume) {
    underResume(() => checkCheckpointFits(resume.checkpoint, resume.path, { data: dataFacts, trainExamples: holdout.train.length, stepsPerEpoch, params: fresh, optimizer }));
  }
  let params = (resumed?.params ?? fresh) as Params;
  let state = (resumed?.optimizerState ?? optimizer.init(params)) as OptimizerState;
  const history: EpochRecord[] = resumed ? [...resumed.info.history] : [];
  let position: Position = resumed ? { ...resumed.info.position } : { epoch: 0, batch: 0, lossSum: 0, correct: 0, seen: 0, seconds: 0 };
  const infoNow = (): CheckpointInfo => ({
    config, position, history, rngKey: keyNumbers(root), out: basename(out), data: dataFacts,
    note: "shuffle, dropout and init keys are derived from the seed, the epoch and the batch",
  });
  const resumeCommand = `tsx src/apps/train.ts --resume ${shellWord(ckptFile)}`;
  /** Training diverged: say where, what was kept, what to try; exit code 3. */
  const diverged = (what: string): number => {
    const kept = history.length > 0 ? `the last good checkpoint (end of epoch ${history.length}) is kept at ${ckptFile}` : "no checkpoint was written (it diverged in the first epoch)";
    process.stderr.write(`error: ${what}.\nTraining diverged: try a lower --lr (now ${config.lr}). ${kept}.\n`);
    return 3;
  };
  /** Writes a checkpoint of the run as it stands; non-finite parameters are never saved. */
  const writeCheckpoint = (): void => {
    const bad = nonFiniteParameter(params);
    if (bad !== null) throw new NonFinite(`a parameter became non-finite (${bad})`);
    underOut(() => writeFileAtomic(ckptFile, checkpointBytes({ params, optimizerState: state, info: infoNow() })));
  };

  // ---- the report header --------------------------------------------------------------------
  const counts = countParams(params);
  const kind = config.model === "mlp" ? "a multilayer perceptron" : "a convolutional network";
  say(`MNIST from first principles: ${kind}, trained by reverse-mode autograd`);
  say();
  say(`Data: ${mnist.source.startsWith(mnist.info.name) ? "" : `${mnist.info.name}, `}${mnist.source} (loaded in ${((performance.now() - loadStart) / 1000).toFixed(2)}s)`);
  say(`  classes ${classList(classNames)}`);
  say(`  training ${grouped(holdout.train.length)} | validation ${grouped(holdout.validation.length)} (${percent(config.valSplit, 0)} held out, seeded) | test ${grouped(mnist.test.count)} | images ${trainAll.rows}x${trainAll.cols}`);
  const shaping = config.model === "mlp" ? `flatten ${trainAll.rows}x${trainAll.cols} -> ${sizes[0]}` : `rows of ${sizes[0]} pixels as images [1, ${trainAll.rows}, ${trainAll.cols}]`;
  say(`Preprocessing: ${shaping}, scale pixels to [0, 1] (x / 255), integer labels (one-hot inside the loss)`);
  say("Architecture:");
  if (config.model === "cnn") {
    for (const row of layerRows(layers, [sizes[0]!])) {
      say((`  ${describeLayer(row.spec).padEnd(24)} -> [${row.outputShape.join(", ")}]`.padEnd(50) + (row.parameters > 0 ? `parameters ${grouped(row.parameters).padStart(7)}` : "")).trimEnd());
    }
    say("  then softmax (in the loss)");
  }
  for (let i = 1; i < sizes.length && config.model === "mlp"; i++) {
    const [fanIn, units] = [sizes[i - 1]!, sizes[i]!];
    const act = i < sizes.length - 1 ? `${config.activation}${config.dropout > 0 ? `, dropout ${config.dropout}` : ""}` : "softmax (in the loss)";
    say(`  dense${i}  ${String(fanIn).padStart(4)} -> ${String(units).padEnd(4)} weights ${grouped(fanIn * units).padStart(7)}  biases ${String(units).padStart(4)}  then ${act}`);
  }
  say(`  trainable parameters: ${grouped(counts.total)} (weights only: ${grouped(counts.weights)}; biases: ${grouped(counts.biases)})`);
  say(`Hyperparameters: optimizer ${config.optimizer}, learning rate ${config.lr} (${config.schedule}), batch size ${config.batchSize}, epochs ${config.epochs}, weight decay ${config.weightDecay}${config.shift > 0 || config.rotate > 0 ? `, augmentation: shifts up to ${config.shift} px, rotations up to ${config.rotate} degrees` : ""}, seed ${config.seed}, init ${config.activation === "relu" ? "He normal" : "Glorot uniform"}${config.model === "cnn" ? " (a filter's fan-in: channels x 5 x 5)" : ""}`);
  if (resume) {
    say(
      position.epoch < config.epochs
        ? `Resuming from ${resume.path}: epoch ${position.epoch + 1}, batch ${position.batch}/${stepsPerEpoch}; the model goes to ${out}`
        : `Resuming from ${resume.path}: the run is complete (${position.epoch} of ${config.epochs} epochs); writing its model to ${out} and its report`,
    );
  }
  say();
  say("Train loss and accuracy are running averages over the epoch's batches (each scored before its update);");
  say("validation and test are scored after the epoch.");
  say(EPOCH_HEADER);

  // ---- training -----------------------------------------------------------------------------
  process.off("SIGINT", early).off("SIGTERM", early);
  let stopSignal: NodeJS.Signals = "SIGINT";
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
    // How many of the batch the network got right before the update (for the running accuracy).
    const correct = sum(equal(argmax(logits, -1), cast(labels, "int32")));
    return { params: next.params, state: next.state, loss: value, correct };
  };
  // The batch's pixels and labels are donated too: used once, their memory holds the next batch's.
  const step = eager ? trainStep : jit(trainStep, { donate: ["params", "state", "pixels", "labels"], name: "trainStep" });
  // A chunk's logits, predicted classes and mean cross-entropy, compiled like the step.
  const scoreChunk = (p: Params, pixels: Tensor, labels: Tensor) => {
    const logits = net.apply(p, scalePixels(pixels));
    return { logits, predicted: argmax(logits, -1), loss: softmaxCrossEntropy(logits, labels) };
  };
  const score = eager ? scoreChunk : jit(scoreChunk, { name: "score" });
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
      const logits = scored.logits.data;
      if (!logits.every(Number.isFinite)) throw new NonFinite(`the network's outputs became non-finite (logits such as ${logits.find((x) => !Number.isFinite(x))})`);
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
  const onSigint = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(signalExit(signal)); // a second Ctrl-C: stop now
    interrupted = true;
    stopSignal = signal;
    process.stderr.write(`\n${signal === "SIGINT" ? "Ctrl-C" : signal}: stopping at the end of this batch and writing a checkpoint (Ctrl-C again to abort at once)\n`);
  };
  process.on("SIGINT", onSigint).on("SIGTERM", onSigint);
  const ckptPath = checkpointPath(out);
  const saveCheckpoint = writeCheckpoint;

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
      const pixels = config.shift > 0 || config.rotate > 0
        ? augmentBatch(batch.pixels, trainAll.rows, trainAll.cols, random.foldIn(random.foldIn(augmentKey, epoch), position.batch), config)
        : batch.pixels;
      const out = step({ params, state, pixels, labels: batch.labels, key: random.foldIn(epochKey, position.batch) });
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
      position.correct += out.correct.item();
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
        progress.done();
        try {
          saveCheckpoint();
        } catch (e) {
          if (e instanceof NonFinite) return diverged(`${e.message} at epoch ${epoch + 1}, batch ${position.batch}/${stepsPerEpoch}`);
          throw e;
        }
        process.stderr.write(`Stopped at epoch ${epoch + 1}, batch ${position.batch}/${stepsPerEpoch}. Checkpoint: ${ckptPath}\nResume with: ${resumeCommand}\n`);
        return signalExit(stopSignal);
      }
    }
    progress.done();
    position.seconds += (performance.now() - t0) / 1000;
    t0 = performance.now();
    let record: EpochRecord;
    try {
      // The outputs after the epoch's last update are checked here (the loop checks each loss before its update).
      const validated = validation ? evaluate(params, trainAll, validation) : null;
      record = {
        epoch: epoch + 1,
        trainLoss: position.lossSum / position.seen,
        trainAccuracy: position.correct / position.seen,
        validationLoss: validated?.loss ?? null,
        validationAccuracy: validated?.accuracy ?? null,
        testAccuracy: evaluate(params, test.examples).accuracy,
        seconds: position.seconds,
        learningRate: optimizer.rateAt(Math.max(0, state.step.item() - 1)),
      };
    } catch (e) {
      if (e instanceof NonFinite) {
        return diverged(`${e.message} after the last update of epoch ${epoch + 1} (batch ${position.batch}/${stepsPerEpoch}; the last finite loss was ${Number.isNaN(lastFinite) ? "none" : lastFinite.toFixed(4)})`);
      }
      throw e;
    }
    history.push(record);
    if (json) process.stdout.write(`${JSON.stringify({ type: "epoch", ...record })}\n`);
    say(epochLine(record, config.epochs));
    position = { epoch: epoch + 1, batch: 0, lossSum: 0, correct: 0, seen: 0, seconds: 0 };
    saveCheckpoint(); // after every epoch: the run can continue from here
  }
  process.off("SIGINT", onSigint).off("SIGTERM", onSigint).on("SIGINT", early).on("SIGTERM", early);

  // ---- final evaluation, model file, report ------------------------------------------------
  let final: ReturnType<typeof predict>;
  try {
    final = predict(params, test.examples);
  } catch (e) {
    if (e instanceof NonFinite) return diverged(`${e.message} in the final evaluation`);
    throw e;
  }
  const { predicted, labels: testLabels } = final;
  const correct = predicted.reduce((n, p, i) => n + (p === testLabels[i] ? 1 : 0), 0);
  const testAccuracy = correct / test.size;
  const matrix = confusionMatrix(predicted, testLabels, classNames.length);
  const cnn = config.model === "cnn";
  underOut(() => writeFileAtomic(out, modelToBytes(params as unknown as MlpParams, {
    architecture: cnn ? [sizes[0]!, 10] : sizes,
    activation: config.activation,
    ...(cnn && { layers, inputShape: [sizes[0]!] }),
    normalization: `x / 255 (pixels scaled to [0, 1]), images flattened row-major to ${sizes[0]}`,
    dataset: mnist.info.name,
    classNames,
    seed: config.seed,
    epochs: config.epochs,
    testAccuracy,
    ...(config.dropout > 0 && { dropout: config.dropout }),
  })));
  underOut(() => writeReport(reportPath, {
    history, matrix, testAccuracy, correct, total: test.size, classNames,
    title: `${mnist.info.name} ${cnn ? `CNN (filters ${config.filters.join(", ")}, dense ${config.hidden.join(", ")})` : `MLP [${sizes.join(", ")}]`}, ${config.optimizer} lr ${config.lr}, batch ${config.batchSize}, seed ${config.seed}`,
    hyperparameters: hyperparameters(config, cnn ? layers.map(describeLayer).join(", ") : `[${sizes.join(", ")}]`, { train: holdout.train.length, validation: holdout.validation.length, source: mnist.source, classNames }),
  }));

  if (json) {
    const peakRssMB = peakResidentMB();
    process.stdout.write(`${JSON.stringify({ type: "final", testAccuracy, correct, total: test.size, dataset: mnist.info.name, classNames, confusionMatrix: matrix, model: out, checkpoint: ckptPath, report: reportPath, peakRssMB })}\n`);
  } else {
    const show = (line = "") => process.stdout.write(`${line}\n`);
    if (!quiet) show();
    show(`Final test accuracy: ${percent(testAccuracy, 2)} (${grouped(correct)}/${grouped(test.size)} correct)`);
    if (!quiet) {
      show();
      show(`Confusion matrix (rows: true class, columns: predicted class${hasNames(classNames) ? ", numbered as the rows" : ""})`);
      const rowLabels = classNames.map((_, i) => classLabel(classNames, i));
      const labelWidth = Math.max(3, ...rowLabels.map((l) => l.length));
      const cell = Math.max(String(classNames.length - 1).length, ...matrix.flat().map((c) => String(c).length)) + 1;
      show(`  ${"".padEnd(labelWidth)}  ${matrix.map((_, j) => String(j).padStart(cell)).join("")}`);
      matrix.forEach((row, i) => show(`  ${(hasNames(classNames) ? rowLabels[i]! : rowLabels[i]!.padStart(labelWidth)).padEnd(labelWidth)}  ${row.map((c) => String(c).padStart(cell)).join("")}`));
      show();
      show(`Model saved to ${out}`);
      show(`Checkpoint: ${ckptPath}`);
      show(`Report: ${reportPath}`);
    }
  }
  return 0;
};

runMain(main, "train.ts");

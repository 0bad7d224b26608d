// A training run's checkpoint: the parameters, the optimizer state and, as JSON, where the run stands
// (config, position, history, random key, output, data). Nothing in it is trusted: reading checks every
// field against the rules the flags obey and against the tensors, and once the data and the network
// are built, the data and the trees against what this run builds (optimizer.init(params), not a fixed
// layout), so an edited or damaged checkpoint is refused naming the file and the field instead of
// training a model nothing can load.

import { basename } from "node:path";
import { random, Tensor, type Tree } from "../autograd/index.ts";
import { classNamesProblem, numberedClasses } from "../data/dataset.ts";
import { DATASETS, type DatasetName } from "../data/mnist.ts";
import { checkpointFromBytes, checkpointToBytes, ModelFileError, type MlpParams } from "../data/model.ts";
import { treeMismatch, type Optimizer, type OptimizerState, type Params } from "../nn/index.ts";
import { checkModelFlags, checkRunSize, configFromJson, type RunConfig } from "./run-config.ts";

/** A checkpoint that cannot be used: the message names the file and the field. */
export class CheckpointError extends ModelFileError {
  override name = "CheckpointError";
}

/** Where a run stands: enough to write a checkpoint and continue bit for bit. */
export interface Position {
  epoch: number; // 0-based epoch in progress (= the number of finished epochs)
  batch: number; // batches of that epoch already done
  lossSum: number; // running sums over the epoch so far
  correct: number;
  seen: number;
  seconds: number;
}

export interface EpochRecord {
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

/** The data a run trained on, to tell it from other data on resume. */
export interface DataFacts {
  /** --data as an absolute path, or null for the default search or --dataset. */
  readonly dir: string | null;
  /** --dataset, or null. */
  readonly dataset: DatasetName | null;
  /** The dataset's name and class names (checkpoints written before they were recorded: MNIST's). */
  readonly name: string;
  readonly classNames: readonly string[];
  /** Where the files came from, for messages. */
  readonly source: string;
  /** Training examples after --limit (before the validation split). */
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
}

export interface CheckpointInfo {
  readonly config: RunConfig;
  readonly position: Position;
  readonly history: EpochRecord[];
  /** The run's root key (derived from the seed), as numbers. */
  readonly rngKey: number[];
  /** The model file's name, in the checkpoint's folder (the checkpoint is written beside it). */
  readonly out: string | null;
  readonly data: DataFacts | null;
  readonly note?: string;
}

export interface Checkpoint {
  readonly params: Params;
  readonly optimizerState: OptimizerState;
  readonly info: CheckpointInfo;
}

export const keyNumbers = (key: random.Key): number[] => Array.from(key.data);

export const checkpointBytes = (c: Checkpoint): Uint8Array =>
  checkpointToBytes({ params: c.params as unknown as MlpParams, optimizerState: c.optimizerState as unknown as Tree, info: c.info as unknown as Record<string, unknown> });

const INFO_KEYS = ["config", "position", "history", "rngKey", "out", "data", "note"];
const POSITION_KEYS = ["epoch", "batch", "lossSum", "correct", "seen", "seconds"] as const;
const RECORD_KEYS = ["epoch", "trainLoss", "trainAccuracy", "validationLoss", "validationAccuracy", "testAccuracy", "seconds", "learningRate"] as const;
/** Checkpoints written before validationLoss was recorded lack it. */
const RECORD_REQUIRED = RECORD_KEYS.filter((k) => k !== "validationLoss");

const shown = (v: unknown): string => JSON.stringify(v) ?? "missing";

/** Checks of JSON values; each failure names the field of `info`. */
const checker = (file: string) => {
  /** field "" is info itself. */
  const fail = (field: string, what: string): never => {
    throw new CheckpointError(`${file}: info${field === "" ? "" : `.${field}`} ${what}`);
  };
  const object = (v: unknown, field: string, keys: readonly string[], required: readonly string[] = keys): Record<string, unknown> => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) fail(field, `is ${shown(v)}: expected an object`);
    const o = v as Record<string, unknown>;
    const inner = (k: string) => (field === "" ? k : `${field}.${k}`);
    for (const k of Object.keys(o)) if (!keys.includes(k)) fail(inner(k), `is not a field of info${field === "" ? "" : `.${field}`} (expected ${keys.join(", ")})`);
    for (const k of required) if (o[k] === undefined) fail(inner(k), "is missing");
    return o;
  };
  const number = (v: unknown, field: string, min: number, max: number, integer = false): number => {
    const ok = typeof v === "number" && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
    if (!ok) fail(field, `is ${shown(v)}: expected ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    return v as number;
  };
  return { fail, object, number };
};

/**
 * A checkpoint read from bytes, with everything checked that needs no data: the file's format and
 * tensors (model.ts: every one referenced, finite), and info: config by the flags' rules, position,
 * history (one finished record per finished epoch), the random key (the seed's), out, data.
 * Throws CheckpointError (a ModelFileError) naming `file`.
 */
export const readCheckpoint = (bytes: Uint8Array, file: string): Checkpoint => {
  let raw;
  try {
    raw = checkpointFromBytes(bytes, file);
  } catch (e) {
    throw e instanceof CheckpointError || !(e instanceof ModelFileError) ? e : new CheckpointError(e.message);
  }
  const { fail, object, number } = checker(file);
  const info = object(raw.info, "", INFO_KEYS, ["config", "position", "history", "rngKey"]);
  const config = configFromJson(info.config, fail);

  const p = object(info.position, "position", POSITION_KEYS);
  const epoch = number(p.epoch, "position.epoch", 0, config.epochs, true);
  const batch = number(p.batch, "position.batch", 0, epoch === config.epochs ? 0 : Number.MAX_SAFE_INTEGER, true);
  // Every batch but an epoch's last holds batchSize examples.
  const seen = number(p.seen, "position.seen", batch === 0 ? 0 : (batch - 1) * config.batchSize + 1, batch * config.batchSize, true);
  const position: Position = {
    epoch,
    batch,
    seen,
    lossSum: number(p.lossSum, "position.lossSum", 0, Number.MAX_VALUE),
    correct: number(p.correct, "position.correct", 0, seen),
    seconds: number(p.seconds, "position.seconds", 0, Number.MAX_VALUE),
  };

  if (!Array.isArray(info.history)) fail("history", `is ${shown(info.history)}: expected a list of one record per finished epoch`);
  const records = info.history as unknown[];
  if (records.length !== epoch) fail("history", `holds ${records.length} epoch records, but position.epoch says ${epoch} epochs are finished`);
  const history = records.map((r, i): EpochRecord => {
    const field = `history.${i}`;
    const o = object(r, field, RECORD_KEYS, RECORD_REQUIRED);
    const unit = (k: string) => number(o[k], `${field}.${k}`, 0, 1);
    return {
      epoch: number(o.epoch, `${field}.epoch`, i + 1, i + 1, true),
      trainLoss: number(o.trainLoss, `${field}.trainLoss`, 0, Number.MAX_VALUE),
      trainAccuracy: unit("trainAccuracy"),
      validationLoss: o.validationLoss === undefined || o.validationLoss === null ? null : number(o.validationLoss, `${field}.validationLoss`, 0, Number.MAX_VALUE),
      validationAccuracy: o.validationAccuracy === null ? null : unit("validationAccuracy"),
      testAccuracy: unit("testAccuracy"),
      seconds: number(o.seconds, `${field}.seconds`, 0, Number.MAX_VALUE),
      learningRate: number(o.learningRate, `${field}.learningRate`, 0, Number.MAX_VALUE),
    };
  });

  const rngKey = keyNumbers(random.key(config.seed));
  if (shown(info.rngKey) !== shown(rngKey)) fail("rngKey", `is ${shown(info.rngKey)}: expected ${shown(rngKey)}, the key of seed ${config.seed} (config.seed)`);

  let out: string | null = null;
  if (info.out !== undefined && info.out !== null) {
    if (typeof info.out !== "string" || !info.out.endsWith(".safetensors") || info.out.endsWith(".ckpt.safetensors") || basename(info.out) !== info.out) {
      fail("out", `is ${shown(info.out)}: expected the model file's name (such as "mnist-mlp.safetensors"), without a folder`);
    }
    out = info.out as string;
  }
  let data: DataFacts | null = null;
  if (info.data !== undefined && info.data !== null) {
    const d = object(info.data, "data", ["dir", "dataset", "source", "count", "rows", "cols", "name", "classNames"], ["dir", "source", "count", "rows", "cols"]);
    if (d.dir !== null && typeof d.dir !== "string") fail("data.dir", `is ${shown(d.dir)}: expected a directory or null`);
    if (typeof d.source !== "string") fail("data.source", `is ${shown(d.source)}: expected a string`);
    const dataset = d.dataset ?? null;
    if (dataset !== null && !(DATASETS as readonly unknown[]).includes(dataset)) fail("data.dataset", `is ${shown(dataset)}: expected null or one of ${DATASETS.join(", ")}`);
    if (dataset !== null && d.dir !== null) fail("data.dataset", `is ${shown(dataset)} while data.dir is ${shown(d.dir)}: a run reads one of them`);
    const name = d.name ?? "MNIST";
    if (typeof name !== "string" || name.trim() === "") fail("data.name", `is ${shown(name)}: expected the dataset's name`);
    const classNames = d.classNames ?? numberedClasses(10);
    const problem = classNamesProblem(classNames);
    if (problem !== null) fail("data.classNames", problem);
    data = {
      dir: d.dir as string | null,
      dataset: dataset as DatasetName | null,
      name: name as string,
      classNames: classNames as string[],
      source: d.source as string,
      count: number(d.count, "data.count", 1, config.limit ?? Number.MAX_SAFE_INTEGER, true),
      rows: number(d.rows, "data.rows", 1, 2 ** 32 - 1, true),
      cols: number(d.cols, "data.cols", 1, 2 ** 32 - 1, true),
    };
    // A run too large to train is refused here, before a network is built for it.
    const shape = { ...data, classes: data.classNames.length };
    try {
      checkModelFlags(config, shape);
    } catch (e) {
      fail("config", `describes a run train.ts would refuse (as ${(e as Error).message})`);
    }
    checkRunSize(config, shape, data.count, (flag, what) => fail("config", `describes a run too large to train (as --${flag}: ${what})`));
  }
  if (info.note !== undefined && typeof info.note !== "string") fail("note", `is ${shown(info.note)}: expected a string`);

  return {
    params: raw.params as unknown as Params,
    optimizerState: raw.optimizerState as unknown as OptimizerState,
    info: { config, position, history, rngKey, out, data, ...(info.note !== undefined && { note: info.note as string }) },
  };
};

/** What a run builds from the data and the checkpoint's config, to check the checkpoint against. */
export interface RunShape {
  readonly data: DataFacts;
  /** Training examples after the validation split, and the batches an epoch makes of them. */
  readonly trainExamples: number;
  readonly stepsPerEpoch: number;
  /** A fresh network's parameters (net.init) and the optimizer that will continue the run. */
  readonly params: Params;
  readonly optimizer: Optimizer;
}

const describeData = (d: Pick<DataFacts, "count" | "rows" | "cols" | "classNames">): string =>
  `${d.count.toLocaleString("en-US")} training examples of ${d.rows}x${d.cols} pixels in ${d.classNames.length} classes (${d.classNames.slice(0, 3).join(", ")}, ...)`;

/**
 * Checks a checkpoint against the run about to continue it: the data (the same image size and number
 * of examples), the position (within an epoch of this data), the parameter tree (the paths, shapes and
 * dtypes net.init makes for config) and the optimizer state (the tree optimizer.init(params) makes,
 * with its step count equal to the updates done). Throws CheckpointError naming `file`.
 */
export const checkCheckpointFits = (c: Checkpoint, file: string, run: RunShape): void => {
  const { fail } = checker(file);
  const saved = c.info.data;
  const inputs = run.data.rows * run.data.cols;
  if (saved !== null && (saved.rows !== run.data.rows || saved.cols !== run.data.cols || saved.count !== run.data.count || JSON.stringify(saved.classNames) !== JSON.stringify(run.data.classNames))) {
    throw new CheckpointError(
      `${file}: the data does not match the checkpoint: its run trained on ${describeData(saved)} (${saved.source}); ` +
        `this data (${run.data.source}, with the run's --limit) has ${describeData(run.data)}. Resume with the run's data (--data DIR or --dataset NAME), or start a new run`,
    );
  }
  const { position } = c.info;
  if (position.batch > run.stepsPerEpoch || position.seen !== Math.min(position.batch * c.info.config.batchSize, run.trainExamples)) {
    fail("position", `is batch ${position.batch} with ${position.seen} examples seen, which is not a place in an epoch of ${run.stepsPerEpoch} batches of this data`);
  }
  const paramsMismatch = treeMismatch(run.params, c.params);
  if (paramsMismatch !== null) {
    const { model, filters, hidden } = c.info.config;
    throw new CheckpointError(`${file}: the parameters do not match the network of info.config (${model === "cnn" ? `cnn, filters ${JSON.stringify(filters)}, ` : ""}hidden ${JSON.stringify(hidden)}, ${inputs} inputs): ${paramsMismatch}`);
  }
  const expected = run.optimizer.init(c.params);
  const stateMismatch = treeMismatch(expected as unknown as Tree, c.optimizerState as unknown as Tree);
  if (stateMismatch !== null) {
    throw new CheckpointError(`${file}: the optimizer state does not match what ${c.info.config.optimizer} keeps for these parameters: ${stateMismatch}`);
  }
  const step = (c.optimizerState as unknown as Record<string, unknown>).step;
  const stepValue = step instanceof Tensor && step.size === 1 ? step.item() : step;
  const updates = position.epoch * run.stepsPerEpoch + position.batch;
  if (typeof stepValue === "number" && stepValue !== updates) {
    throw new CheckpointError(`${file}: the optimizer state's step is ${stepValue}, but info.position says ${updates} updates were done (${position.epoch} epochs of ${run.stepsPerEpoch} batches and ${position.batch} batches)`);
  }
};

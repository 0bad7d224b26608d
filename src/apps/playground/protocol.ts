// The messages between the page (main.ts) and the training worker (worker.ts). Plain data only:
// tensors cross as { data, shape } and are rebuilt on the other side.

export type OptimizerName = "adam" | "sgd";
/** The datasets the page can train on (served as <id>/<file>-ubyte; see files-plugin.ts). */
export type DatasetId = "mnist" | "fashion";
export const DATASET_IDS: readonly DatasetId[] = ["mnist", "fashion"];

/** What the page learns of a dataset from datasets.json. */
export interface ServedDataset {
  readonly id: DatasetId;
  readonly name: string;
  readonly classNames: readonly string[];
}

/**
 * The first layer's initial weights: "he" is He normal, N(0, 2 / fanIn), as train.ts uses; "small" is
 * N(0, 0.01^2), small enough that within a few hundred steps the weights show what the units learned
 * rather than their random start (the learning itself is about as fast).
 */
export type InitName = "small" | "he";

/** What a run is: everything that decides its numbers. */
export interface TrainConfig {
  /** The dataset, and its number of classes (the network's outputs). */
  readonly dataset: DatasetId;
  readonly classes: number;
  readonly hidden: number;
  readonly init: InitName;
  readonly optimizer: OptimizerName;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly seed: number;
}

/** The largest learning rate the page accepts (its input's max): above it training only diverges. */
export const MAX_LEARNING_RATE = 10;
export const HIDDEN_SIZES: readonly number[] = [16, 32, 64, 128];
export const BATCH_SIZES: readonly number[] = [32, 64, 128];

/**
 * What is wrong with a run's settings, in words for the page, or null: the page refuses to start a run
 * it cannot use (it never replaces a value silently), and the worker checks again.
 */
export const trainConfigProblem = (c: TrainConfig): string | null => {
  if (!(Number.isFinite(c.learningRate) && c.learningRate > 0 && c.learningRate <= MAX_LEARNING_RATE)) {
    return `Learning rate ${Number.isNaN(c.learningRate) ? "(not a number)" : c.learningRate} is not accepted: expected a number above 0 and at most ${MAX_LEARNING_RATE} ` +
      "(about 0.1 for SGD, 0.002 for Adam). Training was not started.";
  }
  if (!(Number.isSafeInteger(c.seed) && c.seed >= 0)) return `Seed ${Number.isNaN(c.seed) ? "(not a number)" : c.seed} is not accepted: expected a whole number, 0 or more. Training was not started.`;
  if (!HIDDEN_SIZES.includes(c.hidden)) return `Hidden units ${c.hidden} is not accepted: expected one of ${HIDDEN_SIZES.join(", ")}.`;
  if (!BATCH_SIZES.includes(c.batchSize)) return `Batch size ${c.batchSize} is not accepted: expected one of ${BATCH_SIZES.join(", ")}.`;
  if (c.optimizer !== "adam" && c.optimizer !== "sgd") return `Optimizer ${String(c.optimizer)} is not accepted: expected adam or sgd.`;
  if (!DATASET_IDS.includes(c.dataset)) return `Dataset ${String(c.dataset)} is not accepted: expected one of ${DATASET_IDS.join(", ")}.`;
  if (!(Number.isInteger(c.classes) && c.classes >= 2 && c.classes <= 256)) return `${c.classes} classes is not accepted: expected 2 to 256.`;
  return null;
};

/** A tensor as it crosses postMessage (float32, row-major). */
export interface PlainTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** An MLP's parameters as they cross: { dense1: { weight, bias }, ... }. */
export type PlainParams = Readonly<Record<string, { readonly weight: PlainTensor; readonly bias: PlainTensor }>>;

/**
 * When a run stops by itself: after `epochs` more epochs (null: no limit), or early, when the
 * validation accuracy has not improved for `patience` steps (null: never). Counted from each start.
 */
export interface StopRule {
  readonly epochs: number | null;
  readonly patience: number | null;
}

export type ToWorker =
  /** Begin (or continue) training; the config's dataset is fetched from `dataUrl` (a folder URL ending in /) the first time. */
  | { readonly type: "start"; readonly config: TrainConfig; readonly dataUrl: string; readonly stop: StopRule }
  | { readonly type: "pause" }
  /**
   * Stop and start over: new initial weights from the config's seed. `run` numbers the new run: what
   * the worker reports of a run carries its number, so the page can drop what an older run had already
   * sent when the reset crossed it.
   */
  | { readonly type: "reset"; readonly config: TrainConfig; readonly run: number };

/** One optimizer step: the batch's loss and accuracy, scored before the update. */
export interface StepRecord {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
}

export type FromWorker =
  | { readonly type: "status"; readonly text: string }
  | { readonly type: "data"; readonly trainCount: number; readonly validationCount: number; readonly testCount: number }
  | { readonly type: "steps"; readonly run: number; readonly records: readonly StepRecord[]; readonly imagesPerSecond: number }
  /** Accuracy on the held-out validation images (what early stopping watches) and on the test subset. */
  | { readonly type: "eval"; readonly run: number; readonly step: number; readonly validationAccuracy: number; readonly testAccuracy: number }
  /** The run stopped by itself; `reason` says why, for the page to show. */
  | { readonly type: "stopped"; readonly run: number; readonly step: number; readonly reason: string }
  | { readonly type: "params"; readonly run: number; readonly step: number; readonly sizes: readonly number[]; readonly params: PlainParams }
  | { readonly type: "running"; readonly running: boolean }
  | { readonly type: "error"; readonly message: string };

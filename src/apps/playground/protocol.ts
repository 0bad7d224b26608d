// The messages between the page (main.ts) and the training worker (worker.ts). Plain data only:
// tensors cross as { data, shape } and are rebuilt on the other side.

export type OptimizerName = "adam" | "sgd";

/**
 * The first layer's initial weights: "he" is He normal, N(0, 2 / fanIn), as train.ts uses; "small" is
 * N(0, 0.01^2), small enough that within a few hundred steps the weights show what the units learned
 * rather than their random start (the learning itself is about as fast).
 */
export type InitName = "small" | "he";

/** What a run is: everything that decides its numbers. */
export interface TrainConfig {
  readonly hidden: number;
  readonly init: InitName;
  readonly optimizer: OptimizerName;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly seed: number;
}

/** A tensor as it crosses postMessage (float32, row-major). */
export interface PlainTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** An MLP's parameters as they cross: { dense1: { weight, bias }, ... }. */
export type PlainParams = Readonly<Record<string, { readonly weight: PlainTensor; readonly bias: PlainTensor }>>;

export type ToWorker =
  /** Begin (or continue) training; the data is fetched from `dataUrl` (a folder URL ending in /) the first time. */
  | { readonly type: "start"; readonly config: TrainConfig; readonly dataUrl: string }
  | { readonly type: "pause" }
  /** Stop and start over: new initial weights from the config's seed. */
  | { readonly type: "reset"; readonly config: TrainConfig };

/** One optimizer step: the batch's loss and accuracy, scored before the update. */
export interface StepRecord {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
}

export type FromWorker =
  | { readonly type: "status"; readonly text: string }
  | { readonly type: "data"; readonly trainCount: number; readonly testCount: number }
  | { readonly type: "steps"; readonly records: readonly StepRecord[]; readonly imagesPerSecond: number }
  | { readonly type: "eval"; readonly step: number; readonly testAccuracy: number }
  | { readonly type: "params"; readonly step: number; readonly sizes: readonly number[]; readonly params: PlainParams }
  | { readonly type: "running"; readonly running: boolean }
  | { readonly type: "error"; readonly message: string };

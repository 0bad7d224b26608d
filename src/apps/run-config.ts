// What a training run is: the settings that decide its numbers, with one set of rules for them,
// used both for the command line (--epochs 10) and for the copy a checkpoint keeps (config.epochs),
// and what they make: the network, the learning-rate schedule, the optimizer. Wiring only.

import {
  adam, cnnLayerList, constant, cosineDecay, exponentialDecay, listSize, mlpLayerList, momentum, networkFromList, sgd, stepDecay,
  type Layer, type LayerSpec, type Optimizer, type Schedule,
} from "../nn/index.ts";
import { formatBytes } from "../data/files.ts";
import { choiceFlag, FlagValueError, grouped, intFlag, intListFlag, numberFlag, UsageError } from "./cli.ts";

export const OPTIMIZERS = ["sgd", "momentum", "adam"] as const;
export const SCHEDULES = ["constant", "step", "exp", "cosine"] as const;
export const ACTIVATIONS = ["relu", "tanh", "sigmoid"] as const;
export const MODELS = ["mlp", "cnn"] as const;

/**
 * Each model's recipe: the flags' defaults where they differ from the seed's MLP recipe. The CNN's
 * reaches 99.3% or more on the MNIST test set in its 10 epochs (measured for seeds 1-3: README's
 * "Speed and accuracy", docs/apps.md).
 */
export const RECIPES: Readonly<Record<(typeof MODELS)[number], Readonly<Record<string, string>>>> = {
  mlp: { filters: "" },
  cnn: { filters: "16,32", hidden: "128", optimizer: "momentum", lr: "0.05", schedule: "cosine", dropout: "0.25", "weight-decay": "0.0005" },
};

/** Everything that determines a run's numbers; stored in checkpoints so a resume continues the same run. */
export interface RunConfig {
  readonly model: (typeof MODELS)[number];
  /** The CNN's convolutions' filter counts (each a 5 x 5 convolution, relu, 2 x 2 max pooling); none for an MLP. */
  readonly filters: readonly number[];
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
  /** Data augmentation: the largest random shift (pixels) and rotation (degrees) of a training image; 0 for none. */
  readonly shift: number;
  readonly rotate: number;
}

/** One setting: its flag, the JSON type a checkpoint stores it as, and the flag's rule (raw text in, value out). */
interface Rule {
  readonly flag: string;
  readonly json: "number" | "string" | "numbers" | "number or null";
  readonly parse: (raw: string) => unknown;
  /** The value a checkpoint written before the setting existed means. */
  readonly before?: unknown;
}

export const CONFIG_RULES: { readonly [K in keyof RunConfig]: Rule } = {
  model: { flag: "model", json: "string", parse: (raw) => choiceFlag("model", raw, MODELS), before: "mlp" },
  filters: { flag: "filters", json: "numbers", parse: (raw) => intListFlag("filters", raw), before: [] },
  epochs: { flag: "epochs", json: "number", parse: (raw) => intFlag("epochs", raw, 1, 100_000) },
  batchSize: { flag: "batch-size", json: "number", parse: (raw) => intFlag("batch-size", raw, 1, 1_000_000) },
  lr: { flag: "lr", json: "number", parse: (raw) => numberFlag("lr", raw, 0, 1e6, { minOpen: true }) },
  optimizer: { flag: "optimizer", json: "string", parse: (raw) => choiceFlag("optimizer", raw, OPTIMIZERS) },
  schedule: { flag: "schedule", json: "string", parse: (raw) => choiceFlag("schedule", raw, SCHEDULES) },
  hidden: { flag: "hidden", json: "numbers", parse: (raw) => intListFlag("hidden", raw) },
  activation: { flag: "activation", json: "string", parse: (raw) => choiceFlag("activation", raw, ACTIVATIONS) },
  dropout: { flag: "dropout", json: "number", parse: (raw) => numberFlag("dropout", raw, 0, 1, { maxOpen: true }) },
  weightDecay: { flag: "weight-decay", json: "number", parse: (raw) => numberFlag("weight-decay", raw, 0, 1e6) },
  seed: { flag: "seed", json: "number", parse: (raw) => intFlag("seed", raw, 0, 2 ** 53 - 1) },
  valSplit: { flag: "val-split", json: "number", parse: (raw) => numberFlag("val-split", raw, 0, 1, { maxOpen: true }) },
  limit: { flag: "limit", json: "number or null", parse: (raw) => intFlag("limit", raw, 1) },
  shift: { flag: "shift", json: "number", parse: (raw) => numberFlag("shift", raw, 0, 8), before: 0 },
  rotate: { flag: "rotate", json: "number", parse: (raw) => numberFlag("rotate", raw, 0, 45), before: 0 },
};

const CONFIG_KEYS = Object.keys(CONFIG_RULES) as (keyof RunConfig)[];

/** The run configuration from flag values (raw text; undefined for a flag not given, limit's default is none). */
export const configFromFlags = (raw: (flag: string) => string | undefined): RunConfig => {
  const config: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const rule = CONFIG_RULES[key];
    const text = raw(rule.flag);
    config[key] = text === undefined ? null : rule.parse(text);
  }
  return config as unknown as RunConfig;
};

/** A value as the flag would be written: 128,64 for hidden. */
export const flagText = (value: unknown): string => (Array.isArray(value) ? value.join(",") : String(value));

/**
 * A run configuration read from JSON (a checkpoint's), checked by exactly the flags' rules.
 * `fail(field, what)` throws the caller's error, naming the field.
 */
export const configFromJson = (json: unknown, fail: (field: string, what: string) => never): RunConfig => {
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("config", `is ${JSON.stringify(json) ?? "missing"}: expected an object of the run's settings`);
  const given = json as Record<string, unknown>;
  for (const key of Object.keys(given)) if (!(key in CONFIG_RULES)) fail(`config.${key}`, `is not a setting of a run (expected only ${CONFIG_KEYS.join(", ")})`);
  const config: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const rule = CONFIG_RULES[key];
    const v = given[key] === undefined && rule.before !== undefined ? rule.before : given[key];
    const typed =
      rule.json === "number" ? typeof v === "number"
      : rule.json === "string" ? typeof v === "string"
      : rule.json === "numbers" ? Array.isArray(v) && v.every((d) => typeof d === "number")
      : v === null || typeof v === "number";
    if (!typed) fail(`config.${key}`, `is ${JSON.stringify(v) ?? "missing"}: expected ${rule.json === "numbers" ? "a list of numbers" : `a ${rule.json}`}`);
    if (v === null) {
      config[key] = null;
      continue;
    }
    try {
      config[key] = rule.parse(flagText(v));
    } catch (e) {
      if (!(e instanceof FlagValueError)) throw e;
      fail(`config.${key}`, `is ${JSON.stringify(v)}, which --${rule.flag} refuses: expected ${e.expected}`);
    }
  }
  return config as unknown as RunConfig;
};

/** The flags among `given` whose value differs from `config`'s, as "--lr 0.5 (the run's: 0.1)". */
export const differingFlags = (given: RunConfig, config: RunConfig, explicit: ReadonlySet<string>): string[] =>
  CONFIG_KEYS.filter((key) => key !== "epochs" && explicit.has(CONFIG_RULES[key].flag) && flagText(given[key]) !== flagText(config[key])).map(
    (key) => `--${CONFIG_RULES[key].flag} ${flagText(given[key])} (the run's: ${config[key] === null ? "none" : flagText(config[key])})`,
  );

export const makeSchedule = (c: RunConfig, stepsPerEpoch: number): Schedule => {
  const total = Math.max(1, c.epochs * stepsPerEpoch);
  switch (c.schedule) {
    case "constant": return constant(c.lr);
    case "step": return stepDecay({ initial: c.lr, factor: 0.5, stepSize: Math.max(1, 3 * stepsPerEpoch) });
    case "exp": return exponentialDecay({ initial: c.lr, decayRate: 0.1, decaySteps: total });
    case "cosine": return cosineDecay({ initial: c.lr, decaySteps: total });
  }
};

export const makeOptimizer = (c: RunConfig, learningRate: Schedule): Optimizer =>
  c.optimizer === "sgd"
    ? sgd({ learningRate, weightDecay: c.weightDecay })
    : c.optimizer === "momentum"
      ? (momentum({ learningRate, momentum: 0.9, weightDecay: c.weightDecay }) as Optimizer)
      : (adam({ learningRate, weightDecay: c.weightDecay }) as Optimizer);

/** What a run's network is made for: images of rows x cols pixels, in `classes` classes (its outputs). */
export interface DataShape {
  readonly rows: number;
  readonly cols: number;
  readonly classes: number;
}

/** Layer sizes from input to output: [inputs, ...hidden, classes] (an MLP's; a CNN's dense layers after its convolutions). */
export const layerSizes = (c: RunConfig, inputs: number, classes: number): number[] => [inputs, ...c.hidden, classes];

/** The run's layer list, for images of rows x cols pixels in `classes` classes. */
export const layerList = (c: RunConfig, { rows, cols, classes }: DataShape): LayerSpec[] =>
  c.model === "mlp" ? mlpLayerList(layerSizes(c, rows * cols, classes), c.activation, c.dropout) : cnnLayerList(rows, cols, c.filters, c.hidden, classes, c.dropout);

/** The run's network (taking rows of rows * cols pixels) and its layer list. */
export const makeNetwork = (c: RunConfig, data: DataShape): { net: Layer; layers: LayerSpec[] } => {
  const { net, layers } = networkFromList(layerList(c, data), [data.rows * data.cols]);
  return { net, layers };
};

/**
 * The flags that do not fit --model: an MLP has no convolutions (--filters), a CNN needs at least
 * one and has relu layers. Throws a UsageError naming the flag.
 */
export const checkModelFlags = (c: RunConfig, images: DataShape): void => {
  if (c.model === "mlp" && c.filters.length > 0) throw new UsageError(`--filters: ${flagText(c.filters)} is not accepted with --model mlp (an MLP has no convolutions); expected --model cnn, or no --filters`);
  if (c.model === "cnn") {
    if (c.filters.length === 0) throw new UsageError("--filters: a CNN needs at least one convolution; expected comma-separated filter counts such as 16,32");
    if (c.activation !== "relu") throw new UsageError(`--activation: ${c.activation} is not accepted with --model cnn (its layers use relu); expected relu`);
    try {
      listSize(layerList(c, images), [images.rows * images.cols]);
    } catch (e) {
      throw new UsageError(`--filters: ${flagText(c.filters)} is not accepted for ${images.rows}x${images.cols} images: each 5x5 convolution and 2x2 pooling shrinks them, and ${(e as Error).message}; expected fewer convolutions`);
    }
  }
};

/** The largest network train.ts builds: 50 million parameters (200 MB of float32, about 1 GB to train with Adam). */
export const MAX_PARAMETERS = 50_000_000;
/** The most values one batch's layer outputs may hold (400 MB of float32; the default network holds 63,000). */
export const MAX_BATCH_VALUES = 100_000_000;
/** Floats a checkpoint keeps per parameter: the parameter, plus the optimizer's slots. */
const SLOTS: Readonly<Record<RunConfig["optimizer"], number>> = { sgd: 0, momentum: 1, adam: 2 };

export interface RunSize {
  readonly parameters: number;
  /** Bytes of the model file and of a checkpoint, about (the tensors; headers are small). */
  readonly modelBytes: number;
  readonly checkpointBytes: number;
}

/**
 * Refuses, before any training, a network or batch too large to train here, naming the flags:
 * the parameter count of `sizes`, and the values one batch (at most `trainCount` examples) passes
 * through the layers, against MAX_PARAMETERS and MAX_BATCH_VALUES. `refuse` throws (by default a
 * UsageError "--hidden: ..."; a checkpoint names its own field instead).
 */
export const checkRunSize = (
  c: RunConfig, images: DataShape, trainCount: number,
  refuse: (flag: string, what: string) => never = (flag, what) => {
    throw new UsageError(`--${flag}: ${what}`);
  },
): RunSize => {
  const layers = layerList(c, images);
  const describe = c.model === "mlp" ? `the network [${layerSizes(c, images.rows * images.cols, images.classes).join(", ")}]` : `the CNN of filters ${flagText(c.filters)} and dense layers ${flagText(c.hidden)}`;
  let size: { parameters: number; values: number };
  try {
    size = listSize(layers, [images.rows * images.cols]);
  } catch (e) {
    return refuse("filters", `${flagText(c.filters)} does not fit ${images.rows}x${images.cols} images: ${(e as Error).message}`);
  }
  const { parameters } = size;
  if (parameters > MAX_PARAMETERS) {
    refuse(
      "hidden",
      `${JSON.stringify(flagText(c.hidden))} is not accepted: ${describe} would have ${grouped(parameters)} parameters ` +
        `(${formatBytes(4 * parameters)} of float32 weights), more than the limit of ${grouped(MAX_PARAMETERS)}; expected smaller hidden layers`,
    );
  }
  const rows = Math.min(c.batchSize, trainCount);
  const values = rows * size.values;
  if (values > MAX_BATCH_VALUES) {
    refuse(
      "batch-size",
      `${c.batchSize} is not accepted with --hidden ${flagText(c.hidden)}: one batch of ${grouped(rows)} examples would pass ${grouped(values)} values ` +
        `through ${describe}, more than the limit of ${grouped(MAX_BATCH_VALUES)}; expected a smaller batch or smaller layers`,
    );
  }
  return { parameters, modelBytes: 4 * parameters, checkpointBytes: 4 * parameters * (1 + SLOTS[c.optimizer]) };
};

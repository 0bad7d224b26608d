// Model files on disk: read with errors that say what to do, validated by model.ts.

import type { Tensor } from "../autograd/index.ts";
import { classList, type DatasetInfo } from "./dataset.ts";
import { FileError, readRegularFile } from "./files.ts";
import { classNamesOf, modelFromBytes, ModelFileError, type MlpParams, type ModelConfig } from "./model.ts";

export const DEFAULT_MODEL_PATH = "models/mnist-mlp.safetensors";
/** The largest model or checkpoint file read: 2 GiB (train.ts refuses networks whose checkpoint would be larger). */
export const MAX_MODEL_BYTES = 2 ** 31;

/** The bytes of a model or checkpoint file (a regular file of at most MAX_MODEL_BYTES). */
export const readModelBytes = (path: string, what: "model" | "checkpoint"): Uint8Array => {
  try {
    return readRegularFile(path, MAX_MODEL_BYTES);
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    if (e.code === "ENOENT" && what === "model") {
      throw new ModelFileError(`${path}: no such model file. Train one first with \`npm run train\` (it writes ${DEFAULT_MODEL_PATH}), or pass --model FILE`);
    }
    if (e.code === "ENOENT") throw new ModelFileError(`${path}: no such checkpoint file (train.ts writes one beside the model, as *.ckpt.safetensors)`);
    throw new ModelFileError(e.code === "ENOTREG" ? `${path}: ${e.reason}; expected a ${what} file (.safetensors)` : `${path}: cannot read the ${what} file: ${e.reason}`);
  }
};

/** Read and validate a model; `expectInputs` refuses a model made for images of another size. */
export const loadModelFile = (path: string, { expectInputs = 784 } = {}): { params: MlpParams; config: ModelConfig } => {
  const model = modelFromBytes(readModelBytes(path, "model"), path);
  const arch = model.config.architecture;
  if (arch[0] !== expectInputs) {
    throw new ModelFileError(`${path}: the model's architecture [${arch.join(", ")}] takes ${arch[0]} inputs; expected ${expectInputs} (28x28 pixels)`);
  }
  return model;
};

/**
 * Refuses logits [n, classes] holding a non-finite value: finite weights can still overflow float32
 * (a run that diverged leaves weights near 1e17), and softmax would then print NaN probabilities.
 * `inputs` names what went in, e.g. (count) => `${count} of the test digits`.
 */
export const checkFiniteLogits = (modelPath: string, logits: Tensor, inputs: (rowsAffected: number) => string): void => {
  const data = logits.data;
  const classes = logits.shape[logits.shape.length - 1] ?? 1;
  let rows = 0;
  let example = 0;
  for (let r = 0; r * classes < data.length; r++) {
    for (let c = 0; c < classes; c++) {
      const x = data[r * classes + c]!;
      if (!Number.isFinite(x)) {
        if (rows === 0) example = x;
        rows++;
        break;
      }
    }
  }
  if (rows > 0) {
    throw new ModelFileError(
      `${modelPath}: the model gives non-finite scores (logits such as ${example}) for ${inputs(rows)}: its weights are too large to use ` +
        "(training diverged); train it again with a lower --lr",
    );
  }
};

/**
 * Why a model cannot be scored on this data, or null: the data must have the model's classes, by
 * number and by name (a model file without names has its outputs numbered, as MNIST's digits are).
 */
export const modelDataMismatch = (config: ModelConfig, data: DatasetInfo): string | null => {
  const names = classNamesOf(config);
  if (JSON.stringify(names) === JSON.stringify(data.classNames)) return null;
  return `the model was trained on ${config.dataset ?? "a dataset it does not name"} (classes ${classList(names, 60)}), this data is ${data.name} (classes ${classList(data.classNames, 60)})`;
};

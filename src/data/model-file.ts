// Model files on disk: read with errors that say what to do, validated by model.ts.

import { readFileSync } from "node:fs";
import { modelFromBytes, ModelFileError, type MlpParams, type ModelConfig } from "./model.ts";

export const DEFAULT_MODEL_PATH = "models/mnist-mlp.safetensors";

/** Read and validate a model; `expectInputs`/`expectClasses` refuse a model made for other data. */
export const loadModelFile = (path: string, { expectInputs = 784, expectClasses = 10 } = {}): { params: MlpParams; config: ModelConfig } => {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFileError(
      code === "ENOENT"
        ? `${path}: no such model file. Train one first with \`npm run train\` (it writes ${DEFAULT_MODEL_PATH}), or pass --model FILE`
        : `${path}: cannot read the model file (${(e as Error).message})`,
    );
  }
  const model = modelFromBytes(bytes, path);
  const arch = model.config.architecture;
  if (arch[0] !== expectInputs || arch[arch.length - 1] !== expectClasses) {
    throw new ModelFileError(`${path}: the model's architecture [${arch.join(", ")}] takes ${arch[0]} inputs and gives ${arch[arch.length - 1]} classes; expected ${expectInputs} inputs (28x28 pixels) and ${expectClasses} classes`);
  }
  return model;
};

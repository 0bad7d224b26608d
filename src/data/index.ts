// The data layer: files in, tensors out. One line per module, so each can be added on its own.

export * from "./idx.ts";
export * from "./mnist.ts";
export * from "./dataset.ts";
export * from "./batches.ts";
export * from "./image-io.ts";
export * from "./preprocess.ts";
export * from "./image.ts";
export * from "./safetensors.ts";
export * from "./model.ts";
export * from "./model-file.ts";
export * from "./files.ts";

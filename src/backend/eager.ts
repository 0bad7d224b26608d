// Eager execution: run one kernel now, on fresh arrays. Each output becomes a new storage.

import type { Backend } from "./backend.ts";
import type { Kernel } from "./kernel.ts";
import { hostArray, Storage } from "./storage.ts";

export const execute = <P>(backend: Backend, kernel: Kernel<P>, inputs: readonly Storage[], params: P, origin: string): Storage[] => {
  const arrays = inputs.map((s) => s.host(origin));
  const specs = kernel.outputs(inputs, params);
  const outputs = specs.map((s) => hostArray(s.dtype, s.size)); // every kernel writes every element of its outputs
  backend.run(kernel, arrays, outputs, params);
  return outputs.map((a, i) => Storage.own(a, specs[i]!.dtype, origin));
};

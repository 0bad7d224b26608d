// Eager execution: run one kernel now, on fresh arrays. Each output becomes a new storage.

import type { Backend } from "./backend.ts";
import { arrayOf } from "./dtype.ts";
import type { Kernel } from "./kernel.ts";
import { Storage } from "./storage.ts";

export const execute = <P>(backend: Backend, kernel: Kernel<P>, inputs: readonly Storage[], params: P, origin: string): Storage[] => {
  const arrays = inputs.map((s) => s.host(origin));
  const specs = kernel.outputs(inputs, params);
  const outputs = specs.map((s) => arrayOf(s.dtype, s.size));
  backend.run(kernel, arrays, outputs, params);
  return outputs.map((a, i) => Storage.own(a, specs[i]!.dtype, origin));
};

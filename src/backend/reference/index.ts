// The reference backend: every kernel's own loops, on plain arrays. It is the definition every other
// backend is checked against, the one to read to learn what a kernel does, and the one that runs
// wherever WebAssembly is unavailable. Compiled programs run the same loops over views of one
// ArrayBuffer, at the places their memory plan gives.

import { lowerToLoops, type Backend } from "../backend.ts";
import { arrayBufferMemory } from "../memory.ts";

export const referenceBackend = (): Backend => {
  const memory = arrayBufferMemory();
  return {
    name: "reference",
    memory,
    run: (kernel, inputs, outputs, params) => kernel.run(inputs, outputs, params),
    lower: (kernel, params, inputs, outputs) => lowerToLoops(memory, kernel, params, inputs, outputs),
    rules: [],
  };
};

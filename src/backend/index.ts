// Where values live and kernels run. Nothing here knows about graphs or gradients.
//
// Two backends: "reference" (plain TypeScript loops: the definition of every kernel) and "wasm"
// (WebAssembly SIMD for the float32 kernels that training spends its time in, and compiled programs
// whose memory is planned once). The wasm backend is used wherever WebAssembly SIMD is available.

import type { Backend } from "./backend.ts";
import { referenceBackend } from "./reference/index.ts";
import { wasmBackend } from "./wasm/index.ts";

export type { Backend, Place, Lowered } from "./backend.ts";
export { Storage, storageFrom, DeletedError } from "./storage.ts";
export { execute } from "./eager.ts";
export { compile, formatProgram, optimize, type Program, type Instr, type ProgramValue, type Executable, type Rule } from "./program.ts";
export { defineKernel, KernelError, type Kernel, type ValueSpec } from "./kernel.ts";
export * from "./dtype.ts";

const backends = new Map<string, Backend>();

/** The backend of this name, made the first time it is asked for (null: unavailable here). */
export const getBackend = (name: "reference" | "wasm"): Backend | null => {
  if (!backends.has(name)) {
    const made = name === "reference" ? referenceBackend() : wasmBackend();
    if (made === null) return null;
    backends.set(name, made);
  }
  return backends.get(name)!;
};

let active: Backend | null = null;

/** The backend ops run on: wasm where available, else reference, unless useBackend chose one. */
export const currentBackend = (): Backend => (active ??= getBackend("wasm") ?? getBackend("reference")!);

/** Run ops on this backend from now on. Throws if it is unavailable here. */
export const useBackend = (name: "reference" | "wasm"): Backend => {
  const b = getBackend(name);
  if (b === null) throw new Error(`useBackend: the ${name} backend is unavailable here (WebAssembly SIMD is missing)`);
  active = b;
  return b;
};

// What a backend is: the kernels' implementations and the memory values live in. The front end
// (src/autograd) reaches a backend only through execute (eager) and compile (jit).

import { viewOf, type DType, type TypedArray } from "./dtype.ts";
import type { Kernel } from "./kernel.ts";
import type { Memory } from "./memory.ts";
import type { Rule } from "./program.ts";

/** A fixed place in a backend's memory: byte offset, element type, length. */
export interface Place {
  readonly offset: number;
  readonly dtype: DType;
  readonly size: number;
}

/** An instruction of a compiled program made ready to run at fixed places. */
export interface Lowered {
  /** Bytes of scratch memory the implementation needs while it runs (0 for none). */
  readonly scratchBytes: number;
  /** The function that runs it, given where its scratch is. Called again after the memory grows. */
  make(scratch: number): () => void;
}

export interface Backend {
  readonly name: "reference" | "wasm";
  /** Run a kernel eagerly, on host arrays. */
  run<P>(kernel: Kernel<P>, inputs: readonly TypedArray[], outputs: readonly TypedArray[], params: P): void;
  /** The memory compiled programs live in. */
  readonly memory: Memory;
  /** How to run one instruction of a compiled program whose values are at these places. */
  lower<P>(kernel: Kernel<P>, params: P, inputs: readonly Place[], outputs: readonly Place[]): Lowered;
  /** Rewrites of a program into one with fewer, faster instructions computing the same bits. */
  readonly rules: readonly Rule[];
}

/** An instruction run by its kernel's own loops on views of `memory` at its places. */
export const lowerToLoops = <P>(memory: Memory, kernel: Kernel<P>, params: P, inputs: readonly Place[], outputs: readonly Place[]): Lowered => ({
  scratchBytes: 0,
  make: () => {
    const buffer = memory.buffer;
    const ins = inputs.map((p) => viewOf(p.dtype, buffer, p.offset, p.size));
    const outs = outputs.map((p) => viewOf(p.dtype, buffer, p.offset, p.size));
    return () => kernel.run(ins, outs, params);
  },
});

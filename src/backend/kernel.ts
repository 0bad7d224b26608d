// A kernel: the unit of work a backend runs. It reads input arrays and writes output arrays that the
// caller allocated (destination passing), so the same kernel runs on fresh arrays (eager execution)
// and on memory a compiled program planned once (jit). Each kernel carries its reference
// implementation: plain TypeScript loops that define its results. A backend may run a faster
// implementation of some kernels; it must compute the same values (spec/backend checks it).
//
// Kernels know dtypes and sizes, not graphs or gradients: the front end (src/autograd) turns ops
// into kernel calls and differentiates them.

import type { DType, TypedArray } from "./dtype.ts";

/** What a value is, as a kernel sees it: an element type and a length. */
export interface ValueSpec {
  readonly dtype: DType;
  readonly size: number;
}

export interface Kernel<P = unknown> {
  readonly name: string;
  /** The outputs' dtypes and sizes, for these inputs and params (the caller allocates them). */
  readonly outputs: (inputs: readonly ValueSpec[], params: P) => readonly ValueSpec[];
  /**
   * The reference implementation: reads `inputs`, writes every element of every output. Outputs
   * may hold stale values (memory reused by a compiled program) and never overlap an input unless
   * `inPlace` says so.
   */
  readonly run: (inputs: readonly TypedArray[], outputs: readonly TypedArray[], params: P) => void;
  /**
   * inPlace[i] = j: output i may be the same memory as input j, because the kernel reads element
   * e of input j before it writes element e of output i and never reads it again (an update rule).
   */
  readonly inPlace?: readonly (number | null)[];
  /** The params as printProgram shows them (default: JSON of the small ones). */
  readonly show?: (params: P) => string;
}

export const defineKernel = <P>(kernel: Kernel<P>): Kernel<P> => Object.freeze(kernel);

/** One output of the first input's dtype and `size` elements (the most common shape of a kernel). */
export const likeFirst = (size: (first: ValueSpec) => number) => (inputs: readonly ValueSpec[]): ValueSpec[] => [
  { dtype: inputs[0]!.dtype, size: size(inputs[0]!) },
];

/** Raised by a kernel given values it cannot take (an index out of range, a label too large). */
export class KernelError extends Error {
  override name = "KernelError";
}

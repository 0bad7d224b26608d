// The door between the front end (tensors, ops, gradients) and the backend (where values live and
// kernels run). A tensor holds an opaque handle; an op asks the current interpreter to apply a
// kernel to handles. Eagerly, that runs the kernel now on the current backend; while jit traces a
// function, it records the call in a program instead (./jit.ts). Values cross only by copy:
// fromValues copies an array in, readHandle copies values out.

import { currentBackend, execute, Storage, storageFrom, type DType, type Kernel, type TypedArray } from "../backend/index.ts";
import type { Shape } from "./shape.ts";

/** What a tensor holds instead of its values: made by a backend (or by jit, while tracing). */
export interface Handle {
  readonly dtype: DType;
  readonly size: number;
  /** Where the values came from, for error messages. */
  readonly origin: string;
}

/** Anything that names itself in a message (a tensor): turned into text only when an error is thrown. */
export type Describable = { toString(): string };

export interface Interpreter {
  /** Apply `kernel` to the inputs; `shapes` are the outputs' shapes, `op` the front-end op calling it. */
  apply(kernel: Kernel<any>, inputs: readonly Handle[], params: unknown, shapes: readonly Shape[], op: string): Handle[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** A copy of the values behind a handle; `description` (the tensor) names it in errors only. */
  read(handle: Handle, description: Describable): TypedArray;
}

/** Thrown when a handle is used where it cannot be: a traced value outside its trace, for one. */
export class HandleError extends Error {
  override name = "HandleError";
}

const concrete = (h: Handle, who: Describable): Storage => {
  if (h instanceof Storage) return h;
  throw new HandleError(`${who}: a tensor (${h.origin}) made while jit was tracing a function was used after the trace ended; return it from the function instead of keeping it`);
};

/** Eager execution: every kernel runs at once on the current backend. */
export const eager: Interpreter = {
  apply: (kernel, inputs, params, _shapes, op) => execute(currentBackend(), kernel, inputs.map((h) => concrete(h, op)), params, op),
  read: (h, description) => concrete(h, description).read(),
};

let interpreter: Interpreter = eager;

export const currentInterpreter = (): Interpreter => interpreter;

/** Run f with `interp` as the interpreter (jit tracing), restoring the previous one after. */
export const withInterpreter = <T>(interp: Interpreter, f: () => T): T => {
  const before = interpreter;
  interpreter = interp;
  try {
    return f();
  } finally {
    interpreter = before;
  }
};

let opName = "";

/** The front-end op whose kernels are being applied ("" outside any op). */
export const currentOp = (): string => opName;

/**
 * Run f as op `name`: kernels it applies are recorded as that op's (in messages and programs). Ops
 * that a vjp applies are named after it too: "linear (vjp): matmul".
 */
export const withOp = <T>(name: string, f: () => T): T => {
  const before = opName;
  opName = before.endsWith("(vjp)") || before.includes("(vjp): ") ? `${before.split(": ")[0]}: ${name}` : name;
  try {
    return f();
  } finally {
    opName = before;
  }
};

/** A handle holding a copy of `values`. */
export const fromValues = (values: ArrayLike<number>, dtype: DType): Handle => storageFrom(values, dtype);

/** A copy of the values behind a handle. */
export const readHandle = (h: Handle, description: Describable): TypedArray => interpreter.read(h, description);

// Tensor: an immutable n-dimensional array { shape, dtype } whose values a backend holds behind an
// opaque handle, plus, when it was computed from something a gradient was asked for, the graph node
// that records how. Values come in by copy (tensor(), new Tensor(array, shape)) and go out by copy
// (t.data), so nothing a user holds can change a tensor, and nothing a tensor does can change what
// a user holds.

import type { DType, TypedArray } from "../backend/index.ts";
import { dtypeOf } from "../backend/index.ts";
import { fromValues, readHandle, type Handle } from "./backend.ts";
import { checkShape, sameShape, ShapeError, shapeStr, sizeOf, type Shape } from "./shape.ts";

export type { DType, TypedArray };

/** A cotangent flowing back into each input; null where no gradient is needed. */
export type Cotangents = readonly (Tensor | null)[];

/**
 * One recorded step of the computation: which op made a tensor, from which parents, and the
 * vector-Jacobian product that maps the output's cotangent to one cotangent per parent.
 * `needs[i]` says whether parent i leads to a requested gradient, so a vjp can skip the rest;
 * `createGraph` asks for cotangents that can themselves be differentiated (a higher-order gradient).
 */
export interface GraphNode {
  readonly op: string;
  readonly parents: readonly Tensor[];
  readonly vjp: ((g: Tensor, needs: readonly boolean[], self: Tensor, createGraph: boolean) => Cotangents) | null;
}

/** Set while a vjp that must stay differentiable runs: reading values there would cut the graph. */
let readGuard: string | null = null;
export const guardReads = <T>(op: string | null, f: () => T): T => {
  const before = readGuard;
  readGuard = op;
  try {
    return f();
  } finally {
    readGuard = before;
  }
};

/** The handle behind t (for the front end's own modules; not part of the public API). */
export let handleOf: (t: Tensor) => Handle;

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** Null for constants (data, or anything computed only from constants): nothing is recorded. */
  readonly node: GraphNode | null;
  readonly #handle: Handle;
  #values: TypedArray | null = null;

  /**
   * A tensor of `shape` holding a copy of `values` (a typed array; its type gives the dtype). The
   * engine's own ops pass a handle instead.
   */
  constructor(values: TypedArray | Handle, shape: Shape, node: GraphNode | null = null) {
    const frozen = checkShape("tensor", shape);
    const size = sizeOf(frozen);
    const handle = ArrayBuffer.isView(values) ? fromValues(values as TypedArray, dtypeOf(values)!) : (values as Handle);
    if (ArrayBuffer.isView(values) && dtypeOf(values) === null) throw new ShapeError(`tensor: unsupported array type ${values.constructor.name}`);
    if (handle.size !== size) {
      throw new ShapeError(`tensor: ${handle.size} values cannot fill shape ${shapeStr(frozen)} (needs ${size})`);
    }
    this.shape = frozen;
    this.dtype = handle.dtype;
    this.size = size;
    this.node = node;
    this.#handle = handle;
    Object.freeze(this);
  }

  static {
    handleOf = (t) => t.#handle;
  }

  /**
   * A copy of the values in row-major order, made the first time it is read and kept: writing into
   * it changes this array only, never the tensor or any result computed from it.
   */
  get data(): TypedArray {
    if (readGuard !== null && this.node !== null) {
      throw new ShapeError(`${readGuard}: its vjp reads the values of a tracked tensor (${this}) while a higher-order gradient is taken; a vjp that is differentiated again must be written with ops`);
    }
    return (this.#values ??= readHandle(this.#handle, this));
  }

  get rank(): number {
    return this.shape.length;
  }

  /** True when this tensor depends on something a gradient was asked for. */
  get tracked(): boolean {
    return this.node !== null;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor of shape ${shapeStr(this.shape)} has ${this.size} values, not 1`);
    return this.data[0]!;
  }

  /** Nested plain arrays (a number for a scalar). */
  toArray(): NestedArray {
    const data = this.data;
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.shape.length) return data[offset]!;
      const n = this.shape[axis]!;
      const step = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: n }, (_, i) => build(axis + 1, offset + i * step));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}${this.node ? `, op=${this.node.op}` : ""})`;
  }
}

export type NestedArray = number | NestedArray[];

const isTypedArray = (x: unknown): x is ArrayLike<number> & { length: number } => ArrayBuffer.isView(x) && !(x instanceof DataView);

/**
 * Make a tensor from nested arrays, a flat typed or plain array (with `shape`), or a number.
 * The values are copied, so later changes to the source cannot reach the tensor.
 */
export const tensor = (values: NestedArray | ArrayLike<number>, shape?: Shape, dtype: DType = "float32"): Tensor => {
  if (typeof values === "number") return new Tensor(fromValues([values], dtype), shape ?? []);
  if (isTypedArray(values) || (shape !== undefined && !Array.isArray((values as ArrayLike<unknown>)[0]))) {
    const flat = values as ArrayLike<number>;
    return new Tensor(fromValues(flat, dtype), shape ?? [flat.length]);
  }
  // Nested arrays: infer the shape from the first element at each depth, then check every row.
  const inferred: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    inferred.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === inferred.length) {
      if (typeof v !== "number") throw new ShapeError(`tensor: expected a number at ${path}, got ${typeof v}`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== inferred[depth]) {
      throw new ShapeError(`tensor: ragged nested array at ${path}: expected ${inferred[depth]} entries like the first row`);
    }
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(values, 0, "values");
  if (shape !== undefined && !sameShape(shape, inferred) && sizeOf(shape) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values cannot fill shape ${shapeStr(shape)}`);
  }
  return new Tensor(fromValues(flat, dtype), shape ?? inferred);
};

/** The same values in another shape (shared: values never change), or as a constant (node null). */
export const withShape = (t: Tensor, shape: Shape, node: GraphNode | null = null): Tensor => new Tensor(handleOf(t), shape, node);

/** t as a constant: the same values, no graph node (gradients stop here). */
export const detach = (t: Tensor): Tensor => (t.node === null ? t : new Tensor(handleOf(t), t.shape));

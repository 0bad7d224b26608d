// Tensor: an immutable n-dimensional array { shape, dtype, data } plus, when it was computed from
// something a gradient was asked for, the graph node that records how.

import { settle } from "./kernels/deferred.ts";
import { checkShape, sameShape, ShapeError, shapeStr, sizeOf, type Shape } from "./shape.ts";

export type DType = "float32" | "float64";
export type TypedArray = Float32Array | Float64Array;

/** A cotangent flowing back into each input; null where no gradient is needed. */
export type Cotangents = readonly (Tensor | null)[];

/**
 * One recorded step of the computation: which op made a tensor, from which parents, and the
 * vector-Jacobian product that maps the output's cotangent to one cotangent per parent.
 * `needs[i]` says whether parent i leads to a requested gradient, so a vjp can skip the rest.
 */
export interface GraphNode {
  readonly op: string;
  readonly parents: readonly Tensor[];
  readonly vjp: ((g: Tensor, needs: readonly boolean[]) => Cotangents) | null;
}

/**
 * t's data array as it is, without settling it (./kernels/deferred.ts): only for code that passes
 * the array on without reading its values (to a kernel that finds it in its own memory, to a new
 * Tensor over the same data, to checks of its identity or buffer). Set by Tensor's static block.
 */
export let unsettledData: (t: Tensor) => TypedArray;

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly #data: TypedArray;
  readonly size: number;
  /** Null for constants (data, or anything computed only from constants): nothing is recorded. */
  readonly node: GraphNode | null;

  constructor(data: TypedArray, shape: Shape, node: GraphNode | null = null) {
    const frozen = checkShape("tensor", shape);
    const size = sizeOf(frozen);
    if (data.length !== size) {
      throw new ShapeError(`tensor: ${data.length} values cannot fill shape ${shapeStr(frozen)} (needs ${size})`);
    }
    this.shape = frozen;
    this.dtype = data instanceof Float64Array ? "float64" : "float32";
    this.#data = data;
    this.size = size;
    this.node = node;
  }

  /**
   * The values in row-major order. Never written after construction: the WebAssembly kernels keep
   * copies of some arrays (weights, weight gradients, batches) by identity and would not see a write.
   * A kernel may have left the values in its own memory: reading them here copies them out first
   * (./kernels/deferred.ts), so code that only passes the array on uses unsettledData instead.
   */
  get data(): TypedArray {
    settle(this.#data);
    return this.#data;
  }

  static {
    unsettledData = (t) => t.#data;
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

const arrayFor = (dtype: DType, n: number): TypedArray =>
  dtype === "float64" ? new Float64Array(n) : new Float32Array(n);

export const allocate = arrayFor;

const isTypedArray = (x: unknown): x is ArrayLike<number> & { length: number } =>
  ArrayBuffer.isView(x) && !(x instanceof DataView);

/**
 * Make a tensor from nested arrays, a flat typed or plain array (with `shape`), or a number.
 * The values are copied, so later changes to the source cannot reach the tensor.
 */
export const tensor = (values: NestedArray | ArrayLike<number>, shape?: Shape, dtype: DType = "float32"): Tensor => {
  if (typeof values === "number") {
    const data = arrayFor(dtype, 1);
    data[0] = values;
    return new Tensor(data, shape ?? []);
  }
  if (isTypedArray(values) || (shape !== undefined && !Array.isArray((values as ArrayLike<unknown>)[0]))) {
    const flat = values as ArrayLike<number>;
    const data = arrayFor(dtype, flat.length);
    for (let i = 0; i < flat.length; i++) data[i] = flat[i]!;
    return new Tensor(data, shape ?? [flat.length]);
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
  const target = shape ?? inferred;
  if (shape !== undefined && !sameShape(shape, inferred) && sizeOf(shape) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values cannot fill shape ${shapeStr(shape)}`);
  }
  const data = arrayFor(dtype, flat.length);
  data.set(flat);
  return new Tensor(data, target);
};

export const full = (shape: Shape, value: number, dtype: DType = "float32"): Tensor => {
  const data = arrayFor(dtype, sizeOf(checkShape("full", shape)));
  data.fill(value);
  return new Tensor(data, shape);
};
export const zeros = (shape: Shape, dtype: DType = "float32"): Tensor => full(shape, 0, dtype);
export const ones = (shape: Shape, dtype: DType = "float32"): Tensor => full(shape, 1, dtype);
export const scalar = (value: number, dtype: DType = "float32"): Tensor => full([], value, dtype);
export const zerosLike = (t: Tensor): Tensor => zeros(t.shape, t.dtype);
export const onesLike = (t: Tensor): Tensor => ones(t.shape, t.dtype);

/** [start, start+step, ...) up to but excluding stop, like numpy.arange. */
export const arange = (start: number, stop?: number, step = 1, dtype: DType = "float32"): Tensor => {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ShapeError(`arange: step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = arrayFor(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
};

/** The n x n identity matrix. */
export const eye = (n: number, dtype: DType = "float32"): Tensor => {
  checkShape("eye", [n, n]);
  const data = arrayFor(dtype, n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return new Tensor(data, checkShape("eye", [n, n]));
};

// Storage: where a tensor's values live. The front end holds it as an opaque handle and never sees
// the memory: values come in by copy (fromValues) and go out by copy (read), so no array a user
// holds is ever memory a kernel reads, and a storage's values never change once made.
//
// A storage's values are in a host array only the backend touches, or in a slot of a backend's
// memory (a compiled program keeps the parameters it updates there between calls), or both (a host
// mirror of a slot, made the first time eager code needs it). A storage donated to a compiled
// program is deleted: its values are gone, and using it throws, naming where it came from.

import { arrayOf, bytesOf, viewOf, type DType, type TypedArray } from "./dtype.ts";
import type { Memory } from "./memory.ts";

/** A region of a memory that holds one storage's values at a time. */
export interface Slot {
  readonly memory: Memory;
  readonly offset: number;
  readonly dtype: DType;
  readonly size: number;
  /** The storage whose values are there now, if any. */
  owner: Storage | null;
}

export const slotView = (slot: Slot): TypedArray => viewOf(slot.dtype, slot.memory.buffer, slot.offset, slot.size);

// Host arrays of deleted storages (donated to a compiled program, which copied their values in),
// kept for new storages of the same dtype and size: a fresh typed array costs more than most work
// done in it (its pages are faulted in and zeroed: ~20 us for 50 KB on this project's machines,
// ~0.25 ms for 0.4 MB). A deleted storage's array is private and its values gone, so nobody can see
// it again. This is what lets a training loop that donates each batch build the next one without
// allocating.
const PER_SIZE = 4;
const MAX_KEPT_BYTES = 32 << 20;
const kept = new Map<string, TypedArray[]>();
let keptBytes = 0;
const keyOf = (dtype: DType, size: number) => `${dtype}:${size}`;

/**
 * An array of `size` elements of `dtype` for a new storage to own: a deleted storage's if one is
 * kept, else a new one. NOTE: it holds stale values, not zeros: for callers that write every element.
 */
export const hostArray = (dtype: DType, size: number): TypedArray => {
  const array = kept.get(keyOf(dtype, size))?.pop();
  if (array === undefined) return arrayOf(dtype, size);
  keptBytes -= array.byteLength;
  return array;
};

const keep = (dtype: DType, array: TypedArray): void => {
  const key = keyOf(dtype, array.length);
  let list = kept.get(key);
  if (list === undefined) kept.set(key, (list = []));
  if (list.length >= PER_SIZE || keptBytes + array.byteLength > MAX_KEPT_BYTES) return;
  list.push(array);
  keptBytes += array.byteLength;
};

/** Thrown when a deleted storage is used. */
export class DeletedError extends Error {
  override name = "DeletedError";
}

export class Storage {
  readonly dtype: DType;
  readonly size: number;
  /** Where the values came from, for error messages: "linear", "an array", "jit(step) output params.w". */
  readonly origin: string;
  #host: TypedArray | null;
  #slot: Slot | null = null;
  #deleted: string | null = null;

  private constructor(dtype: DType, size: number, origin: string, host: TypedArray | null) {
    this.dtype = dtype;
    this.size = size;
    this.origin = origin;
    this.#host = host;
  }

  /** A storage that owns `array` from now on: the caller must not keep it or hand it out. */
  static own(array: TypedArray, dtype: DType, origin: string): Storage {
    return new Storage(dtype, array.length, origin, array);
  }

  /** A storage whose values are (only) in `slot`, which it becomes the owner of. */
  static inSlot(slot: Slot, origin: string): Storage {
    const s = new Storage(slot.dtype, slot.size, origin, null);
    s.#slot = slot;
    slot.owner = s;
    return s;
  }

  get deleted(): string | null {
    return this.#deleted;
  }

  /** Throw if deleted, naming `who` (the op or program that was given it). */
  check(who: string): void {
    if (this.#deleted !== null) {
      throw new DeletedError(`${who}: a ${this.dtype} tensor of ${this.size} values (from ${this.origin}) ${this.#deleted}, and cannot be used again`);
    }
  }

  /** The values as an array for kernels to read (never handed to users). */
  host(who = "read"): TypedArray {
    this.check(who);
    if (this.#host === null) {
      // Mirror the slot's values: they cannot change while this storage owns the slot.
      this.#host = slotView(this.#slot!).slice();
    }
    return this.#host;
  }

  /** A fresh copy of the values for the user: writing into it changes nothing else. */
  read(): TypedArray {
    this.check("data");
    if (this.#host !== null) return this.#host.slice();
    return slotView(this.#slot!).slice();
  }

  /** The slot holding the values, if they are in a backend's memory. */
  get slot(): Slot | null {
    return this.#slot;
  }

  /** Copy the values into `target` (a view of a backend's memory). */
  copyInto(target: TypedArray): void {
    this.check("copy");
    if (this.#host !== null) target.set(this.#host);
    else target.set(slotView(this.#slot!));
  }

  /** The slot is about to hold other values: keep ours in a host array first. */
  leaveSlot(): void {
    if (this.#slot === null) return;
    if (this.#deleted === null && this.#host === null) this.#host = slotView(this.#slot).slice();
    if (this.#slot.owner === this) this.#slot.owner = null;
    this.#slot = null;
  }

  /** Delete: the values are given away (why: "was donated to jit(step) as params.w"). */
  delete(why: string): void {
    if (this.#host !== null) keep(this.dtype, this.#host);
    if (this.#slot !== null && this.#slot.owner === this) this.#slot.owner = null;
    this.#slot = null;
    this.#host = null;
    this.#deleted = why;
  }
}

/** A storage holding a copy of `values`. */
export const storageFrom = (values: ArrayLike<number>, dtype: DType, origin = "an array"): Storage => {
  const array = hostArray(dtype, values.length);
  array.set(values as never);
  return Storage.own(array, dtype, origin);
};

export const bytesOfStorage = (s: { dtype: DType; size: number }): number => bytesOf(s.dtype) * s.size;

// Buffer donation (as in JAX's donate_argnums): an explicit promise by the caller that a tensor will
// never be used again, so its memory may be reused for a result. Used by the optimizers'
// update(..., { donate: true }): the new parameters and state are written into the old ones' buffers,
// and the gradients' buffers go to the kernels' free-list (./kernels/pool.ts).
//
// The contract: a donated tensor is dead, and so is every tensor sharing its data array (reshapes,
// watched handles). Its array is recorded as donated, and any op given it throws (define-op.ts
// checks), instead of silently computing with the values that now live there. The memory is handed
// on through a new array object over the same buffer, so nothing keyed by array identity (the
// resident weights of ./kernels/wasm) can mistake new values for old.
// NOTE: the old array is not detached (ArrayBuffer transfer would do that): in V8 a single detached
// buffer anywhere in the process makes every typed-array loop afterwards about 1.6x slower (it
// invalidates an engine-wide assumption), which costs more than the donation saves. Reading a
// donated tensor's .data directly, outside the ops, is therefore not caught.
// Only whole buffers are taken: a tensor that is a view into a larger buffer (as loaded from a
// file) is left alone, and the caller allocates instead.

import { discard } from "./kernels/deferred.ts";
import { give, ownsWholeBuffer } from "./kernels/pool.ts";
import { unsettledData, type Tensor, type TypedArray } from "./tensor.ts";

const donated = new WeakSet<TypedArray>();
let anyDonated = false;

/** True if `data` was donated: the tensors holding it must not be used. */
export const isDonated = (data: TypedArray): boolean => anyDonated && donated.has(data);

/** True if t's data is the whole of its ArrayBuffer (and not donated), so the buffer can be taken over. */
export const ownsBuffer = (t: Tensor): boolean => {
  const d = unsettledData(t);
  return d.byteLength > 0 && ownsWholeBuffer(d) && !isDonated(d);
};

const retire = (d: TypedArray): ArrayBuffer => {
  donated.add(d);
  anyDonated = true;
  return d.buffer as ArrayBuffer;
};

/**
 * Take over t's buffer for writing: t is dead from now on, and the returned array (a new object,
 * same type and length) holds t's values until the caller overwrites them, once t's own array is
 * settled if a kernel deferred them (./kernels/deferred.ts; the WebAssembly SGD step instead reads
 * them where it left them, and then drops the deferred copy). Null if t does not own its whole buffer.
 */
export const takeOver = (t: Tensor): TypedArray | null => {
  if (!ownsBuffer(t)) return null;
  const buffer = retire(unsettledData(t));
  return t.dtype === "float64" ? new Float64Array(buffer) : new Float32Array(buffer);
};

/**
 * Give t's buffer to the kernels' free-list (t is dead from now on). Does nothing for views. A copy
 * of t's values that a kernel deferred (./kernels/deferred.ts) is dropped: it would land in memory
 * that now belongs to someone else.
 */
export const recycle = (t: Tensor): void => {
  const d = unsettledData(t);
  if (t.dtype === "float32" && ownsBuffer(t)) {
    discard(d);
    give(retire(d));
  }
};

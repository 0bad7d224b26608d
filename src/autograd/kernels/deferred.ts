// Results whose values a kernel has left in its own memory instead of copying them out at once.
// Training makes ~1 MB a step that JavaScript never reads (the weight gradients, the new weights, the
// batch's pixels): the next kernels read them where they are (./wasm keeps them in its ring), so the
// copy into the result's own array is put off until something reads that array through Tensor.data,
// or the kernel is about to reuse the memory holding the values. A result whose tensor is given up
// first (the optimizer's donation, a batch array refilled) is never copied at all.
//
// The one rule for readers: an array from a kernel is read through Tensor.data, which settles it.
// Code that only passes an array on (to a kernel that looks it up in its memory, to a new Tensor
// over the same data, to identity checks) may use the array as it is, unsettled.

import type { TypedArray } from "../tensor.ts";

/** Where deferred values are: a kernel's memory, which can copy them out or let them go. */
export interface Holder {
  copyOut(array: TypedArray): void;
  drop(array: TypedArray): void;
}

const pending = new WeakMap<TypedArray, Holder>();

/** Record that `array`'s values are not in it yet: `holder` has them. */
export const defer = (array: TypedArray, holder: Holder): void => {
  pending.set(array, holder);
};

/** Make sure `array` holds its values: copy them out if a kernel put that off. */
export const settle = (array: TypedArray): void => {
  const holder = pending.get(array);
  if (holder === undefined) return;
  pending.delete(array);
  holder.copyOut(array);
};

/** Forget a deferred copy: `array`'s values are dead (given up) or about to be overwritten whole. */
export const discard = (array: TypedArray): void => {
  const holder = pending.get(array);
  if (holder === undefined) return;
  pending.delete(array);
  holder.drop(array);
};

/** True if `array`'s values are still only in a kernel's memory (for specs). */
export const isDeferred = (array: TypedArray): boolean => pending.has(array);

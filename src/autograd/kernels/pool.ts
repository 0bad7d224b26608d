// A small free-list of float buffers, fed only by explicit hand-overs: donation (../donation.ts: the
// optimizer with { donate: true } hands over the gradients it has finished with), the backward pass
// giving back the intermediate cotangents it made and used up (../grad.ts), and kernels' callers
// giving back their scratch results (giveBack). Kernels that overwrite
// every element of their result take from it instead of allocating, which spares the page faults of
// fresh large arrays (on some VMs a fresh 400 KB array costs several times its arithmetic).
// Nothing is ever guessed to be free: a buffer is here only because its owner gave it away, and the
// owner's array is marked donated (ops refuse it), so no tensor can see it being reused.

/** At most this many buffers of one byte length are kept; the rest are left to the GC. */
const PER_SIZE = 4;
/** And at most this many bytes in all. */
const MAX_BYTES = 64 << 20;

const free = new Map<number, ArrayBuffer[]>();
let held = 0;

/** Keep `buffer` (donated: no live tensor uses it) for reuse. */
export const give = (buffer: ArrayBuffer): void => {
  const n = buffer.byteLength;
  if (n === 0 || held + n > MAX_BYTES) return;
  let list = free.get(n);
  if (list === undefined) free.set(n, (list = []));
  if (list.length >= PER_SIZE) return;
  list.push(buffer);
  held += n;
};

/**
 * A Float32Array of n elements over a donated buffer, or a fresh one. NOTE: a reused buffer holds
 * stale values, not zeros: only for callers that write every element.
 */
export const float32Uninitialized = (n: number): Float32Array => {
  const list = free.get(n * 4);
  const buffer = list?.pop();
  let array: Float32Array;
  if (buffer === undefined) array = new Float32Array(n);
  else {
    held -= buffer.byteLength;
    array = new Float32Array(buffer);
  }
  collecting?.add(array);
  return array;
};

/**
 * Give back `array`, a kernel's result that the caller made and used as scratch: nobody else has
 * seen it (e.g. the masked cotangent inside the dense layer's vjp, once its products are taken).
 */
export const giveBack = (array: Float32Array): void => {
  if (ownsWholeBuffer(array)) give(array.buffer as ArrayBuffer);
};

/**
 * True if `array` spans the whole of an ordinary ArrayBuffer, the only kind of buffer that can be
 * handed on (a view into a larger buffer cannot be; SharedArrayBuffer is asked about by not being
 * an ArrayBuffer, since a page without cross-origin isolation has no SharedArrayBuffer to name).
 */
export const ownsWholeBuffer = (array: ArrayBufferView): boolean =>
  array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer;

// While a backward pass runs (../grad.ts), every array handed out above is noted in its set: those
// are the ones it may give back when they turn out to be intermediate cotangents it has used up.
let collecting: WeakSet<Float32Array> | null = null;

/** Note the arrays handed out from now on in `into` (null: stop); returns the set noted in before. */
export const collectAllocations = (into: WeakSet<Float32Array> | null): WeakSet<Float32Array> | null => {
  const before = collecting;
  collecting = into;
  return before;
};

/** Bytes held for reuse (for specs and benchmarks). */
export const pooledBytes = (): number => held;

/** Drop every held buffer. */
export const clearPool = (): void => {
  free.clear();
  held = 0;
};
